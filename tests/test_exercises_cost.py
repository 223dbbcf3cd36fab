"""lessonlib.exercises.cost (lesson 08): each likely slip gets a hint that names it, no formula; right answers pass."""

from __future__ import annotations

import re

import pytest

from lessonlib.course import memory
from lessonlib.exercises import cost
from tests.checks import assert_takes_digits, assert_verdicts


@pytest.mark.parametrize(
    "check, answer, words",
    [
        (cost.check_fastest_step_ms, 0.007, "in seconds"),  # 7 ms left in seconds
        (cost.check_fastest_step_ms, 4.0, "only what the step reads"),  # 4 reads of 4 bytes
        (cost.check_fastest_step_ms, 8.0, "check of the gradients"),  # 32 bytes, ll.Adam.step's check included
        (cost.check_fastest_step_ms, 1.75, "numbers, not bytes"),  # 7 numbers, not 28 bytes
        (cost.check_fastest_step_ms, 14.0, "float64"),  # 8-byte numbers
        (cost.check_checked_step_bytes, 56, "the kernel alone"),
        (cost.check_checked_step_bytes, 32, "8 bytes, not 4"),
        (cost.check_arithmetic_ms, 0.467, "count its floating-point operations"),  # bytes over flop/s
        (cost.check_arithmetic_ms, 0.267, "check"),  # 16 operations: the check's counted too
        (cost.check_arithmetic_ms, 0.000233, "in seconds"),
    ],
)
def test_each_slip_gets_its_own_hint(check, answer, words):
    result = check(answer)
    assert result.ok is False and words in result.message, result.message


@pytest.mark.parametrize("check", [cost.check_fastest_step_ms, cost.check_checked_step_bytes, cost.check_arithmetic_ms])
def test_no_hint_hands_over_the_answer(check):
    right = {cost.check_fastest_step_ms: "7", cost.check_checked_step_bytes: "64", cost.check_arithmetic_ms: "0.233"}
    for wrong in (1.0, 123.0, -5.0):
        result = check(wrong)
        hint = result.message.split(")", 1)[1]  # after "(relative error ...)"
        assert result.ok is False and not re.search(rf"(?<![\w.]){re.escape(right[check])}(?![\w.])", hint), hint
    assert check(...).ok is None and check("seven").ok is False


@pytest.mark.parametrize(
    "check, right, wrong, hint",
    [
        (cost.check_fastest_step_ms, 7.0, 2.0, "Count again the bytes"),
        (cost.check_checked_step_bytes, 64, 56, "reads every gradient once more"),
        (cost.check_arithmetic_ms, 14e9 / 60e12 * 1e3, 28e9 / 60e12 * 1e3, "count its floating-point operations"),
    ],
    ids=["fastest-step", "checked-bytes", "arithmetic-ms"],
)
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_expected_values_come_from_the_numbers_in_the_exercises():
    # 1e9 parameters x 7 arrays x 4 bytes at 4e12 bytes/s = 7 ms; reading only (4 arrays) is wrong
    assert cost.check_fastest_step_ms(1e9 * 7 * 4 / 4e12 * 1e3)
    assert not cost.check_fastest_step_ms(1e9 * 4 * 4 / 4e12 * 1e3)
    assert memory.adam_step_traffic(1) == 28
    # ll.Adam.step in float64 with its gradient check: 8 passes of 8 bytes; in float32 the passes are right
    assert cost.check_checked_step_bytes(8 * 8) and "8 bytes, not 4" in cost.check_checked_step_bytes(32).message
    # 14 operations per parameter, 1e9 parameters at 60e12 operations per second
    assert cost.check_arithmetic_ms(14 * 1e9 / 60e12 * 1e3) and not cost.check_arithmetic_ms(7 * 1e9 / 60e12 * 1e3)


@pytest.mark.parametrize(
    "check, exact, digits",
    [
        (cost.check_fastest_step_ms, 28e9 / 4e12 * 1e3, 3),  # 7 ms
        (cost.check_checked_step_bytes, 64.0, 3),
        (cost.check_arithmetic_ms, 14e9 / 60e12 * 1e3, 3),  # 0.2333 ms: 0.233 by hand
    ],
    ids=["fastest-step", "checked-bytes", "arithmetic-ms"],
)
def test_the_checks_take_the_digits_the_questions_ask_for(check, exact, digits):
    assert_takes_digits(check, exact, digits)


def test_the_by_hand_answers_pass_and_one_digit_fewer_does_not():
    assert cost.check_arithmetic_ms(0.233) and not cost.check_arithmetic_ms(0.23)
    # a slip is recognised at the same precision: 28 bytes / 60e12 operations per second, 0.467 ms
    assert "count its floating-point operations" in cost.check_arithmetic_ms(0.467).message
