r"""Lessons 08, 09 and 10: what notebooks 08 (a step's cost), 09 (Adam at scale) and 10 (PyTorch) measure in torch.

This is the module of lessonlib's course layer that the torch lessons share; the math
layer works without torch. Five groups of helpers:

- **parity**: the same parameters and gradients through a lessonlib optimizer
  and ``torch.optim``'s three implementations (:data:`IMPLEMENTATIONS`), with
  the deviation at every step;
- **training**: parameter groups without weight decay on biases and norm
  layers; the factor by which ``clip_grad_norm_`` scales gradients; how long
  Adam's :math:`v` remembers a gradient spike;
- **memory**: bytes per parameter of training with Adam, by precision (8-bit
  states and what Megatron-Core keeps included), what tracemalloc sees numpy
  allocate, and the bytes each rank keeps and sends under ZeRO's three stages;
- **arithmetic**: the bytes and the floating-point operations of one step, whose
  ratio (about half an operation per byte) makes it bound by memory;
- **timing**: a median of wall-clock times that waits for the GPU and can start
  from cold caches (and the size of the last-level cache, where Linux reports it),
  the course's one memory-bandwidth probe (:func:`memory_bandwidth`),
  a matrix product's rate as a stand-in for peak arithmetic, and one Adam step
  timed several ways on the same arrays (:func:`time_adam_steps`).

>>> bytes_per_parameter("float32")
16
>>> adam_state_bytes(1_000_000) / 1e6     # m and v in float32: 8 bytes per parameter
8.0
"""

from __future__ import annotations

import math
import numbers
import os
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lessonlib.optim._compile import kernel
from lessonlib.optim.adam import Adam, adam_step

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

#: Dettmers et al. (2022), "8-bit Optimizers via Block-wise Quantization": elements per block; each block of
#: an 8-bit state tensor keeps one float32 normalisation constant (its largest absolute value).
QUANT_BLOCK = 2048

