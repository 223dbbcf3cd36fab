r"""Lesson 06's experiments on weight decay: the decay alone, and a small seeded regression.

:func:`decay_trajectories` shows L2 and decoupled decay pulling on weights whose
gradients differ in size; :func:`run_experiment` trains a small over-parameterised
linear regression with Adam + L2 and with AdamW at several :math:`\lambda` (the
formulas themselves are in :mod:`lessonlib.optim.weight_decay`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import MAX_RUN_STEPS, brief, check_int, check_real, check_reals, check_seed
from lessonlib.optim.adam import Adam
from lessonlib.optim.adamw import AdamW
from lessonlib.optim.schedules import warmup_cosine

# ---------------------------------------------------------------------------------------------------------------------
# How much each kind of decay removes per step, watched


def decay_trajectories(scales, *, lr, weight_decay, steps, theta0=1.0):
    r"""Watch the decay alone: parameters whose gradients are :math:`\pm\sigma_i`, alternating in sign.

    The gradient's mean :math:`\bar g` is zero, so nothing but the decay pulls
    :math:`\theta` anywhere, while its standard deviation :math:`\sigma_i`
    (``scales[i]``) sets :math:`\hat v_t \approx \sigma_i^2`. Every parameter starts at ``theta0``; the same gradients
    are fed to ``ll.Adam(weight_decay=...)`` (L2) and to ``ll.AdamW``.
    Returns ``(theta_l2, theta_adamw)``, each of shape ``(steps + 1, len(scales))``
    (row 0 is the start).

    Adam's first steps, before :math:`m` has averaged the alternation out, move
    :math:`\theta` by about ``lr``; after that only the decay is left, so the
    per-step rate is read off the slope of :math:`\ln\theta` from step 100 on.
    It matches :func:`decay_rates` with :math:`\hat v = \sigma^2`:

    >>> l2, w = decay_trajectories([10.0, 0.1], lr=1e-2, weight_decay=1e-2, steps=2000)
    >>> rate = lambda th: np.log(th[100] / th[-1]) / (len(th) - 101)
    >>> [f"{x:.2e}" for x in rate(l2)], [f"{x:.2e}" for x in rate(w)]
    (['1.00e-05', '1.01e-03'], ['1.00e-04', '1.00e-04'])
    """
    scales = check_reals("scales", scales, low=-np.inf)
    steps, theta0 = check_int("steps", steps, high=MAX_RUN_STEPS), check_real("theta0", theta0, low=-np.inf)
    theta_l2, theta_w = np.full_like(scales, theta0), np.full_like(scales, theta0)
    opt_l2 = Adam([theta_l2], lr=lr, weight_decay=weight_decay)
    opt_w = AdamW([theta_w], lr=lr, weight_decay=weight_decay)
    out_l2, out_w = [theta_l2.copy()], [theta_w.copy()]
    for t in range(1, steps + 1):
        g = scales * (-1.0) ** t
        opt_l2.step([g])
        opt_w.step([g])
        out_l2.append(theta_l2.copy())
        out_w.append(theta_w.copy())
    return np.array(out_l2), np.array(out_w)


# ---------------------------------------------------------------------------------------------------------------------
# The experiment: a small over-parameterised linear regression


class Regression(NamedTuple):
    """The experiment's data: train and test split, the true weights, and each feature's scale."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    theta_true: np.ndarray  # the true weights theta* (the course's theta; w is an EMA's window)
    scales: np.ndarray  # the standard deviation of each feature


#: The most entries :func:`make_regression`'s X may hold (800 MB of float64).
MAX_ENTRIES = 10**8


