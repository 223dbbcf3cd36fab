r"""Lessons 08 and 09: what notebooks 08 and 09 measure in PyTorch, as functions that tests can check.

This is the one module of lessonlib that imports ``torch``; the rest of the
library works without it. Four groups of helpers:

- **parity**: the same parameters and gradients through a lessonlib optimizer
  and ``torch.optim``'s three implementations (:data:`IMPLEMENTATIONS`), with
  the deviation at every step;
- **training**: parameter groups without weight decay on biases and norm
  layers; the factor by which ``clip_grad_norm_`` scales gradients; how long
  Adam's :math:`v` remembers a gradient spike;
- **memory**: bytes per parameter of training with Adam, by precision;
- **timing**: a median of wall-clock times that waits for the GPU, and the
  memory bandwidth of a simple in-place stream, to compare an optimizer step with.

>>> bytes_per_parameter("float32")
16
>>> adam_state_bytes(1_000_000) / 1e6     # m and v in float32: 8 bytes per parameter
8.0
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

# ----------------------------------------------------------------------------- parity

#: The keyword arguments that select each of ``torch.optim.Adam``'s implementations of the same math.
IMPLEMENTATIONS: dict[str, dict[str, bool]] = {
    "for-loop": {"foreach": False, "fused": False},  # one small operation per tensor per line of the math
    "foreach": {"foreach": True, "fused": False},  # each line applied to the whole list of tensors at once
    "fused": {"fused": True},  # the whole update in one kernel per group of tensors
}

#: The shapes of the parameters the parity check uses: a small network's matrices and vectors, and a scalar.
PARITY_SHAPES = ((16, 8), (16,), (4, 16), (4,), ())


@dataclass(frozen=True)
class Parity:
    r"""Deviations, step by step, between a lessonlib optimizer and ``torch.optim``.

    ``deviation[impl][t-1]`` is :math:`\max |\theta_\text{lessonlib} - \theta_\text{impl}|` after step
    :math:`t`, over every element of every parameter; ``disagreement[impl][t-1]`` the same between
    ``impl`` and the for-loop implementation; ``scale`` the largest :math:`|\theta|` seen in the run.
    """

    deviation: dict[str, np.ndarray]
    disagreement: dict[str, np.ndarray]
    scale: float

    def relative(self, impl: str) -> float:
        r"""Largest deviation of the run from lessonlib, relative to the largest :math:`|\theta|`."""
        return float(self.deviation[impl].max()) / self.scale

    def relative_disagreement(self, impl: str) -> float:
        r"""Largest difference of the run between ``impl`` and the for-loop, relative to :attr:`scale`."""
        return float(self.disagreement[impl].max()) / self.scale


def parity(
    ll_optimizer,
    torch_optimizer,
    *,
    dtype=np.float64,
    device="cpu",
    steps: int = 200,
    shapes=PARITY_SHAPES,
    implementations=tuple(IMPLEMENTATIONS),
    seed: int = 0,
    **hyper,
) -> Parity:
    """Run the same starting point and gradients through ``ll_optimizer`` and ``torch_optimizer``.

    Both sides start from the same arrays and receive the same gradients, drawn
    from ``np.random.default_rng(seed)`` in ``dtype``; the torch parameters live
    on ``device``, once per entry of ``implementations`` (keys of
    :data:`IMPLEMENTATIONS`). ``hyper`` goes to both optimizers. Each side
    computes in ``dtype``.

    >>> import lessonlib as ll
    >>> r = parity(ll.Adam, torch.optim.Adam, steps=20, lr=0.01)
    >>> all(r.relative(impl) < 1e-12 for impl in IMPLEMENTATIONS)
    True
    """
    unknown = set(implementations) - set(IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; allowed: {list(IMPLEMENTATIONS)}")
    rng = np.random.default_rng(seed)
    start = [np.asarray(rng.normal(size=s), dtype=dtype) for s in shapes]
    ours = [x.copy() for x in start]
    opt = ll_optimizer(ours, **hyper)
    theirs = {impl: [torch.tensor(x, device=device) for x in start] for impl in implementations}
    opts = {impl: torch_optimizer(ps, **hyper, **IMPLEMENTATIONS[impl]) for impl, ps in theirs.items()}
    deviation = {impl: np.zeros(steps) for impl in implementations}
    disagreement = {impl: np.zeros(steps) for impl in implementations}
    scale = 0.0
    for t in range(steps):
        grads = [np.asarray(rng.normal(size=s), dtype=dtype) for s in shapes]
        opt.step(grads)
        values = {}
        for impl, ps in theirs.items():
            for p, g in zip(ps, grads):
                p.grad = torch.from_numpy(g).to(device)
            opts[impl].step()
            values[impl] = [p.detach().cpu().numpy() for p in ps]
        reference = values.get("for-loop")
        for impl, vals in values.items():
            deviation[impl][t] = max(_max_abs_diff(a, b) for a, b in zip(ours, vals))
            if reference is not None:
                disagreement[impl][t] = max(_max_abs_diff(a, b) for a, b in zip(reference, vals))
        scale = max(scale, *(float(np.max(np.abs(a))) for a in ours))
    return Parity(deviation, disagreement if "for-loop" in implementations else {}, scale)


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))


# ----------------------------------------------------------------------------- training


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Two parameter groups for ``torch.optim.AdamW``: weight decay on matrices only.

    A parameter with two or more dimensions (the weight of a linear or
    convolutional layer, an embedding table) is decayed; a vector (a bias, the
    scale and shift of a normalisation layer) is not: pulling those towards
    zero is not a sensible prior. Each group names its parameters under
    ``param_names``, the key ``torch.optim`` itself uses for names.

    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LayerNorm(3))
    >>> [(g["param_names"], g["weight_decay"]) for g in param_groups(net, 0.1)]
    [(['0.weight'], 0.1), (['0.bias', '1.weight', '1.bias'], 0.0)]
    """
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append((name, p))
    return [
        {"params": [p for _, p in group], "param_names": [n for n, _ in group], "weight_decay": wd}
        for group, wd in ((decay, weight_decay), (no_decay, 0.0))
    ]


