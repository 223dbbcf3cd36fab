"""Checks for notebook 09 (Adam at scale): memory per parameter, mixed precision recipes and sharded state.

Each expected value is computed by the library function the notebook teaches, never typed in. The numeric
exercises ask for three significant digits (exercise 2 for :data:`RECIPE_DIGITS`, since the block scales show
only in the third decimal place) and accept one unit in the last of them.

>>> check_adam_state_gb(12.0)
✓ Adam's m and v for 1.5e9 parameters, in GB = 12 is right.
>>> def zero_bytes_per_rank(n_params, n_ranks, stage):
...     weights = 2 * n_params / (n_ranks if stage >= 3 else 1)
...     gradients = 2 * n_params / (n_ranks if stage >= 2 else 1)
...     optimizer = 12 * n_params / (n_ranks if stage >= 1 else 1)
...     return weights, gradients, optimizer
>>> check_zero_bytes_per_rank(zero_bytes_per_rank)  # doctest: +NORMALIZE_WHITESPACE
✓ zero_bytes_per_rank agrees with lessonlib on 24 cases. For example, 7 billion parameters on 8 ranks
with ZeRO-1: 38.5 GB per rank, of which 10.5 GB of optimizer state (112 GB on one device).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from lessonlib.exercises import Result, check_digits, unanswered
from lessonlib.exercises.cost import _torch_helpers, _with_slips  # one copy: notebook 08's checks

# Exercise 1: a model of this many parameters, trained in float32.
STATE_PARAMS = 1.5e9
# Exercise 2: the recipe whose bytes per parameter the learner adds up.
RECIPE = "8-bit states"
#: Exercise 2's significant digits: 10.004 shows the scales, 10.0 does not.
RECIPE_DIGITS = 5
# Exercise 3: a model of this many parameters, in mixed precision, on this many ranks with ZeRO stage 1.
ZERO_PARAMS, ZERO_RANKS = 7e9, 8
# Exercise 4: the cases a learner's zero_bytes_per_rank runs on (every combination).
CASES_PARAMS, CASES_RANKS, CASES_STAGES = (7e9, 1e6), (1, 8, 64), (0, 1, 2, 3)


def check_adam_state_gb(answer) -> Result:
    """Exercise 1: the memory of Adam's m and v, in GB (1e9 bytes), for STATE_PARAMS float32 parameters."""
    return check_digits(
        "Adam's m and v for 1.5e9 parameters, in GB",
        answer,
        expected=_torch_helpers().adam_state_bytes(STATE_PARAMS, itemsize=4) / 1e9,
        hint="Count only the optimizer's state: two tensors (m and v) per parameter, 4 bytes per float32 number; "
        "the weights and the gradients are not part of it.",
    )


def check_recipe_bytes(answer) -> Result:
    """Exercise 2: bytes per parameter of training with 16-bit weights, a float32 master copy and 8-bit m and v."""
    th = _torch_helpers()
    parts = th.BYTES_PER_PARAMETER[RECIPE]
    expected = th.bytes_per_parameter(RECIPE)
    scales = sum(b for part, b in parts.items() if part == "block scales")
    master = parts["master weights"]
    return _with_slips(
        "bytes per parameter with 8-bit states",
        answer,
        expected,
        slips={
            expected - scales: "Close: each block of 2048 numbers of m, and each of v, also keeps its scale, a "
            "float32 number (4 bytes), shared by the block's 2048 parameters.",
            expected - master: "The optimizer updates a float32 master copy of the weights (4 bytes per "
            "parameter): the 16-bit weights alone would swallow small updates.",
            parts["m (8-bit)"] + parts["v (8-bit)"] + scales: "That is the optimizer's m and v alone; the question "
            "asks for everything training keeps per parameter: weights, gradients, master weights, m, v, scales.",
        },
        hint="Add up, per parameter: 16-bit weights and gradients (2 bytes each), the float32 master weights, "
        "m and v in one byte each, and for each of m and v one float32 scale per block of 2048 numbers.",
        digits=RECIPE_DIGITS,  # the scales change the answer by 4e-4 of itself
    )


def check_zero1_state_gb(answer) -> Result:
    """Exercise 3: GB (1e9 bytes) of optimizer state each rank keeps with ZeRO-1, ZERO_PARAMS on ZERO_RANKS ranks."""
    th = _torch_helpers()
    parts = th.zero_parts_per_rank(ZERO_PARAMS, ZERO_RANKS, 1, "mixed")
    expected = parts["optimizer"] / 1e9
    whole = th.zero_parts_per_rank(ZERO_PARAMS, 1, 1, "mixed")["optimizer"] / 1e9
    m_v = th.adam_state_bytes(ZERO_PARAMS) / ZERO_RANKS / 1e9
    return _with_slips(
        "optimizer state per rank with ZeRO-1, in GB",
        answer,
        expected,
        slips={
            whole: "That is the whole optimizer state, on one device; ZeRO-1 splits it evenly across the 8 ranks.",
            m_v: "In mixed precision the optimizer's state is three float32 numbers per parameter: the master "
            "weights, m and v (the ZeRO paper's K = 12 bytes).",
            sum(parts.values()) / 1e9: "That is everything a rank keeps; the question asks for the optimizer's "
            "state alone (master weights, m, v), the part ZeRO-1 shards.",
        },
        hint="In mixed precision the optimizer keeps 12 bytes per parameter (float32 master weights, m, v); "
        "ZeRO-1 splits them evenly across the ranks.",
    )