#: Bytes per parameter of training with Adam, by what is stored. Activations,
#: temporary buffers and the framework's workspace are not counted.
BYTES_PER_PARAMETER: dict[str, dict[str, float]] = {
    # Everything in float32.
    "float32": {"weights": 4, "gradients": 4, "m": 4, "v": 4},
    # torch.autocast: weights and gradients stay float32; the bf16/fp16 copies an
    # operation makes of a weight are temporary, so they are not counted.
    "autocast": {"weights": 4, "gradients": 4, "m": 4, "v": 4},
    # Mixed precision with bf16/fp16 weights and gradients and a float32 master copy that the optimizer
    # updates (Micikevicius et al. 2018), with Adam's m and v in float32 (the count of the ZeRO paper,
    # Rajbhandari et al. 2020, whose K = 12 bytes of optimizer state are the master weights, m and v).
    "mixed": {"weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "m": 4, "v": 4},
    # What Megatron-Core keeps (its distributed optimizer's guide): bf16 weights whose gradients are
    # accumulated and reduced in a float32 buffer, then a float32 master copy, m and v.
    "bf16, fp32 gradients": {"weights (16-bit)": 2, "gradients (float32)": 4, "master weights": 4, "m": 4, "v": 4},
    # ... and with fp16 weights and gradients: the optimizer also keeps a float32 copy of the gradients.
    "fp16, fp16 gradients": {
        "weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "master gradients": 4, "m": 4, "v": 4,
    },
    # The same with m and v in 8 bits, block-wise (Dettmers et al. 2022): one byte each, plus one
    # float32 scale per block of QUANT_BLOCK elements, for each of the two states.
    "8-bit states": {
        "weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "m (8-bit)": 1, "v (8-bit)": 1,
        "block scales": 2 * 4 / QUANT_BLOCK,
    },
}  # fmt: skip


def bytes_per_parameter(scheme: str) -> int:
    """Total bytes per parameter for ``scheme``, a key of :data:`BYTES_PER_PARAMETER`.

    >>> {s: bytes_per_parameter(s) for s in BYTES_PER_PARAMETER}  # doctest: +NORMALIZE_WHITESPACE
    {'float32': 16, 'autocast': 16, 'mixed': 16, 'bf16, fp32 gradients': 18, 'fp16, fp16 gradients': 20,
     '8-bit states': 10.00390625}

    Args:
        scheme: the name of a recipe, a key of :data:`BYTES_PER_PARAMETER` (``"float32"``, ``"mixed"``, ...).
    """
    try:
        parts = BYTES_PER_PARAMETER[scheme]
    except KeyError:
        raise ValueError(f"unknown scheme {scheme!r}; allowed: {list(BYTES_PER_PARAMETER)}") from None
    return sum(parts.values())


def adam_state_bytes(n_params: float, itemsize: int = 4) -> float:
    """Bytes of Adam's state, :math:`m` and :math:`v`: two numbers of ``itemsize`` bytes per parameter.

    The step count is one scalar per tensor, not per parameter, and is not counted.

    Args:
        n_params: the number of parameters.
        itemsize: bytes per number of the state (4 for float32).
    """
    return 2 * itemsize * n_params


def adam_step_traffic(n_params: float, itemsize: int = 4, *, check_finite: bool = False) -> float:
    r"""The bytes one Adam step must move: read :math:`\theta, g, m, v`, write :math:`\theta, m, v`.

    Seven passes over memory, the fewest any Adam step can make (a compiled loop, torch's fused
    step, ``ll.Adam.step(grads, check_finite=False)``). ``ll.Adam.step`` by default first reads every
    gradient once more, to refuse nan and inf before anything changes: eight passes
    (``check_finite=True``). All eight come from memory only when :math:`g` is much larger than the
    last-level cache; a gradient small enough to stay in the cache between its two reads is read from
    memory once, and the step moves seven passes' bytes like the others.

    >>> adam_step_traffic(1, itemsize=4), adam_step_traffic(1, itemsize=4, check_finite=True)
    (28, 32)

    Args:
        n_params: the number of parameters.
        itemsize: bytes per number (4 for float32).
        check_finite: count the extra read of :math:`g` of ``ll.Adam.step``'s default check.
    """
    return (8 if check_finite else 7) * itemsize * n_params


def traced_bytes(fn: Callable[[], object]) -> tuple[int, int]:
    """What ``fn()`` allocates through Python's and numpy's allocators: (bytes still held after it, peak bytes).

    Measured with :mod:`tracemalloc`, which sees numpy's array buffers (numpy reports them to it)
    but not torch's tensors (torch's allocator does not). What ``fn`` returns is dropped only after
    the measurement, so the first number counts it.

    Args:
        fn: a function of no arguments.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        kept = fn()  # noqa: F841  (held until the numbers are read)
        now, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return now - before, peak - before


#: ZeRO's stages (Rajbhandari et al. 2020): what each shards across the ranks, cumulatively.
#: Stage 0 is plain data parallelism (every rank holds everything).
ZERO_STAGES = {0: (), 1: ("optimizer",), 2: ("optimizer", "gradients"), 3: ("optimizer", "gradients", "weights")}


def _kind(part: str) -> str:
    """Which of ZeRO's three kinds of memory a part of :data:`BYTES_PER_PARAMETER` is."""
    if part.startswith("weights"):
        return "weights"
    return "gradients" if part.startswith("gradients") else "optimizer"  # master weights, m, v, scales


def _check_count(name: str, value, *, low: float = 1) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {type(value).__name__}: {value!r}")
    if value < low:
        raise ValueError(f"Invalid {name}: {value} (allowed: {name} >= {low})")
    return value


def _check_stage(stage) -> int:
    if isinstance(stage, bool) or stage not in ZERO_STAGES:
        raise ValueError(f"Invalid stage: {stage!r} (allowed: one of {list(ZERO_STAGES)})")
    return int(stage)


def zero_parts_per_rank(n_params: float, n_ranks: int, stage: int, scheme: str = "mixed") -> dict[str, float]:
    r"""Bytes each of ``n_ranks`` ranks keeps under ZeRO ``stage``, by kind: weights, gradients, optimizer state.

    Each part of ``scheme`` (:data:`BYTES_PER_PARAMETER`) belongs to one kind: the weights the model
    computes with, their gradients, or the optimizer's state (everything else: the float32 master
    weights, :math:`m`, :math:`v`, block scales). A kind that ``stage`` shards (:data:`ZERO_STAGES`)
    is split evenly, :math:`b\,N / N_d` on each of :math:`N_d` ranks; the others are held whole
    by every rank. In mixed precision the optimizer's kind is the ZeRO paper's :math:`K = 12` bytes, so
    stage 1 leaves :math:`(2 + 2 + 12/N_d)\,N` per rank. (In float32 the master weights are the
    weights themselves: the optimizer's kind is only :math:`m` and :math:`v`.) Megatron-Core's
    distributed optimizer is stage 1: with its recipes a rank keeps :math:`(6 + 12/N_d)\,N` (bf16
    weights, float32 gradients) and :math:`(4 + 16/N_d)\,N` (fp16 weights and gradients).

    >>> zero_parts_per_rank(1, 8, 1)
    {'weights': 2.0, 'gradients': 2.0, 'optimizer': 1.5}
    >>> zero_parts_per_rank(1, 4, 1, "bf16, fp32 gradients")  # 6 + 12/4
    {'weights': 2.0, 'gradients': 4.0, 'optimizer': 3.0}

    Args:
        n_params: :math:`N`, the number of parameters (the ZeRO paper writes :math:`\Psi`).
        n_ranks: :math:`N_d`, the number of ranks (>= 1).
        stage: 0 (plain data parallelism), 1 (optimizer state), 2 (+ gradients) or 3 (+ weights).
        scheme: the recipe, a key of :data:`BYTES_PER_PARAMETER`.
    """
    n_params, n_ranks = _check_count("n_params", n_params, low=0), _check_count("n_ranks", n_ranks)
    stage = _check_stage(stage)
    bytes_per_parameter(scheme)  # names the allowed schemes on a bad one
    parts = {"weights": 0.0, "gradients": 0.0, "optimizer": 0.0}
    for part, b in BYTES_PER_PARAMETER[scheme].items():
        kind = _kind(part)
        parts[kind] += (b / n_ranks if kind in ZERO_STAGES[stage] else b) * n_params
    return parts


def zero_bytes_per_rank(n_params: float, n_ranks: int, stage: int, scheme: str = "mixed") -> float:
    """The total of :func:`zero_parts_per_rank`: bytes each rank keeps for the model and its optimizer.

    >>> zero_bytes_per_rank(1, 8, 0), zero_bytes_per_rank(1, 8, 1), zero_bytes_per_rank(1, 8, 3)
    (16.0, 5.5, 2.0)

    Args:
        n_params: parameters in the model.
        n_ranks: processes the state is split over.
        stage: the ZeRO stage, 0 (nothing split) to 3.
        scheme: the precision scheme, as in :func:`zero_parts_per_rank`.
    """
    return sum(zero_parts_per_rank(n_params, n_ranks, stage, scheme).values())


def comm_bytes_per_rank(n_params: float, n_ranks: int, stage: int, itemsize: int = 2) -> float:
    r"""Bytes each rank sends per training step to keep ``n_ranks`` data-parallel ranks in step, under ZeRO ``stage``.

    Counted for the ring algorithms that NCCL and gloo use on large tensors: a reduce-scatter or an
    all-gather of :math:`N` numbers sends :math:`(N_d - 1)/N_d \cdot N` numbers from each rank;
    an all-reduce is the two, :math:`2 (N_d - 1)/N_d \cdot N`. Stages 0 to 2 move the same:
    stage 0 all-reduces the gradients; stages 1 and 2 reduce-scatter them (each rank receives the
    sum for its shard) and all-gather the updated 16-bit weights. Stage 3 also all-gathers the
    weights a second time, in the backward pass, since no rank keeps them whole: :math:`3 (N_d-1)/N_d \cdot N`.

    >>> comm_bytes_per_rank(1, 2, 0, itemsize=1), comm_bytes_per_rank(1, 2, 3, itemsize=1)
    (1.0, 1.5)

    Args:
        n_params: :math:`N`.
        n_ranks: :math:`N_d` (>= 1).
        stage: 0, 1, 2 or 3.
        itemsize: bytes per number sent (2 for 16-bit gradients and weights).
    """
    n_params, n_ranks, stage = (
        _check_count("n_params", n_params, low=0),
        _check_count("n_ranks", n_ranks),
        _check_stage(stage),
    )
    _check_count("itemsize", itemsize)
    passes = 3 if stage == 3 else 2  # passes of (N_d - 1) / N_d of the model over each rank's link
    return float(passes * (n_ranks - 1) / n_ranks * n_params * itemsize)


# ----------------------------------------------------------------------------- arithmetic

#: Floating-point operations per element of one Adam step, line by line, as lessonlib's kernel computes
#: them: :math:`1-\beta_1`, :math:`1-\beta_2`, :math:`1-\beta_1^t` and :math:`\sqrt{1-\beta_2^t}` are numbers
#: computed once per step, and a square root or a division counts as one operation.
ADAM_FLOPS: dict[str, int] = {
    "m_t = beta1 m + (1 - beta1) g": 3,  # two multiplications, one addition
    "v_t = beta2 v + (1 - beta2) g^2": 4,  # three multiplications, one addition
    "m-hat = m_t / (1 - beta1^t)": 1,
    "sqrt(v-hat) = sqrt(v_t) / sqrt(1 - beta2^t)": 2,  # a square root, a division
    "theta_t = theta - alpha m-hat / (sqrt(v-hat) + eps)": 4,  # +, x, / and -
}


#: Floating-point operations per element of ``ll.Adam.step``'s check of the gradients: ``g * 0`` (nan for a
#: nan or an inf, else 0) added to a running sum, one multiplication and one addition
#: (``lessonlib.optim._checks._finite_loop``).
CHECK_FLOPS = 2


def adam_step_flops(n_params: float, *, check_finite: bool = False) -> float:
    """Floating-point operations of one Adam step on ``n_params`` parameters: :data:`ADAM_FLOPS` per element.

    ``check_finite=True`` adds the :data:`CHECK_FLOPS` per element of ``ll.Adam.step``'s default look for
    nan and inf.

    >>> adam_step_flops(1), adam_step_flops(1, check_finite=True)
    (14, 16)

    Args:
        n_params: the number of parameters.
        check_finite: count the gradient check of ``ll.Adam.step`` (its default) too.
    """
    return (sum(ADAM_FLOPS.values()) + (CHECK_FLOPS if check_finite else 0)) * n_params


# ----------------------------------------------------------------------------- timing


def synchronize(device) -> None:
    """Wait for the GPU to finish its queued work (a no-op on the CPU): GPU calls return before they run."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


#: Bytes :func:`flush_caches` reads: more than the last-level cache of a CPU, which holds tens of MiB and
#: on large servers hundreds (480 MiB on one machine the course was measured on, 32 MiB on another;
#: :func:`last_level_cache_bytes` reads this machine's), so that what a timing touches next comes from
#: main memory. So it is in training: between two optimizer steps the forward and backward passes
#: stream through other memory.
FLUSH_BYTES = 2**30

_FLUSH_BUFFERS: dict[str, torch.Tensor] = {}


def flush_caches(device="cpu") -> int:
    """Read :data:`FLUSH_BYTES` of memory on ``device``, so that the caches hold none of what a timing uses next.

    The buffer is made at the first call on each device and kept (allocating it takes longer than
    reading it). Returns the bytes read.

    >>> flush_caches("cpu") == FLUSH_BYTES
    True

    Args:
        device: where to read (``"cpu"`` or a GPU such as ``"cuda"``).
    """
    key = str(torch.device(device))
    if key not in _FLUSH_BUFFERS:
        _FLUSH_BUFFERS[key] = torch.ones(FLUSH_BYTES // 4, device=device)
    buffer = _FLUSH_BUFFERS[key]
    buffer.sum()
    synchronize(device)
    return buffer.nbytes


def last_level_cache_bytes(root: str | os.PathLike = "/sys/devices/system/cpu/cpu0/cache") -> int | None:
    """The size of the first CPU core's last-level cache in bytes, as Linux reports it; None where it does not.

    Linux describes each cache a core uses in a folder ``index0``, ``index1``, ... under ``root``, with its
    ``level`` and its ``size`` (such as ``32768K``); the cache of the highest level is the last-level one.
    On other systems, or where the folder cannot be read, the answer is None. On a server whose cores
    sit on several chiplets, this is the cache of the core's own chiplet, the one a single thread fills.

    Args:
        root: the folder that describes the caches (a test may pass another one).
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"Invalid root: {root!r} (allowed: a path, as a str or a pathlib.Path)")
    sizes = {}
    try:
        for entry in Path(root).glob("index*"):
            level = (entry / "level").read_text().strip()
            match = re.fullmatch(r"(\d+)\s*([KMG]?)", (entry / "size").read_text().strip())
            if level.isdigit() and match:
                scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match.group(2)]
                sizes[int(level)] = max(sizes.get(int(level), 0), int(match.group(1)) * scale)
    except OSError:
        return None
    return sizes[max(sizes)] if sizes else None


