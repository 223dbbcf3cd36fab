"""Checks for notebook 06 (schedules and AdamW: L2 regularisation against decoupled weight decay).

>>> check_shrink_factor(1 - 3e-4 * 0.1)
✓ shrink factor per step = 0.99997 is right.
>>> check_torch_weight_decay(...)
… torch weight_decay: not answered yet. Replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.course.digits import timescale
from lessonlib.exercises import Result, check_digits, check_value
from lessonlib.optim.weight_decay import decay, decay_rates, half_life, torch_weight_decay

# Exercise 1: torch.optim.AdamW(lr=3e-4, weight_decay=0.1); the factor that multiplies theta each step, gradient aside
SHRINK_LR, SHRINK_WD = 3e-4, 0.1
# Exercise 2: the paper's lambda_LH (per step, at eta_t = 1) and the base rate alpha
PAPER_WD, PAPER_ALPHA = 5e-5, 1e-3
# Exercise 3: two parameters' gradient RMS under Adam + L2
RMS_BIG, RMS_SMALL = 4.0, 0.02
# Exercise 5: torch.optim.AdamW(lr=0.1, weight_decay=0.3) on 600 images in mini-batches of 100; tau in epochs
TAU_LR, TAU_WD, TAU_STEPS_PER_EPOCH = 0.1, 0.3, 6


def _near(answer, value, rtol=1e-6) -> bool:
    try:
        return math.isclose(float(answer), value, rel_tol=rtol)
    except (TypeError, ValueError):
        return False


def check_shrink_factor(answer) -> Result:
    """Exercise 1: ``torch.optim.AdamW(lr=3e-4, weight_decay=0.1)`` multiplies theta by what, each step, exactly?"""
    hint = "The decay multiplies theta by 1 - lr * weight_decay before the Adam step."
    if _near(answer, 1 - SHRINK_WD):
        hint = "That is 1 - weight_decay: PyTorch scales the decay by the learning rate."
    elif _near(answer, SHRINK_LR * SHRINK_WD):
        hint = "That is the fraction removed per step; the question asks for the factor that is kept."
    expected = decay(1.0, SHRINK_LR, SHRINK_WD)  # theta = 1 after one decay: the factor itself
    return check_value("shrink factor per step", answer, expected=expected, rtol=1e-9, hint=hint)


def check_torch_weight_decay(answer) -> Result:
    """Exercise 2: the exact ``weight_decay`` of ``AdamW(lr=1e-3)`` equal to the paper's lambda_LH = 5e-5."""
    hint = "PyTorch removes lr * weight_decay per step, the paper eta_t * lambda_LH; set them equal at eta_t = 1."
    if _near(answer, PAPER_WD * PAPER_ALPHA):
        hint = "You multiplied by alpha; PyTorch multiplies weight_decay by lr, so divide lambda_LH by it instead."
    elif _near(answer, PAPER_WD):
        hint = "The same number is not the same decay: PyTorch multiplies its weight_decay by lr."
    expected = torch_weight_decay(PAPER_WD, PAPER_ALPHA)
    return check_value("torch weight_decay", answer, expected=expected, rtol=1e-9, hint=hint)


def check_l2_decay_ratio(answer) -> Result:
    """Exercise 3: under Adam + L2, how many times faster is the RMS-0.02 parameter decayed than the RMS-4 one?

    The answer is a whole number, and the check wants it exactly.
    """
    rates = decay_rates(1.0, 1.0, v_hat=np.array([RMS_BIG, RMS_SMALL]) ** 2, eps=0.0)
    ratio = float(rates.l2[1] / rates.l2[0])
    hint = "Under L2 the decay is divided by sqrt(v_hat), the gradient's RMS."
    if _near(answer, ratio**2):
        hint = "v_hat is the mean square; the division is by its square root, the RMS."
    elif _near(answer, 1 / ratio):
        hint = "Upside down: the parameter with the *smaller* gradients is decayed faster."
    elif _near(answer, 1.0):
        hint = "That would be AdamW, whose decay ignores the gradients; this is Adam + L2."
    return check_value("decay ratio under L2", answer, expected=ratio, rtol=1e-6, hint=hint)


def check_timescale(answer) -> Result:
    """Exercise 5: tau = 1/(lr * weight_decay) of ``AdamW(lr=0.1, weight_decay=0.3)``, in epochs of 6 steps.

    The question asks for three significant figures: 5.56 (and 5.55, one unit off) pass, 5.5556 too.
    """
    hint = "tau = 1 / (lr * weight_decay) steps; an epoch is 600 / 100 steps."
    steps = timescale(TAU_LR, TAU_WD)
    if _near(answer, steps, 2e-2):
        hint = "That is tau in steps; the question asks for epochs (divide by the steps per epoch)."
    elif _near(answer, half_life(TAU_LR, TAU_WD) / TAU_STEPS_PER_EPOCH, 2e-2):
        hint = "That is the half-life; the window of the average is 1 / (lr * weight_decay), with no ln 2."
    elif _near(answer, timescale(1.0, TAU_WD, TAU_STEPS_PER_EPOCH), 2e-2):
        hint = "PyTorch multiplies the decay by the learning rate: the fraction removed per step is lr * weight_decay."
    elif any(_near(answer, 1 / x, 2e-2) for x in (steps / TAU_STEPS_PER_EPOCH, steps * TAU_STEPS_PER_EPOCH)):
        hint = "Upside down: a weak decay (small lr * weight_decay) means a long window."
    expected = timescale(TAU_LR, TAU_WD, TAU_STEPS_PER_EPOCH)
    return check_digits("tau in epochs", answer, expected=expected, hint=hint, digits=3)
