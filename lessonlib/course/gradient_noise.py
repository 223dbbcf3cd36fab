r"""Lesson 02's gradient noise: where it comes from, how big it is, and where a run settles under it.

:func:`least_squares` makes a seeded problem :math:`f(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2` (a
:class:`LeastSquares`, defined in :mod:`lessonlib.course.least_squares` and imported here with it).
A mini-batch of :math:`B` rows drawn without replacement gives :math:`g_B = g + \xi` with
:math:`\mathbb E[\xi] = 0` and, exactly,

.. math::

    \mathbb E\lVert\xi\rVert^2 = \frac{\sigma^2}{B}\,\frac{n - B}{n - 1}, \qquad
    \sigma^2 = \frac1n \sum_{i=1}^{n} \lVert g_i - g\rVert^2

(:func:`noise_size`; :func:`measured_noise` measures it). :func:`noise_floor` is the level at which a run's
excess loss settles under that noise, with or without momentum (the heavy ball itself is
:mod:`lessonlib.course.heavy_ball`).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course.heavy_ball import curvatures, stable_lr
from lessonlib.course.least_squares import LeastSquares, least_squares  # noqa: F401  (notebooks make it here)
from lessonlib.course.runs import Trajectory, make
from lessonlib.optim._checks import (
    MAX_RUN_STEPS,
    as_ints,
    check_beta,
    check_int,
    check_real,
    check_reals,
    check_seed,
)
from lessonlib.optim.sgd import SGD


def _check_problem(problem) -> None:
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a LeastSquares (from least_squares()), got {type(problem).__name__}")


def noise_size(problem: LeastSquares, theta, batch_size) -> np.ndarray:
    r"""The exact root-mean-square size of the mini-batch noise, :math:`\sqrt{\mathbb E\lVert g_B - g\rVert^2}`.

    For :math:`B` rows drawn without replacement from :math:`n`,
    :math:`\mathbb E\lVert\xi\rVert^2 = \frac{\sigma^2}{B}\frac{n-B}{n-1}`, :math:`\sigma^2` the mean squared
    distance of the rows' gradients from their mean (the finite-population correction :math:`\frac{n-B}{n-1}`
    makes it exactly 0 at :math:`B = n`). For :math:`B \ll n` this is :math:`\sigma/\sqrt B`.

    Args:
        problem: a :class:`LeastSquares`.
        theta: where the gradients are taken, shape ``(d,)``.
        batch_size: :math:`B`, a number or an array of them, from 1 to ``n``.
    """
    _check_problem(problem)
    B = check_reals("batch_size", batch_size, low=1.0, high=problem.n + 1)
    G = problem.example_grads(theta)
    sigma2 = np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))
    return np.sqrt(sigma2 / B * (problem.n - B) / (problem.n - 1))


def measured_noise(problem: LeastSquares, theta, batch_sizes, *, draws: int = 2000, seed: int = 0) -> np.ndarray:
    r"""The noise size measured: the root mean of :math:`\lVert g_B - g\rVert^2` over ``draws`` mini-batches.

    Args:
        problem: a :class:`LeastSquares`.
        theta: where the gradients are taken, shape ``(d,)``.
        batch_sizes: the batch sizes :math:`B` to measure.
        draws: how many mini-batches per batch size.
        seed: seeds the draws.
    """
    _check_problem(problem)
    draws = check_int("draws", draws, low=1, high=MAX_RUN_STEPS)
    sizes = _batch_sizes(batch_sizes, problem.n)
    rng = np.random.default_rng(check_seed(seed))
    theta = problem._theta(theta)  # checked once: the draws below use the unchecked forms
    g = problem._grad(theta, None)
    out = []
    for B in sizes:
        sq = [np.sum((problem._grad(theta, problem._batch(B, rng)) - g) ** 2) for _ in range(draws)]
        out.append(math.sqrt(float(np.mean(sq))))
    return np.array(out)


def _batch_sizes(batch_sizes, n: int) -> list[int]:
    """``batch_sizes`` (an int or a list or 1-D array of ints, each from 1 to ``n``) as a list of ints."""
    sizes = np.atleast_1d(as_ints("batch_sizes", batch_sizes, what=f"an int or a list of ints from 1 to n = {n}"))
    if sizes.ndim != 1:
        raise TypeError(f"batch_sizes must be an int or a list of ints from 1 to n = {n}, got shape {sizes.shape}")
    return [check_int(f"batch_sizes[{i}]", int(B), low=1, high=n) for i, B in enumerate(sizes)]


def noise_figure(problem: LeastSquares, theta, batch_sizes, measured, *, ax=None):
    r"""The measured noise size against :math:`B` (dots), the exact formula, and :math:`\sigma/\sqrt{B}`; log-log.

    Returns ``(fig, ax)``.

    Args:
        problem: a :class:`LeastSquares`.
        theta: where the gradients were taken.
        batch_sizes: the batch sizes measured.
        measured: :func:`measured_noise` at those sizes.
        ax: an Axes to draw on, or None for a new figure.
    """
    fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
    B = np.asarray(batch_sizes, dtype=np.float64)
    grid = np.geomspace(1, B.max(), 200)
    ax.loglog(
        grid,
        noise_size(problem, theta, grid),
        "-",
        color="C0",
        lw=1.8,
        label=r"exact: $\sqrt{(n-B)/(n-1)}\;\sigma/\sqrt{B}$",
    )
    ax.loglog(
        grid, noise_size(problem, theta, 1.0) / np.sqrt(grid), "--", color="0.5", lw=1.2, label=r"$\sigma/\sqrt{B}$"
    )
    ax.loglog(B, measured, "o", color="C1", markersize=6, label="measured (seeded draws)")
    ax.set_xticks(B, [f"{b:g}" for b in B])
    ax.minorticks_off()
    ticks = [y for y in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0) if min(measured) / 2 <= y <= 2 * max(measured)]
    ax.set_yticks(ticks, [f"{y:g}" for y in ticks])
    ax.set_xlabel(f"batch size $B$ (of $n = {problem.n}$ examples)")
    ax.set_ylabel(r"noise size $\sigma_B = \sqrt{\mathbb{E}\,\|g_B - \bar g\|^2}$")
    ax.set_title("Mini-batch gradient noise falls like $1/\\sqrt{B}$", fontsize=10)
    ax.legend(loc="lower left", fontsize=9)
    return fig, ax


def minibatch_run(optimizer, problem: LeastSquares, *, steps: int, seed: int = 0, batch_size: int = 32, **hyper):
    r"""Any optimizer on ``problem`` from :math:`\theta_0 = 0`, one mini-batch gradient per step.

    Every step draws its batch afresh from all the examples (:meth:`LeastSquares.batch`: no example twice within a
    batch), so the noise of different steps is independent; a data loader that shuffles once per epoch deals out
    disjoint batches instead. The mini-batches come from ``seed``, so two optimizers run with the same seed see the
    same batches. The result has the shape :func:`lessonlib.course.tuning.sweep` expects of a run, so
    ``functools.partial(minibatch_run, batch_size=B)`` can be its ``run``.

    Args:
        optimizer: a name from :data:`lessonlib.course.runs.OPTIMIZERS` or an optimizer class.
        problem: a :class:`LeastSquares`.
        steps: how many steps to take.
        seed: seeds the mini-batch draws.
        batch_size: :math:`B`.
        **hyper: the optimizer's arguments (``lr``, ``momentum``, ``betas``, ...).

    Returns:
        A :class:`lessonlib.course.runs.Trajectory` whose ``losses`` are the excess losses
        :math:`f(\theta_t) - f(\theta^\star)` from :math:`t = 0` and whose ``path`` is :math:`\theta_t` (one row a
        step); ``diverged`` when the loss stopped being finite.

    >>> p = least_squares()
    >>> tr = minibatch_run("SGD", p, steps=3, lr=0.1)
    >>> tr.losses.shape, bool(tr.losses[-1] < tr.losses[0])
    ((4,), True)
    """
    _check_problem(problem)
    steps = check_int("steps", steps, high=MAX_RUN_STEPS)
    batch_size = check_int("batch_size", batch_size, low=1, high=problem.n)
    rng = np.random.default_rng(check_seed(seed))
    theta = np.zeros(problem.d)
    opt = make(optimizer, [theta], **hyper)
    f_star = problem.loss(problem.minimizer)
    path, excess, diverged = [theta.copy()], [problem.loss(theta) - f_star], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):  # theta is the run's own float64 array: the problem's unchecked forms take it
            g = problem._grad(theta, problem._batch(batch_size, rng))
            if not np.all(np.isfinite(g)):
                diverged = True
                break
            opt.step([g])
            loss = problem._loss(theta) if np.all(np.isfinite(theta)) else math.inf
            if not math.isfinite(loss):
                diverged = True
                break
            path.append(theta.copy())
            excess.append(loss - f_star)
    return Trajectory(np.array(path), np.array(excess), diverged)


def least_squares_runs(problem: LeastSquares, runs: dict, *, batch_size: int, steps: int, seeds=range(20)) -> dict:
    r"""Mini-batch SGD (``ll.SGD``) on ``problem`` from :math:`\theta_0 = 0`, for each run and seed.

    ``runs`` maps a label to ``(lr, momentum)``. Every run sees the same mini-batches for a given seed.
    Returns ``{label: excess}``, ``excess`` of shape ``(len(seeds), steps + 1)``: the excess loss
    :math:`f(\theta_t) - f(\theta^\star)` from :math:`t = 0` (:func:`minibatch_run` for each seed).

    Args:
        problem: a :class:`LeastSquares`.
        runs: ``{label: (lr, momentum)}``.
        batch_size: :math:`B`.
        steps: how many steps each run takes.
        seeds: the seeds of the mini-batch draws, one run per seed.
    """
    _check_problem(problem)
    if not isinstance(runs, dict):
        raise TypeError(f"runs must be a dict {{label: (lr, momentum)}}, got {type(runs).__name__}")
    steps = check_int("steps", steps)
    batch_size = check_int("batch_size", batch_size, low=1, high=problem.n)
    seeds = [check_seed(seed) for seed in seeds]
    out = {}
    for label, (lr, momentum) in runs.items():
        curves = [
            minibatch_run(SGD, problem, steps=steps, seed=seed, batch_size=batch_size, lr=lr, momentum=momentum).losses
            for seed in seeds
        ]
        out[label] = np.array(curves)
    return out


def averaging_figure(excess: dict, *, ax=None):
    """Excess loss against step: one seeded run (thin) and the mean over all seeds (thick) per label; log scale.

    Returns ``(fig, ax)``.

    Args:
        excess: ``{label: array (seeds, steps + 1)}``, as :func:`least_squares_runs` returns.
        ax: an Axes to draw on, or None for a new figure.
    """
    fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
    for i, (label, curves) in enumerate(excess.items()):
        t = np.arange(curves.shape[1])
        ax.semilogy(t, curves[0], "-", color=f"C{i}", lw=0.7, alpha=0.35)
        ax.semilogy(t, curves.mean(axis=0), "-", color=f"C{i}", lw=2.0, label=f"{label} (mean of {len(curves)})")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"excess loss $f(\theta_t) - f(\theta^\star)$")
    ax.set_title("Mini-batch SGD on least squares: thin = one seeded run, thick = mean over seeds", fontsize=10)
    ax.legend(loc="upper right", fontsize=9)
    return fig, ax


def noise_at_minimum(problem: LeastSquares, batch_size) -> tuple[np.ndarray, np.ndarray]:
    r"""The Hessian's curvatures and the variance of the mini-batch noise along each of their directions at the minimum.

    With :math:`H = X^\top X / n = Q\,\mathrm{diag}(h)\,Q^\top` and :math:`\Sigma_B` the covariance of the noise
    :math:`g_B - g` at :math:`\theta^\star` (where :math:`g = 0`) for :math:`B` rows drawn without replacement,
    :math:`\Sigma_B = \frac1B\frac{n-B}{n-1}\,\frac1n\sum_i g_i g_i^\top`, the variance along the eigenvector
    :math:`q_k` is :math:`\sigma_k^2 = q_k^\top \Sigma_B\, q_k`. The :math:`\sigma_k^2` add up to
    :func:`noise_size` squared at :math:`\theta^\star`.

    Args:
        problem: a :class:`LeastSquares`.
        batch_size: :math:`B`, from 1 to ``n``.

    Returns:
        ``(hs, variances)``: the curvatures :math:`h_k`, smallest first, and the :math:`\sigma_k^2`.

    >>> p = least_squares()
    >>> hs, sigma2 = noise_at_minimum(p, 8)
    >>> bool(np.isclose(sigma2.sum(), noise_size(p, p.minimizer, 8) ** 2))
    True
    """
    _check_problem(problem)
    B = check_int("batch_size", batch_size, low=1, high=problem.n)
    hs, Q = np.linalg.eigh(problem.X.T @ problem.X / problem.n)
    G = problem.example_grads(problem.minimizer) @ Q  # every row's gradient, along the eigenvectors
    G = G - G.mean(axis=0)  # zero up to rounding at the minimum
    variances = np.mean(G**2, axis=0) / B * (problem.n - B) / (problem.n - 1)
    return hs, variances


def noise_floor(hs, noise_vars, lr, momentum=0.0) -> float:
    r"""The heavy ball's noise floor under additive gradient noise: the excess loss where a long run settles.

    The floor is :math:`\mathbb E[f(\theta_t) - f^\star]` once the run has forgotten its start. In the direction
    of curvature :math:`h_k`, with noise of variance :math:`\sigma_k^2` in the gradient and the effective step
    :math:`\alpha_{\mathrm{eff}} = \alpha / (1 - \mu)`, the pair :math:`(\tilde\theta_{k,t}, b_t)` is the linear map of
    :func:`iteration_matrix` plus noise; its stationary covariance (a :math:`2\times 2` Lyapunov equation) gives

    .. math::

        \mathbb E\,\tilde\theta_k^2 = \frac{\alpha_{\mathrm{eff}}\, \sigma_k^2}
        {h_k\left(2 - \alpha_{\mathrm{eff}} h_k \frac{1-\mu}{1+\mu}\right)},
        \qquad
        \text{floor} = \sum_k \frac{h_k}{2}\,\mathbb E\,\tilde\theta_k^2
        = \sum_k \frac{\alpha_{\mathrm{eff}}\, \sigma_k^2}
        {2\left(2 - \alpha_{\mathrm{eff}} h_k \frac{1-\mu}{1+\mu}\right)} .

    With :math:`\mu = 0` this is plain SGD's :math:`\alpha \sigma^2 / (2(2 - \alpha h))`. For small steps
    (:math:`\alpha_{\mathrm{eff}} h_k \ll 1`) it tends to :math:`\alpha_{\mathrm{eff}} \sum_k \sigma_k^2 / 4` whatever
    :math:`\mu`: the heavy ball at :math:`\alpha` and :math:`\mu` has the floor of plain SGD at
    :math:`\alpha / (1 - \mu)` (Yuan, Ying & Sayed, JMLR 2016). At larger steps the term
    :math:`\frac{1-\mu}{1+\mu}` makes momentum's floor somewhat lower.

    Args:
        hs: the curvatures :math:`h_k > 0`.
        noise_vars: the noise variances :math:`\sigma_k^2 \ge 0`, one per curvature.
        lr: :math:`\alpha`, with :math:`\alpha h_k < 2(1 + \mu)` for every :math:`k` (stable).
        momentum: :math:`\mu \in [0, 1)`.

    >>> round(noise_floor([1.0], [1.0], 0.5), 12)          # SGD: 0.5 / (2 (2 - 0.5))
    0.166666666667
    >>> round(noise_floor([1.0], [1.0], 0.05, 0.9), 12)    # the same effective step 0.5 with mu = 0.9
    0.126666666667
    """
    hs = curvatures(hs)
    sigma2 = check_reals("noise_vars", noise_vars, low=0.0)
    if sigma2.shape != hs.shape:
        raise ValueError(f"noise_vars must hold one variance per curvature of hs, shape {hs.shape}; got {sigma2.shape}")
    lr = check_real("lr", lr)
    mu = check_beta("momentum", momentum)
    if np.any(lr * hs >= stable_lr(1.0, mu)):
        raise ValueError(f"Invalid lr: {lr} (allowed: lr < 2 (1 + momentum) / max(hs) = {stable_lr(hs.max(), mu)})")
    eta = lr / (1 - mu)
    return float(np.sum(eta * sigma2 / (2 * (2 - eta * hs * (1 - mu) / (1 + mu)))))
