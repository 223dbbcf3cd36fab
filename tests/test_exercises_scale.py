"""lessonlib.exercises.scale (lesson 09): a right answer, a wrong one (with its hint), and no answer."""

from __future__ import annotations

import pytest

from lessonlib.exercises import scale
from tests.checks import assert_takes_digits, assert_verdicts


@pytest.mark.parametrize(
    "check, right, wrong, hint",
    [
        (scale.check_adam_state_gb, 12.0, 24.0, "the optimizer's state alone"),
        (scale.check_recipe_bytes, 10 + 8 / 2048, 10.0, "also keeps its scale"),
        (scale.check_zero1_state_gb, 10.5, 84.0, "shares it out across the ranks"),
    ],
    ids=["state-gb", "recipe-bytes", "zero1-gb"],
)
def test_check(check, right, wrong, hint):
    assert_verdicts(check, right, wrong, hint)


def test_expected_values_come_from_the_numbers_in_the_exercises():
    # 1.5e9 parameters x 2 tensors x 4 bytes
    assert scale.check_adam_state_gb(1.5e9 * 8 / 1e9)


def test_the_scale_exercises_recognise_their_slips():
    # 8-bit states: 2 + 2 (16-bit weights, gradients) + 4 (master) + 1 + 1 (m, v) + 2 * 4 / 2048 (scales)
    assert "master copy" in scale.check_recipe_bytes(6 + 8 / 2048).message  # without the master weights
    assert "m and v alone" in scale.check_recipe_bytes(2 + 8 / 2048).message
    # ZeRO-1 on 8 ranks, 7e9 parameters: 12 bytes (master, m, v) / 8 = 10.5 GB; m and v only would be 7
    assert "float32 copy of the weights" in scale.check_zero1_state_gb(7.0).message
    assert "everything a rank keeps" in scale.check_zero1_state_gb(7e9 * (2 + 2 + 12 / 8) / 1e9).message
    assert not scale.check_zero1_state_gb(12.0)
    assert scale.check_zero1_state_gb(7e9 * 12 / 8 / 1e9)
    assert "GiB" in scale.check_zero1_state_gb(10.5e9 / 2**30).message
    assert "GiB" in scale.check_adam_state_gb(11.2).message
    assert "in bytes" in scale.check_adam_state_gb(12e9).message


def test_the_hints_name_a_slip_without_the_formula():
    # each known slip gets its own message; an unknown wrong answer gets a question, not the computation
    assert "Only one set of scales" in scale.check_recipe_bytes(10 + 4 / 2048).message
    for check, wrong in (
        (scale.check_adam_state_gb, 3),
        (scale.check_recipe_bytes, 11),
        (scale.check_zero1_state_gb, 3),
    ):
        message = check(wrong).message
        assert message.startswith("✗") and message.rstrip().endswith(("?", "."))
        assert "cos(" not in message and "max_norm /" not in message and "bytes each" not in message


def right_zero_bytes_per_rank(n_params, n_ranks, stage):
    """Written from the ZeRO paper: 2 + 2 + K bytes (K = 12), sharded from stage 3, 2 and 1 on."""
    weights = 2 * n_params / (n_ranks if stage >= 3 else 1)
    gradients = 2 * n_params / (n_ranks if stage >= 2 else 1)
    optimizer = 12 * n_params / (n_ranks if stage >= 1 else 1)
    return weights, gradients, optimizer


def test_the_zero_function_exercise_accepts_a_right_function():
    result = scale.check_zero_bytes_per_rank(right_zero_bytes_per_rank)
    assert result.ok is True and "24 cases" in result.message
    assert "38.5 GB per rank" in result.message and "10.5 GB of optimizer state" in result.message  # 7e9 / 8 ranks


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda n, r, s: tuple(x / (r if s >= 1 else 1) for x in (2 * n, 2 * n, 12 * n)), "divides everything"),
        (lambda n, r, s: (2 * n / (r if s >= 2 else 1), 2 * n / (r if s >= 1 else 1), 12 * n / (r if s >= 1 else 1)),
         "one off"),
        (lambda n, r, s: (2 * n / (r if s >= 3 else 1), 2 * n / (r if s >= 2 else 1), 8 * n / (r if s >= 1 else 1)),
         "master weights"),
        (lambda n, r, s: (2 * n, 2 * n / (r if s >= 2 else 1), 12 * n / (r if s >= 1 else 1)),
         "n_params=7e+09, n_ranks=8, stage=3 your bytes of weights are 8 times"),  # stage 3 forgotten
        (lambda n, r, s: 16 * n, "return three numbers"),
        (lambda n, r: 0, "raised TypeError"),
    ],
    ids=["every-stage", "one-off", "no-master", "stage-3", "one-number", "signature"],
)  # fmt: skip
def test_the_zero_function_exercise_names_the_slip(fn, hint):
    result = scale.check_zero_bytes_per_rank(fn)
    assert result.ok is False and result.message.startswith("✗") and hint in result.message


def test_the_zero_function_exercise_template_is_unanswered():
    def zero_bytes_per_rank(n_params, n_ranks, stage):
        weights = ...
        gradients = ...
        optimizer = ...
        return weights, gradients, optimizer

    assert scale.check_zero_bytes_per_rank(zero_bytes_per_rank).ok is None
    assert scale.check_zero_bytes_per_rank(...).ok is None
    wrong = scale.check_zero_bytes_per_rank(3)  # bad input answers wrong, never raises
    assert wrong.ok is False and "your function" in wrong.message


@pytest.mark.parametrize(
    "check, exact, digits",
    [
        (scale.check_adam_state_gb, 12.0, 3),
        (scale.check_recipe_bytes, 10 + 8 / 2048, scale.RECIPE_DIGITS),  # 10.0039: 10.004 by hand
        (scale.check_zero1_state_gb, 10.5, 3),
    ],
    ids=["state-gb", "recipe-bytes", "zero1-gb"],
)
def test_the_checks_take_the_digits_the_questions_ask_for(check, exact, digits):
    assert_takes_digits(check, exact, digits)


def test_the_by_hand_answers_pass_and_one_digit_fewer_does_not():
    assert scale.check_recipe_bytes(10.004) and not scale.check_recipe_bytes(10.01)
    assert "also keeps its scale" in scale.check_recipe_bytes(10.0).message  # the scales left out: 10