def median_seconds(
    fn: Callable[[], object],
    *,
    repeat: int = 10,
    warmup: int = 2,
    device="cpu",
    cold: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The median wall-clock time of ``fn()`` over ``repeat`` calls, after ``warmup`` calls not timed.

    The median, not the mean: one call slowed down by another program on the
    machine moves the mean but not the median. On a GPU each timed call is
    bracketed by :func:`synchronize`, so the time is that of the work, not of
    queueing it.

    Args:
        fn: the work to time, a function of no arguments.
        repeat: timed calls (>= 1).
        warmup: calls before the timed ones, not timed (compilation, first-touch pages).
        device: where ``fn`` runs; on a GPU each call is bracketed by :func:`synchronize`.
        cold: call :func:`flush_caches` before each timed call (not timed), so ``fn`` finds its data in memory.
        clock: the clock, in seconds (a test may pass a fake one).
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"Invalid repeat={repeat}, warmup={warmup} (allowed: repeat >= 1, warmup >= 0)")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        if cold:
            flush_caches(device)
        synchronize(device)
        start = clock()
        fn()
        synchronize(device)
        times.append(clock() - start)
    return statistics.median(times)


def _adam_traffic_loop(a, b, c, d):
    """Read four arrays and write three, as an Adam step does (theta, m, v and g), with almost no arithmetic."""
    for i in range(a.size):
        a[i] += d[i]
        b[i] += d[i]
        c[i] += d[i]


