"""Lesson 02's helpers: lessonlib.course.gradient_noise, .heavy_ball and .heavy_ball_figures."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

import lessonlib as ll
from lessonlib.course import gradient_noise, heavy_ball, heavy_ball_figures


def roots(h, lr, mu):
    """The eigenvalues of the heavy ball in one direction, from z^2 - (1 + mu - lr h) z + mu = 0 (np.roots)."""
    return np.roots([1.0, -(1 + mu - lr * h), mu])


# ---- gradient noise ---------------------------------------------------------------------------------------------


def test_least_squares_gradient_is_the_derivative_of_the_loss():
    p = gradient_noise.least_squares(n=40, d=3, seed=1)
    theta = np.array([0.3, -1.2, 2.0])
    h = 1e-6
    numeric = [(p.loss(theta + h * e) - p.loss(theta - h * e)) / (2 * h) for e in np.eye(3)]
    assert np.allclose(p.grad(theta), numeric, rtol=1e-6, atol=1e-8)
    assert np.allclose(p.example_grads(theta).mean(axis=0), p.grad(theta), rtol=1e-12)
    assert np.allclose(p.grad(p.minimizer), 0.0, atol=1e-12)
    rows = [3, 7, 11]
    by_hand = sum(p.X[i] * (p.X[i] @ theta - p.y[i]) for i in rows) / 3
    assert np.allclose(p.grad(theta, rows), by_hand, rtol=1e-12)


def test_least_squares_is_seeded_and_its_curvatures_are_the_hessians():
    a, b, c = (
        gradient_noise.least_squares(seed=3),
        gradient_noise.least_squares(seed=3),
        gradient_noise.least_squares(seed=4),
    )
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and not np.array_equal(a.X, c.X)
    H = a.X.T @ a.X / a.n
    assert np.allclose(np.sort(np.linalg.eigvals(H).real), a.curvatures, rtol=1e-10)
    assert a.curvatures.max() / a.curvatures.min() > 5  # ill-conditioned, as the lesson says


def test_noise_formula_is_exact_over_every_batch():
    """All C(N, B) batches of a tiny problem, enumerated: the mean of |g_B - g|^2 is the finite-population formula."""
    p = gradient_noise.least_squares(n=7, d=2, seed=2)
    theta = np.array([0.5, -0.5])
    g = p.grad(theta)
    for B in (1, 2, 3, 6, 7):
        sq = [np.sum((p.grad(theta, list(rows)) - g) ** 2) for rows in itertools.combinations(range(7), B)]
        assert gradient_noise.noise_size(p, theta, B) == pytest.approx(math.sqrt(np.mean(sq)), rel=1e-10, abs=1e-12)
    assert gradient_noise.noise_size(p, theta, 7) == pytest.approx(0.0, abs=1e-12)  # the whole data set: no noise


def test_measured_noise_falls_like_one_over_root_b():
    p = gradient_noise.least_squares()
    theta = np.zeros(p.d)
    sizes = [4, 16, 64]
    measured = gradient_noise.measured_noise(p, theta, sizes, draws=3000, seed=5)
    assert np.allclose(measured, gradient_noise.noise_size(p, theta, sizes), rtol=0.05)
    assert measured[0] / measured[1] == pytest.approx(2.0, rel=0.06)  # 4x the batch, half the noise
    assert np.array_equal(measured, gradient_noise.measured_noise(p, theta, sizes, draws=3000, seed=5))  # seeded
    assert gradient_noise.measured_noise(p, theta, [p.n], draws=3)[0] == pytest.approx(0.0, abs=1e-12)


def test_batches_are_distinct_rows():
    p = gradient_noise.least_squares(n=50)
    rows = p.batch(50, np.random.default_rng(0))
    assert sorted(rows.tolist()) == list(range(50))


def test_least_squares_runs_use_the_same_batches_and_the_library_sgd():
    p = gradient_noise.least_squares(n=64, d=3, seed=0)
    runs = {"a": (0.1, 0.0), "b": (0.1, 0.0), "c": (0.01, 0.9)}
    out = gradient_noise.least_squares_runs(p, runs, batch_size=4, steps=30, seeds=[0, 1])
    assert out["a"].shape == (2, 31) and np.array_equal(out["a"], out["b"])
    f_star = p.loss(p.minimizer)
    assert out["c"][0, 0] == pytest.approx(p.loss(np.zeros(3)) - f_star)
    # seed 0, by hand: the same draws, ll.sgd_step
    rng, theta, buf = np.random.default_rng(0), np.zeros(3), np.zeros(3)
    for t in range(1, 31):
        g = p.grad(theta, rng.choice(p.n, size=4, replace=False))
        buf, theta = ll.sgd_step(theta, g, buf, t, lr=0.01, momentum=0.9)
    assert out["c"][0, -1] == pytest.approx(p.loss(theta) - f_star, rel=1e-10)


def test_noise_and_averaging_figures_draw_what_they_are_given():
    p = gradient_noise.least_squares()
    theta = np.zeros(p.d)
    measured = np.array([3.0, 1.5, 0.7])
    fig, ax = gradient_noise.noise_figure(p, theta, [1, 4, 16], measured)
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
    assert np.array_equal(dots.get_ydata(), measured) and fig is ax.figure
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and ax.get_title()
    curves = {"x": np.array([[1.0, 0.5, 0.2], [1.0, 0.3, 0.1]])}
    fig, ax = gradient_noise.averaging_figure(curves)
    mean = [line for line in ax.get_lines() if line.get_label().startswith("x")][0]
    assert np.allclose(mean.get_ydata(), [1.0, 0.4, 0.15])


# ---- the noise floor ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("h, lr, mu", [(1.0, 0.5, 0.0), (1.0, 0.05, 0.9), (0.04, 0.2, 0.5), (20.0, 0.08, 0.6)])
def test_noise_floor_is_the_stationary_variance_of_the_heavy_ball(h, lr, mu):
    """(x, b) -> M (x, b) + (-lr, 1) xi: the stationary covariance P = M P M^T + s2 w w^T, solved by scipy."""
    from scipy.linalg import solve_discrete_lyapunov

    s2 = 0.3
    w = np.array([-lr, 1.0])
    P = solve_discrete_lyapunov(heavy_ball.iteration_matrix(h, lr, mu), s2 * np.outer(w, w))
    assert gradient_noise.noise_floor([h], [s2], lr, mu) == pytest.approx(h / 2 * P[0, 0], rel=1e-10)


def test_noise_floor_limits():
    hs, s2 = [0.04, 0.3, 1.0], [0.2, 0.5, 0.1]
    # mu = 0 is plain SGD's eta s^2 / (2 (2 - eta h)), direction by direction
    sgd = sum(0.5 * v / (2 * (2 - 0.5 * h)) for h, v in zip(hs, s2))
    assert gradient_noise.noise_floor(hs, s2, 0.5) == pytest.approx(sgd, rel=1e-12)
    # small steps: eta * sum(s^2) / 4 whatever mu (Yuan, Ying & Sayed); the same effective step, the same floor
    for mu in (0.0, 0.5, 0.9):
        eta = 1e-4
        assert gradient_noise.noise_floor(hs, s2, eta * (1 - mu), mu) == pytest.approx(eta * sum(s2) / 4, rel=1e-4)
    # larger steps: at the same effective step more momentum gives a lower floor, never below eta * sum(s^2) / 4
    floors = [gradient_noise.noise_floor(hs, s2, 1.0 * (1 - mu), mu) for mu in (0.0, 0.5, 0.9)]
    assert floors[0] > floors[1] > floors[2] > 1.0 * sum(s2) / 4


def test_noise_floor_matches_simulated_runs():
    """Many independent heavy-ball runs on a bowl with additive Gaussian noise, through ll.sgd_step."""
    rng = np.random.default_rng(0)
    hs, s2, lr, mu = np.array([0.5, 2.0]), np.array([1.0, 0.25]), 0.1, 0.6
    chains, steps = 4000, 600
    x, buf = np.zeros((chains, 2)), np.zeros((chains, 2))
    excess = []
    for t in range(1, steps + 1):
        g = hs * x + rng.standard_normal((chains, 2)) * np.sqrt(s2)
        buf, x = ll.sgd_step(x, g, buf, t, lr=lr, momentum=mu)
        if t > steps // 2:
            excess.append(np.mean(0.5 * np.sum(hs * x**2, axis=1)))
    assert np.mean(excess) == pytest.approx(gradient_noise.noise_floor(hs, s2, lr, mu), rel=0.03)


def test_noise_at_minimum_splits_the_noise_along_the_curvatures():
    p = gradient_noise.least_squares()
    for B in (1, 8, 100, p.n):
        hs, s2 = gradient_noise.noise_at_minimum(p, B)
        assert np.allclose(hs, p.curvatures, rtol=1e-12)
        assert s2.sum() == pytest.approx(float(gradient_noise.noise_size(p, p.minimizer, B)) ** 2, rel=1e-9, abs=1e-15)
    # along each direction the variance falls like (N - B) / (B (N - 1)), and is 0 for the whole data set
    _, one = gradient_noise.noise_at_minimum(p, 1)
    _, eight = gradient_noise.noise_at_minimum(p, 8)
    assert np.allclose(eight, one / 8 * (p.n - 8) / (p.n - 1), rtol=1e-12)
    assert np.allclose(gradient_noise.noise_at_minimum(p, p.n)[1], 0.0, atol=1e-15)


def test_noise_floor_predicts_minibatch_sgd_on_least_squares():
    # at a step where the runs settle quickly, the measured floor lies a little above the formula (the real noise
    # grows with the distance from theta*), well within a factor 1.5
    p = gradient_noise.least_squares()
    hs, s2 = gradient_noise.noise_at_minimum(p, 8)
    measured = np.mean(
        [
            gradient_noise.minibatch_run("SGD", p, steps=300, seed=k, batch_size=8, lr=0.5).losses[-150:]
            for k in range(4)
        ]
    )
    predicted = gradient_noise.noise_floor(hs, s2, 0.5)
    assert predicted < measured < 1.5 * predicted


# ---- the heavy ball: matrix, radius, closed forms ---------------------------------------------------------------


@pytest.mark.parametrize("h, lr, mu", [(1.0, 0.1, 0.0), (100.0, 0.01, 0.5), (10.0, 0.03, 0.9), (3.0, 0.5, 0.2)])
def test_iteration_matrix_is_one_heavy_ball_step(h, lr, mu):
    x, b = 0.7, -0.3
    new_b, new_x = ll.sgd_step(x, h * x, b, 2, lr=lr, momentum=mu)
    if mu == 0:  # torch (and lessonlib) keep no buffer then; in the matrix it is just the gradient
        new_b = h * x
    assert heavy_ball.iteration_matrix(h, lr, mu) @ np.array([x, b]) == pytest.approx([new_x, new_b], rel=1e-13)
    assert heavy_ball.spectral_radius(h, lr, mu) == pytest.approx(np.abs(roots(h, lr, mu)).max(), rel=1e-12)


def test_the_radius_broadcasts_and_rate_is_the_worst_direction():
    lr, mu = np.array([[0.01, 0.02]]), np.array([[0.5], [0.9]])
    r = heavy_ball.rate([1.0, 100.0], lr, mu)
    assert r.shape == (2, 2)
    for i, j in itertools.product(range(2), range(2)):
        worst = max(np.abs(roots(h, lr[0, j], mu[i, 0])).max() for h in (1.0, 100.0))
        assert r[i, j] == pytest.approx(worst, rel=1e-12)


def test_complex_roots_have_the_size_root_mu():
    for mu in (0.3, 0.8, 0.95):
        lr = 1.0 / 10.0  # lr * h = 1: the discriminant is mu^2 - 4 mu < 0
        assert heavy_ball.regime(10.0, lr, mu) == "under-damped"
        assert heavy_ball.spectral_radius(10.0, lr, mu) == pytest.approx(math.sqrt(mu), rel=1e-12)


def test_gradient_descent_closed_forms_against_a_grid_and_a_run():
    lo, hi = 1.0, 100.0
    tuned = heavy_ball.gd_optimal(lo, hi)
    assert tuned.lr == pytest.approx(2 / 101) and tuned.rate == pytest.approx(99 / 101)
    grid = np.linspace(1e-4, 0.03, 30001)
    rho = heavy_ball.rate([lo, hi], grid, 0.0)
    assert grid[np.argmin(rho)] == pytest.approx(tuned.lr, abs=2e-6)
    assert rho.min() == pytest.approx(tuned.rate, rel=1e-6)
    path = heavy_ball.heavy_ball_run([lo, 10.0, hi], tuned.lr, 0.0, 600)
    assert heavy_ball.measured_rate(np.linalg.norm(path, axis=1), start=100) == pytest.approx(tuned.rate, rel=1e-4)


def test_polyak_is_the_best_pair_on_a_grid_and_the_rate_of_a_run():
    lo, hi = 1.0, 100.0
    tuned = heavy_ball.polyak_optimal(lo, hi)
    assert tuned.lr == pytest.approx(4 / 121) and tuned.momentum == pytest.approx(81 / 121)
    assert tuned.rate == pytest.approx(9 / 11)
    lr, mu = np.meshgrid(np.linspace(0.001, 0.04, 400), np.linspace(0.0, 0.99, 400))
    rho = heavy_ball.rate([lo, hi], lr, mu)
    assert rho.min() >= tuned.rate - 1e-9  # nothing on the grid beats it
    assert rho.min() == pytest.approx(tuned.rate, abs=0.01)  # and the grid's best is close to it
    assert heavy_ball.rate([lo, 3.0, 30.0, hi], tuned.lr, tuned.momentum) == pytest.approx(tuned.rate, rel=1e-6)
    # a brute-force run: the error falls like t rho^t (double roots at both ends); past t = 500 the t is ~1.002/step
    path = heavy_ball.heavy_ball_run([lo, 10.0, hi], tuned.lr, tuned.momentum, 1000)
    assert heavy_ball.measured_rate(np.linalg.norm(path, axis=1), start=500) == pytest.approx(tuned.rate, rel=3e-3)


def test_polyak_damps_both_ends_critically_and_rings_between():
    tuned = heavy_ball.polyak_optimal(1.0, 100.0)
    assert heavy_ball.regime(1.0, tuned.lr, tuned.momentum) == "critically damped"
    assert heavy_ball.regime(100.0, tuned.lr, tuned.momentum) == "critically damped"
    assert heavy_ball.regime(10.0, tuned.lr, tuned.momentum) == "under-damped"
    assert heavy_ball.flips_sign(100.0, tuned.lr, tuned.momentum) and not heavy_ball.flips_sign(
        1.0, tuned.lr, tuned.momentum
    )
    z = roots(100.0, tuned.lr, tuned.momentum)
    assert np.allclose(z, -math.sqrt(tuned.momentum), atol=1e-6)  # a double root at -sqrt(mu)


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_the_stable_range_edge_just_inside_converges_just_outside_diverges(mu):
    L = 100.0
    edge = heavy_ball.stable_lr(L, mu)
    assert edge == pytest.approx(2 * (1 + mu) / L)
    assert np.abs(roots(L, edge, mu)).max() == pytest.approx(1.0, rel=1e-9)
    inside = heavy_ball.heavy_ball_run([1.0, L], 0.99 * edge, mu, 3000)
    outside = heavy_ball.heavy_ball_run([1.0, L], 1.01 * edge, mu, 3000)
    assert np.abs(inside[-1]).max() < 1e-3
    assert np.abs(outside[-1]).max() > 1e3
    assert heavy_ball.rate([1.0, L], 0.99 * edge, mu) < 1 < heavy_ball.rate([1.0, L], 1.01 * edge, mu)


def test_steps_per_e_is_kappa_over_two_and_root_kappa_over_two():
    kappa = 1e4
    gd, hb = heavy_ball.gd_optimal(1.0, kappa), heavy_ball.polyak_optimal(1.0, kappa)
    assert heavy_ball.steps_per_e(gd.rate) == pytest.approx(kappa / 2, rel=1e-3)
    assert heavy_ball.steps_per_e(hb.rate) == pytest.approx(math.sqrt(kappa) / 2, rel=1e-3)
    assert math.exp(-1) == pytest.approx(0.9 ** heavy_ball.steps_per_e(0.9), rel=1e-12)


def test_the_regimes():
    lr = 0.01  # h = 1: critical momentum (1 - sqrt(0.01))^2 = 0.81
    assert heavy_ball.regime(1.0, lr, 0.5) == "over-damped"
    assert heavy_ball.regime(1.0, lr, 0.81) == "critically damped"
    assert heavy_ball.regime(1.0, lr, 0.95) == "under-damped"
    assert heavy_ball.regime(1.0, 2.5, 0.0) == "unstable"
    # gradient descent at its edge alpha = 2/h: z = -1, the error flips sign at a constant size (it does not grow)
    assert heavy_ball.regime(100.0, 0.02, 0.0) == "on the stable edge"
    assert np.allclose(np.abs(heavy_ball.heavy_ball_run([100.0], 0.02, 0.0, 10)[:, 0]), 1.0)
    over = heavy_ball.heavy_ball_run([1.0], lr, 0.5, 200)[:, 0]
    under = heavy_ball.heavy_ball_run([1.0], lr, 0.95, 200)[:, 0]
    assert np.all(over > 0) and np.any(under < 0)  # no ringing; ringing


def test_effective_lr_is_the_step_under_a_constant_gradient():
    theta = np.array([0.0])
    opt = ll.SGD([theta], lr=0.01, momentum=0.95)
    for _ in range(2000):
        before = theta.copy()
        opt.step([np.array([1.0])])
    assert float(before[0] - theta[0]) == pytest.approx(heavy_ball.effective_lr(0.01, 0.95), rel=1e-9)


def test_the_buffer_is_the_ema_over_one_minus_beta():
    gs = np.random.default_rng(0).standard_normal(30)
    buf, m, theta = 0.0, 0.0, 1.0
    for t, g in enumerate(gs, start=1):
        buf, theta = ll.sgd_step(theta, g, buf, t, lr=0.1, momentum=0.9)
        m = ll.ema_update(m, g, 0.9)
        assert buf == pytest.approx(m / (1 - 0.9), rel=1e-12, abs=1e-14)


def test_measured_rate_reads_a_geometric_series():
    assert heavy_ball.measured_rate(3 * 0.7 ** np.arange(50), start=0) == pytest.approx(0.7, rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        heavy_ball.measured_rate([1.0, 0.0, -1.0], start=0)


# ---- figures and the slider -------------------------------------------------------------------------------------


def test_rate_map_marks_the_two_optima():
    fig, ax = heavy_ball_figures.rate_map(n=41)
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("Polyak" in s and "0.818" in s for s in labels) and any("0.980" in s for s in labels)
    star = [line for line in ax.get_lines() if line.get_marker() == "*"][0]
    assert star.get_xdata()[0] == pytest.approx(4 / 121) and star.get_ydata()[0] == pytest.approx(81 / 121)
    # the star sits at kappa / (kappa + 1) of the stable edge, just inside it, and its label says so
    assert star.get_xdata()[0] / heavy_ball.stable_lr(100.0, 81 / 121) == pytest.approx(100 / 101)
    assert f"{100 / 101:.3f} of the edge" in star.get_label()


def test_regimes_figure_shows_the_three_regimes_and_the_runs():
    fig, axes = heavy_ball_figures.regimes_figure(steps=40)
    titles = [ax.get_title() for ax in axes]
    assert [("over" in t, "critically" in t, "under" in t) for t in titles] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    lr = heavy_ball.polyak_optimal(1.0, 100.0).lr
    assert np.allclose(axes[2].get_lines()[0].get_ydata(), heavy_ball.heavy_ball_run([1.0], lr, 0.95, 40)[:, 0])
    for ax in axes:  # the dashed envelope holds the error at every step, and touches it
        x, env = ax.get_lines()[0].get_ydata(), ax.get_lines()[1].get_ydata()
        assert np.all(np.abs(x) <= env * (1 + 1e-9)) and np.max(np.abs(x) / env) > 0.99


@pytest.mark.parametrize(
    "h, lr, mu", [(1.0, 0.03306, 0.3), (1.0, 0.01, 0.81), (1.0, 0.03306, 0.95), (100.0, 0.018, 0.1)]
)
def test_envelope_is_exact(h, lr, mu):
    x = heavy_ball.heavy_ball_run([h], lr, mu, 200)[:, 0]
    env, label = heavy_ball.envelope(h, lr, mu, 200)
    assert np.all(np.abs(x) <= env * (1 + 1e-9) + 1e-300) and label.startswith("$\\pm")
    r = heavy_ball.spectral_radius(h, lr, mu)
    if heavy_ball.regime(h, lr, mu) == "critically damped":  # a double root: t r^t, above r^t for good
        assert np.allclose(env, (1 + (1 - np.sqrt(mu)) * np.arange(201)) * np.sqrt(mu) ** np.arange(201))
        assert np.all(env[1:] > r ** np.arange(1, 201))
    else:  # distinct roots: the envelope falls like r^t
        assert env[-1] / env[-2] == pytest.approx(r, rel=1e-3)


def test_damping_demo_reports_the_radius_and_regimes():
    tuned = heavy_ball.polyak_optimal(*heavy_ball.BOWL[::2])
    fig, text = heavy_ball_figures.damping_demo(tuned.lr, tuned.momentum)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 2
    assert f"spectral radius {tuned.rate:.3f}" in text
    assert "h = 1: critically damped" in text and "h = 10: under-damped" in text
    assert "h = 100: critically damped, sign flips" in text
    left = fig.axes[0]
    drawn = {
        line.get_label().split(":")[0]: line.get_ydata()
        for line in left.get_lines()
        if line.get_label().startswith("$h")
    }
    path = heavy_ball.heavy_ball_run(heavy_ball.BOWL, tuned.lr, tuned.momentum, 80)
    assert np.allclose(drawn["$h = 1$"], path[:, 0])
    _, text = heavy_ball_figures.damping_demo(0.04, 0.5)
    assert "unstable" in text and f"{heavy_ball.rate(heavy_ball.BOWL, 0.04, 0.5):.3f}" in text
    _, text = heavy_ball_figures.damping_demo(
        0.02, 0.0
    )  # the widget's alpha with mu = 0: the steepest direction sits on the edge
    assert "on the stable edge" in text and "unstable" not in text


def test_damping_widget_redraws_when_a_slider_moves():
    pytest.importorskip("ipywidgets")
    box = heavy_ball_figures.damping_widget()
    lr, mu, label, image = box.children
    first, png = label.value, image.value
    assert first == heavy_ball_figures.damping_demo(lr.value, mu.value)[1] and png[:4] == b"\x89PNG"
    mu.value = 0.5
    assert label.value != first and label.value == heavy_ball_figures.damping_demo(lr.value, 0.5)[1]


# ---- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: heavy_ball.spectral_radius(0.0, 0.1, 0.5), ValueError, "h"),
        (lambda: heavy_ball.spectral_radius(1.0, -0.1, 0.5), ValueError, "lr"),
        (lambda: heavy_ball.spectral_radius(1.0, 0.1, 1.0), ValueError, "momentum"),
        (lambda: heavy_ball.spectral_radius(1.0, "0.1", 0.5), TypeError, "lr"),
        (lambda: heavy_ball.rate([], 0.1, 0.5), ValueError, "hs"),
        (lambda: heavy_ball.stable_lr(0.0, 0.5), ValueError, "h_max"),
        (lambda: heavy_ball.stable_lr(10.0, -0.1), ValueError, "momentum"),
        (lambda: heavy_ball.polyak_optimal(10.0, 1.0), ValueError, "h_min"),
        (lambda: heavy_ball.gd_optimal(0.0, 1.0), ValueError, "h_min"),
        (lambda: heavy_ball.steps_per_e(1.0), ValueError, "Invalid r:"),
        (lambda: heavy_ball.effective_lr(0.1, 1.0), ValueError, "momentum"),
        (lambda: heavy_ball.heavy_ball_run([1.0], 0.1, 0.5, 3.0), TypeError, "steps"),
        (lambda: heavy_ball.heavy_ball_run([1.0, 2.0], 0.1, 0.5, 3, x0=[1.0]), ValueError, "x0"),
        (lambda: gradient_noise.least_squares(n=1), ValueError, "n"),
        (lambda: gradient_noise.least_squares(d=2, scales=[1.0]), ValueError, "scales"),
        (lambda: gradient_noise.least_squares().batch(0, np.random.default_rng(0)), ValueError, "batch_size"),
        (lambda: gradient_noise.least_squares().grad(np.zeros(3)), ValueError, "theta"),
        (lambda: gradient_noise.noise_size(gradient_noise.least_squares(), np.zeros(5), 0.5), ValueError, "batch_size"),
        (lambda: heavy_ball.regime(np.array([1.0, 2.0]), 0.1, 0.5), ValueError, "one direction"),
        (lambda: gradient_noise.noise_floor([1.0], [1.0], 2.0), ValueError, "lr"),
        (lambda: gradient_noise.noise_floor([1.0, 2.0], [1.0], 0.1), ValueError, "noise_vars"),
        (lambda: gradient_noise.noise_floor([1.0], [-1.0], 0.1), ValueError, "noise_vars"),
        (lambda: gradient_noise.noise_floor([1.0], [1.0], 0.1, 1.0), ValueError, "momentum"),
        (lambda: gradient_noise.noise_at_minimum(gradient_noise.least_squares(), 0), ValueError, "batch_size"),
        (lambda: gradient_noise.noise_at_minimum("problem", 8), TypeError, "problem"),
    ],
)
def test_bad_input_is_refused_with_its_name(call, error, words):
    with pytest.raises(error, match=words):
        call()
