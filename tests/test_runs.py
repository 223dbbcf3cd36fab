"""The trajectory runner: it takes the optimizer's steps exactly, records them, and stops on divergence."""

from __future__ import annotations

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.course import objectives
from lessonlib.course import runs as trajectories


def by_hand(opt_factory, obj, steps, seed=0):
    theta = np.array(obj.start, dtype=np.float64)
    opt = opt_factory([theta])
    rng = np.random.default_rng(seed)
    path = [theta.copy()]
    for _ in range(steps):
        opt.step([obj.grad(theta, rng)])
        path.append(theta.copy())
    return np.array(path)


@pytest.mark.parametrize(
    "name, factory",
    [
        ("SGD", lambda p: ll.SGD(p, lr=0.05)),
        ("momentum", lambda p: ll.SGD(p, lr=0.05, momentum=0.9)),
        ("RMSprop", lambda p: ll.RMSprop(p, lr=0.05)),
        ("Adam", lambda p: ll.Adam(p, lr=0.05)),
    ],
)
@pytest.mark.parametrize("obj", [objectives.quadratic(), objectives.noisy()], ids=lambda o: o.name)
def test_run_by_name_is_the_optimizer_stepped_by_hand(name, factory, obj):
    tr = trajectories.run(name, obj, steps=40, lr=0.05, seed=3)
    assert np.array_equal(tr.path, by_hand(factory, obj, 40, seed=3))
    assert np.array_equal(tr.losses, [obj.value(p) for p in tr.path])
    assert not tr.diverged and tr.final_loss == tr.losses[-1]


def test_run_accepts_a_class_and_a_start():
    tr = trajectories.run(ll.Adam, objectives.rosenbrock(), steps=5, start=(0.0, 0.0), lr=0.1, betas=(0.5, 0.9))
    s = ll.adam_trace(np.zeros(2), [np.array([-2.0, 0.0])], lr=0.1, beta1=0.5, beta2=0.9)[0]
    assert np.array_equal(tr.path[0], [0.0, 0.0])
    assert np.allclose(tr.path[1], s.theta, rtol=0, atol=1e-15)


def test_first_sgd_steps_on_the_quadratic():
    # theta_1 shrinks by 1 - lr a, theta_2 by 1 - lr b.
    tr = trajectories.run("SGD", objectives.quadratic(a=1.0, b=20.0), steps=2, lr=0.09, start=(-4.0, 1.0))
    assert np.allclose(tr.path, [[-4.0, 1.0], [-4.0 * 0.91, 1.0 * -0.8], [-4.0 * 0.91**2, 0.64]])


def test_same_seed_same_noise_other_seed_other_noise():
    obj = objectives.noisy()
    a = trajectories.run("Adam", obj, steps=20, lr=0.1, seed=1)
    b = trajectories.run("Adam", obj, steps=20, lr=0.1, seed=1)
    c = trajectories.run("Adam", obj, steps=20, lr=0.1, seed=2)
    assert np.array_equal(a.path, b.path) and not np.array_equal(a.path, c.path)


def test_divergence_stops_the_run_at_the_last_finite_point():
    tr = trajectories.run("SGD", objectives.rosenbrock(), steps=500, lr=0.05)
    assert tr.diverged
    assert len(tr.path) < 501 and len(tr.path) == len(tr.losses)
    assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.losses))


def test_converging_runs_get_close_to_the_minimum():
    tr = trajectories.run("Adam", objectives.quadratic(), steps=300, lr=0.1)
    assert np.linalg.norm(tr.path[-1]) < 1e-3


def test_make_and_errors():
    opt = trajectories.make("momentum", [np.zeros(2)], lr=0.1, momentum=0.5)
    assert isinstance(opt, ll.SGD) and opt.momentum == 0.5
    with pytest.raises(ValueError, match="Invalid optimizer"):
        trajectories.make("Adagrad", [np.zeros(2)])
    with pytest.raises(TypeError):
        trajectories.make("SGD", [np.zeros(2)], betas=(0.9, 0.999))
    with pytest.raises(ValueError, match="steps"):
        trajectories.run("SGD", objectives.quadratic(), steps=-1)
    with pytest.raises(ValueError, match="start"):
        trajectories.run("SGD", objectives.quadratic(), start=(1.0, 2.0, 3.0))


def test_compare_gives_every_run_the_same_noise():
    out = trajectories.compare(
        {"a": ("SGD", {"lr": 0.05}), "b": ("SGD", {"lr": 0.05})}, objectives.noisy(), steps=10, seed=4
    )
    assert np.array_equal(out["a"].path, out["b"].path)


# The sliders each optimizer of the registry uses (lesson 04's panel): written out here, not read from the code.
USED_SLIDERS = {
    "SGD": {"lr"},
    "momentum": {"lr", "beta1"},
    "RMSprop": {"lr", "beta2"},
    "Adam": {"lr", "beta1", "beta2"},
}


@pytest.mark.parametrize("name", sorted(USED_SLIDERS))
def test_each_optimizer_has_defaults_for_the_sliders_it_uses_and_they_suit_the_bowl(name):
    entry = trajectories.OPTIMIZERS[name]
    assert set(entry.defaults) == USED_SLIDERS[name]
    values = {"lr": None, "beta1": None, "beta2": None, **entry.defaults}
    bowl = objectives.quadratic()
    tr = trajectories.run(name, bowl, steps=200, **entry.sliders(**values))
    assert not tr.diverged and tr.final_loss < 1e-3
    (x0, x1), (y0, y1) = bowl.xlim, bowl.ylim  # the path stays in the box the panel draws
    assert np.all((x0 <= tr.path[:, 0]) & (tr.path[:, 0] <= x1) & (y0 <= tr.path[:, 1]) & (tr.path[:, 1] <= y1))


def test_rmsprop_and_adam_start_from_the_libraries_defaults():
    import inspect

    rho = inspect.signature(ll.RMSprop).parameters["alpha"].default
    betas = inspect.signature(ll.Adam).parameters["betas"].default
    assert rho == 0.99 and trajectories.OPTIMIZERS["RMSprop"].defaults["beta2"] == rho
    adam = trajectories.OPTIMIZERS["Adam"].defaults
    assert (adam["beta1"], adam["beta2"]) == tuple(betas) == (0.9, 0.999)


def test_a_rejected_scheduled_step_changes_nothing():
    """A bad gradient refused by the scheduled optimizer leaves its step count, learning rate and parameter."""
    theta = np.zeros(3)
    opt = trajectories.scheduled("Adam", lambda t: 0.5 / t)([theta], lr=0.1)
    with pytest.raises(ValueError, match="grads"):
        opt.step([np.array([1.0, np.nan, 0.0])])
    assert (opt.t, opt.opt.lr, opt.opt.state[0]["t"]) == (0, 0.1, 0) and not theta.any()
    opt.step([np.ones(3)])
    opt.step([np.ones(3)])
    assert (opt.t, opt.opt.lr) == (2, 0.1 * 0.5 / 2)  # the schedule's value at t = 2, times alpha
