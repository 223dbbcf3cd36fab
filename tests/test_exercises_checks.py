"""lessonlib.exercises itself: check_value and check_digits (the verdicts every lesson's checks are built on), their
slips, as_numbers (what counts as a number a learner typed) and digits_tolerance (the digits rule)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessonlib import exercises
from lessonlib.exercises import Result, as_numbers, check_digits, check_value

SLIPS = {0.5: "That is g_1 itself.", 0.005: "That is (1 - beta1)^2 g_1."}


def test_check_value_right_wrong_and_unanswered():
    assert check_value("m_1", 0.05, 0.05) == Result(True, "✓ m_1 = 0.05 is right.")
    wrong = check_value("m_1", 0.06, 0.05, hint="Weigh g_1 by 1 - beta1.")
    assert wrong.ok is False and wrong.message.endswith("(relative error 2.0e-01). Weigh g_1 by 1 - beta1.")
    for waiting in (..., None):
        assert check_value("m_1", waiting, 0.05).ok is None
    assert not check_value("m_1", 0.05 * (1 + 2e-6), 0.05)  # rtol 1e-6 by default
    assert check_value("m_1", 0.05 * (1 + 2e-6), 0.05, rtol=1e-5)


def test_check_value_names_a_slip_and_keeps_the_hint_for_the_rest():
    assert check_value("m_1", 0.5, 0.05, hint="generic", slips=SLIPS).message.endswith("That is g_1 itself.")
    assert check_value("m_1", 0.005, 0.05, hint="generic", slips=SLIPS).message.endswith("(1 - beta1)^2 g_1.")
    assert check_value("m_1", 0.4, 0.05, hint="generic", slips=SLIPS).message.endswith("generic")
    assert check_value("m_1", 0.05, 0.05, hint="generic", slips=SLIPS).ok  # the right answer wins over any slip
    # an array answer matches an array slip, of the same shape only
    arrays = {(1.0, 2.0): "swapped"}
    assert check_value("v", [1.0, 2.0], [2.0, 1.0], slips=arrays).message.endswith("swapped")
    assert check_value("v", [1.0, 2.0, 3.0], [2.0, 1.0], slips=arrays).message.endswith("expected shape (2,).")


def test_check_digits_matches_a_slip_to_the_digits_at_its_own_scale():
    slips = {9 / 11: "That is the rate, not the momentum."}
    assert check_digits("mu", 0.669, (9 / 11) ** 2, hint="", slips=slips).ok
    assert check_digits("mu", 0.818, (9 / 11) ** 2, hint="", slips=slips).message.endswith("not the momentum.")
    assert check_digits("mu", 0.83, (9 / 11) ** 2, hint="generic", slips=slips).message.endswith("generic")


def test_what_a_learner_types_is_never_refused():
    tensor = torch.tensor([0.05], requires_grad=True)
    assert check_value("m_1", tensor, [0.05]).ok is True
    for odd in ("0.05", b"x", True, 0.05j, [[1, 2], [3]], 10**400, object(), {"m": 0.05}):
        result = check_value("m_1", odd, 0.05)
        assert result.ok is False and "expected a number" in result.message, odd
    for not_finite in (math.nan, math.inf, [0.05, math.nan]):
        result = check_value("m_1", not_finite, np.full(np.shape(not_finite), 0.05), hint="generic")
        assert result.ok is False and result.message.endswith("is not finite. generic"), not_finite


def test_as_numbers_takes_numbers_lists_arrays_and_tensors_only():
    np.testing.assert_array_equal(as_numbers([1, 2]), [1.0, 2.0])
    assert as_numbers(np.float32(0.5)).dtype == np.float64
    np.testing.assert_array_equal(as_numbers(torch.ones(2, requires_grad=True)), [1.0, 1.0])
    for not_numbers in ("1", True, np.bool_(False), 1j, [[1], [2, 3]], 10**400, None, [0.5, None], [[None]], ...):
        assert as_numbers(not_numbers) is None, not_numbers


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: check_value(0, 0.5, 0.5), TypeError, "name must be a string"),
        (lambda: check_value("x", 0.5, 0.5, hint=None), TypeError, "hint must be a string"),
        (lambda: check_value("x", 0.5, "half"), TypeError, "expected must be a number"),
        (lambda: check_value("x", 0.5, math.nan), ValueError, "Invalid expected"),
        (lambda: check_value("x", 0.5, 0.5, slips=[0.5]), TypeError, "slips must be a dict"),
        (lambda: check_value("x", 0.5, 0.5, slips={"a": "h"}), TypeError, "slips must map numbers"),
        (lambda: check_value("x", 0.5, 0.5, slips={0.4: 1}), TypeError, "slips must map numbers"),
        (lambda: check_value("x", 0.5, 0.5, slips={math.inf: "h"}), ValueError, "Invalid slip value"),
        # check_digits matches a slip to its significant digits: a zero or an array has none to match
        (lambda: check_digits("x", 0.5, 1.0, hint="", slips={0: "h"}), ValueError, "one finite, nonzero number"),
        (lambda: check_digits("x", 0.5, 1.0, hint="", slips={(1, 2): "h"}), ValueError, "one finite, nonzero"),
    ],
)
def test_the_authors_arguments_are_checked_whatever_the_answer(call, error, words):
    """A lesson's author passes name, expected, hint and slips: a mistake there fails at once, for a right answer
    too (never only when a learner happens to type the slip)."""
    with pytest.raises(error, match=words):
        call()


def test_digits_tolerance_is_one_unit_of_the_last_digit():
    assert exercises.digits_tolerance(0.66942) == 1e-3
    assert exercises.digits_tolerance(0.076) == 1e-4
    assert exercises.digits_tolerance(-12.5, 2) == 1.0
    assert exercises.digits_tolerance(1.0) == 0.01 and exercises.digits_tolerance(0.999) == 0.001
    # 0.01 / 0.1 is 0.09999999999999999, which rounds to 0.100
    assert exercises.digits_tolerance(0.01 / 0.1) == exercises.digits_tolerance(0.1) == 0.001
    assert exercises.digits_tolerance(0.9996) == 0.01  # it rounds to 1.00
    for bad_digits in (0, -1):
        with pytest.raises(ValueError, match="digits"):
            exercises.digits_tolerance(0.5, bad_digits)
    for not_an_int in (2.0, True):  # a TypeError where lessonlib.exercises uses _checks.check_int
        with pytest.raises((TypeError, ValueError), match="digits"):
            exercises.digits_tolerance(0.5, not_an_int)
    for bad_expected in (0.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="expected"):
            exercises.digits_tolerance(bad_expected)
