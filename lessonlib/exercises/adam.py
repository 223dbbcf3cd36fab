"""Checks for notebook 04 (Adam, line by line).

Each question asks for three significant digits and accepts them (:func:`lessonlib.exercises.check_digits`);
a known slip gets a hint that names it.

>>> check_only_m_corrected(10.0)
✓ first step / lr (only m corrected) = 10 is right.
>>> check_paper_bound(3.16).message.startswith("✗")
True
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.exercises import Result, check_digits
from lessonlib.optim.adam import adam_step, adam_trace, step_bound

# Exercise 1: betas (0.9, 0.99), eps = 0; Exercise 3: betas (0.8, 0.99)
EX1_BETAS, EX3_BETAS = (0.9, 0.99), (0.8, 0.99)


def check_only_m_corrected(answer) -> Result:
    """Exercise 1: Adam's first step, in units of lr, with betas (0.9, 0.99), m corrected and v not (eps = 0)."""
    beta1, beta2 = EX1_BETAS
    first = {
        how: float(adam_step(0.0, 1.0, 0.0, 0.0, 1, lr=1.0, beta1=beta1, beta2=beta2, eps=0.0, correct=how).update)
        for how in ("m", "v", "both")
    }
    slips = {
        first["both"]: "That is the step with both corrections (with these betas, also the one with neither); "
        "here v_1 is used as it is, still far below g_1^2.",
        first["v"]: "That corrects v and not m; the question is the other way round.",
        1 / math.sqrt(1 - 0.999): "That is the lesson's table, for beta2 = 0.999; this question has beta2 = 0.99.",
        1 / (1 - beta2): "The denominator is the square root of v_1, not v_1 itself.",
    }
    hint = "Write m_hat_1 and v_1 in terms of g_1 at t = 1, then form the step; g_1's size should drop out."
    return check_digits("first step / lr (only m corrected)", answer, first["m"], hint=hint, slips=slips)


def check_constant_gradient_distance(answer) -> Result:
    """Exercise 2: how far theta moves in 10 Adam steps (lr = 0.01, defaults) with the constant gradient -2."""
    expected = float(adam_trace(np.float64(0.0), [np.float64(-2.0)] * 10, lr=0.01)[-1].theta)
    slips = {
        -expected: "The size is right; mind the direction: the gradient is negative, and Adam steps against it.",
        2 * expected: "Adam's step does not grow with the gradient's size: the division by sqrt(v_hat) cancels it.",
        -2 * expected: "Adam's step does not grow with the gradient's size, and mind the direction.",
        expected / 10: "That is one step; the gradient came ten times.",
    }
    hint = "How large is each step when the gradient never changes, and which way does a negative gradient move theta?"
    return check_digits("theta_10 - theta_0", answer, expected, hint=hint, slips=slips)


def check_paper_bound(answer) -> Result:
    """Exercise 3: the paper's bound (1 - beta1) / sqrt(1 - beta2), in units of lr, for betas (0.8, 0.99)."""
    beta1, beta2 = EX3_BETAS
    expected = step_bound(beta1, beta2)
    slips = {
        step_bound(0.9, 0.999): "That is the bound for the defaults (0.9, 0.999); this question has (0.8, 0.99).",
        1 / expected: "That is the bound upside down: which factor belongs to m, on top, and which to v?",
        (1 - beta1) / (1 - beta2): "The factor from v enters through a square root, as v does in the step.",
        1.0: "That is the bound of the other case; compare 1 - beta1 with sqrt(1 - beta2) first.",
        step_bound(beta1, 0.999): "That uses beta2 = 0.999; this question has beta2 = 0.99.",
    }
    hint = "The bound is the single-spike step of the lesson's section on it: put this question's betas in it."
    return check_digits("bound / lr", answer, expected, hint=hint, slips=slips)