_adam_traffic = kernel(_adam_traffic_loop)  # compiled like lessonlib's optimizer kernels; None without numba


@dataclass(frozen=True)
class Bandwidth:
    """What :func:`memory_bandwidth` measured: bytes per second of each streaming kernel, from cold caches."""

    kernels: dict[str, float]
    device: str

    @property
    def best(self) -> float:
        """The fastest kernel's bytes per second: the memory bandwidth a step is measured against."""
        return max(self.kernels.values())


def memory_bandwidth(
    device="cpu", *, nbytes: int = 2**26, repeat: int = 5, clock: Callable[[], float] = time.perf_counter
) -> Bandwidth:
    """The memory bandwidth of ``device``: the bytes per second of simple streaming kernels, from cold caches.

    The course's one bandwidth probe (notebook 08 and ``make bench`` use it). Each kernel runs on
    float32 tensors of ``nbytes`` bytes, starts from cold caches (:func:`flush_caches`: without that, a
    last-level cache of tens to hundreds of MiB serves part of the data and the "bandwidth" comes out as the
    cache's), and is counted by the bytes it must move, each array read or written once:

    - ``x.sum()``: read 1; ``y.copy_(x)``: read 1, write 1 (most CPUs also read a line before they
      write it, which this count misses, so a copy comes out slow);
    - ``x += y``: read 2, write 1; ``x += y * z``: read 3, write 1 (in place: every line written was
      just read, as in an optimizer step);
    - on the CPU where numba is installed, a compiled loop that reads 4 arrays and writes 3: an Adam
      step's traffic with almost none of its arithmetic.

    :attr:`Bandwidth.best` is the fastest: a step that reaches it moves its bytes as fast as this
    device streams memory on one thread (set ``torch.set_num_threads(1)`` first, as notebook 08 does).

    Args:
        device: where the tensors live.
        nbytes: bytes of each tensor; the caches are flushed anyway, so a few tens of MiB suffice.
        repeat: timed calls per kernel (their median is used).
        clock: the clock, in seconds (a test may pass a fake one).
    """
    n = int(_check_count("nbytes", nbytes)) // 4
    if n < 1:
        raise ValueError(f"Invalid nbytes: {nbytes} (allowed: nbytes >= 4, one float32 number)")
    x, y, z, w = (torch.ones(n, device=device) for _ in range(4))
    size = 4 * n
    kernels = {
        "x.sum() (read 1)": (lambda: x.sum(), size),
        "y.copy_(x) (read 1, write 1)": (lambda: y.copy_(x), 2 * size),
        "x += y (read 2, write 1)": (lambda: x.add_(y), 3 * size),
        "x += y * z (read 3, write 1)": (lambda: x.addcmul_(y, z, value=0.0), 4 * size),
    }
    if torch.device(device).type == "cpu" and _adam_traffic is not None:
        arrays = [t.numpy() for t in (x, y, z, w)]
        kernels["x, y, z += w (read 4, write 3)"] = (lambda: _adam_traffic(*arrays), 7 * size)
    rates = {}
    for name, (fn, moved) in kernels.items():
        rates[name] = moved / median_seconds(fn, repeat=repeat, warmup=1, device=device, cold=True, clock=clock)
    return Bandwidth(rates, str(torch.device(device)))


