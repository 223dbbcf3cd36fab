r"""Lesson 03: RMSprop, an EMA of squared gradients that normalises each parameter's step.

As ``torch.optim.RMSprop`` (no momentum, not centered), with :math:`\alpha` the
learning rate, :math:`\rho` the decay (torch calls it ``alpha``) and
:math:`\lambda` the L2 weight decay:

.. math::

    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t^2 \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{g_t}{\sqrt{v_t} + \epsilon}

There is no bias correction, and :math:`\epsilon` is added after the root.

>>> import numpy as np
>>> theta = np.array([1.0, 1.0])
>>> opt = RMSprop([theta], lr=0.01)
>>> opt.step([np.array([1.0, 10000.0])])    # gradients ten thousand times apart...
>>> np.round(1.0 - theta, 6)                 # ...give the same step
array([0.1, 0.1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import (
    check_beta,
    check_coefficient,
    check_operand,
    check_real,
    check_step,
    checked_root,
    hyperparameter,
)
from lessonlib.optim._compile import FAST, KERNEL, kernel
from lessonlib.optim.ema import ema_update
from lessonlib.optim.optimizer import Optimizer, flat_views, in_dtype
from lessonlib.optim.weight_decay import l2_gradient


class RMSpropStep(NamedTuple):
    """Every intermediate of one RMSprop step."""

    t: int
    g: object
    v: object
    update: object
    theta: object


def rmsprop_step(theta, g, v, t, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, sqrt=np.sqrt):
    r"""One RMSprop step from :math:`(\theta_{t-1}, v_{t-1})`; pure, returns every intermediate.

    Args:
        theta: :math:`\theta_{t-1}`.
        g: :math:`g_t`.
        v: :math:`v_{t-1}`.
        t: the step number (1-based).
        lr: :math:`\alpha`.
        alpha: :math:`\rho`, the decay of the EMA (torch's name).
        eps: :math:`\epsilon`.
        weight_decay: :math:`\lambda` (L2).
        sqrt: the square root to use.

    >>> s = rmsprop_step(1.0, 2.0, 0.0, 1, lr=0.01, alpha=0.99, eps=0.0)
    >>> print(f"{s.update:.6f}")   # the first step is lr / sqrt(1 - rho): RMSprop has no bias correction
    0.100000
    """
    lr, alpha = check_coefficient("lr", lr), check_coefficient("alpha", alpha, high=1.0)  # float32 stays float32
    eps, weight_decay = check_coefficient("eps", eps), check_coefficient("weight_decay", weight_decay)
    theta, g, v = check_operand("theta", theta), check_operand("g", g), check_operand("v", v)
    t, sqrt = check_step(t, low=1), checked_root(sqrt)
    if weight_decay:
        g = l2_gradient(g, theta, weight_decay)
    v = ema_update(v, g * g, alpha)
    update = lr * g / (sqrt(v) + eps)
    return RMSpropStep(t, g, v, update, theta - update)


def rmsprop_kernel(theta, g, v, lr, alpha, eps, weight_decay, c):
    r"""The loop :class:`RMSprop` runs: :func:`rmsprop_step` element by element, in place (compiled by numba).

    .. math::

        g \leftarrow g + \lambda\theta, \qquad v \leftarrow \rho v + (1-\rho) g^2, \qquad
        \theta \leftarrow \theta - \alpha\, g / (\sqrt v + \epsilon)

    Every argument is a 1-D array or a scalar of :math:`\theta`'s dtype; ``c`` :math:`= 1 - \rho`
    comes in computed in float64 and rounded once, as torch does.
    """
    for i in range(theta.size):
        g_i = g[i]
        if weight_decay != 0:
            g_i = g_i + weight_decay * theta[i]  # g <- g + lambda theta              (l2_gradient)
        v[i] = alpha * v[i] + c * g_i * g_i  # v_t = rho v + (1 - rho) g^2   (ema_update)
        theta[i] = theta[i] - lr * g_i / (np.sqrt(v[i]) + eps)  # theta - alpha g / (sqrt(v) + eps)


_rmsprop_kernel = kernel(rmsprop_kernel, fastmath=FAST)


class RMSprop(Optimizer):
    r"""RMSprop on numpy arrays; defaults and semantics as ``torch.optim.RMSprop``.

    ``state[i]`` holds ``t`` (steps taken) and ``v`` (the EMA of squared gradients).
    One deliberate difference: ``alpha`` must be below 1, like every decay rate in the lessons;
    torch also accepts ``alpha >= 1``, which freezes ``v`` at zero or makes it grow without bound.

    Args:
        params: a list of float32/float64 numpy arrays, updated in place.
        lr: :math:`\alpha \ge 0`.
        alpha: :math:`\rho \in [0, 1)`.
        eps: :math:`\epsilon \ge 0`.
        weight_decay: :math:`\lambda \ge 0` (L2).
    """

    _hyper = ("lr", "alpha", "eps", "weight_decay")
    _moments = ("v",)
    _nonnegative = ("v",)
    lr = hyperparameter(check_real)
    alpha = hyperparameter(check_beta)
    eps = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        super().__init__(params)

    def _update_compiled(self, p, g, state):
        scalars = self._step_cache.get(p.dtype)
        if scalars is None:  # once per step and dtype
            hyper = (self._lr, self._alpha, self._eps, self._weight_decay, 1 - self._alpha)
            scalars = self._step_cache[p.dtype] = in_dtype(p.dtype, *hyper)
        for views in flat_views(p, g, state["v"]):
            _rmsprop_kernel(*views, *scalars)

    def _update_numpy(self, p, g, state):
        hyper = {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay}
        with np.errstate(all="ignore"):  # the numpy form: overflow to inf, quietly, as in torch
            s = rmsprop_step(p, g, state["v"], state["t"], **hyper)
        p[...], state["v"][...] = s.theta, s.v

    _update = _update_compiled if KERNEL == "numba" else _update_numpy  # chosen once, at import
