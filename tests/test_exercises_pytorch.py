"""lessonlib.exercises.pytorch (lesson 10): a right answer, a wrong one (with its hint), and no answer."""

from __future__ import annotations

import math

import pytest

from lessonlib.exercises import pytorch as ex
from tests.checks import assert_takes_digits, assert_verdicts


@pytest.mark.parametrize(
    "check, right, wrong, hint",
    [
        (ex.check_warmup_cosine, 0.5 * (1 + math.cos(math.pi * 0.25)), 0.25, "which part of the schedule"),
        (ex.check_clipped_entry, 0.4, 1.0, "does not cap each entry at max_norm"),
    ],
    ids=["warmup-cosine", "clipped-entry"],
)
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_expected_values_come_from_the_numbers_in_the_exercises():
    # step 325 is a quarter into the cosine; 2.0 scaled by about 1/5.
    assert ex.check_warmup_cosine((1 + math.cos(math.pi * (325 - 100) / (1000 - 100))) / 2)
    assert ex.check_clipped_entry(2.0 / (5.0 + 1e-6))
    assert not ex.check_warmup_cosine(325 / 100)  # as if still warming up
    assert not ex.check_clipped_entry(2.0 / math.sqrt(5.0))


def test_the_hints_name_a_slip_without_the_formula():
    # each known slip gets its own message; an unknown wrong answer gets a question, not the computation
    assert "from step 0" in ex.check_warmup_cosine(0.5 * (1 + math.cos(math.pi * 0.325))).message
    assert "does not last T steps" in ex.check_warmup_cosine(0.5 * (1 + math.cos(math.pi * 0.225))).message
    assert "from 1 down to -1" in ex.check_warmup_cosine(math.cos(math.pi / 4)).message
    assert "straight line" in ex.check_warmup_cosine(0.75).message
    assert "the factor clipping applies" in ex.check_clipped_entry(0.2).message
    assert "global norm is above max_norm" in ex.check_clipped_entry(2.0).message
    for check, wrong in ((ex.check_warmup_cosine, 0.5), (ex.check_clipped_entry, 0.3)):
        message = check(wrong).message
        assert message.startswith("✗") and message.rstrip().endswith(("?", "."))
        assert "cos(" not in message and "max_norm /" not in message and "bytes each" not in message


@pytest.mark.parametrize(
    "check, exact, digits",
    [
        (ex.check_warmup_cosine, 0.5 * (1 + math.cos(math.pi / 4)), 3),  # 0.85355: 0.854 by hand
        (ex.check_clipped_entry, 2.0 / (5.0 + 1e-6), 3),  # 0.4 by hand
    ],
    ids=["warmup-cosine", "clipped-entry"],
)
def test_the_checks_take_the_digits_the_questions_ask_for(check, exact, digits):
    assert_takes_digits(check, exact, digits)


def test_the_by_hand_answers_pass_and_one_digit_fewer_does_not():
    assert ex.check_warmup_cosine(0.854) and ex.check_warmup_cosine(0.853) and not ex.check_warmup_cosine(0.85)
    assert ex.check_clipped_entry(0.4) and ex.check_clipped_entry(0.400)
