r"""Lessons 08 and 09: what notebooks 08 and 09 measure in PyTorch, as functions that tests can check.

This is the one module of lessonlib that imports ``torch``; the rest of the
library works without it. Four groups of helpers:

- **parity**: the same parameters and gradients through a lessonlib optimizer
  and ``torch.optim``'s three implementations (:data:`IMPLEMENTATIONS`), with
  the deviation at every step;
- **training**: parameter groups without weight decay on biases and norm
  layers; the factor by which ``clip_grad_norm_`` scales gradients; how long
  Adam's :math:`v` remembers a gradient spike;
- **memory**: bytes per parameter of training with Adam, by precision (8-bit
  states included), what tracemalloc sees numpy allocate, and the bytes each
  rank keeps and sends under ZeRO's three stages;
- **timing**: a median of wall-clock times that waits for the GPU, the memory
  bandwidth of a simple in-place stream, and one Adam step timed four ways on
  the same arrays (:func:`time_adam_steps`), to compare with that bandwidth.

>>> bytes_per_parameter("float32")
16
>>> adam_state_bytes(1_000_000) / 1e6     # m and v in float32: 8 bytes per parameter
8.0
"""

from __future__ import annotations

import math
import numbers
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

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
    # Mixed precision with bf16/fp16 weights and gradients and a float32 master copy
    # that the optimizer updates (the count of the ZeRO paper, Rajbhandari et al. 2020).
    "mixed": {"weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "m": 4, "v": 4},
    # The same with m and v in 8 bits, block-wise (Dettmers et al. 2022): one byte each, plus one
    # float32 scale per block of QUANT_BLOCK elements, for each of the two states.
    "8-bit states": {
        "weights (16-bit)": 2, "gradients (16-bit)": 2, "master weights": 4, "m (8-bit)": 1, "v (8-bit)": 1,
        "block scales": 2 * 4 / QUANT_BLOCK,
    },
}  # fmt: skip


def bytes_per_parameter(scheme: str) -> int:
    """Total bytes per parameter for ``scheme``, a key of :data:`BYTES_PER_PARAMETER`.

    >>> {s: bytes_per_parameter(s) for s in BYTES_PER_PARAMETER}
    {'float32': 16, 'autocast': 16, 'mixed': 16, '8-bit states': 10.00390625}

    Args:
        scheme: the name of a recipe: ``"float32"``, ``"autocast"``, ``"mixed"`` or ``"8-bit states"``.
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


def adam_step_traffic(n_params: float, itemsize: int = 4) -> float:
    r"""The fewest bytes one Adam step must move: read :math:`\theta, g, m, v`, write :math:`\theta, m, v`.

    >>> adam_step_traffic(1, itemsize=4)
    28

    Args:
        n_params: the number of parameters.
        itemsize: bytes per number (4 for float32).
    """
    return 7 * itemsize * n_params


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
    is split evenly, :math:`b\,\Psi / N_d` on each of :math:`N_d` ranks; the others are held whole
    by every rank. In mixed precision the optimizer's kind is the ZeRO paper's :math:`K = 12` bytes, so
    stage 1 leaves :math:`(2 + 2 + 12/N_d)\,\Psi` per rank. (In float32 the master weights are the
    weights themselves: the optimizer's kind is only :math:`m` and :math:`v`.)

    >>> zero_parts_per_rank(1, 8, 1)
    {'weights': 2.0, 'gradients': 2.0, 'optimizer': 1.5}

    Args:
        n_params: :math:`\Psi`, the number of parameters.
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
    all-gather of :math:`\Psi` numbers sends :math:`(N_d - 1)/N_d \cdot \Psi` numbers from each rank;
    an all-reduce is the two, :math:`2 (N_d - 1)/N_d \cdot \Psi`. Stages 0 to 2 move the same:
    stage 0 all-reduces the gradients; stages 1 and 2 reduce-scatter them (each rank receives the
    sum for its shard) and all-gather the updated 16-bit weights. Stage 3 also all-gathers the
    weights a second time, in the backward pass, since no rank keeps them whole: :math:`3 (N_d-1)/N_d \cdot \Psi`.

    >>> comm_bytes_per_rank(1, 2, 0, itemsize=1), comm_bytes_per_rank(1, 2, 3, itemsize=1)
    (1.0, 1.5)

    Args:
        n_params: :math:`\Psi`.
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

    Args:
        fn: the work to time, a function of no arguments.
        repeat: timed calls (>= 1).
        warmup: calls before the timed ones, not timed (compilation, first-touch pages).
        device: where ``fn`` runs; on a GPU each call is bracketed by :func:`synchronize`.
        clock: the clock, in seconds (a test may pass a fake one).
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

    Args:
        device: where the tensors live.
        nbytes: bytes of each of the two tensors.
        repeat: timed calls (their median is used).
        clock: the clock, in seconds.
    """
    n = nbytes // 4
    x = torch.zeros(n, device=device)
    y = torch.ones(n, device=device)
    seconds = median_seconds(lambda: x.add_(y), repeat=repeat, device=device, clock=clock)
    return 3 * n * 4 / seconds


