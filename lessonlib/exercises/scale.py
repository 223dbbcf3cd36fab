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

from lessonlib.course import memory
from lessonlib.exercises import Result, as_numbers, check_digits, said, shown, unanswered

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
#: Exercise 4: a learner's bytes must agree with lessonlib's to this relative tolerance (rounding aside).
CASES_RTOL = 1e-9
#: One GiB: an answer in GiB instead of the GB (1e9 bytes) the questions ask for is a slip the checks name.
GIB = 2**30


def _in_gib(expected_gb: float) -> dict:
    return {expected_gb * 1e9 / GIB: "That is in GiB (2^30 bytes); the question counts GB, 10^9 bytes."}


def check_adam_state_gb(answer) -> Result:
    """Exercise 1: the memory of Adam's m and v, in GB (1e9 bytes), for STATE_PARAMS float32 parameters."""
    expected = memory.adam_state_bytes(STATE_PARAMS, itemsize=4) / 1e9
    return check_digits(
        "Adam's m and v for 1.5e9 parameters, in GB",
        answer,
        expected,
        slips={
            memory.bytes_per_parameter("float32") * STATE_PARAMS / 1e9: "That is everything float32 training keeps "
            "(weights and gradients too); the question asks for the optimizer's state alone.",
            expected / 2: "Half the answer: check how many state tensors Adam keeps and how many bytes a float32 "
            "number takes.",
            expected * 1e9: "That is in bytes; the question asks for GB.",
        }
        | _in_gib(expected),
        hint="Count what the optimizer alone keeps per parameter, and the bytes of one float32 number; "
        "then multiply by the number of parameters.",
    )


def check_recipe_bytes(answer) -> Result:
    """Exercise 2: bytes per parameter of training with 16-bit weights, a float32 master copy and 8-bit m and v."""
    parts = memory.BYTES_PER_PARAMETER[RECIPE]
    expected = memory.bytes_per_parameter(RECIPE)
    scales = sum(b for part, b in parts.items() if part == "block scales")
    master = parts["master weights"]
    return check_digits(
        "bytes per parameter with 8-bit states",
        answer,
        expected,
        slips={
            expected - scales: "Close: each block of 2048 numbers of m, and each of v, also keeps its scale, a "
            "float32 number, shared by the block's 2048 parameters.",
            expected - master: "The optimizer updates a float32 master copy of the weights: the 16-bit weights "
            "alone would swallow small updates.",
            expected - scales / 2: "Only one set of scales: m and v are two state tensors, each cut into blocks "
            "with a scale of its own.",
            parts["m (8-bit)"] + parts["v (8-bit)"] + scales: "That is the optimizer's m and v alone; the question "
            "asks for everything training keeps per parameter.",
        },
        hint="Go through what training keeps for one parameter, part by part, and give each part its bytes; "
        "a block's scale is shared by the numbers of its block.",
        digits=RECIPE_DIGITS,  # the scales change the answer by 4e-4 of itself
    )


def check_zero1_state_gb(answer) -> Result:
    """Exercise 3: GB (1e9 bytes) of optimizer state each rank keeps with ZeRO-1, ZERO_PARAMS on ZERO_RANKS ranks."""
    parts = memory.zero_parts_per_rank(ZERO_PARAMS, ZERO_RANKS, 1, "mixed")
    expected = parts["optimizer"] / 1e9
    whole = memory.zero_parts_per_rank(ZERO_PARAMS, 1, 1, "mixed")["optimizer"] / 1e9
    m_v = memory.adam_state_bytes(ZERO_PARAMS) / ZERO_RANKS / 1e9
    return check_digits(
        "optimizer state per rank with ZeRO-1, in GB",
        answer,
        expected,
        slips={
            whole: "That is the whole optimizer state, on one device; ZeRO-1 shares it out across the ranks.",
            m_v: "In mixed precision the optimizer keeps more than m and v: the update is applied to a float32 "
            "copy of the weights, which is its state too.",
            sum(parts.values()) / 1e9: "That is everything a rank keeps; the question asks for the optimizer's "
            "state alone (master weights, m, v), the part ZeRO-1 shards.",
        }
        | _in_gib(expected),
        hint="List what the optimizer keeps per parameter in mixed precision and its bytes; then ask which part of "
        "it one rank holds under ZeRO-1.",
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
    (_slip_no_master, "your optimizer keeps m and v only; in mixed precision it also keeps the float32 master "
     "weights, the copy the update is applied to."),
)  # fmt: skip


def _agree(got, want) -> bool:
    """Each of ``got`` is a number (as ``as_numbers`` reads it: not a string, not a bool) close to ``want``'s."""
    if len(got) != len(want):
        return False
    values = [as_numbers(x) for x in got]  # one by one: a Fraction beside a tensor is still three numbers
    return all(
        v is not None and v.ndim == 0 and math.isclose(float(v), b, rel_tol=CASES_RTOL) for v, b in zip(values, want)
    )


def check_zero_bytes_per_rank(fn) -> Result:
    """Exercise 4: the learner's ``zero_bytes_per_rank(n_params, n_ranks, stage)`` in mixed precision.

    It must return three numbers, the bytes one rank keeps of (weights, gradients, optimizer state),
    for every combination of CASES_PARAMS, CASES_RANKS and CASES_STAGES; they are compared with
    :func:`lessonlib.course.memory.zero_parts_per_rank`.
    """
    name = "zero_bytes_per_rank"
    if fn is ... or fn is None:
        return unanswered(name)
    if not callable(fn):
        return Result(False, f"✗ {name}: expected your function {name} itself (its name, without calling it), "
                      f"got {shown(fn)}.")  # fmt: skip
    cases = list(itertools.product(CASES_PARAMS, CASES_RANKS, CASES_STAGES))
    got = []
    for n, r, stage in cases:
        try:
            out = fn(n, r, stage)
        except Exception as exc:  # reported to the learner, not raised
            if isinstance(exc, TypeError) and "Ellipsis" in said(exc):
                return unanswered(name)
            return Result(False, f"✗ {name}: it raised {said(exc)} on n_params={n:g}, "
                          f"n_ranks={r}, stage={stage}.")  # fmt: skip
        if out is ... or (isinstance(out, tuple) and any(x is ... for x in out)):
            return unanswered(name)
        if not (isinstance(out, (tuple, list)) and len(out) == 3):
            return Result(False, f"✗ {name}: return three numbers, the bytes of (weights, gradients, optimizer "
                          f"state) one rank keeps; it returned {shown(out)}.")  # fmt: skip
        got.append(tuple(out))
    want = [tuple(memory.zero_parts_per_rank(n, r, stage, "mixed").values()) for n, r, stage in cases]
    if all(map(_agree, got, want)):
        per_rank = memory.zero_parts_per_rank(ZERO_PARAMS, ZERO_RANKS, 1, "mixed")
        one = memory.zero_bytes_per_rank(ZERO_PARAMS, 1, 0, "mixed")
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
    kind, a, b = next((k, a, b) for k, a, b in zip(("weights", "gradients", "optimizer state"), g, w)
                      if not _agree((a,), (b,)))  # fmt: skip
    value = as_numbers(a)
    if value is None or value.ndim != 0:
        off = "not a number"
    else:
        ratio = float(value) / b if b else math.inf
        off = f"{ratio:.3g} times what they should be" if math.isfinite(ratio) and ratio > 0 else "not right"
    return Result(False, f"✗ {name}: for n_params={n:g}, n_ranks={r}, stage={stage} your bytes of {kind} are "
                  f"{off}. Which kinds does this stage shard, and how many bytes does each kind take per "
                  "parameter?")  # fmt: skip
