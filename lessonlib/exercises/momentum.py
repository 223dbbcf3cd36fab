"""Checks for notebook 02 (momentum and gradient noise)."""

from __future__ import annotations

from lessonlib.course.momentum import effective_lr, polyak_optimal, stable_lr
from lessonlib.exercises import Result, check_digits


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
