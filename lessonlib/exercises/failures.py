"""Checks for notebook 07 (when Adam fails, and the knobs people turn).

>>> check_counterexample_beta2(1 / 17)
✓ beta2 for C = 4 = 0.05882352941 is right.
>>> check_memory_steps(...)
… steps until 0.95**k <= 0.01: not answered yet. Replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import math

from lessonlib.course.failures import counterexample_beta2
from lessonlib.exercises import Result, check_value
from lessonlib.optim.adam import adam_step

# Exercise 1: Adam's first step, in units of lr, for a tiny gradient with fastai's eps (betas at torch's defaults)
TINY_G, TINY_EPS = 1e-7, 1e-5
# Exercise 2: the large gradient of Reddi, Kale & Kumar's counterexample
COUNTER_C = 4.0
# Exercise 3: how long v keeps a gradient: the first k with beta2**k <= SHARE
MEMORY_BETA2, SHARE = 0.95, 0.01


def _near(answer, value, rel_tol=1e-6) -> bool:
    try:
        return math.isclose(float(answer), value, rel_tol=rel_tol)
    except (TypeError, ValueError):
        return False


def check_tiny_gradient_step(answer) -> Result:
    """Exercise 1: the first step / lr of Adam with eps = 1e-5 for the gradient g_1 = 1e-7."""
    expected = float(adam_step(0.0, TINY_G, 0.0, 0.0, 1, lr=1.0, eps=TINY_EPS).update)
    hint = "At t = 1, m_hat_1 = g_1 and sqrt(v_hat_1) = |g_1|: the step is lr * g_1 / (|g_1| + eps)."
    if _near(answer, 1.0):
        hint = "That is the step without eps (lr, whatever the gradient); here |g_1| is a hundred times below eps."
    elif _near(answer, TINY_G / TINY_EPS):
        hint = "Close: g / eps is the tiny-gradient limit, but sqrt(v_hat_1) = |g_1| is 1% of eps, not 0: keep it."
    elif _near(answer, TINY_G / (math.sqrt(TINY_G**2 + TINY_EPS))):
        hint = "That puts eps inside the root; Adam (torch, lessonlib) adds it after the root."
    return check_value("first step / lr", answer, expected=expected, rtol=1e-6, hint=hint)


def check_counterexample_beta2(answer) -> Result:
    """Exercise 2: the beta2 of Reddi, Kale & Kumar's counterexample for C = 4 (the lesson itself runs C = 3)."""
    expected = counterexample_beta2(COUNTER_C)
    hint = "Theorem 1 uses beta2 = 1 / (1 + C**2)."
    if _near(answer, 1 / COUNTER_C**2):
        hint = "That is 1 / C**2; the paper adds 1 in the denominator: 1 / (1 + C**2)."
    elif _near(answer, 1 - expected):
        hint = "That is 1 - beta2, the weight of the newest g**2; the question asks for beta2 itself."
    elif _near(answer, 1 / (1 + COUNTER_C)):
        hint = "C enters squared: 1 / (1 + C**2)."
    return check_value(f"beta2 for C = {COUNTER_C:g}", answer, expected=expected, rtol=1e-3, hint=hint)


def check_memory_steps(answer) -> Result:
    """Exercise 3: the first step count k at which 0.95**k <= 0.01 (a gradient's weight in v down to 1%)."""
    exact = math.log(SHARE) / math.log(MEMORY_BETA2)
    expected = math.ceil(exact)
    hint = "Solve 0.95**k <= 0.01 with logarithms, k >= ln 0.01 / ln 0.95, and round up to a whole step."
    if _near(answer, 1 / (1 - MEMORY_BETA2)):
        hint = "That is the window 1 / (1 - beta2), an average memory; the question asks when the weight reaches 1%."
    elif _near(answer, exact, rel_tol=1e-3):
        hint = "A step count is a whole number: round ln 0.01 / ln 0.95 up."
    elif _near(answer, math.ceil(math.log(SHARE) / math.log(0.999))):
        hint = "That is for beta2 = 0.999; here beta2 = 0.95."
    return check_value(f"steps until {MEMORY_BETA2:g}**k <= {SHARE:g}", answer, expected=expected, rtol=0.0, hint=hint)