#: zero_bytes_per_rank's known slips: a function with the learner's signature, and what to tell them.
def _slip_every_stage(n, r, stage):
    return tuple(b / r if stage >= 1 else b for b in (2 * n, 2 * n, 12 * n))


def _slip_one_stage_early(n, r, stage):
    return tuple(b / r if stage >= k else b for b, k in ((2 * n, 2), (2 * n, 1), (12 * n, 1)))


def _slip_no_master(n, r, stage):
    return tuple(b / r if stage >= k else b for b, k in ((2 * n, 3), (2 * n, 2), (8 * n, 1)))


_ZERO_SLIPS: tuple[tuple[Callable, str], ...] = (
    (_slip_every_stage, "your function divides everything by n_ranks from stage 1 on; each stage shards one more "
     "kind: 1 the optimizer's state, 2 also the gradients, 3 also the weights."),
    (_slip_one_stage_early, "your stages are one off: stage 1 shards the optimizer's state only, stage 2 adds the "
     "gradients and stage 3 the weights."),
    (_slip_no_master, "your optimizer keeps 8 bytes per parameter; in mixed precision it also keeps the float32 "
     "master weights (12 bytes: master, m, v)."),
)  # fmt: skip


def _agree(got, want) -> bool:
    try:
        return len(got) == len(want) and all(math.isclose(float(a), b, rel_tol=1e-9) for a, b in zip(got, want))
    except (TypeError, ValueError):
        return False


def check_zero_bytes_per_rank(fn) -> Result:
    """Exercise 4: the learner's ``zero_bytes_per_rank(n_params, n_ranks, stage)`` in mixed precision.

    It must return three numbers, the bytes one rank keeps of (weights, gradients, optimizer state),
    for every combination of CASES_PARAMS, CASES_RANKS and CASES_STAGES; they are compared with
    :func:`lessonlib.course.pytorch.zero_parts_per_rank`.
    """
    name = "zero_bytes_per_rank"
    if fn is ... or fn is None:
        return unanswered(name)
    if not callable(fn):
        raise TypeError(f"fn must be your function {name}(n_params, n_ranks, stage), got {type(fn).__name__}")
    th = _torch_helpers()
    cases = list(itertools.product(CASES_PARAMS, CASES_RANKS, CASES_STAGES))
    got = []
    for n, r, stage in cases:
        try:
            out = fn(n, r, stage)
        except Exception as exc:  # reported to the learner, not raised
            if isinstance(exc, TypeError) and "Ellipsis" in str(exc):
                return unanswered(name)
            return Result(False, f"✗ {name}: it raised {type(exc).__name__}: {exc} on n_params={n:g}, "
                          f"n_ranks={r}, stage={stage}.")  # fmt: skip
        if out is ... or (isinstance(out, tuple) and any(x is ... for x in out)):
            return unanswered(name)
        if not (isinstance(out, (tuple, list)) and len(out) == 3):
            return Result(False, f"✗ {name}: return three numbers, the bytes of (weights, gradients, optimizer "
                          f"state) one rank keeps; it returned {out!r}.")  # fmt: skip
        got.append(tuple(out))
    want = [tuple(th.zero_parts_per_rank(n, r, stage, "mixed").values()) for n, r, stage in cases]
    if all(map(_agree, got, want)):
        per_rank = th.zero_parts_per_rank(ZERO_PARAMS, ZERO_RANKS, 1, "mixed")
        one = th.zero_bytes_per_rank(ZERO_PARAMS, 1, 0, "mixed")
        return Result(
            True,
            f"✓ {name} agrees with lessonlib on {len(cases)} cases. For example, {ZERO_PARAMS / 1e9:g} billion "
            f"parameters on {ZERO_RANKS} ranks with ZeRO-1: {sum(per_rank.values()) / 1e9:g} GB per rank, of "
            f"which {per_rank['optimizer'] / 1e9:g} GB of optimizer state ({one / 1e9:g} GB on one device).",
        )
    for slip, message in _ZERO_SLIPS:
        if all(_agree(g, slip(n, r, stage)) for g, (n, r, stage) in zip(got, cases)):
            return Result(False, f"✗ {name}: {message}")
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if not _agree(g, w))
    (n, r, stage), g, w = cases[i], got[i], want[i]
    kind = next(k for k, a, b in zip(("weights", "gradients", "optimizer state"), g, w) if not _agree((a,), (b,)))
    show = lambda parts: "(" + ", ".join(f"{float(x):.6g}" for x in parts) + ")"  # noqa: E731
    return Result(False, f"✗ {name}: the bytes of {kind} are wrong for n_params={n:g}, n_ranks={r}, stage={stage}: "
                  f"(weights, gradients, optimizer) should be {show(w)}, yours are {show(g)}.")  # fmt: skip
