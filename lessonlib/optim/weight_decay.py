r"""Lessons 03-06: the two ways to shrink the weights, L2 in the gradient and decoupled decay.

**L2** (``weight_decay`` of ``SGD``, ``RMSprop``, ``Adam``) adds the penalty's
gradient to :math:`g` before anything else (:func:`l2_gradient`), so under Adam it
goes through the division by :math:`\sqrt{\hat v_t}`. **Decoupled decay**
(``AdamW``) shrinks :math:`\theta` directly (:func:`decay`), whatever the
gradients. For plain SGD the two are the same step.

Loshchilov & Hutter write the decoupled decay as :math:`\eta_t\lambda\theta` with the
schedule multiplier :math:`\eta_t` and no :math:`\alpha`, and :math:`\lambda'` for the
L2 coefficient; PyTorch's ``AdamW`` shrinks by :math:`\alpha_t\lambda_\text{torch}`.
The two agree when :math:`\lambda_\text{torch} = \lambda/\alpha` (:func:`torch_weight_decay`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import check_coefficient, check_operand, check_real, check_reals


def l2_gradient(g, theta, weight_decay):
    r"""The gradient of :math:`f(\theta) + \frac{\lambda}{2}\lVert\theta\rVert^2`: :math:`g + \lambda\theta`.

    Args:
        g: :math:`g_t = \nabla f(\theta_{t-1})`.
        theta: :math:`\theta_{t-1}`.
        weight_decay: :math:`\lambda`.

    >>> l2_gradient(0.5, 2.0, 0.1)
    0.7
    """
    weight_decay = check_coefficient("weight_decay", weight_decay)
    return _l2(check_operand("g", g), check_operand("theta", theta), weight_decay)


def _l2(g, theta, weight_decay):
    r""":math:`g + \lambda\theta` unchecked: :func:`l2_gradient` for a caller that has checked its arguments."""
    return g + weight_decay * theta


def decay(theta, lr, weight_decay):
    r"""Decoupled weight decay, as PyTorch applies it: :math:`(1 - \alpha\lambda)\,\theta`.

    Args:
        theta: :math:`\theta_{t-1}`.
        lr: :math:`\alpha`.
        weight_decay: :math:`\lambda`.

    >>> decay(1.0, 1e-3, 1e-2)
    0.99999
    """
    lr, weight_decay = check_coefficient("lr", lr), check_coefficient("weight_decay", weight_decay)
    return (1 - lr * weight_decay) * check_operand("theta", theta)


def torch_weight_decay(paper_weight_decay, alpha):
    r"""PyTorch's ``weight_decay`` equal to the paper's decay :math:`\lambda` at base rate :math:`\alpha`.

    PyTorch shrinks by :math:`\eta_t\alpha\lambda_\text{torch}`, the paper by :math:`\eta_t\lambda`.

    Args:
        paper_weight_decay: the paper's :math:`\lambda \ge 0`.
        alpha: :math:`\alpha > 0`.

    >>> torch_weight_decay(1e-5, alpha=1e-3)    # PyTorch's default 0.01 at lr = 1e-3 is the paper's 1e-5
    0.01
    """
    paper_weight_decay = check_real("paper_weight_decay", paper_weight_decay)
    alpha = check_real("alpha", alpha)
    if alpha == 0:
        raise ValueError("Invalid alpha: 0.0 (allowed: 0 < alpha)")
    if not math.isfinite(paper_weight_decay / alpha):
        raise ValueError(
            f"Invalid paper_weight_decay, alpha: {paper_weight_decay}, {alpha} (allowed: a finite "
            "paper_weight_decay / alpha, PyTorch's weight_decay)"
        )
    return paper_weight_decay / alpha


class DecayRates(NamedTuple):
    """The fraction of theta removed per step by the decay alone (the factor is ``1 - rate``)."""

    l2: object  # Adam + L2:  lr * weight_decay / (sqrt(v_hat) + eps)
    adamw: object  # AdamW:   lr * weight_decay


def decay_rates(lr, weight_decay, v_hat, eps=1e-8) -> DecayRates:
    r"""Per-step decay of a parameter under Adam + L2 and under AdamW, with the same ``lr`` and ``weight_decay``.

    .. math::

        \text{L2: } \frac{\alpha\lambda}{\sqrt{\hat v_t} + \epsilon}, \qquad \text{AdamW: } \alpha\lambda

    The L2 rate is the steady-state approximation (valid while :math:`\lambda|\theta|` is small
    next to :math:`\sqrt{\hat v_t}` and :math:`\theta` changes slowly); the AdamW rate is exact.

    Args:
        lr: :math:`\alpha \ge 0`.
        weight_decay: :math:`\lambda \ge 0`.
        v_hat: :math:`\hat v_t \ge 0` (a number or an array).
        eps: :math:`\epsilon \ge 0`.

    >>> r = decay_rates(1e-3, 1e-2, v_hat=np.array([100.0, 0.01]))
    >>> [f"{x:.1e}" for x in r.l2], f"{r.adamw:.1e}"
    (['1.0e-06', '1.0e-04'], '1.0e-05')
    """
    lr, weight_decay, eps = check_real("lr", lr), check_real("weight_decay", weight_decay), check_real("eps", eps)
    v_hat = check_reals("v_hat", v_hat, low=0.0)  # a torch tensor, a matrix, strings in a list: refused by name
    with np.errstate(divide="ignore", invalid="ignore"):  # v_hat = eps = 0: no decay, or an unbounded one
        l2 = np.where(lr * weight_decay == 0, 0.0, lr * weight_decay / (np.sqrt(v_hat) + eps))
    return DecayRates(l2 if l2.ndim else float(l2), lr * weight_decay)


def half_life(lr, weight_decay):
    r"""Steps for decoupled decay alone to halve a weight.

    .. math::

        n_{1/2} = \frac{\ln 2}{-\ln(1 - \alpha\lambda)} \approx \frac{\ln 2}{\alpha\lambda}

    ``inf`` when :math:`\alpha\lambda = 0` (nothing decays); needs :math:`0 \le \alpha\lambda < 1`.

    Args:
        lr: :math:`\alpha \ge 0`.
        weight_decay: :math:`\lambda \ge 0`.

    >>> round(half_life(1e-3, 0.01))    # PyTorch's AdamW defaults
    69314
    """
    rate = check_real("lr", lr) * check_real("weight_decay", weight_decay)
    if rate >= 1:
        raise ValueError(f"Invalid lr * weight_decay: {rate} (allowed: < 1; at 1 one step zeroes the weight)")
    return math.inf if rate == 0 else math.log(2.0) / -math.log1p(-rate)
