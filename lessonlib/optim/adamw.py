r"""Lesson 06: AdamW, Adam with *decoupled* weight decay (Loshchilov & Hutter).

PyTorch's form, which this follows: shrink the parameter, then take the Adam
step with the plain gradient (no :math:`\lambda\theta` in :math:`m` or :math:`v`):

.. math::

    \theta_{t-1} &\leftarrow (1 - \alpha\lambda)\,\theta_{t-1} \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

AdamW is Adam plus :func:`~lessonlib.decay`, by composition: :func:`adamw_step`
is :func:`~lessonlib.decay` then :func:`~lessonlib.adam_step`, and :class:`AdamW`
is :class:`~lessonlib.Adam` with ``decoupled_weight_decay=True`` (torch's own
argument) and torch's default ``weight_decay=1e-2``.

>>> import numpy as np
>>> theta = np.array(1.0)
>>> opt = AdamW([theta], lr=0.001, weight_decay=0.01)
>>> opt.step([0.0])      # zero gradient: only the decay acts
>>> print(f"{theta:.8f}")
0.99999000
"""

from __future__ import annotations

import numpy as np

from lessonlib.optim._checks import check_bool, check_coefficient, hyperparameter
from lessonlib.optim.adam import Adam, AdamStep, _step_docs, adam_step
from lessonlib.optim.weight_decay import decay


@_step_docs
def adamw_step(theta, g, m, v, t, *, lr=1e-3, weight_decay=1e-2, **adam):  # noqa: D417 - Args from _STEP_DOCS
    r"""One AdamW step: :func:`~lessonlib.decay` of :math:`\theta`, then :func:`~lessonlib.adam_step` with the plain g.

    Args:
        {state_args}
        lr: :math:`\alpha`.
        weight_decay: :math:`\lambda`, PyTorch's decoupled decay (the step shrinks :math:`\theta` by
            :math:`\alpha\lambda`).
        **adam: the other keyword arguments of :func:`~lessonlib.adam_step` (betas, eps, ``v_max``, ...).

    >>> s = adamw_step(1.0, 0.0, 0.0, 0.0, 1, lr=1e-3, weight_decay=1e-2)
    >>> print(f"{s.theta:.8f}")
    0.99999000
    """
    return adam_step(decay(theta, lr, weight_decay), g, m, v, t, lr=lr, **adam)


@_step_docs
def adamw_paper_step(  # noqa: D417 - the shared Args come from _STEP_DOCS
    theta, g, m, v, t, *, alpha=1e-3, eta=1.0, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, sqrt=np.sqrt
) -> AdamStep:
    r"""One AdamW step as Loshchilov & Hutter write it (Algorithm 2), on top of :func:`~lessonlib.adam_step`.

    .. math::

        \theta_t = \theta_{t-1} - \eta_t\Bigl(\alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
                    + \lambda\theta_{t-1}\Bigr)

    Pure; the returned :class:`~lessonlib.AdamStep` has ``update`` = the Adam part
    :math:`\eta_t\alpha\hat m_t/(\sqrt{\hat v_t}+\epsilon)` and ``theta`` = the
    parameter after the whole step, decay included.

    Args:
        {state_args}
        {moment_args}
        {sqrt_arg}
        alpha: :math:`\alpha`.
        eta: the schedule multiplier :math:`\eta_t`.
        weight_decay: the paper's :math:`\lambda` (the decay per step at :math:`\eta_t = 1`,
            *not* multiplied by :math:`\alpha`).

    >>> s = adamw_paper_step(1.0, 0.0, 0.0, 0.0, t=1, alpha=1e-3, eta=0.5, weight_decay=1e-4)
    >>> print(f"{s.update:.1f} {s.theta:.8f}")
    0.0 0.99995000
    """
    alpha, eta = check_coefficient("alpha", alpha), check_coefficient("eta", eta)
    weight_decay = check_coefficient("weight_decay", weight_decay)
    s = adam_step(theta, g, m, v, t, lr=eta * alpha, beta1=beta1, beta2=beta2, eps=eps, sqrt=sqrt)
    return s._replace(theta=decay(theta, eta, weight_decay) - s.update)  # decay by eta lambda, not alpha eta lambda


class AdamW(Adam):
    r"""AdamW on numpy arrays; defaults and semantics as ``torch.optim.AdamW`` (``weight_decay=1e-2``).

    :class:`~lessonlib.Adam` with ``decoupled_weight_decay=True``: each step shrinks
    :math:`\theta` by :math:`1 - \alpha\lambda`, then takes the Adam step.

    Args:
        params, lr, betas, eps, amsgrad: as for :class:`~lessonlib.Adam`.
        weight_decay: :math:`\lambda \ge 0`, the decoupled decay.
    """

    _hyper = tuple(h for h in Adam._hyper if h != "decoupled_weight_decay")  # always True here
    decoupled_weight_decay = hyperparameter(check_bool, fixed=True)  # ll.Adam(decoupled_weight_decay=False) is Adam

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