def clip_coefficient(total_norm: float, max_norm: float) -> float:
    r"""The factor ``torch.nn.utils.clip_grad_norm_`` multiplies every gradient by.

    .. math:: c = \min\Bigl(1, \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}\Bigr)

    where :math:`\lVert g \rVert` is the 2-norm of all gradients taken together.

    >>> clip_coefficient(4.0, 1.0), clip_coefficient(0.5, 1.0)
    (0.24999993750001562, 1.0)
    """
    return min(1.0, max_norm / (total_norm + 1e-6))


def recovery_steps(spike_ratio: float, beta2: float = 0.999) -> float:
    r"""Steps until Adam's :math:`v` has forgotten one gradient spike ``spike_ratio`` times the usual size.

    A spike :math:`G` adds :math:`(1-\beta_2) G^2` to :math:`v`, which then decays as
    :math:`\beta_2^k`; it stops dominating the usual :math:`g^2` when
    :math:`\beta_2^k (1-\beta_2) G^2 = g^2`, that is after

    .. math:: k = \frac{\ln\bigl((1-\beta_2)\,(G/g)^2\bigr)}{-\ln \beta_2}

    steps (zero if the spike was never larger than that). Until then every step is
    smaller than usual by about :math:`\sqrt{\beta_2^k (1-\beta_2)}\, G/g`.

    >>> round(recovery_steps(1e4))     # a 10,000x spike with the default beta2
    11507
    """
    if not 0.0 < beta2 < 1.0:
        raise ValueError(f"Invalid beta2: {beta2} (allowed: 0 < beta2 < 1)")
    excess = (1.0 - beta2) * spike_ratio**2
    return max(0.0, math.log(excess) / -math.log(beta2)) if excess > 0 else 0.0


