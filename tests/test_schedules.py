"""lessonlib.schedules: endpoints, monotonicity, shapes and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib.optim.schedules import constant, warmup_cosine

W, T = 20, 220


def test_constant_is_its_value_at_every_step():
    assert constant(1) == 1.0
    assert constant(123_456, value=0.25) == 0.25
    np.testing.assert_array_equal(constant(np.arange(1, 6), value=3.0), np.full(5, 3.0))


@pytest.mark.parametrize("final", [0.0, 0.1, 1.0])
def test_warmup_cosine_endpoints(final):
    eta = lambda t: warmup_cosine(t, warmup_steps=W, total_steps=T, final=final)
    assert eta(1) == 1 / W  # step 1 already moves
    assert eta(W) == 1.0  # the end of the warm-up is the peak
    assert eta(T) == final  # exactly, not 1e-17 away
    assert eta(T + 1) == eta(10 * T) == final
    middle = (W + T) // 2
    assert eta(middle) == pytest.approx(final + (1 - final) / 2, abs=1e-15)


def test_warmup_is_linear_and_increasing_then_cosine_is_non_increasing():
    t = np.arange(1, T + 50)
    eta = warmup_cosine(t, warmup_steps=W, total_steps=T, final=0.05)
    np.testing.assert_allclose(eta[:W], t[:W] / W, rtol=0, atol=1e-15)
    assert np.all(np.diff(eta[:W]) > 0)
    assert np.all(np.diff(eta[W - 1 :]) <= 0)
    assert np.all(np.diff(eta[W - 1 : T]) < 0)  # strictly decreasing until T
    assert eta.min() == 0.05 and eta.max() == 1.0


def test_cosine_matches_the_formula_at_a_quarter():
    t = W + (T - W) // 4
    assert warmup_cosine(t, warmup_steps=W, total_steps=T) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_no_warmup_is_plain_cosine_from_one():
    # with W = 0 the peak sits at t = 0, so step 1 is already one step down the cosine
    assert warmup_cosine(1, warmup_steps=0, total_steps=101) == pytest.approx(0.5 * (1 + math.cos(math.pi / 101)))
    assert warmup_cosine(101, warmup_steps=0, total_steps=101) == 0.0


def test_scalar_in_float_out_and_array_in_array_out():
    assert type(warmup_cosine(5, warmup_steps=W, total_steps=T)) is float
    arr = warmup_cosine(np.array([1, W, T]), warmup_steps=W, total_steps=T)
    assert isinstance(arr, np.ndarray) and arr.shape == (3,)
    np.testing.assert_array_equal(arr, [1 / W, 1.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"t": 0}, ValueError, "t: 0"),
        ({"t": 1.5}, TypeError, "t must be an int"),
        ({"warmup_steps": -1}, ValueError, "warmup_steps"),
        ({"total_steps": W}, ValueError, "total_steps"),
        ({"final": 1.5}, ValueError, "final"),
    ],
)
def test_bad_arguments_are_named(kwargs, exc, match):
    args = {"t": 1, "warmup_steps": W, "total_steps": T, **kwargs}
    t = args.pop("t")
    with pytest.raises(exc, match=match):
        warmup_cosine(t, **args)


def test_constant_refuses_negative_values_and_step_zero():
    with pytest.raises(ValueError, match="value"):
        constant(1, value=-1.0)
    with pytest.raises(ValueError, match="t: 0"):
        constant(np.arange(0, 3))
