"""Checks for notebook 02 (momentum and gradient noise)."""

from __future__ import annotations

import math

from lessonlib.course.momentum import effective_lr, polyak_optimal, stable_lr
from lessonlib.exercises import Result, check_value

#: How many significant digits the numeric exercises of notebooks 02 and 03 ask for.
DIGITS = 3


def digits_tolerance(expected: float, digits: int = DIGITS) -> float:
    r"""One unit in the last significant digit asked for: the absolute error an answer to ``digits`` digits may have.

    An answer rounded to ``digits`` significant digits is within half a unit of the exact value; one unit also lets
    through the last digit a learner gets by rounding along the way (:math:`0.818^2 = 0.669` for
    :math:`(9/11)^2 = 0.66942`), and nothing a digit coarser.

    Args:
        expected: the exact answer (not zero).
        digits: how many significant digits the question asks for.

    >>> digits_tolerance(0.66942), digits_tolerance(0.076), digits_tolerance(0.09999999999999999)
    (0.001, 0.0001, 0.001)
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"Invalid digits: {digits!r} (allowed: an int >= 1)")
    if not math.isfinite(expected) or expected == 0:
        raise ValueError(f"Invalid expected: {expected!r} (allowed: a finite, nonzero number)")
    rounded = float(f"{expected:.{digits}g}")  # 0.09999999999999999 is 0.100, whose last digit is a thousandth
    exponent = math.floor(math.log10(abs(rounded))) - digits + 1
    return float(f"1e{exponent}")


def check_digits(name: str, answer, expected: float, *, hint: str, digits: int = DIGITS) -> Result:
    """:func:`lessonlib.exercises.check_value` for a question that asks for ``digits`` significant digits.

    Args:
        name: what the answer is, as the message names it.
        answer: the learner's number (``...`` while unanswered).
        expected: the exact answer.
        hint: what the most likely mistake is, shown when the answer is wrong.
        digits: how many significant digits the question asks for.

    >>> check_digits("mu", 0.669, 0.66942, hint="")
    ✓ mu = 0.669 is right.
    >>> check_digits("mu", 0.672, 0.66942, hint="").ok
    False
    """
    atol = digits_tolerance(expected, digits) * (1 + 1e-9)  # exactly one unit off passes despite float rounding
    return check_value(name, answer, expected, rtol=0.0, atol=atol, hint=hint)


def check_effective_step(answer) -> Result:
    """Exercise 1: the long-run distance per step of SGD(lr=0.01, momentum=0.95) under the constant gradient g = 1."""
    return check_digits(
        "distance per step",
        answer,
        expected=effective_lr(0.01, 0.95) * 1.0,
        hint="torch's buffer b = mu b + g is a sum, not an average: for a constant g it grows to g / (1 - mu), "
        "and the step is lr times the buffer.",
    )


def check_polyak_momentum(answer) -> Result:
    """Exercise 2: Polyak's optimal momentum for a bowl with condition number kappa = 100, to three digits."""
    return check_digits(
        "Polyak's mu for kappa = 100",
        answer,
        expected=polyak_optimal(1.0, 100.0).momentum,
        hint="(sqrt(kappa) - 1) / (sqrt(kappa) + 1) is the rate, the square root of mu; mu is its square. "
        "Keep at least three digits in the intermediate steps.",
    )


def check_largest_stable_lr(answer) -> Result:
    """Exercise 3: the edge of the stable range of the heavy ball with mu = 0.9 when the largest curvature is 50."""
    return check_digits(
        "largest stable alpha",
        answer,
        expected=stable_lr(50.0, 0.9),
        hint="2 / L is plain gradient descent's edge; momentum widens the range by the factor 1 + mu.",
    )
