"""Bad input to the course helpers: a TypeError or ValueError that names the argument, and nothing changed.

CONTRIBUTING.md, "Bad input". Each case was once let through or answered with an unrelated error (an IndexError,
an AttributeError, a KeyError, an OverflowError), or, for a seed that is not an int, numpy 2.4's
``default_rng(np.matrix(...))`` could kill the interpreter.
"""

from __future__ import annotations

import math
import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch

import lessonlib as ll
from lessonlib.course import (
    counterexample,
    eps_scan,
    experiments,
    figures,
    gradient_noise,
    heavy_ball,
    heavy_ball_figures,
    objectives,
    precision,
    runs,
    scale_shift,
    sweep_reports,
    tuning,
    widgets,
    worked_example,
)
from lessonlib.optim.schedules import constant, warmup_cosine

with warnings.catch_warnings():  # np.matrix warns that it is not the recommended way; it is the point here
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX_SEED = np.matrix([[1]])


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        # runs: the objective, the step count and the seed
        (lambda: runs.run("Adam", None), TypeError, "objective"),
        (lambda: runs.run("Adam", "quadratic"), TypeError, "objective"),
        (lambda: runs.run("Adam", objectives.quadratic(), steps=1.5), TypeError, "steps"),
        (lambda: runs.run("Adam", objectives.quadratic(), steps=-1), ValueError, "steps"),
        (lambda: runs.run("Adam", objectives.quadratic(), seed=MATRIX_SEED), TypeError, "seed"),
        (lambda: runs.run("Adam", objectives.quadratic(), seed=-1), ValueError, "seed"),
        (lambda: runs.compare({}, objectives.quadratic(), seed=1.5), TypeError, "seed"),
        (lambda: runs.compare([("SGD", {})], objectives.quadratic()), TypeError, "runs"),
        # objectives: a point that is not one, an int seed passed as rng, numbers past float's range, nan
        (lambda: objectives.quadratic().value(1.0), ValueError, "theta"),
        (lambda: objectives.quadratic().value([1.0, 2.0, 3.0]), ValueError, "theta"),
        (lambda: objectives.quadratic().grad("ab"), TypeError, "theta"),
        (lambda: objectives.noisy().grad(np.zeros(2), 5), TypeError, "rng"),
        (lambda: objectives.quadratic().grad(np.zeros(2), 5), TypeError, "rng"),
        (lambda: objectives.quadratic(a=10**400), ValueError, "a"),
        (lambda: objectives.quadratic(b=0.0), ValueError, "b"),
        (lambda: objectives.quadratic(a="1"), TypeError, "a"),
        (lambda: objectives.rosenbrock(b=math.inf), ValueError, "b"),
        (lambda: objectives.noisy(sigma=math.nan), ValueError, "sigma"),
        (lambda: objectives.noisy(sigma=-1.0), ValueError, "sigma"),
        (lambda: objectives.noisy("bowl"), TypeError, "base"),
        (lambda: objectives.by_name("ackley"), ValueError, "quadratic"),
        (lambda: objectives.by_name(None), TypeError, "name"),
        # widgets
        (lambda: widgets.demo_signal(0), ValueError, "n"),
        (lambda: widgets.demo_signal(2.5), TypeError, "n"),
        (lambda: widgets.demo_signal(seed=MATRIX_SEED), TypeError, "seed"),
        (lambda: widgets.demo_signal(seed=1.0), TypeError, "seed"),
        (lambda: widgets.demo_signal(sigma=math.nan), ValueError, "sigma"),
        # heavy ball: strings are not numbers
        (lambda: heavy_ball.rate(heavy_ball.BOWL, "0.1", 0.5), TypeError, "lr"),
        (lambda: heavy_ball.rate(heavy_ball.BOWL, 0.1, "0.5"), TypeError, "momentum"),
        (lambda: heavy_ball.rate(heavy_ball.BOWL, 0.1, 1.0), ValueError, "momentum"),
        (lambda: heavy_ball.envelope(1.0, "0.1", 0.5, 3), TypeError, "lr"),
        (lambda: heavy_ball.envelope("1", 0.1, 0.5, 3), TypeError, "h"),
        (lambda: heavy_ball.measured_rate([1.0, 0.5, 0.25], start=0.5), TypeError, "start"),
        (lambda: heavy_ball.measured_rate([1.0, 0.5, 0.25], start=0, stop="2"), TypeError, "stop"),
        (lambda: heavy_ball.measured_rate(np.ones((2, 2)), start=0), ValueError, "errors"),
        # gradient noise: seeds and generators
        (lambda: gradient_noise.least_squares(seed=MATRIX_SEED), TypeError, "seed"),
        (lambda: gradient_noise.least_squares(seed=-1), ValueError, "seed"),
        (lambda: gradient_noise.least_squares().batch(4, 0), TypeError, "rng"),
        (
            lambda: gradient_noise.measured_noise(gradient_noise.least_squares(), np.zeros(5), [4], seed=0.5),
            TypeError,
            "seed",
        ),
        (
            lambda: gradient_noise.minibatch_run("SGD", gradient_noise.least_squares(), steps=2, seed=True, lr=0.1),
            TypeError,
            "seed",
        ),
        (
            lambda: gradient_noise.least_squares_runs(
                gradient_noise.least_squares(), {"a": (0.1, 0.0)}, batch_size=4, steps=2, seeds=[0, 0.5]
            ),
            TypeError,
            "seed",
        ),
        (
            lambda: gradient_noise.least_squares_runs(
                gradient_noise.least_squares(), [(0.1, 0.0)], batch_size=4, steps=2
            ),
            TypeError,
            "runs",
        ),
        (lambda: heavy_ball_figures.regimes_figure(steps="80"), TypeError, "steps"),
        # lesson 07's experiments
        (lambda: counterexample.counterexample_loss("0.5", 1, 3.0), TypeError, "theta"),
        (lambda: counterexample.average_regret([0.0, "x"], 3.0), TypeError, "theta_played"),
        (lambda: counterexample.counterexample_grad(True, 3.0), TypeError, "t"),
        (lambda: counterexample.counterexample_grad(0, 3.0), ValueError, "t"),
        (lambda: counterexample.run_lessonlib(steps=2.0), TypeError, "steps"),
        (lambda: eps_scan.eps_scan([1.0], seed=MATRIX_SEED), TypeError, "seed"),
        (lambda: eps_scan.eps_scan([1.0], steps=10, last=11), ValueError, "last"),
        (lambda: eps_scan.eps_scan(["one"]), TypeError, "scales"),
        (lambda: eps_scan.eps_scan([1.0], betas=(0.9, 1.0)), ValueError, "beta2"),
        (lambda: scale_shift.scale_shift(seed=MATRIX_SEED), TypeError, "seed"),
        (lambda: scale_shift.scale_shift(beta1=1.0), ValueError, "beta1"),
        (lambda: scale_shift.scale_shift(window=0), ValueError, "window"),
        (lambda: scale_shift.adaptation_steps([1.0, 2.0], 2.0, 5, 0.1), ValueError, "start"),
        # lesson 06: the regression, its experiment and the schedule
        (lambda: experiments.make_regression(MATRIX_SEED), TypeError, "seed"),
        (lambda: experiments.make_regression(0, n_train=0), ValueError, "n_train"),
        (lambda: experiments.run_experiment(seed=1.5), TypeError, "seed"),
        (lambda: experiments.run_experiment(data="data"), TypeError, "data"),
        (lambda: experiments.decay_trajectories([1.0], lr=0.1, weight_decay=0.1, steps=1.5), TypeError, "steps"),
        (lambda: warmup_cosine(1, warmup_steps=1.5, total_steps=10), TypeError, "warmup_steps"),
        (lambda: warmup_cosine(1, warmup_steps=np.bool_(True), total_steps=10), TypeError, "warmup_steps"),
        (lambda: warmup_cosine(1, warmup_steps=5, total_steps="10"), TypeError, "total_steps"),
        (lambda: warmup_cosine(1, warmup_steps=5, total_steps=5), ValueError, "total_steps"),
        # tuning
        (lambda: tuning.lr_grid(0.01, 1.0, per_decade=1.5), TypeError, "per_decade"),
        (lambda: tuning.lr_grid(0.01, 1.0, per_decade=0), ValueError, "per_decade"),
        (lambda: tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.1]}, steps=5, last=6), ValueError, "last"),
        (lambda: tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.1]}, steps=5.0), TypeError, "steps"),
        (lambda: tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.1]}, seed=[0, 1.5]), TypeError, "seed"),
    ],
)
def test_bad_input_is_refused_with_its_name(call, error, name):
    with pytest.raises(error) as info:
        call()
    assert name in str(info.value), f"the message does not name {name!r}: {info.value}"


