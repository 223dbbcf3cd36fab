"""lessonlib.exercises.momentum (lesson 02): right answers pass, wrong ones get their hint, `...` is unanswered."""

from __future__ import annotations

import math

import pytest

from lessonlib.exercises import momentum as ex
from tests.checks import assert_verdicts

CASES = [
    # (check, right answer computed independently, a likely wrong one, words its hint must contain)
    (ex.check_effective_step, 0.01 / 0.05, 0.01, "the first step"),
    (ex.check_effective_step, 0.01 / 0.05, 0.5, "running sum, not an average"),
    (ex.check_polyak_momentum, (9 / 11) ** 2, 9 / 11, "the rate r per step"),
    (ex.check_polyak_momentum, (9 / 11) ** 2, 0.5, "only through sqrt(kappa)"),
    (ex.check_largest_stable_lr, 2 * 1.9 / 50, 2 / 50, "plain gradient descent's edge"),
    (ex.check_largest_stable_lr, 2 * 1.9 / 50, 0.05, "reaches -1"),
]


@pytest.mark.parametrize("check, right, wrong, hint", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


# The questions ask for three significant digits: every rounding of the exact answer to three or more digits passes
# (0.66942 is what notebook 02 prints for Polyak's mu), and an answer two units off in the third digit does not.
EXACT = [
    (ex.check_effective_step, 0.01 / (1 - 0.95)),
    (ex.check_polyak_momentum, ((10 - 1) / (10 + 1)) ** 2),
    (ex.check_largest_stable_lr, 2 * (1 + 0.9) / 50),
]


@pytest.mark.parametrize("check, exact", EXACT, ids=lambda c: getattr(c, "__name__", ""))
def test_three_significant_digits_are_accepted(check, exact):
    for digits in (3, 4, 5, 6, 17):
        rounded = float(f"{exact:.{digits}g}")
        assert check(rounded).ok is True, (digits, rounded)
    unit = 10.0 ** (math.floor(math.log10(exact)) - 2)  # one unit in the third significant digit
    for off in (exact - unit, exact + unit):
        assert check(off).ok is True, off  # rounding along the way may move the last digit by one
    for off in (exact - 2 * unit, exact + 2 * unit, float(f"{exact:.1g}") * 1.5):
        assert check(off).ok is False, off


def test_polyak_answers_a_learner_gives():
    for answer in (0.66942, 0.6694, 0.669, 0.818**2):
        assert ex.check_polyak_momentum(answer).ok is True, answer
    for answer in (0.672, 0.82**2, 9 / 11, 0.0331):  # intermediate 0.82, the rate, Polyak's alpha
        assert ex.check_polyak_momentum(answer).ok is False, answer
