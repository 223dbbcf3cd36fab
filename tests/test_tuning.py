"""The sweep behind every comparison: its rule, its choice, its table and the new objectives it is run on."""

import math

import numpy as np
import pytest

from lessonlib.course import gradient_noise, heavy_ball, objectives, runs, sweep_reports, tuning


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
    tuned = heavy_ball.polyak_optimal(1.0, 20.0)
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
    assert s.edges == ("lr",)


def _fake_runner(finals):
    """A run whose final loss is finals[(lr, momentum)], from a start of 10."""

    def fake(optimizer, problem, *, steps, seed, **hyper):
        final = finals[(hyper["lr"], hyper.get("momentum"))]
        return runs.Trajectory(np.zeros((2, 2)), np.array([10.0, final]), not math.isfinite(final))

    return fake


@pytest.mark.parametrize(
    "best, edges",
    [
        ((0.2, 0.5), ()),  # inside both grids
        ((0.2, 0.9), ("momentum",)),  # the largest mu: a larger one might do better
        ((0.2, 0.2), ("momentum",)),  # the smallest mu, above 0: a smaller one might do better
        ((0.1, 0.9), ("lr", "momentum")),
        ((0.4, 0.5), ("lr",)),
    ],
)
def test_edges_of_the_second_hyperparameter(best, edges):
    lrs, mus = [0.1, 0.2, 0.4], [0.2, 0.5, 0.9]
    finals = {(lr, mu): 1.0 for lr in lrs for mu in mus}
    finals[best] = 1e-6
    s = tuning.sweep("momentum", None, {"lr": lrs, "momentum": mus}, run=_fake_runner(finals))
    assert s.best.hyper == {"lr": best[0], "momentum": best[1]}
    assert s.edges == edges and s.at_edge == bool(edges)
    table = s.table().splitlines()
    assert ("the best learning rate is at the edge of the grid: widen it before trusting the choice" in table) == (
        "lr" in edges
    )
    mu_line = f"the best momentum ({best[1]:g}) is at the edge of the grid: widen it before trusting the choice"
    assert (mu_line in table) == ("momentum" in edges)
    side = sweep_reports.grid_table({"m": s}).splitlines()
    assert (f"  m's best mu {best[1]:g} is at the edge of its grid: a wider grid might do better" in side) == (
        "momentum" in edges
    )


def test_a_second_hyperparameter_at_zero_is_no_edge_and_nor_is_a_single_value():
    # mu = 0 is the end of its allowed range: no grid can go lower, so it is not flagged
    lrs = [0.1, 0.2, 0.4]
    finals = {(lr, mu): 1.0 for lr in lrs for mu in (0.0, 0.5)}
    finals[(0.2, 0.0)] = 1e-6
    s = tuning.sweep("momentum", None, {"lr": lrs, "momentum": [0.0, 0.5]}, run=_fake_runner(finals))
    assert s.best.hyper == {"lr": 0.2, "momentum": 0.0} and s.edges == () and not s.at_edge
    one = tuning.sweep("momentum", None, {"lr": lrs, "momentum": [0.5]}, run=_fake_runner(finals))
    assert "momentum" not in one.edges
    # every run diverged: nothing is at an edge
    dead = tuning.sweep("SGD", None, {"lr": lrs}, run=_fake_runner({(lr, None): math.inf for lr in lrs}))
    assert dead.best.diverged and dead.edges == ()


def test_best_at_takes_the_best_over_the_rest_of_the_grid():
    bowl = objectives.quadratic()
    s = tuning.sweep("momentum", bowl, {"lr": [0.05, 0.1, 0.2], "momentum": [0.0, 0.4, 0.8]}, steps=50)
    for lr in (0.05, 0.1, 0.2):
        column = [o for o in s.outcomes if o.hyper["lr"] == lr]
        assert s.best_at(lr=lr).score == min(o.score for o in column)
    assert s.best_at(lr=0.1, momentum=0.4) is s.at(lr=0.1, momentum=0.4)
    assert s.best_at() is s.best
    # at lr 0.2 every mu diverges: the best of three diverged runs is a diverged run
    assert s.best_at(lr=0.2).diverged
    with pytest.raises(ValueError, match="hyperparameter"):
        s.best_at(beta1=0.9)
    with pytest.raises(ValueError, match="lr"):
        s.best_at(lr=0.3)