def _grad_tensor():
    return torch.tensor([0.5, 0.25], requires_grad=True)  # np.asarray raises a RuntimeError on it


def _sweep():
    return tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.05, 0.1]}, steps=5)


TOO_MANY = 10**400  # a count that would run on for ever, or overflow a float


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        # a tensor that requires grad, refused by kind (it was a RuntimeError)
        (lambda: heavy_ball.rate(_grad_tensor(), 0.01, 0.5), TypeError, "hs"),
        (lambda: heavy_ball.iteration_matrix(1.0, _grad_tensor(), 0.5), TypeError, "lr"),
        (lambda: heavy_ball.measured_rate(_grad_tensor(), 0), TypeError, "errors"),
        (lambda: counterexample.average_regret(_grad_tensor(), 3.0), TypeError, "theta_played"),
        (lambda: objectives.quadratic().value(_grad_tensor()), TypeError, "theta"),
        (lambda: gradient_noise.least_squares(16, 2).loss(_grad_tensor()), TypeError, "theta"),
        (lambda: constant(_grad_tensor()), TypeError, "t"),
        (lambda: warmup_cosine(_grad_tensor(), warmup_steps=2, total_steps=10), TypeError, "t"),
        (lambda: runs.run("SGD", objectives.quadratic(), start=_grad_tensor(), lr=0.1), TypeError, "start"),
        # a count past any run: stated bound, not an endless loop or a numpy size error
        (lambda: heavy_ball.heavy_ball_run([1.0], 0.1, 0.5, TOO_MANY), ValueError, "steps"),
        (lambda: heavy_ball.envelope(1.0, 0.1, 0.5, TOO_MANY), ValueError, "steps"),
        (lambda: counterexample.best_fixed_point(3.0, TOO_MANY), ValueError, "steps"),
        (lambda: counterexample.run_lessonlib(steps=TOO_MANY), ValueError, "steps"),
        (lambda: eps_scan.eps_scan([1.0], steps=TOO_MANY), ValueError, "steps"),
        (lambda: eps_scan.eps_scan([1.0], steps=np.int64(3), last=4), ValueError, "steps"),
        (lambda: experiments.decay_trajectories([1.0], lr=0.1, weight_decay=0.1, steps=TOO_MANY), ValueError, "steps"),
        (lambda: experiments.make_regression(n_train=TOO_MANY), ValueError, "n_train"),
        (lambda: experiments.make_regression(n_features=10**6, n_test=10**6), ValueError, "n_features"),
        (lambda: experiments.run_experiment(steps=TOO_MANY), ValueError, "steps"),
        (lambda: gradient_noise.least_squares(n=TOO_MANY), ValueError, "n"),
        (lambda: gradient_noise.least_squares(d=TOO_MANY), ValueError, "d"),
        (lambda: runs.run("SGD", objectives.quadratic(), steps=TOO_MANY), ValueError, "steps"),
        (lambda: runs.compare({}, objectives.quadratic(), steps=TOO_MANY), ValueError, "steps"),
        (lambda: tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.1]}, steps=TOO_MANY), ValueError, "steps"),
        (lambda: widgets.demo_signal(TOO_MANY), ValueError, "n"),
        (lambda: widgets.short(TOO_MANY), ValueError, "x"),
        (lambda: figures.run_style(TOO_MANY), ValueError, "i"),
        # betas: a pair, nothing else (a one-number list was an IndexError, a third number was ignored)
        (lambda: counterexample.moments(betas=[0.9]), TypeError, "betas"),
        (lambda: counterexample.run_torch(steps=2, betas=(0.9, 0.999, 0.5)), TypeError, "betas"),
        (lambda: counterexample.run_lessonlib(steps=2, betas=0.9), TypeError, "betas"),
        # a list argument that is not a list of numbers
        (lambda: eps_scan.eps_scan([1.0], eps_values=None), TypeError, "eps_values"),
        (lambda: eps_scan.eps_scan([1.0], eps_values=1e-8), ValueError, "eps_values"),
        (lambda: experiments.run_experiment(lambdas=0.1), ValueError, "lambdas"),
        (lambda: experiments.run_experiment(lambdas=["a"]), TypeError, "lambdas"),
        (lambda: figures.ema_lines(None, 0.9), TypeError, "x"),
        (lambda: figures.ema_lines(0.5, 0.9), ValueError, "x"),
        (lambda: heavy_ball.regime([], 0.01, 0.5), ValueError, "h"),
        (lambda: heavy_ball.flips_sign(1.0, [0.9], 0.5), ValueError, "lr"),
        (lambda: objectives.scaled(np.array(0.5)), TypeError, "scales"),
        # the regression's formulas check theta, X, y and lam (AttributeError, matmul's ValueError before)
        (lambda: experiments.mse(None, np.ones((4, 2)), np.ones(4)), TypeError, "theta"),
        (lambda: experiments.mse(np.zeros(3), np.ones((4, 2)), np.ones(4)), ValueError, "theta"),
        (lambda: experiments.mse_grad(np.zeros(2), np.ones((4, 2)), np.ones(3)), ValueError, "y"),
        (lambda: experiments.mse_grad(np.zeros(2), np.ones(4), np.ones(4)), ValueError, "X"),
        (lambda: experiments.ridge(None, np.ones(3), 0.1), TypeError, "X"),
        (lambda: experiments.ridge(np.eye(3), np.ones(3), "0.1"), TypeError, "lam"),
        (lambda: experiments.ridge(np.zeros((3, 3)), np.ones(3), 0.0), ValueError, "lam"),
        # an object where a problem or an objective goes (an AttributeError before)
        (lambda: gradient_noise.noise_size(None, np.zeros(2), 4), TypeError, "problem"),
        (lambda: gradient_noise.measured_noise("p", np.zeros(2), (1, 4)), TypeError, "problem"),
        (lambda: figures.first_exit(None, np.zeros((3, 2))), TypeError, "objective"),
        (lambda: figures.first_exit(objectives.quadratic(), "abc"), TypeError, "path"),
        # optimizer: a name or a class (a 'not callable' TypeError that did not say which argument)
        (lambda: runs.make(None, [np.zeros(2)]), TypeError, "optimizer"),
        (lambda: runs.run(0.5, objectives.quadratic()), TypeError, "optimizer"),
        (
            lambda: gradient_noise.minibatch_run(None, gradient_noise.least_squares(16, 2), steps=2, batch_size=4),
            TypeError,
            "optimizer",
        ),
        (lambda: tuning.sweep([], objectives.quadratic(), {"lr": [0.1]}), TypeError, "optimizer"),
        (lambda: widgets.optimizer_defaults([]), TypeError, "optimizer"),
        (lambda: widgets.active_betas(np.array("Adam")), TypeError, "optimizer"),
        # mini-batches: rows and batch sizes
        (lambda: gradient_noise.least_squares(16, 2).grad(np.zeros(2), "ab"), TypeError, "rows"),
        (lambda: gradient_noise.least_squares(16, 2).grad(np.zeros(2), [0.5]), TypeError, "rows"),
        (lambda: gradient_noise.least_squares(16, 2).grad(np.zeros(2), 3), TypeError, "rows"),
        (lambda: gradient_noise.least_squares(16, 2).grad(np.zeros(2), [16]), ValueError, "rows"),
        (
            lambda: gradient_noise.measured_noise(gradient_noise.least_squares(16, 2), np.zeros(2), [0]),
            ValueError,
            "batch_sizes",
        ),
        (
            lambda: gradient_noise.measured_noise(gradient_noise.least_squares(16, 2), np.zeros(2), [1.5]),
            TypeError,
            "batch_sizes",
        ),
        (lambda: gradient_noise.noise_floor([0.9], [1.0, 2.0], 0.1), ValueError, "hs"),
        # text helpers and keys
        (lambda: tuning.number_text(None), TypeError, "x"),
        (lambda: tuning.score_text([], "final loss"), TypeError, "score"),
        (lambda: tuning.score_text(0.5, None), TypeError, "rule"),
        (lambda: tuning.lr_grid(np.float32(0.5), 0.1), ValueError, "low"),
        (lambda: widgets.loss_text(None), TypeError, "loss"),
        # found by the second fuzz pass: junk that was passed on, or failed later with another library's error
        (lambda: widgets.optimizer_hyper("Adam", lr="abc", beta1=0.9, beta2=0.999), TypeError, "lr"),
        (lambda: widgets.optimizer_hyper("Adam", lr=0.1, beta1=1.5, beta2=0.999), ValueError, "beta1"),
        (lambda: objectives.scaled(scales=torch.tensor(0.5)), TypeError, "scales"),
        (lambda: runs.compare({"a": 1}, objectives.quadratic(), steps=5), TypeError, "runs"),
        (lambda: ll.adam_trace(1.0, {0.5, 0.3}), TypeError, "grads"),
        (lambda: heavy_ball.rate((1.0, 10.0), lr=1e308, momentum=0.5), ValueError, "lr"),
        (lambda: counterexample.moments(C=1e308, steps=4), ValueError, "C"),
        (lambda: ll.schedules.constant([True, 2]), TypeError, "t"),  # numpy would read True as step 1
        (lambda: ll.schedules.constant([2**63, -1]), ValueError, "t"),  # numpy would read it as floats
        (lambda: heavy_ball.curvatures(_nested(3000)), TypeError, "hs"),  # too deep to look through for a bool
        # a function argument is checked by what it returns
        (lambda: runs.run(lambda params, **k: "x", objectives.quadratic(), steps=3), TypeError, "optimizer"),
        (
            lambda: tuning.sweep("Adam", objectives.quadratic(), {"lr": [0.1]}, steps=5, run=lambda *a, **k: 0.5),
            TypeError,
            "run",
        ),  # fmt: skip
        (lambda: ll.adam_step(1.0, 0.5, 0.0, 0.0, 1, sqrt=lambda x: "x"), TypeError, "sqrt"),
        (lambda: ll.adam_step(1.0, 0.5, 0.0, 0.0, 1, sqrt=lambda x: 10**400), ValueError, "sqrt"),
        (lambda: widgets.loss_text(0.5, floor="1e-12"), TypeError, "floor"),
        (lambda: _sweep().profile(name=[]), ValueError, "name"),
        (lambda: _sweep().good_range(1.0, key=np.array(["score", "final_loss"])), TypeError, "key"),
        (lambda: sweep_reports.good_ranges({"SGD": _sweep()}, 1.0, key=np.array(["a", "b"])), TypeError, "key"),
    ],
)
def test_odd_input_found_by_the_fuzz_is_refused_with_its_name(call, error, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", str(info.value)), (
        f"the message does not name {name!r}: {info.value}"
    )


