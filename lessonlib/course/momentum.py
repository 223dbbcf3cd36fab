r"""Lesson 02's helpers: gradient noise on a small least-squares problem, and the heavy ball on a quadratic bowl.

Two parts, in the order of the lesson.

**Gradient noise.** :func:`least_squares` makes a seeded problem
:math:`f(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2`. A mini-batch of :math:`B` rows drawn without
replacement gives :math:`g_B = g + \xi` with :math:`\mathbb E[\xi] = 0` and, exactly,

.. math::

    \mathbb E\lVert\xi\rVert^2 = \frac{\sigma^2}{B}\,\frac{n - B}{n - 1}, \qquad
    \sigma^2 = \frac1n \sum_{i=1}^{n} \lVert g_i - g\rVert^2

(:func:`noise_size`; :func:`measured_noise` measures it). :func:`noise_floor` is the level at which a run's
excess loss settles under that noise, with or without momentum.

**The heavy ball on a bowl** :math:`f = \tfrac12\sum_k h_k \tilde\theta_k^2`, :math:`\tilde\theta_k` the
:math:`k`-th coordinate of :math:`\theta - \theta^\star` in the Hessian's eigenbasis. In each eigen-direction,
torch's form :math:`b_t = \mu b_{t-1} + g_t,\ \tilde\theta_t = \tilde\theta_{t-1} - \alpha b_t` with
:math:`g_t = h \tilde\theta_{t-1}` is the linear map of :func:`iteration_matrix`,

.. math::

    \begin{pmatrix} \tilde\theta_t \\ b_t \end{pmatrix} =
    \begin{pmatrix} 1 - \alpha h & -\alpha\mu \\ h & \mu \end{pmatrix}
    \begin{pmatrix} \tilde\theta_{t-1} \\ b_{t-1} \end{pmatrix},

whose eigenvalues solve :math:`z^2 - (1 + \mu - \alpha h) z + \mu = 0`. The error shrinks like
:math:`r^t`, :math:`r` the spectral radius (:func:`spectral_radius`, :func:`rate`). The closed forms
(:func:`stable_lr`, :func:`gd_optimal`, :func:`polyak_optimal`) are what the lesson checks against it.

>>> tuned = polyak_optimal(1.0, 100.0)
>>> f"{tuned.lr:.5f} {tuned.momentum:.5f} {tuned.rate:.5f} {rate(BOWL, tuned.lr, tuned.momentum):.5f}"
'0.03306 0.66942 0.81818 0.81818'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.optim._checks import check_beta, check_real
from lessonlib.optim.sgd import SGD, sgd_step

#: The lesson's bowl: curvatures 1, 10 and 100, so the condition number is 100.
BOWL = (1.0, 10.0, 100.0)


# ---------------------------------------------------------------------------------------------------------------------
# Argument checks (for arrays as well as numbers)


def _reals(name: str, x, *, low: float, high: float | None = None, strict_low: bool = False) -> np.ndarray:
    """``x`` as a float64 array after checking that every entry is finite and in range; the error names ``name``."""
    if isinstance(x, (bool, np.bool_, str)) or x is None:
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}: {x!r}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}: {x!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name}: {x!r} (must be finite)")
    bad_low = np.any(arr <= low) if strict_low else np.any(arr < low)
    bad_high = high is not None and np.any(arr >= high)
    if bad_low or bad_high:
        allowed = f"{low} {'<' if strict_low else '<='} {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {x!r} (allowed: {allowed})")
    return arr


def _count(name: str, n, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    n = int(n)
    if n < low or (high is not None and n > high):
        allowed = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {n} (allowed: {allowed})")
    return n


def _curvatures(hs) -> np.ndarray:
    arr = _reals("hs", hs, low=0.0, strict_low=True)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"hs must be a non-empty list of curvatures h_i > 0, got shape {arr.shape}")
    return arr


# ---------------------------------------------------------------------------------------------------------------------
# Part 1: where gradient noise comes from


@dataclass(frozen=True)
class LeastSquares:
    r"""The loss :math:`f(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2` of ``n`` examples and ``d`` features.

    Row :math:`i` alone has the gradient :math:`g_i = x_i\,(x_i^\top\theta - y_i)`; the full gradient is their
    mean, a mini-batch gradient the mean over the rows drawn.
    """

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        """``n``, the number of examples (rows of X)."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        r"""``d``, the number of features (the length of :math:`\theta`)."""
        return self.X.shape[1]

    @property
    def minimizer(self) -> np.ndarray:
        r""":math:`\theta^\star`, where the full gradient is zero (least squares, solved directly)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @property
    def curvatures(self) -> np.ndarray:
        r"""The eigenvalues of the Hessian :math:`X^\top X / n`, smallest first."""
        return np.linalg.eigvalsh(self.X.T @ self.X / self.n)

    def _theta(self, theta) -> np.ndarray:
        theta = _reals("theta", theta, low=-np.inf)
        if theta.shape != (self.d,):
            raise ValueError(f"theta must have shape ({self.d},), got {theta.shape}")
        return theta

    def loss(self, theta) -> float:
        r""":math:`f(\theta)`, over all rows.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
        """
        r = self.X @ self._theta(theta) - self.y
        return float(0.5 * np.mean(r**2))

    def example_grads(self, theta) -> np.ndarray:
        r"""Every row's own gradient :math:`g_i`, shape ``(N, d)``.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
        """
        r = self.X @ self._theta(theta) - self.y
        return self.X * r[:, None]

    def grad(self, theta, rows=None) -> np.ndarray:
        r"""The gradient over ``rows`` (all rows if None): :math:`\frac1B\sum_{i \in \text{rows}} g_i`.

        Args:
            theta: :math:`\theta`, shape ``(d,)``.
            rows: the indices of the mini-batch, or None for the full gradient :math:`g`.
        """
        theta = self._theta(theta)
        X, y = (self.X, self.y) if rows is None else (self.X[rows], self.y[rows])
        if len(y) == 0:
            raise ValueError("rows is empty: a mini-batch needs at least one row")
        return X.T @ (X @ theta - y) / len(y)

    def batch(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """``batch_size`` distinct row indices, drawn uniformly without replacement.

        Args:
            batch_size: :math:`B`, from 1 to ``n``.
            rng: the generator the rows are drawn from.
        """
        batch_size = _count("batch_size", batch_size, low=1, high=self.n)
        return rng.choice(self.n, size=batch_size, replace=False)


def least_squares(n: int = 512, d: int = 5, *, seed: int = 0, noise: float = 0.5, scales=None) -> LeastSquares:
    r"""A seeded problem: :math:`y = X\theta_{\text{true}} + \text{noise}\cdot\xi`, with :math:`\xi \sim N(0, 1)`.

    Feature :math:`j` is Gaussian with standard deviation ``scales[j]`` (by default ``d`` values spread from 1
    down to 0.2), so the curvatures of :math:`f` differ: the problem is mildly ill-conditioned, like a real one.

    Args:
        n: :math:`n`, the number of examples (rows of X) (at least 2).
        d: the number of features (at least 1).
        seed: seeds the data; the same seed gives the same problem.
        noise: the standard deviation of the label noise (>= 0).
        scales: the standard deviation of each feature (``d`` positive numbers), or None.

    >>> p = least_squares()
    >>> p.n, p.d, f"{p.curvatures.max() / p.curvatures.min():.1f}"
    (512, 5, '25.3')
    """
    n, d = _count("n", n, low=2), _count("d", d, low=1)
    noise = check_real("noise", noise)
    scales = np.geomspace(1.0, 0.2, d) if scales is None else _reals("scales", scales, low=0.0, strict_low=True)
    if scales.shape != (d,):
        raise ValueError(f"scales must hold d = {d} values, got shape {scales.shape}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * scales
    theta_true = rng.standard_normal(d)
    y = X @ theta_true + noise * rng.standard_normal(n)
    return LeastSquares(X, y)


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
    B = _reals("batch_size", batch_size, low=1.0, high=problem.n + 1)
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
    draws = _count("draws", draws, low=1)
    rng = np.random.default_rng(seed)
    g = problem.grad(theta)
    out = []
    for B in np.atleast_1d(batch_sizes):
        B = _count("batch_size", B.item() if isinstance(B, np.generic) else B, low=1, high=problem.n)
        sq = [np.sum((problem.grad(theta, problem.batch(B, rng)) - g) ** 2) for _ in range(draws)]
        out.append(math.sqrt(float(np.mean(sq))))
    return np.array(out)


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
    from lessonlib.course.runs import Trajectory, make

    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a LeastSquares, got {type(problem).__name__}")
    steps = _count("steps", steps)
    rng = np.random.default_rng(_count("seed", seed))
    theta = np.zeros(problem.d)
    opt = make(optimizer, [theta], **hyper)
    f_star = problem.loss(problem.minimizer)
    path, excess, diverged = [theta.copy()], [problem.loss(theta) - f_star], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = problem.grad(theta, problem.batch(batch_size, rng))
            if not np.all(np.isfinite(g)):
                diverged = True
                break
            opt.step([g])
            loss = problem.loss(theta) if np.all(np.isfinite(theta)) else math.inf
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
    steps = _count("steps", steps)
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
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a LeastSquares, got {type(problem).__name__}")
    B = _count("batch_size", batch_size, low=1, high=problem.n)
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
    hs = _curvatures(hs)
    sigma2 = _reals("noise_vars", noise_vars, low=0.0)
    if sigma2.shape != hs.shape:
        raise ValueError(f"noise_vars must hold one variance per curvature, shape {hs.shape}; got {sigma2.shape}")
    lr = check_real("lr", lr)
    mu = check_beta("momentum", momentum)
    if np.any(lr * hs >= stable_lr(1.0, mu)):
        raise ValueError(f"Invalid lr: {lr} (allowed: lr < 2 (1 + momentum) / max(hs) = {stable_lr(hs.max(), mu)})")
    eta = lr / (1 - mu)
    return float(np.sum(eta * sigma2 / (2 * (2 - eta * hs * (1 - mu) / (1 + mu)))))


# ---------------------------------------------------------------------------------------------------------------------
# Part 2: the heavy ball on a quadratic bowl


class Tuned(NamedTuple):
    """A tuned pair of hyperparameters and the rate they give: the error shrinks by ``rate`` per step."""

    lr: float
    momentum: float
    rate: float


def effective_lr(lr, momentum) -> float:
    r"""The heavy ball's step under a constant gradient, in units of :math:`g`: :math:`\alpha / (1 - \mu)`.

    torch's buffer :math:`b_t = \mu b_{t-1} + g` is a plain sum; for a constant :math:`g` it builds up to
    :math:`g / (1 - \mu)`, so each step moves :math:`\alpha g / (1-\mu)`: ten times :math:`\alpha g` at 0.9.

    Args:
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu`, in :math:`[0, 1)`.

    >>> round(effective_lr(0.01, 0.9), 12)
    0.1
    """
    return check_real("lr", lr) / (1 - check_beta("momentum", momentum))


def iteration_matrix(h, lr, momentum) -> np.ndarray:
    r"""The heavy ball's map of :math:`(\tilde\theta_{t-1}, b_{t-1})` to :math:`(\tilde\theta_t, b_t)`, curvature ``h``.

    :math:`\begin{pmatrix} 1 - \alpha h & -\alpha\mu \\ h & \mu \end{pmatrix}`, from
    :math:`b_t = \mu b_{t-1} + h \tilde\theta_{t-1}` and :math:`\tilde\theta_t = \tilde\theta_{t-1} - \alpha b_t`.
    Arguments broadcast:
    the result has shape ``broadcast(h, lr, momentum).shape + (2, 2)``.

    Args:
        h: :math:`h > 0`, the curvature (an eigenvalue of the Hessian).
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu`, in :math:`[0, 1)` (0 is plain gradient descent).

    >>> iteration_matrix(100.0, 0.01, 0.5).tolist()
    [[0.0, -0.005], [100.0, 0.5]]
    """
    h = _reals("h", h, low=0.0, strict_low=True)
    lr = _reals("lr", lr, low=0.0)
    mu = _reals("momentum", momentum, low=0.0, high=1.0)
    h, lr, mu = np.broadcast_arrays(h, lr, mu)
    M = np.empty(h.shape + (2, 2))
    M[..., 0, 0] = 1 - lr * h
    M[..., 0, 1] = -lr * mu
    M[..., 1, 0] = h
    M[..., 1, 1] = mu
    return M


def spectral_radius(h, lr, momentum):
    r"""The largest :math:`|z|` over the eigenvalues of :func:`iteration_matrix`, computed with numpy.

    The error in that direction shrinks (or grows) like :math:`r^t`. Broadcasts like
    :func:`iteration_matrix`; returns a float for scalar arguments.

    Args:
        h: :math:`h > 0`.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.

    >>> round(spectral_radius(1.0, 0.1, 0.0), 12)   # gradient descent: |1 - alpha h|
    0.9
    """
    r = np.abs(np.linalg.eigvals(iteration_matrix(h, lr, momentum))).max(axis=-1)
    return float(r) if r.ndim == 0 else r


def rate(hs, lr, momentum):
    r"""The rate of the whole bowl: the largest :func:`spectral_radius` over its curvatures ``hs``.

    ``lr`` and ``momentum`` may be arrays (of one shape): the result then has their shape (a map of rates).

    Args:
        hs: the curvatures :math:`h_i > 0`.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.

    >>> round(rate([1.0, 100.0], 2 / 101, 0.0), 12)   # gradient descent's best: (kappa - 1) / (kappa + 1)
    0.980198019802
    """
    hs = _curvatures(hs)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(momentum, dtype=np.float64))
    r = spectral_radius(hs.reshape((-1,) + (1,) * lr.ndim), lr, momentum)
    r = np.max(r, axis=0)
    return float(r) if np.ndim(r) == 0 else r


def stable_lr(h_max, momentum=0.0) -> float:
    r"""The edge of the stable range: the heavy ball converges for :math:`0 < \alpha < 2(1 + \mu)/h_{\max}`.

    At :math:`\mu = 0` this is gradient descent's :math:`2/h_{\max}`.

    Args:
        h_max: :math:`h_{\max} > 0`, the largest curvature.
        momentum: :math:`\mu`, in :math:`[0, 1)`.

    >>> stable_lr(100.0), round(stable_lr(100.0, 0.9), 12)
    (0.02, 0.038)
    """
    h_max = check_real("h_max", h_max)
    if h_max == 0:
        raise ValueError("Invalid h_max: 0.0 (allowed: 0 < h_max)")
    return 2 * (1 + check_beta("momentum", momentum)) / h_max


def _extremes(h_min, h_max) -> tuple[float, float]:
    lo, hi = check_real("h_min", h_min), check_real("h_max", h_max)
    if not 0 < lo <= hi:
        raise ValueError(f"Invalid h_min, h_max: {lo}, {hi} (allowed: 0 < h_min <= h_max)")
    return lo, hi


def gd_optimal(h_min, h_max) -> Tuned:
    r"""Gradient descent's best fixed step :math:`2/(h_{\max} + h_{\min})` and its rate :math:`(\kappa-1)/(\kappa+1)`.

    Args:
        h_min: :math:`h_{\min} > 0`.
        h_max: :math:`h_{\max} \ge h_{\min}`.

    >>> gd_optimal(1.0, 9.0)
    Tuned(lr=0.2, momentum=0.0, rate=0.8)
    """
    lo, hi = _extremes(h_min, h_max)
    kappa = hi / lo
    return Tuned(2 / (hi + lo), 0.0, (kappa - 1) / (kappa + 1))


def polyak_optimal(h_min, h_max) -> Tuned:
    r"""Polyak's tuning of the heavy ball for a bowl with curvatures in :math:`[h_{\min}, h_{\max}]`.

    :math:`\alpha = 4/(\sqrt{h_{\max}} + \sqrt{h_{\min}})^2`,
    :math:`\mu = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2`,
    rate :math:`\frac{\sqrt\kappa-1}{\sqrt\kappa+1}`.

    Both extreme directions are then critically damped, every direction between them rings with
    :math:`|z| = \sqrt\mu`.

    Args:
        h_min: :math:`h_{\min} > 0`.
        h_max: :math:`h_{\max} \ge h_{\min}`.

    >>> polyak_optimal(1.0, 9.0)
    Tuned(lr=0.25, momentum=0.25, rate=0.5)
    """
    lo, hi = _extremes(h_min, h_max)
    root = math.sqrt(hi / lo)
    r = (root - 1) / (root + 1)
    return Tuned(4 / (math.sqrt(hi) + math.sqrt(lo)) ** 2, r * r, r)


def steps_per_e(r) -> float:
    r"""How many steps shrink the error by a factor :math:`e` at the rate :math:`r`: :math:`-1/\lnr`.

    About :math:`\kappa/2` for gradient descent's best rate, :math:`\sqrt\kappa/2` for Polyak's.

    Args:
        r: the rate, in :math:`(0, 1)`.

    >>> round(steps_per_e(math.exp(-0.1)), 12)
    10.0
    """
    r = check_real("r", r, high=1.0)
    if r == 0:
        return 0.0
    return -1 / math.log(r)


def regime(h, lr, momentum, *, tol: float = 1e-9) -> str:
    r"""How the error in one direction behaves, read off the discriminant.

    The discriminant is :math:`D = (1 + \mu - \alpha h)^2 - 4\mu`, of
    :math:`z^2 - (1 + \mu - \alpha h)z + \mu`.

    ``"on the stable edge"`` if :math:`|r - 1| \le` ``tol`` (the error keeps its size, as gradient descent's
    :math:`z = -1` at :math:`\alpha = 2/h`); ``"unstable"`` if :math:`r > 1`; else ``"under-damped"``
    (:math:`D < 0`: complex roots, the error rings, :math:`|z| = \sqrt\mu`), ``"critically damped"``
    (:math:`|D| \le` ``tol``: a double root) or ``"over-damped"`` (:math:`D > 0`: two real roots, no ringing).

    Args:
        h: :math:`h > 0`.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.
        tol: how close to zero :math:`D` (and to 1 :math:`r`) counts as equal.

    >>> regime(1.0, 0.01, 0.95), regime(1.0, 0.01, 0.0), regime(100.0, 0.05, 0.0), regime(100.0, 0.02, 0.0)
    ('under-damped', 'over-damped', 'unstable', 'on the stable edge')
    """
    r = spectral_radius(h, lr, momentum)
    if np.ndim(r) != 0:
        raise ValueError("regime takes one direction: h, lr and momentum must be numbers")
    if abs(r - 1) <= tol:
        return "on the stable edge"
    if r > 1:
        return "unstable"
    h, lr, mu = float(h), float(lr), float(momentum)
    disc = (1 + mu - lr * h) ** 2 - 4 * mu
    if abs(disc) <= tol:
        return "critically damped"
    return "under-damped" if disc < 0 else "over-damped"


def flips_sign(h, lr, momentum, *, tol: float = 1e-9) -> bool:
    r"""True if the error's slowest part flips sign every step: a real, negative dominant root.

    That happens when :math:`\alpha h > 1 + \mu` and the roots are real (over- or critically damped):
    the step overshoots the minimum of that direction every time, as gradient descent does for
    :math:`\alpha h > 1`.

    Args:
        h: :math:`h > 0`.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.
        tol: how close to zero the discriminant counts as zero.

    >>> flips_sign(100.0, 0.015, 0.0), flips_sign(1.0, 0.015, 0.0)
    (True, False)
    """
    spectral_radius(h, lr, momentum)  # checks the arguments
    h, lr, mu = float(h), float(lr), float(momentum)
    trace = 1 + mu - lr * h
    return trace < 0 and trace**2 - 4 * mu >= -tol


def heavy_ball_run(hs, lr, momentum, steps: int, x0=None) -> np.ndarray:
    r"""Run ``ll.sgd_step`` (torch's heavy ball) on the bowl :math:`f = \tfrac12\sum_k h_k \tilde\theta_k^2`.

    The gradient is :math:`g = h \odot \tilde\theta` (the minimum at 0). Returns the path, shape
    ``(steps + 1, len(hs))``, row 0 the start ``x0`` (:math:`\tilde\theta_0`, all ones by default). A diverging
    run overflows to inf quietly.

    Args:
        hs: the curvatures :math:`h_i > 0`.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.
        steps: how many steps.
        x0: the start, one value per direction.

    >>> heavy_ball_run([1.0, 20.0], 0.1, 0.0, 2).tolist()   # theta~_k shrinks by 1 - alpha h_k per step
    [[1.0, 1.0], [0.9, -1.0], [0.81, 1.0]]
    """
    hs = _curvatures(hs)
    lr = check_real("lr", lr)
    momentum = check_beta("momentum", momentum)
    steps = _count("steps", steps)
    x = np.ones_like(hs) if x0 is None else _reals("x0", x0, low=-np.inf).astype(np.float64)
    if x.shape != hs.shape:
        raise ValueError(f"x0 must hold one value per direction, shape {hs.shape}; got {x.shape}")
    buf, path = np.zeros_like(hs), [x]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            buf, x = sgd_step(x, hs * x, buf, t, lr=lr, momentum=momentum)
            path.append(x)
    return np.array(path)


def measured_rate(errors, start: int, stop: int | None = None) -> float:
    r"""The rate per step read off a run.

    It is :math:`e^{s}`, :math:`s` the slope of a straight-line fit of :math:`\ln` ``errors[t]`` against
    :math:`t` for ``start <= t < stop``.

    Args:
        errors: the size of the error at each step (positive), e.g. the norm of each row of a path.
        start: the first step of the fit (skip the start-up).
        stop: one past the last step of the fit (default: the end).

    >>> round(measured_rate(0.5 ** np.arange(30), start=5), 12)
    0.5
    """
    e = np.asarray(errors, dtype=np.float64)[start:stop]
    if e.size < 2 or not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("errors[start:stop] must hold at least two positive, finite sizes")
    slope = np.polyfit(np.arange(e.size), np.log(e), 1)[0]
    return float(np.exp(slope))


def rate_map(hs=BOWL, *, n: int = 301, ax=None):
    r"""The bowl's rate :math:`r(\alpha, \mu)` over the plane of hyperparameters.

    Marked: the stable edge :math:`\alpha = 2(1+\mu)/h_{\max}`, gradient descent's best step and Polyak's optimum.

    Returns ``(fig, ax)``.

    Args:
        hs: the curvatures :math:`h_i > 0`.
        n: the grid's points per axis.
        ax: an Axes to draw on, or None for a new figure.
    """
    hs = _curvatures(hs)
    n = _count("n", n, low=2)
    lo, hi = float(hs.min()), float(hs.max())
    mu = np.linspace(0.0, 0.99, n)
    lr = np.linspace(0.0, 1.05 * stable_lr(hi, 0.99), n)[1:]
    LR, MU = np.meshgrid(lr, mu)
    r = rate(hs, LR, MU)
    fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
    levels = [0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1.0]
    filled = ax.contourf(LR, MU, np.minimum(r, 1.0), levels=levels, cmap="viridis_r", extend="neither")
    ax.contourf(LR, MU, r, levels=[1.0, np.inf], colors=["0.88"])
    edge = np.linspace(0.0, 0.99, 100)
    ax.plot([stable_lr(hi, m) for m in edge], edge, "-", color="C3", lw=1.5, label=r"stable edge $2(1+\mu)/h_{\max}$")
    gd, hb = gd_optimal(lo, hi), polyak_optimal(lo, hi)
    ax.plot(
        gd.lr, 0.0, "o", color="C1", markersize=8, clip_on=False, label=f"best gradient descent, rate {gd.rate:.3f}"
    )
    share = hb.lr / stable_lr(hi, hb.momentum)  # kappa / (kappa + 1): just inside the edge, not on it
    ax.plot(
        hb.lr,
        hb.momentum,
        "*",
        color="C3",
        markersize=14,
        label=f"Polyak's optimum, rate {hb.rate:.3f}\n(at {share:.3f} of the edge's $\\alpha$)",
    )
    ax.text(0.98 * lr[-1], 0.05, "unstable\n" + r"($r \geq 1$)", ha="right", va="bottom", fontsize=9, color="0.3")
    fig.colorbar(filled, ax=ax, label=r"rate $r$ (the error shrinks by $r$ per step)")
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(r"momentum $\mu$")
    ax.set_ylim(0, 0.99)
    ax.grid(False)
    curv = ", ".join(f"{x:g}" for x in hs)
    ax.set_title(rf"Rate of the heavy ball on the bowl $h = ({curv})$", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    return fig, ax


def envelope(h, lr, momentum, steps: int) -> tuple[np.ndarray, str]:
    r"""The exact envelope of :math:`|\tilde\theta_t / \tilde\theta_0|` in one direction (:math:`b_0 = 0`); its formula.

    With two distinct roots :math:`z_1, z_2` the error is
    :math:`\tilde\theta_t/\tilde\theta_0 = c_1 z_1^t + c_2 z_2^t`, with
    :math:`c_1 + c_2 = 1` and :math:`c_1 z_1 + c_2 z_2 = 1 - \alpha h`; the envelope is
    :math:`|c_1||z_1|^t + |c_2||z_2|^t`, which is :math:`C r^t` for complex roots (:math:`C = 2|c_1|`, reached at
    the peaks) and tends to :math:`|c_1| r^t` for real ones. With a double root :math:`z` (critical damping) the
    error is :math:`(1 + c\,t)\,z^t` with :math:`c = (1 - \alpha h)/z - 1`: it decays like :math:`t\,r^t`, not
    :math:`r^t`, and at the critical momentum :math:`c = 1 - z`.

    Returns ``(values for t = 0..steps, label)``.

    >>> env, label = envelope(1.0, 0.01, 0.81, 3)   # critical: z = 0.9, c = 0.1
    >>> [round(float(v), 12) for v in env], label
    ([1.0, 0.99, 0.972, 0.9477], '$\\pm(1 + 0.1\\,t)\\,0.9^t$')
    """
    steps = _count("steps", steps)
    t = np.arange(steps + 1)
    h, lr, mu = float(h), float(lr), float(momentum)
    trace = 1 + mu - lr * h
    if regime(h, lr, mu) == "critically damped" and trace != 0:
        z = trace / 2
        c = (1 - lr * h) / z - 1
        return np.abs(1 + c * t) * abs(z) ** t, rf"$\pm(1 + {c:.3g}\,t)\,{abs(z):.3g}^t$"
    z1, z2 = np.roots([1.0, -trace, mu]).astype(complex)
    c1 = ((1 - lr * h) - z2) / (z1 - z2)
    c2 = 1 - c1
    if abs(z2) > abs(z1):
        (z1, c1), (z2, c2) = (z2, c2), (z1, c1)
    env = abs(c1) * abs(z1) ** t + abs(c2) * abs(z2) ** t
    if abs(z1.imag) > 0:
        return env, rf"$\pm{2 * abs(c1):.2f}\,r^t$"
    return env, rf"$\pm({abs(c1):.2f}\,r^t + {abs(c2):.2f}\,|z_2|^t)$"


def regimes_figure(h=1.0, lr=None, momenta=(0.3, None, 0.95), *, steps: int = 80):
    r"""One direction of curvature ``h`` under the heavy ball, one panel per momentum.

    The momenta are chosen over-, critically and under-damped.

    Each panel shows :math:`\tilde\theta_t / \tilde\theta_0` (from :func:`heavy_ball_run`), dashed its exact
    :func:`envelope` (which
    decays like :math:`t\,r^t` for the double root of critical damping), and dotted :math:`\pm r^t` for scale.
    ``lr`` defaults to Polyak's for :data:`BOWL`; a ``None`` in ``momenta`` is the critical momentum
    :math:`(1 - \sqrt{\alpha h})^2`. Returns ``(fig, axes)``.

    Args:
        h: :math:`h > 0`.
        lr: :math:`\alpha`, or None.
        momenta: the :math:`\mu` of each panel (None: critical).
        steps: how many steps to draw.
    """
    lr = polyak_optimal(min(BOWL), max(BOWL)).lr if lr is None else check_real("lr", lr)
    h = check_real("h", h)
    momenta = [(1 - math.sqrt(lr * h)) ** 2 if m is None else check_beta("momentum", m) for m in momenta]
    fig, axes = plt.subplots(1, len(momenta), figsize=(10.0, 3.8), sharey=True, squeeze=False)
    axes = axes[0]
    t = np.arange(steps + 1)
    for ax, mu in zip(axes, momenta):
        err = heavy_ball_run([h], lr, mu, steps)[:, 0]
        r = spectral_radius(h, lr, mu)
        env, label = envelope(h, lr, mu, steps)
        ax.plot(t, err, "-", color="C0", lw=1.8, label=r"$\tilde\theta_t / \tilde\theta_0$")
        ax.plot(t, env, "--", color="C3", lw=1.2, label=label)
        ax.plot(t, -env, "--", color="C3", lw=1.2)
        ax.plot(t, r**t, ":", color="0.4", lw=1.2, label=r"$\pm r^t$")
        ax.plot(t, -(r**t), ":", color="0.4", lw=1.2)
        ax.axhline(0.0, color="0.3", lw=0.6)
        ax.set_title(f"$\\mu = {mu:.3g}$: {regime(h, lr, mu)}\n$r = {r:.3f}$", fontsize=10)
        ax.set_xlabel("step $t$")
        ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    top = max(1.05, 1.05 * max(ax.get_lines()[1].get_ydata().max() for ax in axes))
    axes[0].set_ylim(-top, top)
    axes[0].set_ylabel(rf"error $\tilde\theta_t / \tilde\theta_0$ ($h = {h:g}$)")
    fig.suptitle(f"The heavy ball in one direction, $\\alpha = {lr:.4f}$", fontsize=11)
    fig.tight_layout()
    return fig, axes


def damping_demo(lr: float = 0.02, momentum: float = 0.9, *, hs=BOWL, steps: int = 80):
    r"""The heavy ball on the bowl for one :math:`(\alpha, \mu)`: the error in each eigen-direction over the steps.

    Left: :math:`\tilde\theta_{k,t}/\tilde\theta_{k,0}`; right: :math:`|\tilde\theta_{k,t}|` on a log scale,
    :math:`r_k^t` dashed.
    Returns ``(fig, text)``; the text gives the spectral radius and each direction's regime.

    Args:
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.
        hs: the curvatures :math:`h_i > 0`.
        steps: how many steps to run and draw.
    """
    hs = _curvatures(hs)
    path = heavy_ball_run(hs, lr, momentum, steps)
    t = np.arange(steps + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    parts = []
    for i in reversed(range(len(hs))):  # the flattest direction drawn last, on top
        h = float(hs[i])
        r_i = spectral_radius(h, lr, momentum)
        kind = regime(h, lr, momentum) + (", sign flips" if flips_sign(h, lr, momentum) else "")
        left.plot(t, path[:, i], "-", color=f"C{i}", lw=1.4, label=rf"$h = {h:g}$: {kind}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            right.semilogy(t, np.abs(path[:, i]), "-", color=f"C{i}", lw=1.4)
            right.semilogy(t, r_i**t, "--", color=f"C{i}", lw=0.9)
        parts.insert(0, f"h = {h:g}: {kind} (r {r_i:.3f})")
    with np.errstate(over="ignore", invalid="ignore"):
        size = np.abs(path[np.isfinite(path)])
    top = float(min(max(size.max(initial=1.0), 1.0), 5.0)) * 1.05
    left.axhline(0.0, color="0.3", lw=0.6)
    left.set_ylim(-top, top)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"error $\tilde\theta_{k,t} / \tilde\theta_{k,0}$")
    handles, labels = left.get_legend_handles_labels()
    left.legend(handles[::-1], labels[::-1], loc="lower right", fontsize=8, framealpha=0.85, frameon=True)
    positive = size[size > 0]
    right.set_ylim(max(1e-12, positive.min(initial=1.0) / 3), min(1e6, max(3.0, 3 * positive.max(initial=1.0))))
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\tilde\theta_{k,t}|$ (log); dashed: $r_k^t$")
    fig.suptitle(rf"Heavy ball on the bowl, $\alpha = {lr:.4f}$, $\mu = {momentum:.2f}$", fontsize=11)
    fig.tight_layout()
    r = rate(hs, lr, momentum)
    if abs(r - 1) <= 1e-9:
        head = f"alpha = {lr:.4f}, mu = {momentum:.2f}: on the stable edge, spectral radius 1 (the error stays)"
    elif r > 1:
        head = f"alpha = {lr:.4f}, mu = {momentum:.2f}: unstable, spectral radius {r:.3f} > 1 (the error grows)"
    else:
        head = (
            f"alpha = {lr:.4f}, mu = {momentum:.2f}: spectral radius {r:.3f} ({steps_per_e(r):.1f} steps per factor e)"
        )
    return fig, head + "; " + "; ".join(parts)


def damping_widget():
    """Sliders for the learning rate and the momentum around :func:`damping_demo` (via ``widgets.panel``)."""
    import ipywidgets as w

    from lessonlib.course.widgets import panel

    controls = {
        "lr": w.FloatSlider(
            value=0.02,
            min=0.001,
            max=0.04,
            step=0.0005,
            description="alpha",
            readout_format=".4f",
            continuous_update=False,
        ),
        "momentum": w.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="mu", readout_format=".2f", continuous_update=False
        ),
    }
    return panel(damping_demo, controls)
