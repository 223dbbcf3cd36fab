r"""Lesson 03: Adam = momentum (an EMA of g) + RMSprop (an EMA of g squared) + bias correction.

The five steps, in the lessons' symbols (:math:`\lambda` is optional L2 weight
decay, added to the gradient as ``torch.optim.Adam`` does):

.. math::

    g_t &= \nabla f(\theta_{t-1}) \;(+\, \lambda\,\theta_{t-1}) \\
    m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
    v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
    \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t} \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

:math:`\epsilon` sits outside the bias-corrected root, as in the paper's
Algorithm 1 and in PyTorch.

>>> import numpy as np
>>> theta = np.array(1.0)
>>> opt = Adam([theta], lr=0.001)
>>> opt.step([0.5])
>>> print(f"{theta:.12f}")    # not exactly 0.999: eps makes the first step a hair under lr
0.999000000020
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lessonlib._checks import check_betas, check_real, hyperparameter
from lessonlib.efficient import FlatState, Scratch, adam_group, adam_inplace
from lessonlib.ema import bias_correction, ema_update
from lessonlib.optimizer import Optimizer


class AdamStep(NamedTuple):
    """Every intermediate of one Adam step, named as in the lessons."""

    t: int
    g: object  # the gradient used (with the L2 term, if any)
    m: object  # first moment, the EMA of g
    v: object  # second moment, the EMA of g**2
    bc1: object  # 1 - beta1**t
    bc2: object  # 1 - beta2**t
    m_hat: object
    v_hat: object
    update: object  # alpha * m_hat / (sqrt(v_hat) + eps)
    theta: object  # the parameter after the step


def adam_step(theta, g, m, v, t, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, sqrt=np.sqrt):
    """One textbook Adam step from ``(theta, m, v)`` at step ``t`` (1-based).

    Pure: returns an :class:`AdamStep` and modifies nothing. Works on floats,
    numpy arrays, and (with an exact ``sqrt``) on ``fractions.Fraction``.
    Written as the math reads (``g * g``); the in-place step of the optimizer
    classes multiplies in torch's order, ``(1 - beta2) * g * g``, which keeps
    ``v`` finite for gradients whose square alone would overflow.
    """
    if weight_decay:
        g = g + weight_decay * theta
    m = ema_update(m, g, beta1)
    v = ema_update(v, g * g, beta2)
    bc1, bc2 = bias_correction(beta1, t), bias_correction(beta2, t)
    m_hat, v_hat = m / bc1, v / bc2
    update = lr * m_hat / (sqrt(v_hat) + eps)
    return AdamStep(t, g, m, v, bc1, bc2, m_hat, v_hat, update, theta - update)


def adam_trace(theta0, grads, **hyper):
    """Run :func:`adam_step` over a sequence of gradients; return the list of steps.

    >>> steps = adam_trace(1.0, [0.5, 0.3])
    >>> [round(s.m, 12) for s in steps]
    [0.05, 0.075]
    """
    theta, m, v, steps = theta0, 0 * theta0, 0 * theta0, []
    for t, g in enumerate(grads, start=1):
        s = adam_step(theta, g, m, v, t, **hyper)
        theta, m, v = s.theta, s.m, s.v
        steps.append(s)
    return steps


class Adam(Optimizer):
    """Adam on numpy arrays; defaults and semantics as ``torch.optim.Adam``.

    ``state[i]`` holds ``t`` (steps taken), ``m`` and ``v`` (the two moments).
    ``weight_decay`` is the L2 penalty added to the gradient (see :class:`AdamW`
    for the decoupled kind).

    ``step`` computes the update of :func:`adam_step` in place, in the paper's
    efficient ordering (:mod:`lessonlib.efficient`): no array the size of the
    parameters is allocated per step, and float32 stays float32.
    """

    _decoupled = False  # AdamW: weight decay shrinks theta instead of entering g
    _nonnegative = ("v",)

    _hyper = ("lr", "betas", "eps", "weight_decay")
    lr = hyperparameter(check_real)
    betas = hyperparameter(lambda name, value: check_betas(value))
    eps = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self._scratch = Scratch()
        super().__init__(params)

    def _init_states(self, params):
        # m and v of all parameters of a dtype live in one flat buffer (views), so that many small
        # parameters can be stepped in a few large operations (lessonlib.efficient).
        self._flat = FlatState(params, ("m", "v"))
        return [{"t": 0, **views} for views in self._flat.views]

    def _apply(self, grads):
        self._apply_in_groups(grads, self._flat, ("m", "v"), self._group_step)

    def _kernel_hyper(self) -> dict:
        beta1, beta2 = self.betas
        return {
            "lr": self.lr,
            "beta1": beta1,
            "beta2": beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "decoupled": self._decoupled,
        }

    def _group_step(self, params, grads, m, v, t):
        adam_group(params, grads, m, v, t, scratch=self._scratch, **self._kernel_hyper())

    def _update(self, p, g, state):
        state["t"] += 1
        adam_inplace(p, g, state["m"], state["v"], state["t"], scratch=self._scratch, **self._kernel_hyper())
