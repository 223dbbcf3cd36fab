r"""The baseline the lessons compare against: gradient descent, with optional momentum.

As ``torch.optim.SGD`` (dampening 0, no Nesterov), with :math:`\lambda` the L2 weight decay:

.. math::

    g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad
    b_1 = g_1,\; b_t = \mu\, b_{t-1} + g_t, \qquad
    \theta_t = \theta_{t-1} - \alpha\, b_t

With :math:`\mu = 0` this is plain gradient descent.

>>> import numpy as np
>>> theta = np.array([1.0])
>>> opt = SGD([theta], lr=0.1)
>>> opt.step([np.array([2.0])])
>>> theta
array([0.8])
"""

from __future__ import annotations

import numpy as np

from lessonlib._checks import check_real, hyperparameter
from lessonlib.optimizer import Optimizer


def sgd_step(theta, g, buf, t, *, lr, momentum=0.0, weight_decay=0.0):
    """One SGD step; returns ``(new_buffer, new_theta)`` without modifying the inputs."""
    if weight_decay:
        g = g + weight_decay * theta
    buf = g if (t == 1 or not momentum) else momentum * buf + g
    return buf, theta - lr * buf


class SGD(Optimizer):
    """Stochastic gradient descent with momentum ``mu``; defaults as ``torch.optim.SGD``."""

    _hyper = ("lr", "momentum", "weight_decay")
    lr = hyperparameter(check_real)
    momentum = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        super().__init__(params)

    def _init_state(self, p):
        return {"t": 0, "momentum_buffer": np.zeros_like(p)}

    def _update(self, p, g, state):
        state["t"] += 1
        buf, p[...] = sgd_step(
            p,
            g,
            state["momentum_buffer"],
            state["t"],
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )
        state["momentum_buffer"][...] = buf