def matmul_flops(device="cpu", *, n: int = 1024, repeat: int = 5, clock: Callable[[], float] = time.perf_counter):
    """Floating-point operations per second of a float32 matrix product on ``device``: a stand-in for its peak.

    An ``n`` x ``n`` product does :math:`2 n^3` operations on :math:`3 n^2` numbers: enough arithmetic per
    byte that the arithmetic units, not memory, set its pace; tuned libraries reach most of a device's
    peak with it. Use a larger ``n`` on a GPU (8192), whose peak a small product does not reach.

    Args:
        device: where to compute.
        n: the size of the square matrices (>= 1).
        repeat: timed products (their median is used).
        clock: the clock, in seconds.
    """
    n = int(_check_count("n", n))
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.rand(n, n, generator=generator).to(device) for _ in range(2))
    return 2 * n**3 / median_seconds(lambda: a @ b, repeat=repeat, warmup=1, device=device, clock=clock)


#: The implementations of one Adam step that notebook 08 times, side by side, on the same arrays.
STEP_IMPLEMENTATIONS = (
    "textbook numpy",
    "lessonlib kernel",
    "lessonlib kernel, check_finite=False",
    "torch for-loop",
    "torch foreach",
    "torch fused",
)

#: The ones that run on a GPU too: torch's three (:data:`IMPLEMENTATIONS`).
TORCH_STEP_IMPLEMENTATIONS = tuple(f"torch {impl}" for impl in IMPLEMENTATIONS)


