"""Checks for notebook 02 (momentum and gradient noise)."""

from __future__ import annotations

from lessonlib.course.heavy_ball import effective_lr, polyak_optimal, stable_lr
from lessonlib.exercises import Result, check_digits


def check_effective_step(answer) -> Result:
    """Exercise 1: the long-run distance per step of SGD(lr=0.01, momentum=0.95) under the constant gradient g = 1."""
    return check_digits(
        "distance per step",
        answer,
        expected=effective_lr(0.01, 0.95) * 1.0,
        hint="torch's buffer is a running sum, not an average: under a constant gradient it grows until what "
        "momentum takes off it each step equals what g adds, and theta moves by lr times the buffer.",
        slips={
            0.01: "That is lr * g, the first step: the buffer keeps growing after it.",
            0.1: "That is the long-run step for mu = 0.9; this optimizer has mu = 0.95.",
        },
    )


def check_polyak_momentum(answer) -> Result:
    """Exercise 2: Polyak's optimal momentum for a bowl with condition number kappa = 100, to three digits."""
    return check_digits(
        "Polyak's mu for kappa = 100",
        answer,
        expected=polyak_optimal(1.0, 100.0).momentum,
        hint="Polyak's mu depends on kappa only through sqrt(kappa). Keep at least three digits in the "
        "intermediate steps.",
        slips={
            9 / 11: "That is the rate r per step, the size of the complex roots; mu is the product of the two roots.",
            99 / 101: "That is gradient descent's best rate (kappa - 1) / (kappa + 1), not Polyak's mu.",
            4 / 121: "That is Polyak's learning rate for h_min = 1, not his momentum.",
        },
    )


def check_largest_stable_lr(answer) -> Result:
    """Exercise 3: the edge of the stable range of the heavy ball with mu = 0.9 when the largest curvature is 50."""
    return check_digits(
        "largest stable alpha",
        answer,
        expected=stable_lr(50.0, 0.9),
        hint="Find where a root of the steepest direction reaches -1 (not +1): that is where the error flips sign "
        "and stops shrinking.",
        slips={
            2 / 50: "That is plain gradient descent's edge, 2 / h_max: momentum moves it.",
            2 * 0.1 / 50: "Momentum widens the stable range; it does not narrow it: check the sign of mu.",
            1.9 / 50: "Half the edge: set the root to -1 and solve again.",
        },
    )
