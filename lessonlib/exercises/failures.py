"""Checks for notebook 07 (when Adam fails, and the knobs people turn).

>>> check_counterexample_beta2(0.0588)
✓ beta2 for C = 4 = 0.0588 is right.
>>> check_tiny_gradient_step(0.0099)
✓ first step / lr = 0.0099 is right.
>>> check_memory_steps(...)
… steps until 0.95**k <= 0.01: not answered yet. Replace the ... with your answer and run the cell again.
"""

from __future__ import annotations

import math

from lessonlib.course.counterexample import counterexample_beta2
from lessonlib.exercises import Result, as_numbers, check_digits, check_value
from lessonlib.optim.adam import adam_step

# Exercise 1: Adam's first step, in units of lr, for a tiny gradient with fastai's eps (betas at torch's defaults)
TINY_G, TINY_EPS = 1e-7, 1e-5
# Exercise 2: the large gradient of Reddi, Kale & Kumar's counterexample
COUNTER_C = 4.0
# Exercise 3: how long v keeps a gradient: the first k with beta2**k <= SHARE
MEMORY_BETA2, SHARE = 0.95, 0.01


def check_tiny_gradient_step(answer) -> Result:
    """Exercise 1: the first step / lr of Adam with eps = 1e-5 for the gradient g_1 = 1e-7, to 3 significant digits."""
    expected = float(adam_step(0.0, TINY_G, 0.0, 0.0, 1, lr=1.0, eps=TINY_EPS).update)
    uncorrected = float(adam_step(0.0, TINY_G, 0.0, 0.0, 1, lr=1.0, eps=TINY_EPS, correct="none").update)
    slips = {
        1.0: "That is the step as if eps were not there; here |g_1| is a hundred times smaller than eps.",
        TINY_G / TINY_EPS: "That drops sqrt(v_hat_1) beside eps: it is 1% of eps here, small but not nothing.",
        TINY_G / math.sqrt(TINY_G**2 + TINY_EPS): "That puts eps inside the root; Adam (torch, lessonlib) adds it "
        "after the root.",
        uncorrected: "That uses m_1 and v_1 as they are: at t = 1 both are corrected before the step.",
    }
    hint = "Work out m_hat_1 and sqrt(v_hat_1) at t = 1 first, then see how eps compares with the denominator."
    return check_digits("first step / lr", answer, expected, hint=hint, slips=slips)


def check_counterexample_beta2(answer) -> Result:
    """Exercise 2: the beta2 of Reddi, Kale & Kumar's Theorem 1 for C = 4 (the lesson runs C = 3), to 3 digits."""
    expected = counterexample_beta2(COUNTER_C)
    slips = {
        1 / COUNTER_C**2: "That is one less than the paper's denominator: look again at Theorem 1's beta2.",
        1 - expected: "That is 1 - beta2, the weight of the newest g**2; the question asks for beta2 itself.",
        1 / (1 + COUNTER_C): "C enters the paper's beta2 squared, not as it is.",
        counterexample_beta2(3.0): "That is the lesson's beta2, for C = 3; the question has C = 4.",
    }
    hint = "The lesson's section 1 states Theorem 1's beta2 as a function of C; put C = 4 in it."
    return check_digits(f"beta2 for C = {COUNTER_C:g}", answer, expected, hint=hint, slips=slips)


def check_memory_steps(answer) -> Result:
    """Exercise 3: the first step count k at which 0.95**k <= 0.01 (a gradient's weight in v down to 1%)."""
    exact = math.log(SHARE) / math.log(MEMORY_BETA2)
    expected = math.ceil(exact)
    slips = {
        round(
            1 / (1 - MEMORY_BETA2)
        ): "That is the window 1 / (1 - beta2), an average memory; the question asks when the weight first reaches 1%.",
        expected - 1: "Rounded down: after that many steps the weight is still a little above 1%.",
        math.ceil(math.log(SHARE) / math.log(0.999)): "That is for beta2 = 0.999; here beta2 = 0.95.",
    }
    hint = "Take logarithms of both sides of 0.95**k <= 0.01 (mind which way the inequality turns) and round to a step."
    got = as_numbers(answer)
    value = float(got) if got is not None and got.ndim == 0 else float(expected)  # else check_value says what is wrong
    if math.isfinite(value) and value != round(value) and abs(value - exact) < 0.5:
        hint = "A step count is a whole number: which whole k is the first with 0.95**k <= 0.01?"
    return check_value(
        f"steps until {MEMORY_BETA2:g}**k <= {SHARE:g}", answer, expected, rtol=0.0, hint=hint, slips=slips
    )