def _nested(depth: int) -> list:
    x = [0.5]
    for _ in range(depth):
        x = [x]
    return x


def test_valid_input_near_the_new_checks_still_works():
    assert worked_example.format_number(10**4250) == str(10**4250)  # 4251 digits: Python prints it
    assert widgets.optimizer_hyper("SGD", 0.1, None, None) == {"lr": 0.1}  # the sliders SGD ignores may be None
    assert precision.spacing(Fraction(1, 3), torch.float32) == precision.spacing(1 / 3, torch.float32)
    assert precision.spacing(2**63, torch.float32) == 2.0**40  # float32 spacing at 2^63: 2^(63 - 23)
    assert heavy_ball.regime(1.0, 0.01, 0.95, tol=1e-9) == "under-damped"
    assert heavy_ball.flips_sign(np.float64(100.0), 0.015, 0)
    assert counterexample.moments(steps=2, betas=np.array([0.0, 0.5]).tolist())[0].v >= 0
    assert tuning.score_text(math.inf, "steps until loss < 0.001") == "never"
    assert tuning.number_text(np.float32(0.5)) == "0.5"
    assert widgets.loss_text(math.inf) == "inf"
    problem = gradient_noise.least_squares(16, 2)
    assert problem.grad(np.zeros(2), np.array([0, 3])).shape == (2,)
    assert gradient_noise.measured_noise(problem, np.zeros(2), np.int64(4), draws=3).shape == (1,)