def make_regression(seed=0, *, n_train=40, n_test=1000, n_features=50, noise=0.5, scale_spread=1.0) -> Regression:
    r"""Generated linear data :math:`y = X\theta^\star + \text{noise}\cdot\xi`, fewer training rows than features.

    The features' standard deviations are evenly spaced on a log scale from
    :math:`10^{-\text{spread}}` to :math:`10^{\text{spread}}` and shuffled, so the
    weights' gradients differ in size (which is where L2 and decoupled decay part
    ways under Adam). :math:`\theta^\star \sim \mathcal N(0, I)` and :math:`\xi \sim \mathcal N(0, 1)`
    (normal distributions).
    Deterministic for a seed.

    >>> d = make_regression(0)
    >>> d.X_train.shape, d.X_test.shape, f"{d.scales.min():.1f} {d.scales.max():.1f}"
    ((40, 50), (1000, 50), '0.1 10.0')
    """
    seed = check_seed(seed)
    n_train, n_test = check_int("n_train", n_train, low=1), check_int("n_test", n_test, low=1)
    n_features = check_int("n_features", n_features, low=1)
    if (n_train + n_test) * n_features > MAX_ENTRIES:
        raise ValueError(
            f"Invalid n_train, n_test, n_features: {brief(n_train)}, {brief(n_test)}, {brief(n_features)} "
            f"(allowed: (n_train + n_test) * n_features <= {MAX_ENTRIES:.0e}, the entries of X)"
        )
    noise, scale_spread = check_real("noise", noise), check_real("scale_spread", scale_spread)
    rng = np.random.default_rng(seed)
    scales = np.logspace(-scale_spread, scale_spread, n_features)
    rng.shuffle(scales)
    theta_true = rng.normal(size=n_features)
    X = rng.normal(size=(n_train + n_test, n_features)) * scales
    y = X @ theta_true + noise * rng.normal(size=n_train + n_test)
    return Regression(X[:n_train], y[:n_train], X[n_train:], y[n_train:], theta_true, scales)


def mse(theta, X, y) -> float:
    r"""The loss :math:`f(\theta) = \frac{1}{2n}\lVert X\theta - y\rVert^2`.

    >>> mse(np.array([1.0]), np.array([[1.0], [2.0]]), np.array([0.0, 0.0]))
    1.25
    """
    theta, X, y = _regression_args(theta, X, y)
    residual = X @ theta - y
    return 0.5 * float(residual @ residual) / len(y)


def mse_grad(theta, X, y) -> np.ndarray:
    r"""Its gradient :math:`\nabla f(\theta) = \frac{1}{n} X^\top (X\theta - y)`.

    >>> mse_grad(np.array([1.0]), np.array([[1.0], [2.0]]), np.array([0.0, 0.0]))
    array([2.5])
    """
    theta, X, y = _regression_args(theta, X, y)
    return _mse_grad(theta, X, y)


