"""lessonlib.exercises.ema (lesson 01): the digits each question asks for pass, and each known slip gets its hint."""

from __future__ import annotations

import math

import pytest

import lessonlib as ll
from lessonlib.exercises import ema
from tests.checks import assert_verdicts


@pytest.mark.parametrize(
    "check, answers",
    [
        (ema.check_raw_average, [3.6, 3.60, 3.61, 3.59, (1 - 0.8**2) * 10]),  # 3 significant digits, one unit off
        (ema.check_window, [50, 50.0, 49.9, 50.1, 1 / (1 - 0.98)]),
        (ema.check_half_correction_step, [693, 693.0]),  # a whole number, exactly
    ],
)
def test_the_precision_asked_for_passes(check, answers):
    for answer in answers:
        assert check(answer).ok is True, answer


@pytest.mark.parametrize(
    "check, answer, hint",
    [
        (ema.check_raw_average, 10.0, "bias-corrected"),
        (ema.check_raw_average, 2.0, "That is a_1"),
        (ema.check_raw_average, 9.6, "weights are swapped"),
        (ema.check_raw_average, 6.4, "zero start"),
        (ema.check_raw_average, 3.5, "do not bias-correct"),  # the general hint
        (ema.check_window, 49, "average age"),
        (ema.check_window, 1 / 0.98, "That is 1 / beta"),
        (ema.check_window, 0.02, "weight of the newest value"),
        (ema.check_window, 100, "set by the weight the newest value gets"),
        (ema.check_half_correction_step, 692, "round up"),
        (ema.check_half_correction_step, 500, "grows by less and less"),
        (ema.check_half_correction_step, 1000, "about 0.63"),
        (ema.check_half_correction_step, 694, "shortcut ln 2"),
        (ema.check_half_correction_step, 700, "with logarithms"),
    ],
)
def test_each_slip_is_named(check, answer, hint):
    result = check(answer)
    assert result.ok is False and result.message.startswith("✗") and hint in result.message


def test_hints_do_not_hand_over_the_formula():
    # the window's formula and the half-correction's logarithm ratio appear in no hint
    for answer in (49, 1 / 0.98, 0.02, 100):
        assert "1 / (1 - beta)" not in ema.check_window(answer).message
    for answer in (692, 500, 1000, 694, 700):
        assert "ln 0.5" not in ema.check_half_correction_step(answer).message


def test_the_answers_are_the_math():
    # the half-correction step: the library's correction factor reaches 1/2 at 693, not at 692
    assert ll.ema_weight_sum(ema.HALF_BETA, 692) < 0.5 <= ll.ema_weight_sum(ema.HALF_BETA, 693)
    assert math.isclose(ema.effective_window(0.98), 50)


@pytest.mark.parametrize("check", [ema.check_raw_average, ema.check_window, ema.check_half_correction_step])
def test_bad_input_never_raises(check):
    assert check(...).ok is None and "not answered yet" in check(...).message
    assert check(None).ok is None
    for bad in ("fifty", [1, 2], float("nan"), {}):
        assert check(bad).ok is False


CASES = [
    # (check, right answer, wrong answer, words the hint must contain)
    (ema.check_raw_average, 3.6, 10.0, "1 - beta**t"),
    (ema.check_window, 50, 1 / 0.98, "That is 1 / beta"),
    (ema.check_half_correction_step, 693, 692, "round up"),
]


@pytest.mark.parametrize("check, right, wrong, hint", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_ema_answers_are_the_math():
    # a_2 = (1 - beta^2) * 10 for a constant 10
    assert ema.check_raw_average((1 - 0.8**2) * 10)
    assert not ema.check_raw_average(0.2 * 10)  # a_1, not a_2
