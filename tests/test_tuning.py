"""The sweep behind every comparison: its rule, its choice, its table and the new objectives it is run on."""

import math

import numpy as np
import pytest

from lessonlib.course import momentum, objectives, runs, tuning


def test_sweep_picks_the_lowest_final_loss_and_marks_divergence():
    bowl = objectives.quadratic()
    s = tuning.sweep("SGD", bowl, {"lr": [0.01, 0.05, 0.09, 0.11]}, steps=50)
    finals = [runs.run("SGD", bowl, steps=50, lr=lr).final_loss for lr in (0.01, 0.05, 0.09)]
    assert [o.score for o in s.outcomes[:3]] == finals
    assert s.best.hyper == {"lr": 0.09}
    # lr 0.11 > 2 / 20: the steep coordinate grows by |1 - 2.2| per step; the loss ends above its start
    assert s.outcomes[3].diverged and math.isinf(s.outcomes[3].score)
    assert "div" in s.table().splitlines()[-1]


def test_sweep_by_steps_to_a_threshold_matches_a_direct_count():
    bowl = objectives.quadratic()
    s = tuning.sweep("momentum", bowl, {"lr": [0.05, 0.1], "momentum": [0.5, 0.9]}, until=1e-3)
    for o in s.outcomes:
        losses = runs.run("momentum", bowl, steps=100, **o.hyper).losses
        hit = np.flatnonzero(losses < 1e-3)
        assert o.score == (hit[0] if hit.size else math.inf)
    assert s.best.score == min(o.score for o in s.outcomes)


def test_the_grid_best_momentum_on_the_bowl_is_near_polyaks_closed_form():
    # Polyak's alpha and mu for curvatures 1 and 20 (notebook 02) against a fine grid around them
    tuned = momentum.polyak_optimal(1.0, 20.0)
    grid = {"lr": tuning.lr_grid(0.05, 0.3, per_decade=20), "momentum": [0.3, 0.4, 0.5, 0.6]}
    s = tuning.sweep("momentum", objectives.quadratic(), grid, steps=100)
    assert abs(math.log(s.best.hyper["lr"] / tuned.lr)) < math.log(1.5)
    assert abs(s.best.hyper["momentum"] - tuned.momentum) <= 0.1


def test_profile_and_good_range():
    s = tuning.sweep("Adam", objectives.quadratic(), {"lr": [0.01, 0.1, 1.0], "beta1": [0.0, 0.9]}, steps=100)
    lrs, best = s.profile("lr")
    assert lrs.tolist() == [0.01, 0.1, 1.0]
    for lr, b in zip(lrs, best):
        assert b == min(o.score for o in s.outcomes if o.hyper["lr"] == lr)
    assert {o.hyper["beta1"] for o in s.outcomes} == {0.0, 0.9}
    lo, hi = s.good_range(best.max() * 2)
    assert (lo, hi) == (0.01, 1.0)
    assert s.good_range(0.0) is None


def test_at_edge_is_flagged_in_the_table():
    s = tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.001, 0.01]}, steps=20)
    assert s.at_edge and "edge of the grid" in s.table()


def test_a_custom_runner_is_used():
    calls = []

    def fake(optimizer, problem, *, steps, seed, **hyper):
        calls.append(hyper)
        return runs.Trajectory(np.zeros((2, 2)), np.array([1.0, hyper["lr"]]), False)

    s = tuning.sweep("SGD", None, {"lr": [0.5, 0.25]}, run=fake)
    assert calls == [{"lr": 0.5}, {"lr": 0.25}] and s.best.hyper == {"lr": 0.25}


@pytest.mark.parametrize(
    "grid, error",
    [
        ({"momentum": [0.5]}, TypeError),
        ({"lr": []}, ValueError),
        ({"lr": [0.1, 0.1]}, ValueError),
        ({"lr": [-0.1]}, ValueError),
        ({"lr": "0.1"}, TypeError),
        ({"lr": [0.1], "gamma": [1.0]}, ValueError),
        ({"lr": [0.1], "momentum": [0.5], "beta1": [0.9]}, ValueError),
    ],
)
def test_bad_grids_are_refused(grid, error):
    with pytest.raises(error, match="grid"):
        tuning.sweep("SGD", objectives.quadratic(), grid)


def test_lr_grid():
    assert tuning.lr_grid(1e-3, 1.0, per_decade=1) == [0.001, 0.01, 0.1, 1.0]
    with pytest.raises(ValueError, match="low"):
        tuning.lr_grid(0.0, 1.0)
    with pytest.raises(ValueError, match="per_decade"):
        tuning.lr_grid(0.1, 1.0, per_decade=0)


def test_rotated_bowl_is_the_bowl_seen_in_turned_coordinates():
    bowl, turned = objectives.quadratic(), objectives.rotated(objectives.quadratic(), 45.0)
    rng = np.random.default_rng(0)
    c = s = math.sqrt(0.5)
    rot = np.array([[c, -s], [s, c]])
    for _ in range(5):
        x = rng.standard_normal(2)
        assert turned.value(rot @ x) == pytest.approx(bowl.value(x))
        np.testing.assert_allclose(turned.grad(rot @ x), rot @ bowl.grad(x), atol=1e-12)
    np.testing.assert_allclose(turned.start, rot @ np.array(bowl.start))
    # SGD is rotation invariant: the same losses step by step
    a = runs.run("SGD", bowl, steps=30, lr=0.05).losses
    b = runs.run("SGD", turned, steps=30, lr=0.05).losses
    np.testing.assert_allclose(a, b, rtol=1e-10)
    with pytest.raises(TypeError, match="base"):
        objectives.rotated("bowl")


def test_scaled_objective():
    sc = objectives.scaled((2.0, 30.0))
    assert sc.value(np.array(sc.minimum)) == 0.0
    np.testing.assert_allclose(sc.grad(np.array([1.0, 1.0])), [2.0, 30.0 * 29.0])
    with pytest.raises(ValueError, match="scales"):
        objectives.scaled((0.0, 1.0))
    with pytest.raises(TypeError, match="scales"):
        objectives.scaled(3.0)


def test_seeds_and_last_average_the_score():
    noisy = objectives.noisy(sigma=1.0)
    s = tuning.sweep("SGD", noisy, {"lr": [0.05, 0.2]}, steps=40, seed=[0, 1, 2], last=10)
    assert s.rule == "mean loss over steps 31-40, mean of 3 seeds (lower is better)"
    for o in s.outcomes:
        per_seed = [runs.run("SGD", noisy, steps=40, seed=k, **o.hyper).losses[-10:].mean() for k in range(3)]
        assert o.score == pytest.approx(np.mean(per_seed), rel=1e-12)
    with pytest.raises(ValueError, match="last"):
        tuning.sweep("SGD", noisy, {"lr": [0.1]}, steps=5, last=6)
    with pytest.raises(ValueError, match="seed"):
        tuning.sweep("SGD", noisy, {"lr": [0.1]}, seed=[])
