r"""Lesson 02's baseline: gradient descent, with optional (heavy-ball) momentum.

As ``torch.optim.SGD`` (dampening 0, no Nesterov), with :math:`\lambda` the L2 weight
decay (:func:`~lessonlib.l2_gradient`) and :math:`\mu` the momentum:

.. math::

    g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad
    b_1 = g_1,\; b_t = \mu\, b_{t-1} + g_t, \qquad
    \theta_t = \theta_{t-1} - \alpha\, b_t

With :math:`\mu = 0` this is plain gradient descent. Note the buffer is a plain sum,
not Adam's EMA: with :math:`\mu = 0.9` a constant gradient builds up to
:math:`b = g/(1-\mu) = 10g`, so ``SGD(momentum=0.9)`` steps ten times further than
Adam's :math:`m` (whose weights sum to 1) at the same ``lr``.

>>> import numpy as np
>>> theta = np.array([1.0])
>>> opt = SGD([theta], lr=0.1)
>>> opt.step([np.array([2.0])])
>>> theta
array([0.8])
"""

from __future__ import annotations

import numpy as np

from lessonlib.optim._checks import check_coefficient, check_operand, check_real, check_step, hyperparameter
from lessonlib.optim._compile import FAST, KERNEL, kernel
from lessonlib.optim.optimizer import Optimizer, flat_views, in_dtype
from lessonlib.optim.weight_decay import l2_gradient


def sgd_step(theta, g, buf, t, *, lr, momentum=0.0, weight_decay=0.0):
    r"""One SGD step; returns ``(new_buffer, new_theta)`` without modifying the inputs.

    Args:
        theta: :math:`\theta_{t-1}`.
        g: :math:`g_t`.
        buf: :math:`b_{t-1}` (ignored at ``t = 1``).
        t: the step number, 1-based.
        lr: :math:`\alpha`.
        momentum: :math:`\mu`.
        weight_decay: :math:`\lambda`, the L2 term added to :math:`g_t`.

    >>> sgd_step(1.0, 2.0, 0.0, 1, lr=0.1, momentum=0.9)
    (2.0, 0.8)
    """
    lr, momentum = check_coefficient("lr", lr), check_coefficient("momentum", momentum)  # float32 stays float32
    weight_decay, t = check_coefficient("weight_decay", weight_decay), check_step(t, low=1)
    theta, g, buf = check_operand("theta", theta), check_operand("g", g), check_operand("buf", buf)
    if weight_decay:
        g = l2_gradient(g, theta, weight_decay)
    if not momentum:  # plain gradient descent: the buffer is left as it is (torch keeps none)
        return buf, theta - lr * g
    buf = g if t == 1 else momentum * buf + g
    return buf, theta - lr * buf


def sgd_kernel(theta, g, buf, lr, momentum, weight_decay, first):
    r"""The loop :class:`SGD` runs: :func:`sgd_step` element by element, in place (compiled by numba).

    .. math::

        g \leftarrow g + \lambda\theta, \qquad b \leftarrow g \text{ (first step) or } \mu b + g, \qquad
        \theta \leftarrow \theta - \alpha b
    """
    for i in range(theta.size):
        g_i = g[i]
        if weight_decay != 0:
            g_i = g_i + weight_decay * theta[i]  # g <- g + lambda theta        (l2_gradient)
        if momentum == 0:
            theta[i] = theta[i] - lr * g_i  # theta_t = theta_{t-1} - alpha g_t   (no buffer, as in torch)
            continue
        if first:
            buf[i] = g_i  # b_1 = g_1
        else:
            buf[i] = momentum * buf[i] + g_i  # b_t = mu b_{t-1} + g_t
        theta[i] = theta[i] - lr * buf[i]  # theta_t = theta_{t-1} - alpha b_t


_sgd_kernel = kernel(sgd_kernel, fastmath=FAST)


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum; defaults and names as ``torch.optim.SGD``.

    ``state[i]`` holds ``t`` and ``momentum_buffer`` (:math:`b`).

    Args:
        params: a list of float32/float64 numpy arrays, updated in place.
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \ge 0`.
        weight_decay: :math:`\lambda \ge 0` (L2).
    """

    _hyper = ("lr", "momentum", "weight_decay")
    _moments = ("momentum_buffer",)
    lr = hyperparameter(check_real)
    momentum = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        super().__init__(params)

    def _update_compiled(self, p, g, state):
        buf, t = state["momentum_buffer"], state["t"]
        scalars = self._step_cache.get(p.dtype)
        if scalars is None:  # once per step and dtype
            scalars = self._step_cache[p.dtype] = in_dtype(p.dtype, self._lr, self._momentum, self._weight_decay)
        for views in flat_views(p, g, buf):
            _sgd_kernel(*views, *scalars, t == 1)

    def _update_numpy(self, p, g, state):
        buf, t = state["momentum_buffer"], state["t"]
        with np.errstate(all="ignore"):  # the numpy form: overflow to inf, quietly, as in torch
            hyper = {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}
            new_buf, new_theta = sgd_step(p, g, buf, t, **hyper)
        buf[...], p[...] = new_buf, new_theta

    _update = _update_compiled if KERNEL == "numba" else _update_numpy  # chosen once, at import
