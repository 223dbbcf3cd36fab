r"""Lessons 08 and 09: a training step's memory and arithmetic, counted by formula; no torch needed.

- **bytes kept**: bytes per parameter of training with Adam, by precision (8-bit states and what
  Megatron-Core keeps included), Adam's state, what tracemalloc sees numpy allocate, and the bytes each
  rank keeps and sends under ZeRO's three stages (notebook 09);
- **bytes moved and operations done**: the bytes and the floating-point operations of one Adam step,
  whose ratio (about half an operation per byte) makes it bound by memory (notebook 08).

Pure arithmetic: this module does not import torch, so an exercise check can use it without loading torch
(``tests/test_architecture.py`` keeps it so).

>>> bytes_per_parameter("float32")
16
>>> adam_state_bytes(1_000_000) / 1e6     # m and v in float32: 8 bytes per parameter
8.0
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np

from lessonlib.optim._checks import brief, check_bool, check_function, check_int, check_operand, check_real, check_reals

# ----------------------------------------------------------------------------- bytes kept

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

#: The widest number a formula here counts, in bytes (numpy's complex256): ``itemsize`` is 1 to this.
MAX_ITEMSIZE = 32


def _scheme(scheme) -> dict[str, float]:
    """The parts of ``scheme``, a key of :data:`BYTES_PER_PARAMETER`; a TypeError or ValueError naming it."""
    if not isinstance(scheme, str):
        raise TypeError(f"scheme must be a str, one of {list(BYTES_PER_PARAMETER)}; got {type(scheme).__name__}")
    try:
        return BYTES_PER_PARAMETER[scheme]
    except KeyError:
        raise ValueError(f"unknown scheme {brief(scheme)}; allowed: {list(BYTES_PER_PARAMETER)}") from None


def _count(n_params):
    """``n_params`` as given (an int stays an int; an array of counts stays an array), once it is a real >= 0."""
    check_operand("n_params", n_params)  # a number or a plain numpy array: no bool, str, list, matrix or tensor
    check_reals("n_params", n_params, low=0.0)  # finite, within float's range, >= 0
    return n_params.item() if isinstance(n_params, np.generic) else n_params


def _itemsize(itemsize) -> int:
    return check_int("itemsize", itemsize, low=1, high=MAX_ITEMSIZE)


def bytes_per_parameter(scheme: str) -> int:
    """Total bytes per parameter for ``scheme``, a key of :data:`BYTES_PER_PARAMETER`.

    >>> {s: bytes_per_parameter(s) for s in BYTES_PER_PARAMETER}  # doctest: +NORMALIZE_WHITESPACE
    {'float32': 16, 'autocast': 16, 'mixed': 16, 'bf16, fp32 gradients': 18, 'fp16, fp16 gradients': 20,
     '8-bit states': 10.00390625}

    Args:
        scheme: the name of a recipe, a key of :data:`BYTES_PER_PARAMETER` (``"float32"``, ``"mixed"``, ...).
    """
    return sum(_scheme(scheme).values())


def adam_state_bytes(n_params: float, itemsize: int = 4) -> float:
    """Bytes of Adam's state, :math:`m` and :math:`v`: two numbers of ``itemsize`` bytes per parameter.

    The step count is one scalar per tensor, not per parameter, and is not counted.

    Args:
        n_params: the number of parameters.
        itemsize: bytes per number of the state (4 for float32), 1 to :data:`MAX_ITEMSIZE`.
    """
    n_params, itemsize = _count(n_params), _itemsize(itemsize)
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
        itemsize: bytes per number (4 for float32), 1 to :data:`MAX_ITEMSIZE`.
        check_finite: count the extra read of :math:`g` of ``ll.Adam.step``'s default check.
    """
    n_params, itemsize, check_finite = _count(n_params), _itemsize(itemsize), check_bool("check_finite", check_finite)
    return (8 if check_finite else 7) * itemsize * n_params


def traced_bytes(fn: Callable[[], object]) -> tuple[int, int]:
    """What ``fn()`` allocates through Python's and numpy's allocators: (bytes still held after it, peak bytes).

    Measured with :mod:`tracemalloc`, which sees numpy's array buffers (numpy reports them to it)
    but not torch's tensors (torch's allocator does not). What ``fn`` returns is dropped only after
    the measurement, so the first number counts it.

    Args:
        fn: a function of no arguments.
    """
    check_function("fn", fn)
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
    n_params, n_ranks = check_real("n_params", n_params), check_int("n_ranks", n_ranks, low=1)
    stage = check_int("stage", stage, low=0, high=max(ZERO_STAGES))
    recipe = _scheme(scheme)  # names the allowed schemes on a bad one
    parts = {"weights": 0.0, "gradients": 0.0, "optimizer": 0.0}
    for part, b in recipe.items():
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
        itemsize: bytes per number sent (2 for 16-bit gradients and weights), 1 to :data:`MAX_ITEMSIZE`.
    """
    n_params, n_ranks, stage = (
        check_real("n_params", n_params),
        check_int("n_ranks", n_ranks, low=1),
        check_int("stage", stage, low=0, high=max(ZERO_STAGES)),
    )
    itemsize = _itemsize(itemsize)
    passes = 3 if stage == 3 else 2  # passes of (N_d - 1) / N_d of the model over each rank's link
    return float(passes * (n_ranks - 1) / n_ranks * n_params * itemsize)


# ----------------------------------------------------------------------------- bytes moved, operations done

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
#: (``lessonlib.optim._arrays._finite_loop``).
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
    n_params, check_finite = _count(n_params), check_bool("check_finite", check_finite)
    return (sum(ADAM_FLOPS.values()) + (CHECK_FLOPS if check_finite else 0)) * n_params
