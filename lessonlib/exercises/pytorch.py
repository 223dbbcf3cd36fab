"""Checks for notebook 06 (Adam and AdamW in PyTorch): memory, the schedule, gradient clipping.

Each expected value is computed by the library function the notebook teaches, never typed in.

>>> check_adam_state_gb(12.0)
✓ Adam's m and v for 1.5e9 parameters, in GB = 12 is right.
"""

from __future__ import annotations

from lessonlib.exercises import Result, check_value

# Exercise 1: a model of this many parameters, trained in float32.
STATE_PARAMS = 1.5e9
# Exercise 2: warm-up steps W, total steps T, and the step t asked about.
WARMUP, TOTAL, STEP = 100, 1000, 325
# Exercise 3: the global gradient norm, max_norm, and one gradient entry before clipping.
GLOBAL_NORM, MAX_NORM, ENTRY = 5.0, 1.0, 2.0


def check_adam_state_gb(answer) -> Result:
    """Exercise 1: the memory of Adam's m and v, in GB (1e9 bytes), for STATE_PARAMS float32 parameters."""
    from lessonlib.course import pytorch as torch_helpers

    return check_value(
        "Adam's m and v for 1.5e9 parameters, in GB",
        answer,
        expected=torch_helpers.adam_state_bytes(STATE_PARAMS, itemsize=4) / 1e9,
        rtol=1e-3,
        hint="Count only the optimizer's state: two tensors (m and v) per parameter, 4 bytes per float32 number; "
        "the weights and the gradients are not part of it.",
    )


def check_warmup_cosine(answer) -> Result:
    """Exercise 2: the learning-rate multiplier of the warm-up + cosine schedule at step STEP."""
    from lessonlib.optim import schedules

    return check_value(
        f"multiplier at step {STEP}",
        answer,
        expected=schedules.warmup_cosine(STEP, warmup_steps=WARMUP, total_steps=TOTAL),
        rtol=1e-4,
        hint=f"Step {STEP} is past the warm-up; the cosine part runs over the {TOTAL - WARMUP} steps after it, "
        "so first find the fraction of that part already done, then 0.5 * (1 + cos(pi * fraction)).",
    )


def check_clipped_entry(answer) -> Result:
    """Exercise 3: a gradient entry after clip_grad_norm_ with the global norm and max_norm above."""
    from lessonlib.course import pytorch as torch_helpers

    return check_value(
        f"the entry {ENTRY} after clipping",
        answer,
        expected=ENTRY * torch_helpers.clip_coefficient(GLOBAL_NORM, MAX_NORM),
        rtol=1e-4,
        hint="Clipping multiplies every gradient entry by the same factor, max_norm / (global norm); "
        "it does not cap each entry at max_norm.",
    )
