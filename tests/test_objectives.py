"""The test functions of lessons 02-03: values, gradients (against finite differences), noise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lessonlib.course import objectives

coords = st.floats(-3.0, 3.0, allow_nan=False)
OBJECTIVES = [objectives.quadratic(), objectives.quadratic(a=2.0, b=7.0), objectives.rosenbrock()]


def finite_difference(f, theta, h=1e-6):
    e = np.eye(2)
    return np.array([(f(theta + h * e[k]) - f(theta - h * e[k])) / (2 * h) for k in range(2)])


@pytest.mark.parametrize("obj", OBJECTIVES, ids=lambda o: o.formula)
@given(x=coords, y=coords)
def test_gradient_matches_finite_differences(obj, x, y):
    theta = np.array([x, y])
    fd = finite_difference(obj.value, theta)
    assert np.allclose(obj.grad(theta), fd, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("obj", [*OBJECTIVES, objectives.noisy()], ids=lambda o: o.name)
def test_minimum_is_a_zero_of_value_and_gradient_and_start_is_inside_the_box(obj):
    m = np.array(obj.minimum)
    assert obj.value(m) == 0.0
    assert np.allclose(obj.df(m), 0.0)
    assert obj.value(np.array(obj.start)) > 0.0
    assert obj.xlim[0] < obj.start[0] < obj.xlim[1] and obj.ylim[0] < obj.start[1] < obj.ylim[1]


def test_quadratic_values_and_condition():
    q = objectives.quadratic(a=1.0, b=20.0)
    assert q.value(np.array([2.0, 1.0])) == pytest.approx(0.5 * (4.0 + 20.0))
    assert np.array_equal(q.grad(np.array([2.0, 1.0])), [2.0, 20.0])


def test_rosenbrock_values():
    r = objectives.rosenbrock()
    assert r.value(np.array([0.0, 0.0])) == 1.0
    assert r.value(np.array([-1.0, 2.0])) == pytest.approx(4.0 + 100.0)
    assert np.allclose(r.grad(np.array([-1.0, 2.0])), [-2 * 2 - 4 * 100 * (-1) * 1, 200.0])


def test_value_evaluates_a_grid():
    grid = np.array(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)))
    z = objectives.rosenbrock().value(grid)
    assert z.shape == (4, 5)
    assert z[0, 0] == objectives.rosenbrock().value(grid[:, 0, 0])


def test_noisy_gradient_is_unbiased_with_the_given_spread_and_reproducible():
    obj = objectives.noisy(sigma=1.5)
    theta = np.array([1.0, -2.0])
    rng = np.random.default_rng(1)
    grads = np.array([obj.grad(theta, rng) for _ in range(20_000)])
    assert np.allclose(grads.mean(axis=0), obj.df(theta), atol=0.05)
    assert np.allclose(grads.std(axis=0), 1.5, rtol=0.03)
    a = obj.grad(theta, np.random.default_rng(7))
    b = obj.grad(theta, np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert obj.value(theta) == objectives.quadratic(a=1.0, b=1.0).value(theta)  # the loss itself has no noise


def test_noisy_needs_an_rng_and_a_nonnegative_sigma():
    with pytest.raises(ValueError, match="rng"):
        objectives.noisy().grad(np.zeros(2))
    with pytest.raises(ValueError, match="sigma"):
        objectives.noisy(sigma=-1.0)
    wrapped = objectives.noisy(objectives.rosenbrock(), sigma=0.1)
    assert wrapped.name == "noisy Rosenbrock" and wrapped.minimum == (1.0, 1.0)


def test_by_name():
    assert objectives.by_name("quadratic").name == "quadratic"
    assert objectives.by_name("rosenbrock").name == "Rosenbrock"
    assert objectives.by_name("noisy").noise > 0
    with pytest.raises(ValueError, match="unknown objective"):
        objectives.by_name("himmelblau")