#: The four implementations of one Adam step that notebook 08 times, side by side, on the same arrays.
STEP_IMPLEMENTATIONS = ("textbook numpy", "lessonlib kernel", "torch foreach", "torch fused")


@dataclass(frozen=True)
class Stepper:
    """One implementation's Adam step, ``step()``, and the float32 parameter array ``theta`` it updates in place."""

    step: Callable[[], object]
    theta: np.ndarray


def adam_steppers(
    n: int, *, seed: int = 0, implementations: Sequence[str] = STEP_IMPLEMENTATIONS
) -> dict[str, Stepper]:
    r"""One float32 Adam step over ``n`` parameters, four ways: name -> a :class:`Stepper`.

    Every implementation starts from its own copy of the same parameters and gradient (drawn from
    ``np.random.default_rng(seed)``) and steps with the default hyperparameters (lr = 1e-3):

    - ``"textbook numpy"``: :func:`lessonlib.adam_step` on whole arrays, the form the lessons show
      (each line a pass over memory, with new arrays for :math:`m, v, \hat m, \hat v` and the update),
      written back into the parameter;
    - ``"lessonlib kernel"``: ``lessonlib.Adam.step``, the compiled loop, in place;
    - ``"torch foreach"`` and ``"torch fused"``: ``torch.optim.Adam`` with those flags
      (:data:`IMPLEMENTATIONS`), on CPU tensors that share memory with numpy arrays.

    The gradient stays the same from step to step: timing needs no new numbers.

    Args:
        n: the number of parameters (>= 1), one array.
        seed: the seed of the data.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to build.
    """
    _check_count("n", n)
    unknown = set(implementations) - set(STEP_IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; allowed: {list(STEP_IMPLEMENTATIONS)}")
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(int(n)).astype(np.float32)
    g = rng.standard_normal(int(n)).astype(np.float32)
    steppers = {}
    for impl in implementations:
        theta = theta0.copy()
        if impl == "textbook numpy":
            step = _textbook_stepper(theta, g)
        elif impl == "lessonlib kernel":
            opt = Adam([theta])
            step = lambda opt=opt: opt.step([g])  # noqa: E731
        else:
            p = torch.from_numpy(theta)  # shares memory with theta: torch's step updates the array
            p.grad = torch.from_numpy(g.copy())
            step = torch.optim.Adam([p], **IMPLEMENTATIONS[impl.removeprefix("torch ")]).step
        steppers[impl] = Stepper(step, theta)
    return steppers


def _textbook_stepper(theta: np.ndarray, g: np.ndarray) -> Callable[[], None]:
    state = {"t": 0, "m": np.zeros_like(theta), "v": np.zeros_like(theta)}

    def step():
        state["t"] += 1
        s = adam_step(theta, g, state["m"], state["v"], state["t"])
        theta[...], state["m"], state["v"] = s.theta, s.m, s.v

    return step


@dataclass(frozen=True)
class StepTimes:
    """Median seconds per Adam step, ``seconds[impl][i]`` at ``ns[i]`` float32 parameters, and the bandwidth."""

    ns: tuple[int, ...]
    seconds: dict[str, np.ndarray]
    bandwidth: float  # bytes per second, from stream_bandwidth

    def share(self, impl: str) -> np.ndarray:
        """The share of the bandwidth ``impl`` reached at each N: :func:`adam_step_traffic` / time / bandwidth."""
        return adam_step_traffic(np.asarray(self.ns, dtype=np.float64)) / self.seconds[impl] / self.bandwidth

    def floor(self) -> np.ndarray:
        """The least time a step could take at each N: its bytes divided by the bandwidth."""
        return adam_step_traffic(np.asarray(self.ns, dtype=np.float64)) / self.bandwidth


def time_adam_steps(
    ns: Sequence[int],
    *,
    repeat: int = 7,
    warmup: int = 2,
    bandwidth: float | None = None,
    implementations: Sequence[str] = STEP_IMPLEMENTATIONS,
) -> StepTimes:
    """Time one Adam step of each implementation (:func:`adam_steppers`) at each size in ``ns``, on the CPU.

    Each time is the median of ``repeat`` calls (:func:`median_seconds`). The implementations
    at one size are timed one after another on the same data, so their ratios are what to read;
    absolute times depend on the machine and on what else runs on it.

    Args:
        ns: the sizes, numbers of float32 parameters.
        repeat: calls per timing, as in :func:`median_seconds`.
        warmup: untimed calls first, as in :func:`median_seconds`.
        bandwidth: bytes per second to compare with; measured with :func:`stream_bandwidth` if None.
        implementations: which of :data:`STEP_IMPLEMENTATIONS` to time.
    """
    ns = tuple(int(_check_count("n", n)) for n in ns)
    if not ns:
        raise ValueError("ns is empty: give at least one size")
    if bandwidth is None:
        bandwidth = stream_bandwidth("cpu")
    seconds = {impl: np.empty(len(ns)) for impl in implementations}
    for i, n in enumerate(ns):
        for impl, stepper in adam_steppers(n, implementations=implementations).items():
            seconds[impl][i] = median_seconds(stepper.step, repeat=repeat, warmup=warmup)
    return StepTimes(ns, seconds, float(bandwidth))
