"""Lesson 07: the counterexample, the eps scan, the beta2 experiment and their figures.

Expected values are computed here from the math (the loss, the EMA recurrences, closed forms), not copied from
the helpers' output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib.course import counterexample, eps_scan, scale_shift


def _grad(t, C):  # the paper's f_t'(theta), written out again here
    return C if t % 3 == 1 else -1.0


# ------------------------------------------------------------------------------------------------ the counterexample


@pytest.mark.parametrize("C", [2.5, 3.0, 10.0])
def test_beta2_and_gradients_are_the_papers(C):
    assert counterexample.counterexample_beta2(C) == pytest.approx(1 / (1 + C * C), rel=1e-15)
    assert [counterexample.counterexample_grad(t, C) for t in range(1, 8)] == [C, -1, -1, C, -1, -1, C]
    x = np.array([-1.0, 0.25, 1.0])
    np.testing.assert_array_equal(counterexample.counterexample_loss(x, 4, C), C * x)
    np.testing.assert_array_equal(counterexample.counterexample_loss(x, 5, C), -x)


@pytest.mark.parametrize("T", [1, 2, 3, 100, 3000])
def test_the_regrets_minimiser_is_minus_one(T):
    C = 3.0
    grid = np.linspace(-1, 1, 401)
    totals = [sum(_grad(t, C) * x for t in range(1, T + 1)) for x in grid]
    assert grid[int(np.argmin(totals))] == -1.0
    assert counterexample.best_fixed_point(C, T) == -1.0


def test_average_regret_of_fixed_points():
    C, cycles = 3.0, 50
    T = 3 * cycles
    assert counterexample.average_regret(np.full(T, -1.0), C) == pytest.approx(0.0, abs=1e-15)
    # playing +1 every step: each cycle pays 2 (C - 2) more than the best point
    assert counterexample.average_regret(np.full(T, 1.0), C) == pytest.approx(2 * (C - 2) / 3, rel=1e-12)
    assert counterexample.average_regret(np.zeros(T), C) == pytest.approx((C - 2) / 3, rel=1e-12)


def test_adam_ends_at_plus_one_and_amsgrad_near_minus_one():
    C = 3.0
    adam = counterexample.run_lessonlib(C, steps=3000)
    ams = counterexample.run_lessonlib(C, steps=3000, amsgrad=True)
    assert adam.theta[-1] == 1.0 and adam.theta[-300:].mean() > 0.99
    assert ams.theta[-300:].mean() < -0.99 and ams.theta.max() <= 0.0
    assert adam.theta.shape == (3001,) and adam.v.shape == (3000,) and adam.v_max is None
    # Adam's average regret approaches that of always playing +1, AMSGrad's goes to zero
    assert counterexample.average_regret(adam.theta[:-1], C) > 0.6
    assert counterexample.average_regret(ams.theta[:-1], C) < 0.02
    np.testing.assert_allclose(adam.alpha_t, 0.5 / np.sqrt(np.arange(1, 3001)), rtol=1e-15)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_lessonlib_and_torch_agree(amsgrad):
    ours = counterexample.run_lessonlib(3.0, steps=600, amsgrad=amsgrad)
    theirs = counterexample.run_torch(3.0, steps=600, amsgrad=amsgrad)
    assert np.abs(ours.theta - theirs.theta).max() < 1e-12
    np.testing.assert_allclose(ours.v, theirs.v, rtol=1e-12)
    if amsgrad:
        np.testing.assert_allclose(ours.v_max, theirs.v_max, rtol=1e-12)
    else:
        assert theirs.v_max is None
    assert theirs.label.endswith("(torch)")


def test_with_beta2_0999_the_example_is_solved():
    for betas in ((0.0, 0.999), (0.9, 0.999)):
        tr = counterexample.run_lessonlib(3.0, steps=3000, betas=betas)
        assert tr.theta[-1] < -0.98, betas


def test_moments_against_the_recurrences_by_hand():
    C, beta2, eps, steps = 3.0, 0.1, 1e-8, 9
    adam = counterexample.moments(C, steps=steps, eps=eps)
    ams = counterexample.moments(C, steps=steps, eps=eps, amsgrad=True)
    v = v_max = 0.0
    for t in range(1, steps + 1):
        g = _grad(t, C)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)
        bc2 = 1 - beta2**t
        assert adam[t - 1].v == pytest.approx(v, rel=1e-14)
        assert adam[t - 1].update == pytest.approx(g / (math.sqrt(v / bc2) + eps), rel=1e-12)
        assert ams[t - 1].v_max == pytest.approx(v_max, rel=1e-14)
        assert ams[t - 1].update == pytest.approx(g / (math.sqrt(v_max / bc2) + eps), rel=1e-12)
    assert adam[0].v == pytest.approx(0.9 * 9) and adam[1].v == pytest.approx(0.81 + 0.9)


def test_the_effective_rate_grows_for_adam_and_the_cycle_goes_the_wrong_way():
    adam = counterexample.moments(3.0, steps=12)
    ams = counterexample.moments(3.0, steps=12, amsgrad=True)
    rate = np.array([1 / math.sqrt(s.v_hat) for s in adam])
    assert rate[4] > 2 * rate[3]  # right after the large gradient the rate more than doubles
    v_max = np.array([s.v_max for s in ams])
    assert np.all(np.diff(v_max) >= 0)  # AMSGrad's denominator never forgets
    assert sum(s.update for s in adam[9:12]) < 0  # a cycle moves theta up (towards +1)
    assert sum(s.update for s in ams[9:12]) > 0  # ... and AMSGrad's moves it down


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"C": 2.0}, ValueError, "C"),
        ({"C": "3"}, TypeError, "C"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, TypeError, "steps"),
        ({"theta0": 1.5}, ValueError, "theta0"),
        ({"alpha": -0.1}, ValueError, "alpha"),
        ({"amsgrad": "yes"}, TypeError, "amsgrad"),
        ({"betas": (0.0, 1.0)}, ValueError, "beta2"),
    ],
)
def test_bad_input_to_the_runs_is_refused(kwargs, error, name):
    for run in (counterexample.run_lessonlib, counterexample.run_torch):
        with pytest.raises(error, match=name):
            run(**kwargs)


def test_bad_input_to_the_problem_is_refused():
    with pytest.raises(ValueError, match="t"):
        counterexample.counterexample_grad(0, 3.0)
    with pytest.raises(ValueError, match="theta_played"):
        counterexample.average_regret([], 3.0)
    with pytest.raises(ValueError, match="C"):
        counterexample.counterexample_beta2(1.0)


# ------------------------------------------------------------------------------------------------ eps


def test_eps_scan_with_a_constant_gradient_is_s_over_s_plus_eps():
    scales = np.logspace(-12, 0, 13)
    scan = eps_scan.eps_scan(scales, eps_values=(0.0, 1e-8, 1e-5), noise=0.0, steps=20, last=5)
    for eps in (0.0, 1e-8, 1e-5):
        np.testing.assert_allclose(scan.first[eps], scales / (scales + eps), rtol=1e-9)
        np.testing.assert_allclose(scan.late[eps], scales / (scales + eps), rtol=1e-9)


def test_without_eps_every_scale_takes_the_same_steps():
    scan = eps_scan.eps_scan(np.logspace(-12, 0, 13), eps_values=(0.0,))
    late = scan.late[0.0]
    assert late.max() / late.min() - 1 < 1e-12
    assert 0.5 < late[0] < 1.0  # noisy gradients: a little under alpha on average


def test_tiny_gradients_get_gradient_descent_and_large_ones_the_normalised_step():
    scales = np.logspace(-12, 0, 13)
    scan = eps_scan.eps_scan(scales, eps_values=(0.0, 1e-8, 1e-5))
    for eps in (1e-8, 1e-5):
        tiny = scales * scan.rms < eps / 1e3
        ratio = scan.late[eps][tiny] / scales[tiny]  # step proportional to the gradient: a constant ratio
        assert ratio.max() / ratio.min() - 1 < 1e-2
        large = scales > eps * 1e4
        np.testing.assert_allclose(scan.late[eps][large], scan.late[0.0][large], rtol=1e-3)
    assert scan.rms == pytest.approx(math.sqrt(1 + 0.5**2))


def test_bad_input_to_the_eps_scan_is_refused():
    with pytest.raises(ValueError, match="scales"):
        eps_scan.eps_scan([1.0, 0.0])
    with pytest.raises(ValueError, match="last"):
        eps_scan.eps_scan([1.0], steps=10, last=11)
    with pytest.raises(ValueError, match="eps"):
        eps_scan.eps_scan([1.0], eps_values=(-1e-8,))


# ------------------------------------------------------------------------------------------------ beta2


@pytest.mark.parametrize("beta2", [0.9, 0.95, 0.99])
@pytest.mark.parametrize(("old", "new"), [(1.0, 10.0), (10.0, 1.0)])
def test_adaptation_time_matches_the_closed_form(beta2, old, new):
    T, tol = 400, 0.1
    result = scale_shift.scale_shift(
        (beta2,), shifts=((T, new),), steps=T + 1500, start_scale=old, noise=0.0, window=100, tol=tol
    )
    # after j gradients at the new scale: v = old^2 (b^j - b^(T+j)) + new^2 (1 - b^j), v_hat = v / (1 - b^(T+j))
    j = np.arange(1, 1501)
    v = old**2 * (beta2**j - beta2 ** (T + j)) + new**2 * (1 - beta2**j)
    root_v_hat = np.sqrt(v / (1 - beta2 ** (T + j)))
    expected = int(np.flatnonzero(np.abs(root_v_hat / new - 1) < tol)[0])
    assert result.adapt[beta2] == [expected]
    np.testing.assert_allclose(result.root_v_hat[beta2][T:], root_v_hat, rtol=1e-10)


def test_the_jitter_of_root_v_hat_matches_the_emas_variance():
    noise, calm = 0.3, 19000
    result = scale_shift.scale_shift((0.9, 0.95), shifts=((20000, 10.0),), steps=20001, window=calm, noise=noise)
    # g = 1 + noise xi: E[g^2] = 1 + noise^2, Var[g^2] = 2 noise^4 + 4 noise^2; an EMA of independent values has
    # variance (1 - b) / (1 + b) times theirs, and a square root halves a small relative spread
    mean, var = 1 + noise**2, 2 * noise**4 + 4 * noise**2
    for beta2 in (0.9, 0.95):
        theory = 0.5 * math.sqrt((1 - beta2) / (1 + beta2)) * math.sqrt(var) / mean
        assert result.jitter[beta2] == pytest.approx(theory, rel=0.1)


def test_short_memory_adapts_faster_and_jitters_more():
    result = scale_shift.scale_shift()
    assert result.adapt[0.95][0] < result.adapt[0.99][0] < result.adapt[0.999][0]
    assert result.adapt[0.95][1] < result.adapt[0.99][1] < result.adapt[0.999][1]
    assert result.jitter[0.95] > result.jitter[0.99] > result.jitter[0.999]
    up = result.shifts[0][0]
    assert result.step[0.999][up : up + 300].max() > 3 * result.step[0.95][up : up + 300].max()


def test_adaptation_steps_counts_from_the_shift():
    roots = np.array([5.0, 5.0, 3.0, 2.2, 2.05, 2.0])
    assert scale_shift.adaptation_steps(roots, 2.0, 2, 0.1) == 2  # 2.05 is the first within 10% of 2
    assert scale_shift.adaptation_steps(roots, 100.0, 0, 0.1) == -1


def test_bad_input_to_the_scale_shift_is_refused():
    with pytest.raises(ValueError, match="shifts"):
        scale_shift.scale_shift(shifts=((500, 10.0), (400, 1.0)), steps=1000, window=100)
    with pytest.raises(ValueError, match="window"):
        scale_shift.scale_shift(shifts=((500, 10.0),), steps=1000, window=600)
    with pytest.raises(ValueError, match="beta2"):
        scale_shift.scale_shift((1.0,), shifts=((500, 10.0),), steps=1000, window=100)
    with pytest.raises(ValueError, match="scale"):
        scale_shift.scale_shift(shifts=((500, -1.0),), steps=1000, window=100)


# ------------------------------------------------------------------------------------------------ figures


def test_figures_draw_what_they_say():
    runs = [counterexample.run_lessonlib(3.0, steps=60), counterexample.run_lessonlib(3.0, steps=60, amsgrad=True)]
    _, ax = counterexample.counterexample_figure(runs)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:2] == ["Adam", "AMSGrad"] and "theta = -1" in labels[2]
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), runs[0].theta)

    _, (ax_v, ax_s) = counterexample.moments_figure(
        counterexample.moments(3.0), counterexample.moments(3.0, amsgrad=True)
    )
    assert len(ax_v.get_lines()) == 2 and ax_s.get_legend_handles_labels()[1] == ["Adam", "AMSGrad"]

    scan = eps_scan.eps_scan(np.logspace(-12, 0, 7), steps=30, last=10)
    _, ax = eps_scan.eps_figure(scan)
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0].startswith(r"$\epsilon = 0$") and sum("gradient descent" in s for s in labels) == 1
    with pytest.raises(ValueError, match="eps = 0"):
        eps_scan.eps_figure(eps_scan.eps_scan([1.0], eps_values=(1e-8,), steps=5, last=1))

    shift = scale_shift.scale_shift((0.99, 0.95), shifts=((300, 10.0),), steps=600, window=100)
    _, (ax_v, ax_s) = scale_shift.scale_shift_figure(shift)
    assert len(ax_v.get_lines()) == 3 and "jumped from 1 to 10" in ax_s.get_xlabel()