# ----------------------------------------------------------------------------- memory

#: Bytes per parameter of training with Adam, by what is stored. Activations,
#: temporary buffers and the framework's workspace are not counted.
BYTES_PER_PARAMETER: dict[str, dict[str, int]] = {
    # Everything in float32.
    "float32": {"weights": 4, "gradients": 4, "m": 4, "v": 4},
    # torch.autocast: weights and gradients stay float32; the bf16/fp16 copies an
    # operation makes of a weight are temporary, so they are not counted.
    "autocast": {"weights": 4, "gradients": 4, "m": 4, "v": 4},
    # Mixed precision with bf16/fp16 weights and gradients and a float32 master copy
    # that the optimizer updates (the count of the ZeRO paper, Rajbhandari et al. 2020).
    "mixed": {"weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "m": 4, "v": 4},
}


def bytes_per_parameter(scheme: str) -> int:
    """Total bytes per parameter for ``scheme``, a key of :data:`BYTES_PER_PARAMETER`.

    >>> {s: bytes_per_parameter(s) for s in BYTES_PER_PARAMETER}
    {'float32': 16, 'autocast': 16, 'mixed': 16}
    """
    try:
        parts = BYTES_PER_PARAMETER[scheme]
    except KeyError:
        raise ValueError(f"unknown scheme {scheme!r}; allowed: {list(BYTES_PER_PARAMETER)}") from None
    return sum(parts.values())


def adam_state_bytes(n_params: float, itemsize: int = 4) -> float:
    """Bytes of Adam's state, :math:`m` and :math:`v`: two numbers of ``itemsize`` bytes per parameter.

    The step count is one scalar per tensor, not per parameter, and is not counted.
    """
    return 2 * itemsize * n_params


def adam_step_traffic(n_params: float, itemsize: int = 4) -> float:
    r"""The fewest bytes one Adam step must move: read :math:`\theta, g, m, v`, write :math:`\theta, m, v`.

    >>> adam_step_traffic(1, itemsize=4)
    28
    """
    return 7 * itemsize * n_params


# ----------------------------------------------------------------------------- timing


def synchronize(device) -> None:
    """Wait for the GPU to finish its queued work (a no-op on the CPU): GPU calls return before they run."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(
    fn: Callable[[], object],
    *,
    repeat: int = 10,
    warmup: int = 2,
    device="cpu",
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The median wall-clock time of ``fn()`` over ``repeat`` calls, after ``warmup`` calls not timed.

    The median, not the mean: one call slowed down by another program on the
    machine moves the mean but not the median. On a GPU each timed call is
    bracketed by :func:`synchronize`, so the time is that of the work, not of
    queueing it.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"Invalid repeat={repeat}, warmup={warmup} (allowed: repeat >= 1, warmup >= 0)")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        synchronize(device)
        start = clock()
        fn()
        synchronize(device)
        times.append(clock() - start)
    return statistics.median(times)


def stream_bandwidth(device="cpu", *, nbytes: int = 2**27, repeat: int = 10, clock=time.perf_counter) -> float:
    """Memory bandwidth in bytes per second of ``x += y`` on two float32 tensors of ``nbytes`` each.

    Counted as ``3 * nbytes`` per call (read ``x`` and ``y``, write ``x``): the same
    read-modify-write pattern as an optimizer step, which reads every array it
    writes. (A plain copy would write to an array it never read; on a CPU that
    costs a hidden read of the destination, which a byte count would miss.)
    Choose ``nbytes`` well above the caches, or the result is the cache's speed.
    """
    n = nbytes // 4
    x = torch.zeros(n, device=device)
    y = torch.ones(n, device=device)
    seconds = median_seconds(lambda: x.add_(y), repeat=repeat, device=device, clock=clock)
    return 3 * n * 4 / seconds