def _mse_grad(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return X.T @ (X @ theta - y) / len(y)


def _mse(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    residual = X @ theta - y
    return 0.5 * float(residual @ residual) / len(y)


def _data_args(X, y) -> tuple[np.ndarray, np.ndarray]:
    """``X`` a non-empty (n, d) array of finite reals, ``y`` one finite real per row of ``X``."""
    X = check_reals("X", X, low=-np.inf)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"X must be a non-empty 2-D array (one row per example), got shape {X.shape}")
    y = check_reals("y", y, low=-np.inf)
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must hold one number per row of X, shape {X.shape[:1]}; got shape {y.shape}")
    return X, y


def _regression_args(theta, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = _data_args(X, y)
    theta = check_reals("theta", theta, low=-np.inf)
    if theta.shape != X.shape[1:]:
        raise ValueError(f"theta must hold one weight per column of X, shape {X.shape[1:]}; got shape {theta.shape}")
    return theta, X, y


def ridge(X, y, lam) -> np.ndarray:
    r"""The minimiser of the L2-penalised loss :math:`f(\theta) + \frac{\lambda}{2}\lVert\theta\rVert^2` in closed form.

    .. math::

        \theta_\lambda = \bigl(\tfrac1n X^\top X + \lambda I\bigr)^{-1}\,\tfrac1n X^\top y

    It is where Adam + L2 is headed whatever its path, because its update is zero only where
    :math:`\nabla f(\theta) + \lambda\theta = 0`. AdamW has no such target of this form.

    >>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 2.0])
    >>> float(ridge(X, y, 0.0)[0]), float(ridge(X, y, 2.5)[0])
    (1.0, 0.5)
    """
    X, y = _data_args(X, y)
    lam = check_real("lam", lam)
    n, d = X.shape
    try:
        return np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"X'X/n + lam I is singular at lam = {lam}: the minimiser is not unique (allowed: lam > 0)"
        ) from None


METHODS = ("adam+l2", "adamw")

#: What :meth:`Experiment.final` can read, each measured after every step.
QUANTITIES = ("weight_norm", "train_loss", "test_loss")


@dataclass
class Experiment:
    """What :func:`run_experiment` measured. Arrays are indexed ``[method][i_lambda, step - 1]``."""

    lambdas: tuple
    eta: np.ndarray  # the schedule multiplier at steps 1..steps
    weight_norm: dict  # method -> (len(lambdas), steps): ||theta|| after each step
    train_loss: dict  # method -> (len(lambdas), steps)
    test_loss: dict  # method -> (len(lambdas), steps): the held-out loss after each step
    weights: dict  # method -> (len(lambdas), n_features): theta after the last step
    data: Regression

    def final(self, what: str, method: str) -> np.ndarray:
        """The value of ``what`` ('weight_norm', 'train_loss' or 'test_loss') after the last step, per lambda.

        Args:
            what: ``"weight_norm"``, ``"train_loss"`` or ``"test_loss"``.
            method: one of :data:`METHODS`, ``"adam+l2"`` or ``"adamw"``.
        """
        if what not in QUANTITIES:
            raise ValueError(f"Invalid what: {brief(what)} (allowed: one of {list(QUANTITIES)})")
        if method not in METHODS:
            raise ValueError(f"Invalid method: {brief(method)} (allowed: one of {list(METHODS)})")
        return getattr(self, what)[method][:, -1]


def run_experiment(
    lambdas=(0.0, 0.01, 0.1, 1.0), *, seed=0, steps=1000, alpha=5e-2, warmup_steps=50, data=None
) -> Experiment:
    r"""Train :math:`\theta` (from zero, full batch) with Adam + L2 and with AdamW at each :math:`\lambda`.

    ``"adam+l2"`` is ``ll.Adam(weight_decay=lam)``, ``"adamw"`` is
    ``ll.AdamW(weight_decay=lam)`` (PyTorch's :math:`\lambda`); both follow the
    schedule :math:`\alpha_t = \alpha\,\eta_t` with :math:`\eta_t` from
    :func:`lessonlib.schedules.warmup_cosine` (``warmup_steps``, then cosine to 0
    at ``steps``). The data are :func:`make_regression` ``(seed)`` unless given.
    Deterministic for a seed.

    >>> e = run_experiment((0.0, 0.1), steps=200, warmup_steps=10)
    >>> [f"{x:.3f}" for x in e.final("weight_norm", "adam+l2")], f"{e.eta[-1]:.1f}"
    (['9.604', '7.130'], '0.0')
    """
    seed, steps = check_seed(seed), check_int("steps", steps, low=1, high=MAX_RUN_STEPS)
    alpha = check_real("alpha", alpha)
    lambdas_array = check_reals("lambdas", lambdas, low=0.0)
    if lambdas_array.ndim != 1:
        raise ValueError(f"lambdas must be a list of numbers lambda >= 0, got shape {lambdas_array.shape}")
    lambdas = tuple(float(lam) for lam in lambdas_array)
    if data is not None and not isinstance(data, Regression):
        raise TypeError(f"data must be a Regression (make_regression's result) or None, got {type(data).__name__}")
    data = make_regression(seed) if data is None else data
    t = np.arange(1, steps + 1)
    eta = warmup_cosine(t, warmup_steps=warmup_steps, total_steps=steps)
    shape = (len(lambdas), steps)
    norms = {k: np.empty(shape) for k in METHODS}
    train = {k: np.empty(shape) for k in METHODS}
    test = {k: np.empty(shape) for k in METHODS}
    weights = {k: np.empty((len(lambdas), data.X_train.shape[1])) for k in METHODS}
    for method, cls in zip(METHODS, (Adam, AdamW)):
        for i, lam in enumerate(lambdas):
            theta = np.zeros(data.X_train.shape[1])
            opt = cls([theta], lr=alpha, weight_decay=lam)
            for j in range(steps):
                opt.lr = alpha * float(eta[j])
                g = _mse_grad(theta, data.X_train, data.y_train)
                if not np.isfinite(g).all():  # a step too large for the data: theta ran off to float's limits
                    raise ValueError(
                        f"Invalid alpha: {alpha} ({method} with weight decay {lam} diverged at step {j + 1}: its "
                        "gradient overflowed; allowed: an alpha small enough that the run stays finite)"
                    )
                opt.step([g])
                norms[method][i, j] = np.linalg.norm(theta)
                train[method][i, j] = _mse(theta, data.X_train, data.y_train)
                test[method][i, j] = _mse(theta, data.X_test, data.y_test)
            weights[method][i] = theta
    return Experiment(tuple(lambdas), eta, norms, train, test, weights, data)
