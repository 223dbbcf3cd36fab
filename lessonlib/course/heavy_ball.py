r"""Lesson 02's heavy ball on a quadratic bowl: its iteration matrix, its rate, and the tunings that are optimal.

The bowl is :math:`f = \tfrac12\sum_k h_k \tilde\theta_k^2`, :math:`\tilde\theta_k` the :math:`k`-th coordinate of
:math:`\theta - \theta^\star` in the Hessian's eigenbasis. In each eigen-direction, torch's form
:math:`b_t = \mu b_{t-1} + g_t,\ \tilde\theta_t = \tilde\theta_{t-1} - \alpha b_t` with
:math:`g_t = h \tilde\theta_{t-1}` is the linear map of :func:`iteration_matrix`,

.. math::

    \begin{pmatrix} \tilde\theta_t \\ b_t \end{pmatrix} =
    \begin{pmatrix} 1 - \alpha h & -\alpha\mu \\ h & \mu \end{pmatrix}
    \begin{pmatrix} \tilde\theta_{t-1} \\ b_{t-1} \end{pmatrix},

whose eigenvalues solve :math:`z^2 - (1 + \mu - \alpha h) z + \mu = 0`. The error shrinks like
:math:`r^t`, :math:`r` the spectral radius (:func:`spectral_radius`, :func:`rate`). The closed forms
(:func:`stable_lr`, :func:`gd_optimal`, :func:`polyak_optimal`) are what the lesson checks against it; the
figures and the damping widget are in :mod:`lessonlib.course.heavy_ball_figures`.

>>> tuned = polyak_optimal(1.0, 100.0)
>>> f"{tuned.lr:.5f} {tuned.momentum:.5f} {tuned.rate:.5f} {rate(BOWL, tuned.lr, tuned.momentum):.5f}"
'0.03306 0.66942 0.81818 0.81818'
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import MAX_RUN_STEPS, check_beta, check_int, check_real, check_reals
from lessonlib.optim.sgd import sgd_step

#: The lesson's bowl: curvatures 1, 10 and 100, so the condition number is 100.
BOWL = (1.0, 10.0, 100.0)


def curvatures(hs) -> np.ndarray:
    """``hs`` as a non-empty 1-D float64 array of curvatures :math:`h_i > 0`; the error names ``hs``.

    Args:
        hs: the curvatures, a list or array of numbers > 0.
    """
    arr = check_reals("hs", hs, low=0.0, strict_low=True)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"hs must be a non-empty list of curvatures h_i > 0, got shape {arr.shape}")
    return arr


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


#: The largest step lr * h the analysis takes: far past the stable edge (lr * h < 2 (1 + mu) <= 4), and small enough
#: that the characteristic polynomial's coefficients and discriminant stay within float range.
MAX_LR_H = 1e100


def _check_step_size(h: np.ndarray, lr: np.ndarray, h_name: str = "h") -> None:
    with np.errstate(over="ignore"):  # float64 overflows to inf, which fails the test too
        too_large = np.any(np.abs(h * lr) > MAX_LR_H)
    if too_large:
        raise ValueError(
            f"Invalid lr, {h_name}: lr * {h_name} must be at most {MAX_LR_H:.0e} (stable steps have lr * h < 4)"
        )


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
    h = check_reals("h", h, low=0.0, strict_low=True)
    lr = check_reals("lr", lr, low=0.0)
    mu = check_reals("momentum", momentum, low=0.0, high=1.0)
    _check_step_size(h, lr)
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
    hs = curvatures(hs)
    lr = check_reals("lr", lr, low=0.0)
    momentum = check_reals("momentum", momentum, low=0.0, high=1.0)
    _check_step_size(hs.max(), lr, "hs")
    lr, momentum = np.broadcast_arrays(lr, momentum)
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


def _one_direction(caller: str, h, lr, momentum) -> tuple[float, float, float]:
    """``h``, ``lr`` and ``momentum`` checked as :func:`iteration_matrix` checks them, each one number; as floats."""
    h = check_reals("h", h, low=0.0, strict_low=True)
    lr = check_reals("lr", lr, low=0.0)
    mu = check_reals("momentum", momentum, low=0.0, high=1.0)
    _check_step_size(h, lr)
    for name, x in (("h", h), ("lr", lr), ("momentum", mu)):
        if x.ndim != 0:
            raise ValueError(f"{caller} takes one direction: {name} must be a number, got shape {x.shape}")
    return float(h), float(lr), float(mu)


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
    h, lr, mu = _one_direction("regime", h, lr, momentum)
    tol = check_real("tol", tol)
    r = spectral_radius(h, lr, mu)
    if abs(r - 1) <= tol:
        return "on the stable edge"
    if r > 1:
        return "unstable"
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
    h, lr, mu = _one_direction("flips_sign", h, lr, momentum)
    tol = check_real("tol", tol)
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
    hs = curvatures(hs)
    lr = check_real("lr", lr)
    momentum = check_beta("momentum", momentum)
    steps = check_int("steps", steps, high=MAX_RUN_STEPS)
    x = np.ones_like(hs) if x0 is None else check_reals("x0", x0, low=-np.inf).astype(np.float64)
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
    start = check_int("start", start)
    stop = None if stop is None else check_int("stop", stop)
    e = check_reals("errors", errors, low=-np.inf)
    if e.ndim != 1:
        raise ValueError(f"errors must be a 1-D array of sizes, one per step, got shape {e.shape}")
    e = e[start:stop]
    if e.size < 2 or np.any(e <= 0):
        raise ValueError("errors[start:stop] must hold at least two positive, finite sizes")
    slope = np.polyfit(np.arange(e.size), np.log(e), 1)[0]
    return float(np.exp(slope))


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
    steps = check_int("steps", steps, high=MAX_RUN_STEPS)
    t = np.arange(steps + 1)
    h, lr, mu = check_real("h", h), check_real("lr", lr), check_beta("momentum", momentum)
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