def test_grid_table_collapsed_shows_the_best_per_learning_rate_and_the_values_tried():
    bowl = objectives.quadratic()
    sgd = tuning.sweep("SGD", bowl, {"lr": [0.05, 0.1]}, steps=50)
    mom = tuning.sweep("momentum", bowl, {"lr": [0.05, 0.1, 0.2], "momentum": [0.0, 0.4, 0.8]}, steps=50)
    lines = sweep_reports.grid_table({"SGD": sgd, "momentum": mom}, collapse=True).splitlines()
    assert lines[2] == "  momentum: mu 0, 0.4, 0.8"
    assert lines[3].split() == ["lr", "SGD", "momentum"] and lines[4].split() == ["mu"]
    rows = {ln.split()[0]: ln[6:] for ln in lines[5:8]}
    # SGD's best is at 0.05 (at 0.1 the steep coordinate flips sign without shrinking): starred
    assert rows["0.05"].split() == [f"*{sgd.at(lr=0.05).score:.1e}", f"{mom.best_at(lr=0.05).score:.1e}", "(0.8)"]
    assert rows["0.1"].split() == [f"{sgd.at(lr=0.1).score:.1e}", f"*{mom.best.score:.1e}", "(0.4)"]
    assert rows["0.2"].split() == ["div"]  # not on SGD's grid (blank); momentum diverged at every mu
    assert "momentum: lr 0.1, momentum 0.4" in lines
    with pytest.raises(TypeError, match="collapse"):
        sweep_reports.grid_table({"SGD": sgd}, collapse="yes")
    # without a second hyperparameter the collapsed table is the plain one
    assert sweep_reports.grid_table({"SGD": sgd}, collapse=True) == sweep_reports.grid_table({"SGD": sgd})


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


def test_profile_and_good_range_by_final_loss_and_good_count():
    bowl = objectives.quadratic()
    s = tuning.sweep("SGD", bowl, {"lr": [0.01, 0.05, 0.09, 0.11]}, steps=50, until=1e-3)
    lrs, finals = s.profile("lr", key="final_loss")
    for lr, final in zip(lrs, finals):
        tr = runs.run("SGD", bowl, steps=50, lr=float(lr))
        assert final == (math.inf if s.at(lr=float(lr)).diverged else tr.final_loss)
    assert s.good_range(1.0, key="final_loss") == (0.05, 0.09)
    assert s.good_count(1.0, key="final_loss") == (2, 2)
    assert s.good_count(0.0, key="final_loss") == (0, 0)
    with pytest.raises(ValueError, match="key"):
        s.profile("lr", key="loss")


def test_good_count_sees_holes():
    def fake(optimizer, problem, *, steps, seed, **hyper):  # good at 0.1 and 0.4, bad at 0.2
        final = {0.1: 1e-6, 0.2: 1.0, 0.4: 1e-7}[hyper["lr"]]
        return runs.Trajectory(np.zeros((2, 2)), np.array([10.0, final]), False)

    s = tuning.sweep("SGD", None, {"lr": [0.1, 0.2, 0.4]}, run=fake)
    assert s.good_range(1e-3) == (0.1, 0.4) and s.good_count(1e-3) == (2, 3)


def test_at_and_best_arguments():
    s = tuning.sweep("Adam", objectives.quadratic(), {"lr": [0.05, 0.5], "beta1": [0.5, 0.9]}, steps=30)
    assert s.at(lr=0.5, beta1=0.9) is s.outcomes[3]
    assert s.best_arguments == {"lr": s.best.hyper["lr"], "betas": (s.best.hyper["beta1"], 0.999)}
    tr = runs.run("Adam", objectives.quadratic(), steps=30, **s.best_arguments)
    assert tr.final_loss == s.best.score
    with pytest.raises(ValueError, match="hyperparameters"):
        s.at(lr=0.5)
    with pytest.raises(ValueError, match="not a point"):
        s.at(lr=0.7, beta1=0.9)


