r"""Lesson 05: L2 regularisation against decoupled weight decay, beyond what :mod:`lessonlib.adamw` holds.

**Adam + L2** (``ll.Adam(weight_decay=lam)``) adds the penalty's gradient to
:math:`g` *before* the moments, so the decay goes through Adam's division by
:math:`\sqrt{\hat v_t}`:

.. math::

    g_t = \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
    \theta_t = \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.

While :math:`\lambda|\theta|` is small next to the gradient's RMS and
:math:`\theta` changes little over the EMA windows, :math:`\hat m_t` carries
:math:`\lambda\theta_{t-1}` on top of the average gradient, so the penalty
removes the fraction :math:`\alpha\lambda/(\sqrt{\hat v_t} + \epsilon)` of
:math:`\theta` per step (:func:`decay_rates`).

**AdamW**, Loshchilov & Hutter's Algorithm 2 (:func:`adamw_paper_step`), with
the schedule multiplier :math:`\eta_t` and the plain gradient in the moments:

.. math::

    \theta_t = \theta_{t-1} - \eta_t\Bigl(\alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
                + \lambda'\theta_{t-1}\Bigr),

which removes the fraction :math:`\eta_t\lambda'` per step whatever the gradients.
PyTorch's ``AdamW`` (and ``ll.AdamW``) removes :math:`\alpha_t\lambda` with
:math:`\alpha_t = \eta_t\alpha`: the same step when :math:`\lambda = \lambda'/\alpha`
(:func:`torch_weight_decay`).

The module also holds the lesson's small seeded experiment
(:func:`make_regression`, :func:`run_experiment`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lessonlib.adam import Adam, AdamStep, adam_step
from lessonlib.adamw import AdamW
from lessonlib.schedules import warmup_cosine

# ---------------------------------------------------------------------------------------------------------------------
# The paper's form of the step, and how its lambda maps onto PyTorch's


def adamw_paper_step(
    theta, g, m, v, t, *, alpha=1e-3, eta=1.0, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, sqrt=np.sqrt
) -> AdamStep:
    r"""One AdamW step as Loshchilov & Hutter write it (Algorithm 2), on top of :func:`lessonlib.adam_step`.

    .. math::

        \theta_t = \theta_{t-1} - \eta_t\Bigl(\alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
                    + \lambda'\theta_{t-1}\Bigr)

    ``alpha`` is :math:`\alpha`, ``eta`` the schedule multiplier :math:`\eta_t`
    and ``weight_decay`` the paper's :math:`\lambda'` (the decay per step at
    :math:`\eta_t = 1`, *not* multiplied by :math:`\alpha`). Pure; the returned
    :class:`~lessonlib.AdamStep` has ``update`` = the Adam part
    :math:`\eta_t\alpha\hat m_t/(\sqrt{\hat v_t}+\epsilon)` and ``theta`` = the
    parameter after the whole step, decay included.

    With a zero gradient only the decay acts: :math:`\theta` shrinks by :math:`\eta_t\lambda'`.

    >>> s = adamw_paper_step(1.0, 0.0, 0.0, 0.0, t=1, alpha=1e-3, eta=0.5, weight_decay=1e-4)
    >>> print(f"{s.update:.1f} {s.theta:.8f}")
    0.0 0.99995000
    """
    s = adam_step(theta, g, m, v, t, lr=eta * alpha, beta1=beta1, beta2=beta2, eps=eps, sqrt=sqrt)
    return s._replace(theta=theta - s.update - eta * weight_decay * theta)


def torch_weight_decay(paper_weight_decay: float, alpha: float) -> float:
    r"""PyTorch's ``weight_decay`` equal to the paper's :math:`\lambda'` at base rate :math:`\alpha`: their ratio.

    PyTorch shrinks by :math:`\alpha_t\lambda = \eta_t\alpha\lambda`, the paper by
    :math:`\eta_t\lambda'`; they are equal when :math:`\lambda = \lambda'/\alpha`.

    >>> torch_weight_decay(1e-5, alpha=1e-3)    # PyTorch's default 0.01 at lr = 1e-3 is the paper's 1e-5
    0.01
    """
    return paper_weight_decay / alpha


# ---------------------------------------------------------------------------------------------------------------------
# How much each kind of decay removes per step


class DecayRates(NamedTuple):
    """The fraction of theta removed per step by the decay alone (the factor is ``1 - rate``)."""

    l2: object  # Adam + L2:  lr * weight_decay / (sqrt(v_hat) + eps)
    adamw: object  # AdamW:   lr * weight_decay


def decay_rates(lr, weight_decay, v_hat, eps=1e-8) -> DecayRates:
    r"""Per-step decay of a parameter under Adam + L2 and under AdamW, with the same ``lr`` and ``weight_decay``.

    .. math::

        \text{L2: } \frac{\alpha\lambda}{\sqrt{\hat v_t} + \epsilon}, \qquad \text{AdamW: } \alpha\lambda

    The L2 rate is the steady-state approximation (valid while
    :math:`\lambda|\theta|` is small next to :math:`\sqrt{\hat v_t}` and
    :math:`\theta` changes slowly); the AdamW rate is exact. A parameter whose
    gradients have RMS 10 is decayed 100 times less by L2 than one whose RMS is 0.1:

    >>> r = decay_rates(1e-3, 1e-2, v_hat=np.array([100.0, 0.01]))
    >>> [f"{x:.1e}" for x in r.l2], f"{r.adamw:.1e}"
    (['1.0e-06', '1.0e-04'], '1.0e-05')
    """
    return DecayRates(lr * weight_decay / (np.sqrt(v_hat) + eps), lr * weight_decay)


def half_life(lr: float, weight_decay: float) -> float:
    r"""Steps for decoupled decay alone to halve a weight.

    .. math::

        n_{1/2} = \frac{\ln 2}{-\ln(1 - \alpha\lambda)} \approx \frac{\ln 2}{\alpha\lambda}

    >>> round(half_life(1e-3, 0.01))    # PyTorch's AdamW defaults
    69314
    """
    return math.log(2.0) / -math.log1p(-lr * weight_decay)


def decay_trajectories(scales, *, lr, weight_decay, steps, theta0=1.0):
    r"""Watch the decay alone: parameters whose gradients are :math:`\pm s_i`, alternating in sign.

    The gradient averages to zero, so nothing but the decay pulls
    :math:`\theta` anywhere, while :math:`\hat v_t \approx s_i^2` is set by the
    gradient's size. Every parameter starts at ``theta0``; the same gradients
    are fed to ``ll.Adam(weight_decay=...)`` (L2) and to ``ll.AdamW``.
    Returns ``(theta_l2, theta_adamw)``, each of shape ``(steps + 1, len(scales))``
    (row 0 is the start).

    Adam's first steps, before :math:`m` has averaged the alternation out, move
    :math:`\theta` by about ``lr``; after that only the decay is left, so the
    per-step rate is read off the slope of :math:`\ln\theta` from step 100 on.
    It matches :func:`decay_rates` with :math:`\hat v = s^2`:

    >>> l2, w = decay_trajectories([10.0, 0.1], lr=1e-2, weight_decay=1e-2, steps=2000)
    >>> rate = lambda th: np.log(th[100] / th[-1]) / (len(th) - 101)
    >>> [f"{x:.2e}" for x in rate(l2)], [f"{x:.2e}" for x in rate(w)]
    (['1.00e-05', '1.01e-03'], ['1.00e-04', '1.00e-04'])
    """
    scales = np.asarray(scales, dtype=np.float64)
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
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    w_true: np.ndarray
    scales: np.ndarray  # the standard deviation of each feature


def make_regression(seed=0, *, n_train=40, n_test=1000, n_features=50, noise=0.5, scale_spread=1.0) -> Regression:
    r"""Generated linear data :math:`y = Xw^\star + \sigma\,\xi`, fewer training rows than features.

    Feature :math:`j` has standard deviation :math:`10^{u_j}`, the :math:`u_j`
    evenly spaced in :math:`[-\text{spread}, \text{spread}]` and shuffled, so the
    weights' gradients differ in size (which is where L2 and decoupled decay part
    ways under Adam). :math:`w^\star \sim N(0, I)`, :math:`\xi \sim N(0, 1)`.
    Deterministic for a seed.

    >>> d = make_regression(0)
    >>> d.X_train.shape, d.X_test.shape, f"{d.scales.min():.1f} {d.scales.max():.1f}"
    ((40, 50), (1000, 50), '0.1 10.0')
    """
    rng = np.random.default_rng(seed)
    scales = np.logspace(-scale_spread, scale_spread, n_features)
    rng.shuffle(scales)
    w_true = rng.normal(size=n_features)
    X = rng.normal(size=(n_train + n_test, n_features)) * scales
    y = X @ w_true + noise * rng.normal(size=n_train + n_test)
    return Regression(X[:n_train], y[:n_train], X[n_train:], y[n_train:], w_true, scales)


def mse(w, X, y) -> float:
    r"""The loss :math:`f(w) = \frac{1}{2n}\lVert Xw - y\rVert^2`.

    >>> mse(np.array([1.0]), np.array([[1.0], [2.0]]), np.array([0.0, 0.0]))
    1.25
    """
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y)


def mse_grad(w, X, y) -> np.ndarray:
    r"""Its gradient :math:`\nabla f(w) = \frac{1}{n} X^\top (Xw - y)`.

    >>> mse_grad(np.array([1.0]), np.array([[1.0], [2.0]]), np.array([0.0, 0.0]))
    array([2.5])
    """
    return X.T @ (X @ w - y) / len(y)


def ridge(X, y, lam) -> np.ndarray:
    r"""The minimiser of the L2-regularised loss :math:`f(w) + \frac{\lambda}{2}\lVert w\rVert^2`, in closed form.

    .. math::

        w_\lambda = \bigl(\tfrac1n X^\top X + \lambda I\bigr)^{-1}\,\tfrac1n X^\top y

    It is where Adam + L2 is headed whatever its path, because its update is zero only where
    :math:`\nabla f(w) + \lambda w = 0`. AdamW has no such target of this form.

    >>> X, y = np.array([[1.0], [2.0]]), np.array([1.0, 2.0])
    >>> float(ridge(X, y, 0.0)[0]), float(ridge(X, y, 2.5)[0])
    (1.0, 0.5)
    """
    n, d = X.shape
    return np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)


METHODS = ("adam+l2", "adamw")


@dataclass
class Experiment:
    """What :func:`run_experiment` measured. Arrays are indexed ``[method][i_lambda, step - 1]``."""

    lambdas: tuple
    eta: np.ndarray  # the schedule multiplier at steps 1..steps
    weight_norm: dict  # method -> (len(lambdas), steps): ||w|| after each step
    train_loss: dict  # method -> (len(lambdas), steps)
    test_loss: dict  # method -> (len(lambdas), steps): the held-out loss after each step
    weights: dict  # method -> (len(lambdas), n_features): w after the last step
    data: Regression

    def final(self, what: str, method: str) -> np.ndarray:
        """The value of ``what`` ('weight_norm', 'train_loss' or 'test_loss') after the last step, per lambda."""
        return getattr(self, what)[method][:, -1]


def run_experiment(
    lambdas=(0.0, 0.01, 0.1, 1.0), *, seed=0, steps=1000, alpha=5e-2, warmup_steps=50, data=None
) -> Experiment:
    r"""Train :math:`w` (from zero, full batch) with Adam + L2 and with AdamW at each :math:`\lambda`.

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
            w = np.zeros(data.X_train.shape[1])
            opt = cls([w], lr=alpha, weight_decay=lam)
            for j in range(steps):
                opt.lr = alpha * float(eta[j])
                opt.step([mse_grad(w, data.X_train, data.y_train)])
                norms[method][i, j] = np.linalg.norm(w)
                train[method][i, j] = mse(w, data.X_train, data.y_train)
                test[method][i, j] = mse(w, data.X_test, data.y_test)
            weights[method][i] = w
    return Experiment(tuple(lambdas), eta, norms, train, test, weights, data)
