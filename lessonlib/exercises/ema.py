"""Checks for notebook 01 (the exponential moving average)."""

from __future__ import annotations

import math

from lessonlib.exercises import Result, check_value
from lessonlib.optim.ema import EMA, effective_window


def check_raw_average(answer) -> Result:
    """Exercise 1: the raw EMA (beta = 0.8, started at 0) after seeing 10, 10: a_2."""
    avg = EMA(beta=0.8)
    for x in (10.0, 10.0):
        avg.update(x)
    return check_value(
        "a_2",
        answer,
        expected=avg.value,
        hint="The raw average is the signal times the sum of the weights, 1 - beta**t; "
        "it is not bias-corrected, so it is below 10.",
    )


def check_window(answer) -> Result:
    """Exercise 2: the effective window of an EMA with beta = 0.98."""
    return check_value(
        "window for beta = 0.98",
        answer,
        expected=effective_window(0.98),
        hint="The window is 1 / (1 - beta), not 1 / beta.",
    )


def check_half_correction_step(answer) -> Result:
    """Exercise 3: the first step t at which 1 - 0.999**t reaches 1/2."""
    expected = math.ceil(math.log(0.5) / math.log(0.999))
    return check_value(
        "first t with 1 - 0.999**t >= 0.5",
        answer,
        expected=expected,
        rtol=0.0,
        hint="Solve 0.999**t <= 0.5 with logarithms (t >= ln 0.5 / ln 0.999) and round up to a whole step.",
    )
