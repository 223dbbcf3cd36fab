"""Checks for notebook 10 (Adam and AdamW in PyTorch): the schedule, gradient clipping.

Each expected value is computed by the library function the notebook teaches, never typed in. Both
exercises ask for three significant digits and accept one unit in the last of them.

>>> check_clipped_entry(0.4)
✓ the entry 2.0 after clipping = 0.4 is right.
>>> check_warmup_cosine(0.854)
✓ multiplier at step 325 = 0.854 is right.
"""

from __future__ import annotations

from lessonlib.exercises import Result, check_digits

# Exercise 1: warm-up steps W, total steps T, and the step t asked about.
WARMUP, TOTAL, STEP = 100, 1000, 325
# Exercise 2: the global gradient norm, max_norm, and one gradient entry before clipping.
GLOBAL_NORM, MAX_NORM, ENTRY = 5.0, 1.0, 2.0


def check_warmup_cosine(answer) -> Result:
    """Exercise 1: the learning-rate multiplier of the warm-up + cosine schedule at step STEP."""
    from lessonlib.optim import schedules

    return check_digits(
        f"multiplier at step {STEP}",
        answer,
        expected=schedules.warmup_cosine(STEP, warmup_steps=WARMUP, total_steps=TOTAL),
        hint=f"Step {STEP} is past the warm-up; the cosine part runs over the {TOTAL - WARMUP} steps after it, "
        "so first find the fraction of that part already done, then 0.5 * (1 + cos(pi * fraction)).",
    )


def check_clipped_entry(answer) -> Result:
    """Exercise 2: a gradient entry after clip_grad_norm_ with the global norm and max_norm above."""
    from lessonlib.course import pytorch as torch_helpers

    return check_digits(
        f"the entry {ENTRY} after clipping",
        answer,
        expected=ENTRY * torch_helpers.clip_coefficient(GLOBAL_NORM, MAX_NORM),
        hint="Clipping multiplies every gradient entry by the same factor, max_norm / (global norm); "
        "it does not cap each entry at max_norm.",
    )
