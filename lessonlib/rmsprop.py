r"""Lesson 02: RMSprop, an EMA of squared gradients that normalises each parameter's step.

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

from lessonlib._checks import check_beta, check_real, hyperparameter
from lessonlib.efficient import FlatState, Scratch, rmsprop_group, rmsprop_inplace
from lessonlib.ema import ema_update
from lessonlib.optimizer import Optimizer


class RMSpropStep(NamedTuple):
    """Every intermediate of one RMSprop step."""

    t: int
    g: object
    v: object
    update: object
    theta: object


def rmsprop_step(theta, g, v, t, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, sqrt=np.sqrt):
    """One RMSprop step from ``(theta, v)`` with gradient ``g``; returns every intermediate."""
    if weight_decay:
        g = g + weight_decay * theta
    v = ema_update(v, g * g, alpha)
    update = lr * g / (sqrt(v) + eps)
    return RMSpropStep(t, g, v, update, theta - update)


class RMSprop(Optimizer):
    """RMSprop on numpy arrays; defaults and semantics as ``torch.optim.RMSprop``.

    ``state[i]`` holds ``t`` (steps taken) and ``v`` (the EMA of squared gradients).
    ``step`` computes the update of :func:`rmsprop_step` in place (:mod:`lessonlib.efficient`).
    One deliberate difference: ``alpha`` must be below 1, like every decay rate in the lessons;
    torch also accepts ``alpha >= 1``, which freezes ``v`` at zero or makes it grow without bound.
    """

    _nonnegative = ("v",)

    _hyper = ("lr", "alpha", "eps", "weight_decay")
    lr = hyperparameter(check_real)
    alpha = hyperparameter(check_beta)
    eps = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        self._scratch = Scratch()
        super().__init__(params)

    def _init_states(self, params):
        self._flat = FlatState(params, ("v",))  # see Adam._init_states
        return [{"t": 0, **views} for views in self._flat.views]

    def _apply(self, grads):
        self._apply_in_groups(grads, self._flat, ("v",), self._group_step)

    def _group_step(self, params, grads, v, t):
        hyper = {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay}
        rmsprop_group(params, grads, v, scratch=self._scratch, **hyper)

    def _update(self, p, g, state):
        state["t"] += 1
        rmsprop_inplace(
            p,
            g,
            state["v"],
            lr=self.lr,
            alpha=self.alpha,
            eps=self.eps,
            weight_decay=self.weight_decay,
            scratch=self._scratch,
        )
