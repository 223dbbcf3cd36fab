"""Checks for notebook 10 (Adam and AdamW in PyTorch): the schedule, gradient clipping.

Each expected value is computed by the library function the notebook teaches, never typed in. Both
exercises ask for three significant digits and accept one unit in the last of them.

>>> check_clipped_entry(0.4)
✓ the entry 2.0 after clipping = 0.4 is right.
>>> check_warmup_cosine(0.854)
✓ multiplier at step 325 = 0.854 is right.
"""

from __future__ import annotations

from lessonlib.course import training
from lessonlib.exercises import Result, check_digits

# Exercise 1: warm-up steps T_warm, total steps T, and the step t asked about.
WARMUP, TOTAL, STEP = 100, 1000, 325
# Exercise 2: the global gradient norm, max_norm, and one gradient entry before clipping.
GLOBAL_NORM, MAX_NORM, ENTRY = 5.0, 1.0, 2.0


def check_warmup_cosine(answer) -> Result:
    """Exercise 1: the learning-rate multiplier of the warm-up + cosine schedule at step STEP."""
    import math

    from lessonlib.optim import schedules

    cosine = lambda fraction: 0.5 * (1 + math.cos(math.pi * fraction))  # noqa: E731
    fraction = (STEP - WARMUP) / (TOTAL - WARMUP)
    return check_digits(
        f"multiplier at step {STEP}",
        answer,
        expected=schedules.warmup_cosine(STEP, warmup_steps=WARMUP, total_steps=TOTAL),
        slips={
            cosine(STEP / TOTAL): "You measured the cosine's progress from step 0; it starts where the warm-up ends.",
            cosine((STEP - WARMUP) / TOTAL): "You started the cosine at the end of the warm-up, but it does not "
            "last T steps: the warm-up used some of them.",
            math.cos(math.pi * fraction): "The multiplier runs from 1 down to 0 over the cosine part; the value you "
            "have would run from 1 down to -1.",
            1 - fraction: "That is a straight line down; the decay follows half a cosine.",
            math.cos(fraction): "Check the cosine's argument: it goes from 0 to pi, in radians.",
            STEP / WARMUP: "Step 325 is past the warm-up: the linear rise ended at T_warm.",
        },
        hint="Find which part of the schedule step 325 lies in, and how far through that part it is.",
    )


def check_clipped_entry(answer) -> Result:
    """Exercise 2: a gradient entry after clip_grad_norm_ with the global norm and max_norm above."""
    coefficient = training.clip_coefficient(GLOBAL_NORM, MAX_NORM)
    return check_digits(
        f"the entry {ENTRY} after clipping",
        answer,
        expected=ENTRY * coefficient,
        slips={
            MAX_NORM: "clip_grad_norm_ does not cap each entry at max_norm: it acts on all the gradients as one "
            "vector.",
            ENTRY: "The global norm is above max_norm, so clipping changes the gradients.",
            coefficient: "That is the factor clipping applies; the question asks what the entry becomes.",
            ENTRY / GLOBAL_NORM**0.5: "Check what the global norm is: it is already a length, not a squared one.",
        },
        hint="Clipping acts on all the gradients together as one vector: what does it keep, and what does it change?",
    )
