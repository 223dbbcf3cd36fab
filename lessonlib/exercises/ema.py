r"""Checks for notebook 01 (the exponential moving average).

Each question states the precision it wants: :func:`check_raw_average` and :func:`check_window` take three
significant digits (:func:`lessonlib.exercises.check_digits`), :func:`check_half_correction_step` a whole number
of steps. A wrong answer that matches a known slip gets a hint that names the slip, not the formula:

>>> check_raw_average(10)  # doctest: +NORMALIZE_WHITESPACE
✗ a_2 = 10 is not right (relative error 1.8e+00). 10 is the bias-corrected value, a_2 / (1 - beta**t);
the question asks for the raw a_2, still pulled toward its zero start.
>>> check_window(49)  # doctest: +NORMALIZE_WHITESPACE
✗ window for beta = 0.98 = 49 is not right (relative error 2.0e-02). That is the average age of the weights,
not the window; the lesson shows how the two differ.
"""

from __future__ import annotations

import math

from lessonlib.exercises import Result, check_digits, check_value
from lessonlib.optim.ema import EMA, effective_window

#: Exercise 1: the EMA's decay and the values it sees.
RAW_BETA, RAW_VALUES = 0.8, (10.0, 10.0)
#: Exercise 2: the decay whose window the learner gives.
WINDOW_BETA = 0.98
#: Exercise 3: the decay whose correction factor must reach one half.
HALF_BETA = 0.999


def _raw_ema(beta: float, values, *, swapped: bool = False) -> list[float]:
    """The raw EMA after each value (``swapped``: with the two weights exchanged, a learner's slip)."""
    avg = EMA(beta=1 - beta if swapped else beta)
    return [float(avg.update(x)) for x in values]


def check_raw_average(answer) -> Result:
    """Exercise 1: the raw EMA (beta = 0.8, started at 0) after seeing 10, 10: a_2, to 3 significant digits."""
    raw = _raw_ema(RAW_BETA, RAW_VALUES)
    slips = {
        RAW_VALUES[-1]: "10 is the bias-corrected value, a_2 / (1 - beta**t); the question asks for the raw a_2, "
        "still pulled toward its zero start.",
        raw[0]: "That is a_1, after one value; a_2 has seen both.",
        _raw_ema(RAW_BETA, RAW_VALUES, swapped=True)[-1]: "The weights are swapped: beta multiplies the old "
        "average, not the new value.",
        RAW_BETA**2 * RAW_VALUES[-1]: "That is the share of the weight still on the zero start; the average holds "
        "the rest.",
    }
    return check_digits(
        "a_2",
        answer,
        raw[-1],
        hint="Run the recursion twice from a_0 = 0, or weigh the two values by their ages; do not bias-correct.",
        slips=slips,
    )


def check_window(answer) -> Result:
    """Exercise 2: the effective window of an EMA with beta = 0.98, to 3 significant digits."""
    window = effective_window(WINDOW_BETA)
    slips = {
        window - 1: "That is the average age of the weights, not the window; the lesson shows how the two differ.",
        1 / WINDOW_BETA: "That is 1 / beta, about 1 for every beta near 1; the window must grow as beta nears 1.",
        1 - WINDOW_BETA: "That is the weight of the newest value, a fraction; the window counts steps.",
    }
    return check_digits(
        "window for beta = 0.98",
        answer,
        window,
        hint="The window counts steps: it is set by the weight the newest value gets.",
        slips=slips,
    )


def check_half_correction_step(answer) -> Result:
    """Exercise 3: the first step t at which 1 - 0.999**t reaches 1/2 (a whole number, exactly)."""
    exact = math.log(0.5) / math.log(HALF_BETA)  # 692.8: t must be a whole step at or past it
    expected = math.ceil(exact)
    slips = {  # whole steps, as the question asks: an answer between two steps gets the hint below
        expected - 1: f"At t = {expected - 1} the factor is still just below 1/2: round up to the next whole step.",
        round(0.5 / (1 - HALF_BETA)): "1 - beta^t does not grow by 1 - beta every step: it grows by less and less.",
        round(effective_window(HALF_BETA)): "After one window, the factor is already about 0.63, past 1/2.",
        math.ceil(math.log(2) * effective_window(HALF_BETA)): "That is the shortcut ln 2 times the window, rounded "
        "up: its approximation of ln(beta) puts it one step late. Use the exact logarithm.",
    }
    hint = "Solve for t with logarithms and round to a whole step that reaches 1/2."
    return check_value("first t with 1 - 0.999**t >= 0.5", answer, expected, rtol=0.0, hint=hint, slips=slips)
