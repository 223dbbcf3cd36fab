"""The harness of the function checks (lessonlib.exercises.implement_harness): what it runs, and what it answers.

It runs a learner's function on the worked example and seeded random cases, and answers with a Verdict: right,
not answered yet, or wrong with the Failure found. Each kind of wrong function gets its own answer, and none
raises: an exception, the wrong number, type or shape of values, an input changed in place, an object whose
repr, str or len breaks. The learner's functions in textbook form are in tests/test_exercises_implement_slips.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib.exercises import implement as im
from lessonlib.exercises import implement_slips as slips
from lessonlib.exercises.implement_harness import N_RANDOM, Failure, Malformed, as_values, cases, judge, run, same
from tests.checks import BadRepr, raises_bad_str
from tests.test_exercises_implement_slips import adam, ema

UNANSWERED = "not answered yet"

# ---- what the checks run on ------------------------------------------------------------------------------------


def test_the_cases_are_the_worked_example_then_seeded_random_ones():
    found = cases(slips.ADAM)
    assert len(found) == 4 + N_RANDOM
    (label1, c1), (label2, c2) = found[:2]
    assert label1 == "the worked example, step 1" and c1 == {
        "theta": 1.0, "g": 0.5, "m": 0.0, "v": 0.0, "t": 1, "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
    }  # fmt: skip
    # the lesson's step 1: m_1 = 0.05, v_1 = 0.00025, theta_1 = 1 - 0.001 * 0.5 / (0.5 + 1e-8)
    assert c2["m"] == pytest.approx(0.05, rel=1e-12) and c2["v"] == pytest.approx(0.00025, rel=1e-12)
    assert c2["theta"] == pytest.approx(1 - 0.001 * 0.5 / (0.5 + 1e-8), rel=1e-14) and c2["g"] == 0.3
    shapes = {np.shape(inputs["theta"]) for _, inputs in found[4:]}
    assert shapes == {(), (3,), (2, 3)}
    assert all(type(inputs["m"]) is float for _, inputs in found[:4])  # Python floats, as in the lesson
    assert cases(slips.ADAM)[-1][1]["m"].tolist() == found[-1][1]["m"].tolist()  # seeded


def test_run_works_on_copies_and_names_what_changed():
    inputs = {"avg": np.array([1.0, 2.0]), "x": np.array([0.0, 0.0]), "beta": 0.5}
    out, changed = run(ema("in_place"), slips.EMA, inputs)
    assert changed == ["avg"] and inputs["avg"].tolist() == [1.0, 2.0] and out.tolist() == [0.5, 1.0]
    out, changed = run(lambda avg, x, beta: 1 / 0, slips.EMA, inputs)
    assert isinstance(out, ZeroDivisionError) and changed == []


def test_as_values_reads_numbers_and_says_what_is_not():
    assert [a.tolist() for a in as_values(slips.ADAM, (1, [2.0], np.float32(3)))] == [1.0, [2.0], 3.0]
    assert as_values(slips.ADAM, (1, 2)) == Malformed("returned 2 values", "it should return 3: theta, m, v")
    assert as_values(slips.EMA, "0.5") == Malformed("returned a str as avg", "it should be a number or a numpy array")
    assert as_values(slips.EMA, [1.0], ((),)) == Malformed("returned avg with shape (1,)", "it should have shape ()")
    error = ValueError("oops")
    assert as_values(slips.EMA, error) is error


def test_same_matches_values_and_exception_types_only():
    assert same((np.array(1.0),), (np.array(1.0 + 1e-12),)) and same((np.array(np.nan),), (np.array(np.nan),))
    assert not same((np.array(1.0),), (np.array(1.0 + 1e-6),))
    assert same(ValueError("a"), ValueError("b")) and not same(ValueError("a"), TypeError("a"))
    malformed = Malformed("returned 2 values", "it should return 3: theta, m, v")
    assert not same(malformed, malformed)  # a function that returns the wrong values matches no slip


# ---- what the learner can get wrong ----------------------------------------------------------------------------


def test_a_wrong_value_no_slip_explains_is_shown_with_its_inputs():
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        theta, m, v = adam()(theta, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        return theta, 1.01 * m, v

    result = im.check_adam_step(adam_step)
    assert result.ok is False and result.failed is Failure.WRONG_VALUE and result.slip is None
    assert result.case == "the worked example, step 1"
    assert "m is wrong on the worked example, step 1 (theta=1, g=0.5, m=0, v=0, t=1" in result.message
    assert "expected 0.05, got 0.0505" in result.message


def test_an_input_changed_in_place_is_named():
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        m *= beta1  # on an array this changes the caller's m
        m += (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v

    result = im.check_adam_step(adam_step)
    assert result.ok is False and "right values" in result.message and "input m in place" in result.message
    assert result.failed is Failure.IN_PLACE and result.changed == ("m",)
    assert im.check_ema_update(ema("in_place")).failed is Failure.IN_PLACE


def test_an_input_changed_in_place_is_also_named_after_a_wrong_value():
    def momentum_step(theta, g, buf, *, lr, momentum):
        buf *= momentum
        buf += g
        return buf, theta - 2 * lr * buf

    result = im.check_momentum_step(momentum_step)
    assert result.ok is False and "theta is wrong" in result.message and "input buf in place" in result.message
    assert result.failed is Failure.WRONG_VALUE and result.changed == ("buf",)


def test_values_in_the_wrong_order_are_named():
    def adam_step(theta, g, m, v, t, **h):
        theta, m, v = adam()(theta, g, m, v, t, **h)
        return m, v, theta

    result = im.check_adam_step(adam_step)
    assert result.ok is False and "wrong order: return theta, m, v" in result.message
    assert result.failed is Failure.ORDER and result.message == f"✗ adam_step: {result.slip}"


def test_an_exception_is_reported_not_raised():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        raise ValueError("oops")

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is False and "raised ValueError: oops on the worked example, step 1" in result.message
    assert result.failed is Failure.RAISED and result.case == "the worked example, step 1"


def test_a_wrong_signature_is_named():
    result = im.check_adam_step(lambda theta, g, m, v, t, *, lr, beta1, beta2, epsilon: (theta, m, v))
    assert result.ok is False and "unexpected keyword argument 'eps'" in result.message
    assert "signature should be adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps)" in result.message


def test_math_sqrt_on_arrays_gets_a_hint():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * g**2
        return v, theta - lr * g / (math.sqrt(v) + eps)

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is False and "random case 2" in result.message and "np.sqrt" in result.message
    assert result.failed is Failure.RAISED and result.case == "random case 2"


@pytest.mark.parametrize(
    "returned, words",
    [
        (lambda theta, m, v: (theta, m), "returned 2 values on the worked example, step 1"),
        (lambda theta, m, v: theta, "returned 1 value on"),
        (lambda theta, m, v: (theta, "m", v), "returned a str as m"),
        (lambda theta, m, v: (theta, np.atleast_1d(m), v), "returned m with shape (1,)"),
        (lambda theta, m, v: (theta, 10**400, v), "returned a int as m"),
    ],
)
def test_the_wrong_number_type_or_shape_of_values_is_named(returned, words):
    result = im.check_adam_step(lambda theta, g, m, v, t, **h: returned(*adam()(theta, g, m, v, t, **h)))
    assert result.ok is False and words in result.message, result.message
    assert "it should" in result.message and result.failed is Failure.MALFORMED


@pytest.mark.parametrize(
    "fn",
    [
        lambda theta, g, m, v, t, **h: None,  # a body with no return
        lambda theta, g, m, v, t, **h: (..., m, v),  # a line still ...
    ],
)
def test_none_or_a_line_still_ellipsis_is_unanswered(fn):
    result = im.check_adam_step(fn)
    assert result.ok is None and UNANSWERED in result.message and result.failed is None


def test_not_implemented_is_unanswered_and_none_gets_a_hint():
    def ema_update(avg, x, beta):
        raise NotImplementedError

    assert im.check_ema_update(ema_update).ok is None
    assert "return line" in im.check_ema_update(lambda avg, x, beta: None).message


def test_arithmetic_on_a_line_still_ellipsis_is_unanswered():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        v = ...
        theta = theta - lr * g / (np.sqrt(v) + eps)
        return v, theta

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is None and UNANSWERED in result.message


def test_something_not_a_function_is_wrong_not_an_exception():
    result = im.check_adam_step(0.5)
    assert result.ok is False and result.failed is Failure.NOT_A_FUNCTION
    assert result.message == (
        "✗ adam_step: expected your function adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps), got float 0.5."
    )


# ---- objects that break even the questions the check asks --------------------------------------------------------


class _BadLen(list):
    def __len__(self):
        raise RuntimeError("no len")


@pytest.mark.parametrize(
    "fn, failure, words",
    [
        (BadRepr(), Failure.NOT_A_FUNCTION, "got BadRepr <BadRepr object>."),
        (10**5000, Failure.NOT_A_FUNCTION, "got int <int object>."),  # no repr beyond 4300 digits
        (lambda *a, **h: _BadLen([1.0, 2.0, 3.0]), Failure.UNREADABLE, "could not be read (RuntimeError)"),
        (raises_bad_str, Failure.RAISED, "it raised BadStr: <BadStr object> on the worked example, step 1"),
    ],
    ids=["bad repr", "int over 4300 digits", "bad len", "exception with a bad str"],
)
def test_a_learners_broken_object_gets_an_answer(fn, failure, words):
    result = judge(slips.ADAM, fn)
    assert result.ok is False and result.failed is failure and words in result.message, result.message