def test_grid_table_puts_sweeps_side_by_side():
    bowl = objectives.quadratic()
    sgd = tuning.sweep("SGD", bowl, {"lr": [0.05, 0.09, 0.11]}, steps=50)
    mom = tuning.sweep("momentum", bowl, {"lr": [0.05, 0.09], "momentum": [0.5, 0.9]}, steps=50)
    lines = sweep_reports.grid_table({"SGD": sgd, "momentum": mom}).splitlines()
    assert lines[0].startswith(sgd.rule)
    assert lines[1].split() == ["lr", "SGD", "momentum", "momentum"] and lines[2].split() == ["mu", "0.5", "mu", "0.9"]
    row = {ln.split()[0]: ln.split()[1:] for ln in lines[3:6]}
    assert row["0.09"][0] == f"*{sgd.at(lr=0.09).score:.1e}"
    assert row["0.11"] == ["div"]  # not on momentum's grid: blank cells
    best = mom.best.hyper
    column = 1 + [0.5, 0.9].index(best["momentum"])
    assert row[f"{best['lr']:g}"][column].startswith("*")
    assert "SGD: lr 0.09" in lines
    other = tuning.sweep("SGD", bowl, {"lr": [0.05]}, steps=10)
    with pytest.raises(ValueError, match="rules differ"):
        sweep_reports.grid_table({"a": sgd, "b": other})
    with pytest.raises(TypeError, match="sweeps"):
        sweep_reports.grid_table({"a": 1})


def test_good_ranges_reports_best_and_ranges_per_threshold():
    s = tuning.sweep("SGD", objectives.quadratic(), {"lr": [0.01, 0.03, 0.05, 0.09, 0.11]}, steps=50)
    lines = sweep_reports.good_ranges({"SGD": s}, below=[10.0, 0.1, 1e-3, 1e-9]).splitlines()
    assert lines[1].split()[:3] == ["best", "at", "lr"]
    last = lines[2]
    assert last.startswith("SGD") and f"{s.best.score:.1e} at 0.09" in last
    assert "0.01 to 0.09 (x9, 4 of 4)" in last and "0.05 to 0.09 (x1.8, 2 of 2)" in last
    assert "0.09 only" in last and last.endswith("none")
    with pytest.raises(ValueError, match="below"):
        sweep_reports.good_ranges({"SGD": s}, below=[])


def test_sensitivity_figure_draws_a_curve_per_optimizer_and_the_threshold():
    bowl = objectives.quadratic()
    sweeps = {
        "SGD": tuning.sweep("SGD", bowl, {"lr": [0.01, 0.05, 0.11]}, steps=50),
        "Adam": tuning.sweep("Adam", bowl, {"lr": [0.05, 0.5], "beta1": [0.5, 0.9]}, steps=50),
    }
    ax = sweep_reports.sensitivity_figure(sweeps, below=1e-3, floor=1e-20)
    lines = ax.get_lines()
    sgd = next(ln for ln in lines if ln.get_label() == "SGD")
    np.testing.assert_allclose(sgd.get_ydata(), np.maximum(sweeps["SGD"].profile()[1][:2], 1e-20))
    assert any(ln.get_linestyle() == "--" and ln.get_ydata()[0] == 1e-3 for ln in lines)
    assert any(ln.get_marker() == "x" for ln in lines)  # lr 0.11 diverged for SGD
    with pytest.raises(ValueError, match="key"):
        sweep_reports.sensitivity_figure(sweeps, key="best")


def test_scheduled_sets_the_learning_rate_before_each_step():
    from functools import partial

    from lessonlib.optim import schedules

    seen = []

    def halving(t):
        seen.append(t)
        return 0.5 ** (t - 1)

    maker = runs.scheduled("SGD", halving)
    assert maker.__name__ == "SGD, scheduled"
    tr = runs.run(maker, objectives.quadratic(a=1.0, b=1.0), steps=3, lr=0.5, start=(1.0, 1.0))
    # theta *= 1 - lr * eta_t with eta = 1, 0.5, 0.25
    np.testing.assert_allclose(tr.path[:, 0], [1.0, 0.5, 0.375, 0.328125])
    assert seen == [1, 2, 3]
    # a cosine decay on a mini-batch run: the same batches, and at the last step lr 0 (theta does not move)
    problem = gradient_noise.least_squares()
    cosine = runs.scheduled("Adam", partial(schedules.warmup_cosine, warmup_steps=0, total_steps=20))
    decayed = gradient_noise.minibatch_run(cosine, problem, steps=20, lr=0.1)
    np.testing.assert_array_equal(decayed.path[-1], decayed.path[-2])
    s = tuning.sweep(
        cosine, problem, {"lr": [0.05, 0.1]}, steps=20, run=partial(gradient_noise.minibatch_run, batch_size=8)
    )
    assert s.optimizer == "Adam, scheduled"
    with pytest.raises(TypeError, match="schedule"):
        runs.scheduled("Adam", 0.5)
    with pytest.raises(ValueError, match="optimizer"):
        runs.scheduled("Adagrad", halving)
    with pytest.raises(ValueError, match="lr"):
        maker([np.zeros(2)], lr=-1.0)
