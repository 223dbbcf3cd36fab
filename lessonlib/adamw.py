r"""Lesson 05: AdamW, Adam with *decoupled* weight decay (Loshchilov & Hutter).

PyTorch's form, which this follows: shrink the parameter, then take the Adam
step with the plain gradient (no :math:`\lambda\theta` in :math:`m` or :math:`v`):

.. math::

    \theta_{t-1} &\leftarrow (1 - \alpha\lambda)\,\theta_{t-1} \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

The paper writes the decay as :math:`\eta_t \lambda' \theta` with the schedule
multiplier :math:`\eta_t` and no :math:`\alpha`; the two agree when
:math:`\lambda = \lambda' / \alpha`.

>>> import numpy as np
>>> theta = np.array(1.0)
>>> opt = AdamW([theta], lr=0.001, weight_decay=0.01)
>>> opt.step([0.0])      # zero gradient: only the decay acts
>>> print(f"{theta:.8f}")
0.99999000
"""

from __future__ import annotations

import numpy as np

from lessonlib.adam import Adam, adam_step


def decay(theta, lr, weight_decay):
    r"""Decoupled weight decay, as PyTorch applies it: :math:`\theta (1 - \alpha\lambda)`."""
    return theta * (1 - lr * weight_decay)


def adamw_step(theta, g, m, v, t, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, sqrt=np.sqrt):
    """One AdamW step: decay ``theta``, then an Adam step with the plain gradient."""
    theta = decay(theta, lr, weight_decay)
    return adam_step(theta, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps, sqrt=sqrt)


class AdamW(Adam):
    """AdamW on numpy arrays; defaults and semantics as ``torch.optim.AdamW`` (``weight_decay=1e-2``).

    ``step`` computes the update of :func:`adamw_step` in place (see :class:`lessonlib.Adam`).
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
