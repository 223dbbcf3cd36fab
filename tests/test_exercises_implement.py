"""The checks the notebooks call (lessonlib.exercises.implement): the right function passes, the template is unanswered.

What the harness answers for each kind of wrong function is in tests/test_exercises_implement_harness.py; each
exercise's known slips, in tests/test_exercises_implement_slips.py (with the learner's functions, in textbook form).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib.exercises import Result
from lessonlib.exercises import implement as im
from lessonlib.exercises.implement_harness import N_RANDOM, Failure, Verdict
from tests.test_exercises_implement_slips import adam, adamw, amsgrad, ema, momentum, rmsprop

UNANSWERED = "not answered yet"

CHECKS = [
    (im.check_ema_update, ema(), "ema_update"),
    (im.check_momentum_step, momentum(), "momentum_step"),
    (im.check_rmsprop_step, rmsprop(), "rmsprop_step"),
    (im.check_adam_step, adam(), "adam_step"),
    (im.check_adamw_step, adamw(), "adamw_step"),
    (im.check_amsgrad_step, amsgrad(), "amsgrad_step"),
]


@pytest.mark.parametrize("check, right, name", CHECKS, ids=[name for *_, name in CHECKS])
def test_the_right_function_passes(check, right, name):
    result = check(right)
    assert result.ok is True, result.message
    assert result.message == f"✓ {name} agrees with lessonlib on the worked example and {N_RANDOM} random cases."
    assert isinstance(result, Verdict) and isinstance(result, Result) and repr(result) == result.message
    assert result.failed is None and result.slip is None and result.changed == ()


@pytest.mark.parametrize("check, right, name", CHECKS, ids=[name for *_, name in CHECKS])
def test_the_template_is_unanswered(check, right, name):
    namespace = {}
    exec(im.TEMPLATE[name], namespace)  # the starter code a notebook cell shows
    result = check(namespace[name])
    assert result.ok is None and result.failed is None
    assert result.message == f"… {name}: not answered yet. Replace the ... with your answer and run the cell again."
    assert im.TEMPLATE[name].startswith(f"def {name}(") and "..." in im.TEMPLATE[name]
    assert check(...).ok is None and check(None).ok is None


def test_the_notebooks_names_stay():
    # notebooks 01-07 import lessonlib.exercises.implement and call these; _build.py finds them by this prefix
    names = {n for n in vars(im) if n.startswith("check_")}
    assert names == {f"check_{name}" for *_, name in CHECKS} == {f"check_{name}" for name in im.TEMPLATE}


def test_a_float32_answer_is_not_close_enough():
    # float32 rounds at about 6e-8, far above the checks' 1e-9: the same formula in float32 is reported wrong
    result = im.check_ema_update(lambda avg, x, beta: np.float32(beta) * np.float32(avg) + np.float32(1 - beta) * x)
    assert result.ok is False and "avg is wrong on the worked example, step 1" in result.message
    assert result.failed is Failure.WRONG_VALUE


def test_an_equivalent_rearrangement_passes():
    # torch's form: lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps), and m as a lerp
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        step = lr / (1 - beta1**t)
        return theta - step * m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps), m, v

    assert im.check_adam_step(adam_step).ok is True


def test_the_module_example_shows_a_slip():
    result = im.check_ema_update(lambda avg, x, beta: (1 - beta) * avg + beta * x)
    assert result.ok is False and result.failed is Failure.SLIP
    assert result.message == f"✗ ema_update: {result.slip}" and "weights are swapped" in result.slip


def test_adamw_step_in_torchs_own_arrangement_passes():
    """06's exercise 4 'allows for rounding': torch's rearranged step (step size and denominator apart) is accepted."""

    def adamw_step(theta, g, m, v, t, *, lr, beta1, beta2, eps, weight_decay):
        theta = theta - lr * weight_decay * theta  # not theta * (1 - lr * weight_decay): another rounding
        m = m + (g - m) * (1 - beta1)  # torch's lerp
        v = beta2 * v + (1 - beta2) * g * g
        step_size = lr / (1 - beta1**t)
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        return theta - step_size * m / denom, m, v

    assert im.check_adamw_step(adamw_step).ok is True