@dataclass(frozen=True)
class Stepper:
    """One implementation's Adam step, ``step()``, and ``read()``: its parameters, as one float32 numpy array."""

    step: Callable[[], object]
    read: Callable[[], np.ndarray]


def adam_steppers(
    n: int,
    *,
    tensors: int = 1,
    device="cpu",
    seed: int = 0,
    implementations: Sequence[str] = STEP_IMPLEMENTATIONS,
) -> dict[str, Stepper]:
    r"""One float32 Adam step over ``n`` parameters in ``tensors`` tensors, several ways: name -> a :class:`Stepper`.

    Every implementation starts from its own copy of the same parameters and gradient (drawn from
    ``np.random.default_rng(seed)``, then cut into ``tensors`` nearly equal pieces) and steps with the
    default hyperparameters (lr = 1e-3):

    - ``"textbook numpy"``: :func:`lessonlib.adam_step` on whole arrays, the form the lessons show
      (each line a pass over memory, with new arrays for :math:`m, v, \hat m, \hat v` and the update),
      written back into the parameter;
    - ``"lessonlib kernel"``: ``lessonlib.Adam.step``, the compiled loop, in place, after its default
      look for nan and inf in every gradient (one more read of :math:`g`);
      ``"lessonlib kernel, check_finite=False"``: the loop alone;
    - ``"torch for-loop"``, ``"torch foreach"`` and ``"torch fused"``: ``torch.optim.Adam`` with those
      flags (:data:`IMPLEMENTATIONS`); on the CPU the tensors share memory with numpy arrays.

    The gradient stays the same from step to step: timing needs no new numbers.

    Args:
        n: the number of parameters (>= ``tensors``).
        tensors: how many tensors they are cut into (>= 1).
        device: where torch's tensors live; the numpy and lessonlib forms need ``"cpu"``.
        seed: the seed of the data.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to build.
    """
    n, tensors = int(_check_count("n", n)), int(_check_count("tensors", tensors))
    if tensors > n:
        raise ValueError(f"Invalid tensors: {tensors} (allowed: 1 <= tensors <= n = {n})")
    unknown = set(implementations) - set(STEP_IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; allowed: {list(STEP_IMPLEMENTATIONS)}")
    device = torch.device(device)
    numpy_only = [impl for impl in implementations if not impl.startswith("torch ")]
    if device.type != "cpu" and numpy_only:
        raise ValueError(f"{numpy_only} run on the CPU only; on {device} time {list(TORCH_STEP_IMPLEMENTATIONS)}")
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(n).astype(np.float32)
    grads = np.array_split(rng.standard_normal(n).astype(np.float32), tensors)
    steppers = {}
    for impl in implementations:
        theta = theta0.copy()
        params = np.array_split(theta, tensors)  # views of theta, one per tensor
        read = theta.copy
        if impl == "textbook numpy":
            step = _textbook_stepper(params, grads)
        elif impl.startswith("lessonlib kernel"):
            opt, check = Adam(params), not impl.endswith("check_finite=False")
            step = lambda opt=opt, check=check: opt.step(grads, check_finite=check)  # noqa: E731
        else:
            ps = [torch.from_numpy(p).to(device) for p in params]  # on the CPU: the same memory as theta
            for p, g in zip(ps, grads):
                p.grad = torch.from_numpy(g.copy()).to(device)
            step = torch.optim.Adam(ps, **IMPLEMENTATIONS[impl.removeprefix("torch ")]).step
            if device.type != "cpu":
                read = lambda ps=ps: torch.cat([p.detach().flatten() for p in ps]).cpu().numpy()  # noqa: E731
        steppers[impl] = Stepper(step, read)
    return steppers


def _textbook_stepper(params: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    states = [{"m": np.zeros_like(p), "v": np.zeros_like(p)} for p in params]
    t = [0]

    def step():
        t[0] += 1
        for p, g, state in zip(params, grads, states):
            s = adam_step(p, g, state["m"], state["v"], t[0])
            p[...], state["m"], state["v"] = s.theta, s.m, s.v

    return step


@dataclass(frozen=True)
class StepTimes:
    """Median seconds per Adam step, ``seconds[impl][i]`` at ``ns[i]`` float32 parameters, and the bandwidth.

    ``tensors`` and ``device`` say how the parameters were held. :meth:`to_dict` and :meth:`from_dict`
    turn it into plain numbers and back (``make bench`` records a run; notebook 08 draws it).
    """

    ns: tuple[int, ...]
    seconds: dict[str, np.ndarray]
    bandwidth: float  # bytes per second, Bandwidth.best
    tensors: int = 1
    device: str = "cpu"

    def share(self, impl: str) -> np.ndarray:
        """How close ``impl`` came to the fastest possible step at each N: the floor (28 bytes per parameter) / time."""
        return self.floor() / self.seconds[impl]

    def floor(self, *, check_finite: bool = False) -> np.ndarray:
        """The least time a step could take at each N: its bytes (:func:`adam_step_traffic`) / the bandwidth."""
        ns = np.asarray(self.ns, dtype=np.float64)
        return adam_step_traffic(ns, check_finite=check_finite) / self.bandwidth

    def to_dict(self) -> dict:
        """Plain numbers and lists (for JSON)."""
        return {
            "ns": list(self.ns),
            "seconds": {impl: [float(t) for t in ts] for impl, ts in self.seconds.items()},
            "bandwidth": self.bandwidth,
            "tensors": self.tensors,
            "device": self.device,
        }

    @classmethod
    def from_dict(cls, d: dict) -> StepTimes:
        """The inverse of :meth:`to_dict`.

        Args:
            d: what :meth:`to_dict` returned (read back from JSON, say).
        """
        seconds = {impl: np.asarray(ts, dtype=np.float64) for impl, ts in d["seconds"].items()}
        return cls(tuple(int(n) for n in d["ns"]), seconds, float(d["bandwidth"]), int(d["tensors"]), d["device"])


def time_adam_steps(
    ns: Sequence[int],
    *,
    implementations: Sequence[str] = STEP_IMPLEMENTATIONS,
    tensors: int = 1,
    device="cpu",
    repeat: int = 5,
    warmup: int = 1,
    bandwidth: float | None = None,
    cold: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> StepTimes:
    """Time one Adam step of each implementation (:func:`adam_steppers`) at each size in ``ns``.

    At each size every implementation gets its own arrays and ``warmup`` untimed steps (compilation,
    first-touch pages); then ``repeat`` rounds time each implementation once, in an order that rotates
    from round to round, each step from cold caches when ``cold`` (:func:`flush_caches`), as in training.
    The median of each implementation's rounds is kept. Ratios measured side by side are what to read;
    absolute times depend on the machine and on what else runs on it.

    Args:
        ns: the sizes, numbers of float32 parameters.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to time.
        tensors: how many tensors the parameters are cut into (torch's for-loop pays per tensor).
        device: where torch's tensors live.
        repeat: timed rounds (>= 1).
        warmup: untimed steps of each implementation first (>= 0).
        bandwidth: bytes per second to compare with; :func:`memory_bandwidth` ``.best`` if None.
        cold: flush the caches before each timed step.
        clock: the clock, in seconds.
    """
    ns = tuple(int(_check_count("n", n)) for n in ns)
    if not ns:
        raise ValueError("ns is empty: give at least one size")
    if repeat < 1 or warmup < 0:
        raise ValueError(f"Invalid repeat={repeat}, warmup={warmup} (allowed: repeat >= 1, warmup >= 0)")
    if bandwidth is None:
        bandwidth = memory_bandwidth(device).best
    seconds = {impl: np.empty(len(ns)) for impl in implementations}
    for i, n in enumerate(ns):
        steppers = adam_steppers(n, tensors=tensors, device=device, implementations=implementations)
        names = list(steppers)
        for stepper in steppers.values():
            for _ in range(warmup):
                stepper.step()
        times = {name: [] for name in names}
        for r in range(repeat):
            for name in names[r % len(names) :] + names[: r % len(names)]:  # no implementation always goes first
                times[name].append(median_seconds(steppers[name].step, repeat=1, warmup=0, device=device,
                                                  cold=cold, clock=clock))  # fmt: skip
        for name in names:
            seconds[name][i] = statistics.median(times[name])
        del steppers
    return StepTimes(ns, seconds, float(bandwidth), tensors, str(torch.device(device)))
