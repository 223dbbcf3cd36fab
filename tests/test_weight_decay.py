"""Weight decay (lessonlib.optim.weight_decay, .adamw) and its experiments (lessonlib.course.experiments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lessonlib as ll
from lessonlib.course.experiments import decay_trajectories, make_regression, mse, mse_grad, ridge, run_experiment
from lessonlib.optim.adamw import adamw_paper_step
from lessonlib.optim.schedules import warmup_cosine
from lessonlib.optim.weight_decay import decay_rates, half_life, torch_weight_decay

STEPS, W = 1000, 100


def paper_run(theta0, grads, *, alpha, paper_wd, etas):
    theta, m, v = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
    out = []
    for t, (g, eta) in enumerate(zip(grads, etas), start=1):
        s = adamw_paper_step(theta, g, m, v, t, alpha=alpha, eta=eta, weight_decay=paper_wd)
        theta, m, v = s.theta, s.m, s.v
        out.append(theta)
    return np.array(out)


def lessonlib_run(cls, theta0, grads, *, alpha, wd, etas):
    theta = theta0.copy()
    opt = cls([theta], lr=alpha, weight_decay=wd)
    out = []
    for g, eta in zip(grads, etas):
        opt.lr = alpha * eta
        opt.step([g])
        out.append(theta.copy())
    return np.array(out)


def relative_deviation(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("alpha", "paper_wd"), [(1e-3, 1e-5), (1e-2, 5e-4), (3e-4, 3e-5)])
def test_paper_form_equals_lessonlib_adamw_with_lambda_over_alpha(seed, alpha, paper_wd):
    rng = np.random.default_rng(seed)
    theta0, grads = rng.normal(size=7), rng.normal(size=(STEPS, 7))
    etas = warmup_cosine(np.arange(1, STEPS + 1), warmup_steps=W, total_steps=STEPS, final=0.1)
    paper = paper_run(theta0, grads, alpha=alpha, paper_wd=paper_wd, etas=etas)
    wd = torch_weight_decay(paper_wd, alpha)
    ours = lessonlib_run(ll.AdamW, theta0, grads, alpha=alpha, wd=wd, etas=etas)
    assert relative_deviation(ours, paper) < 1e-12
    # and the decay did something measurable: the same run without it ends elsewhere
    plain = lessonlib_run(ll.AdamW, theta0, grads, alpha=alpha, wd=0.0, etas=etas)
    assert relative_deviation(plain, paper) > 1e-6


def test_paper_form_with_lambda_not_divided_by_alpha_differs():
    rng = np.random.default_rng(3)
    theta0, grads = rng.normal(size=5), rng.normal(size=(200, 5))
    etas = np.ones(200)
    paper = paper_run(theta0, grads, alpha=1e-2, paper_wd=1e-3, etas=etas)
    wrong = lessonlib_run(ll.AdamW, theta0, grads, alpha=1e-2, wd=1e-3, etas=etas)  # lambda_torch = lambda'
    assert relative_deviation(wrong, paper) > 1e-3


def test_paper_form_equals_torch_adamw_with_a_schedule():
    rng = np.random.default_rng(4)
    alpha, paper_wd = 1e-3, 2e-5
    theta0, grads = rng.normal(size=(4, 3)), rng.normal(size=(STEPS, 4, 3))
    etas = warmup_cosine(np.arange(1, STEPS + 1), warmup_steps=W, total_steps=STEPS)
    paper = paper_run(theta0, grads, alpha=alpha, paper_wd=paper_wd, etas=etas)
    p = torch.tensor(theta0.copy())
    opt = torch.optim.AdamW([p], lr=alpha, weight_decay=paper_wd / alpha)
    theirs = []
    for g, eta in zip(grads, etas):
        opt.param_groups[0]["lr"] = alpha * float(eta)
        p.grad = torch.from_numpy(g)
        opt.step()
        theirs.append(p.detach().numpy().copy())
    assert relative_deviation(paper, np.array(theirs)) < 1e-12


def test_zero_decay_paper_form_is_adamw_without_decay_is_adam():
    rng = np.random.default_rng(5)
    theta0, grads = rng.normal(size=6), rng.normal(size=(300, 6))
    etas = warmup_cosine(np.arange(1, 301), warmup_steps=30, total_steps=300)
    paper = paper_run(theta0, grads, alpha=1e-2, paper_wd=0.0, etas=etas)
    adamw = lessonlib_run(ll.AdamW, theta0, grads, alpha=1e-2, wd=0.0, etas=etas)
    adam = lessonlib_run(ll.Adam, theta0, grads, alpha=1e-2, wd=0.0, etas=etas)
    np.testing.assert_array_equal(adamw, adam)
    assert relative_deviation(paper, adamw) < 1e-13


def test_paper_step_fields():
    s = adamw_paper_step(2.0, 0.5, 0.0, 0.0, 1, alpha=1e-2, eta=0.5, weight_decay=0.1)
    assert s.m == pytest.approx(0.05) and s.v == pytest.approx(0.00025)
    assert s.update == pytest.approx(0.5 * 1e-2 * 0.5 / (0.5 + 1e-8))  # eta * alpha * m_hat / (sqrt(v_hat) + eps)
    assert s.theta == pytest.approx(2.0 - s.update - 0.5 * 0.1 * 2.0)  # decay eta * lambda' * theta_{t-1}


def test_decay_before_the_step_and_after_it_differ_by_lr_lambda_update():
    """PyTorch decays theta_{t-1} before the Adam step; decaying after it shrinks the update too."""
    lr, wd = 1e-3, 0.1
    before = ll.adamw_step(1.0, 0.5, 0.0, 0.0, 1, lr=lr, weight_decay=wd)
    plain = ll.adam_step(1.0, 0.5, 0.0, 0.0, 1, lr=lr)
    after = ll.decay(plain.theta, lr, wd)
    assert before.theta == pytest.approx(1.0 - lr * wd * 1.0 - plain.update, abs=1e-16)
    assert after - before.theta == pytest.approx(lr * wd * plain.update, rel=1e-9)
    assert after != before.theta


def test_torch_weight_decay_divides_by_alpha():
    assert torch_weight_decay(1e-5, 1e-3) == pytest.approx(0.01)
    assert torch_weight_decay(3e-6, 3e-4) == pytest.approx(0.01)


def test_l2_rate_is_the_adamw_rate_divided_by_the_gradient_rms():
    v_hat = np.array([100.0, 1.0, 1e-4])
    r = decay_rates(1e-3, 0.01, v_hat, eps=0.0)
    np.testing.assert_allclose(r.l2, r.adamw / np.sqrt(v_hat), rtol=1e-15)
    assert r.adamw == pytest.approx(1e-5)
    assert r.l2[2] / r.l2[0] == pytest.approx(1000.0)  # RMS 0.01 against RMS 10
    with_eps = decay_rates(1e-3, 0.01, np.array([0.0]), eps=1e-8)
    assert with_eps.l2[0] == pytest.approx(1e-5 / 1e-8)  # eps caps it when v_hat is 0


def test_measured_decay_matches_the_predicted_rates():
    scales, lr, wd = np.array([10.0, 1.0, 0.1]), 1e-2, 1e-2
    l2, w = decay_trajectories(scales, lr=lr, weight_decay=wd, steps=2000)
    measured = lambda th: np.log(th[100] / th[-1]) / (len(th) - 101)
    predicted = decay_rates(lr, wd, scales**2)
    np.testing.assert_allclose(measured(l2), -np.log1p(-predicted.l2), rtol=0.02)
    np.testing.assert_allclose(measured(w), -math.log1p(-predicted.adamw), rtol=1e-3)
    assert measured(l2)[2] / measured(l2)[0] == pytest.approx(100.0, rel=0.03)  # 100x gradient RMS: 100x less decay
    assert np.ptp(measured(w)) < 1e-7  # AdamW: the same for every parameter


def test_half_life_halves():
    for lr, wd in [(1e-3, 0.01), (3e-4, 0.01), (1e-2, 0.5)]:
        n = half_life(lr, wd)
        assert (1 - lr * wd) ** n == pytest.approx(0.5, rel=1e-9)  # 1 - lr*wd itself is rounded
        assert n == pytest.approx(math.log(2) / (lr * wd), rel=lr * wd)
    assert round(half_life(1e-3, 0.01)) == 69314
    assert round(half_life(3e-4, 0.01)) == 231049


def test_regression_data_are_deterministic_and_shaped():
    a, b, c = make_regression(0), make_regression(0), make_regression(1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.shape == (40, 50) and a.y_test.shape == (1000,)
    assert a.scales.min() == pytest.approx(0.1) and a.scales.max() == pytest.approx(10.0)
    np.testing.assert_allclose(a.X_test.std(axis=0) / a.scales, 1.0, atol=0.1)


def test_mse_grad_is_the_gradient_of_mse():
    d = make_regression(2, n_train=10, n_features=6)
    w = np.random.default_rng(0).normal(size=6)
    h = 1e-6
    numeric = [
        (mse(w + h * e, d.X_train, d.y_train) - mse(w - h * e, d.X_train, d.y_train)) / (2 * h) for e in np.eye(6)
    ]
    np.testing.assert_allclose(mse_grad(w, d.X_train, d.y_train), numeric, rtol=1e-6)


@pytest.fixture(scope="module")
def small():
    return run_experiment((0.0, 0.1, 1.0), steps=300, warmup_steps=20)


def test_experiment_is_deterministic_for_a_seed(small):
    again = run_experiment((0.0, 0.1, 1.0), steps=300, warmup_steps=20)
    for what in ("weight_norm", "train_loss", "test_loss"):
        for method in ("adam+l2", "adamw"):
            np.testing.assert_array_equal(getattr(small, what)[method], getattr(again, what)[method])
    other = run_experiment((0.0,), steps=300, warmup_steps=20, seed=1)
    assert other.final("test_loss", "adamw")[0] != small.final("test_loss", "adamw")[0]


def test_experiment_without_decay_is_the_same_for_both_methods(small):
    np.testing.assert_array_equal(small.weight_norm["adam+l2"][0], small.weight_norm["adamw"][0])


def test_experiment_decay_shrinks_the_weights(small):
    for method in ("adam+l2", "adamw"):
        norms = small.final("weight_norm", method)
        assert norms[0] > norms[1] > norms[2], method
    # the schedule was followed: warm-up peak at step 20, zero at the end
    assert small.eta[19] == 1.0 and small.eta[-1] == 0.0
    assert small.weight_norm["adamw"].shape == (3, 300)


def test_experiment_losses_are_the_losses_of_its_weights():
    e = run_experiment((0.0,), steps=5, warmup_steps=1)
    w = np.zeros(50)
    opt = ll.Adam([w], lr=5e-2)
    for eta in e.eta:
        opt.lr = 5e-2 * float(eta)
        opt.step([mse_grad(w, e.data.X_train, e.data.y_train)])
    assert e.final("test_loss", "adam+l2")[0] == mse(w, e.data.X_test, e.data.y_test)
    assert e.final("weight_norm", "adam+l2")[0] == np.linalg.norm(w)


def test_ridge_is_where_the_penalised_gradient_vanishes():
    d = make_regression(3)
    for lam in (0.01, 0.1, 1.0):
        w = ridge(d.X_train, d.y_train, lam)
        np.testing.assert_allclose(mse_grad(w, d.X_train, d.y_train) + lam * w, 0.0, atol=1e-10)


@pytest.fixture(scope="module")
def lesson_run():
    return run_experiment()  # the notebook's run: lambdas 0, 0.01, 0.1, 1


def test_adam_l2_heads_for_ridge_and_adamw_does_not(lesson_run):
    d, i = lesson_run.data, lesson_run.lambdas.index(1.0)
    target = ridge(d.X_train, d.y_train, 1.0)
    rel = lambda w: np.linalg.norm(w - target) / np.linalg.norm(target)
    assert rel(lesson_run.weights["adam+l2"][i]) < 1e-4
    assert rel(lesson_run.weights["adamw"][i]) > 0.5


def test_adamw_with_steady_gradients_keeps_weights_inside_one_over_lambda(lesson_run):
    i = lesson_run.lambdas.index(1.0)
    assert np.max(np.abs(lesson_run.weights["adamw"][i])) <= 1.0
    assert np.max(np.abs(lesson_run.weights["adam+l2"][i])) > 1.0  # L2 has no such box
