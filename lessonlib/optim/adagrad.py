r"""Lesson 03: AdaGrad, RMSprop's parent: divide by the root of *all* squared gradients so far.

As ``torch.optim.Adagrad`` (no learning-rate decay, accumulator started at zero), with
:math:`\alpha` the learning rate and :math:`\lambda` the L2 weight decay:

.. math::

    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    s_t &= s_{t-1} + g_t^2 \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{g_t}{\sqrt{s_t} + \epsilon}

The sum only grows, so the step shrinks like :math:`1/\sqrt t` even when the gradient
does not (Duchi, Hazan & Singer, 2011). RMSprop replaces the sum by an EMA.

>>> s = adagrad_step(1.0, 2.0, 0.0, 1, lr=0.1, eps=0.0)
>>> print(f"{s.update:.6f}")     # the first step is lr, whatever the size of g
0.100000
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import check_coefficient, check_operand, check_step, checked_root
from lessonlib.optim.weight_decay import l2_gradient


class AdagradStep(NamedTuple):
    """Every intermediate of one AdaGrad step."""

    t: int
    g: object
    s: object  # the running sum of squared gradients (torch: ``sum``)
    update: object
    theta: object


def adagrad_step(theta, g, s, t, *, lr=1e-2, eps=1e-10, weight_decay=0.0, sqrt=np.sqrt):
    r"""One AdaGrad step from :math:`(\theta_{t-1}, s_{t-1})`; pure, returns every intermediate.

    Args:
        theta: :math:`\theta_{t-1}`.
        g: :math:`g_t`.
        s: :math:`s_{t-1}`, the sum of the squared gradients so far.
        t: the step number (1-based).
        lr: :math:`\alpha`.
        eps: :math:`\epsilon` (torch's default, 1e-10).
        weight_decay: :math:`\lambda` (L2).
        sqrt: the square root to use.

    >>> theta, s = 0.0, 0.0
    >>> for t in range(1, 5):                      # a constant gradient...
    ...     step = adagrad_step(theta, 1.0, s, t, lr=1.0, eps=0.0)
    ...     theta, s = step.theta, step.s
    >>> print(f"{step.update:.3f}")                # ...and the fourth step is lr / sqrt(4)
    0.500
    """
    lr, eps = check_coefficient("lr", lr), check_coefficient("eps", eps)  # float32 stays float32
    weight_decay = check_coefficient("weight_decay", weight_decay)
    theta, g, s = check_operand("theta", theta), check_operand("g", g), check_operand("s", s)
    t, sqrt = check_step(t, low=1), checked_root(sqrt)
    if weight_decay:
        g = l2_gradient(g, theta, weight_decay)
    s = s + g * g
    update = lr * g / (sqrt(s) + eps)
    return AdagradStep(t, g, s, update, theta - update)