def test_an_unknown_key_is_a_value_error_that_lists_the_allowed_ones():
    exp = experiments.run_experiment((0.0,), steps=3, warmup_steps=1)
    with pytest.raises(ValueError, match="what.*'weight_norm', 'train_loss', 'test_loss'"):
        exp.final("loss", "adamw")
    with pytest.raises(ValueError, match="method.*'adam\\+l2', 'adamw'"):
        exp.final("test_loss", "sgd")
    assert exp.final("test_loss", "adamw").shape == (1,)


def test_a_refused_call_changes_nothing():
    problem = gradient_noise.least_squares(n=16, d=2)
    before = (problem.X.copy(), problem.y.copy())
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    with pytest.raises(ValueError, match="batch_size"):
        problem.batch(17, rng)
    assert rng.bit_generator.state == state
    assert np.array_equal(problem.X, before[0]) and np.array_equal(problem.y, before[1])
    bowl = objectives.noisy()
    theta = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="rng"):
        bowl.grad(theta, 0)
    assert theta.tolist() == [1.0, 2.0]


def test_every_seed_an_int_still_works_numpy_ints_too():
    assert np.array_equal(widgets.demo_signal(5, seed=np.int64(3)), widgets.demo_signal(5, seed=3))
    a = runs.run("SGD", objectives.noisy(), steps=3, seed=np.uint8(7), lr=0.1)
    b = runs.run("SGD", objectives.noisy(), steps=3, seed=7, lr=0.1)
    assert np.array_equal(a.path, b.path)
