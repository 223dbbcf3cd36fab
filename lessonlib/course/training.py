r"""Lesson 10: what a torch training loop adds around the optimizer, as numbers a test can check.

:func:`param_groups` (weight decay on matrices only), :func:`clip_coefficient` (the factor by which
``clip_grad_norm_`` scales every gradient) and :func:`recovery_steps` (how long Adam's :math:`v`
remembers a gradient spike). Nothing here imports torch: ``param_groups`` takes any ``torch.nn.Module``.
"""

from __future__ import annotations

import math

from lessonlib.optim._checks import check_real


def param_groups(model, weight_decay: float) -> list[dict]:
    r"""Two parameter groups for ``torch.optim.AdamW``: weight decay on matrices only.

    A parameter with two or more dimensions (the weight of a linear or
    convolutional layer, an embedding table) is decayed; a vector (a bias, the
    scale and shift of a normalisation layer) is not: pulling those towards
    zero is not a sensible prior. Each group names its parameters under
    ``param_names``, the key ``torch.optim`` itself uses for names.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LayerNorm(3))
    >>> [(g["param_names"], g["weight_decay"]) for g in param_groups(net, 0.1)]
    [(['0.weight'], 0.1), (['0.bias', '1.weight', '1.bias'], 0.0)]

    Args:
        model: a ``torch.nn.Module`` (anything with ``named_parameters()``).
        weight_decay: :math:`\lambda \ge 0` of the first group.
    """
    if not callable(getattr(model, "named_parameters", None)):
        raise TypeError(
            f"model must be a torch.nn.Module (anything with named_parameters()), got {type(model).__name__}"
        )
    weight_decay = check_real("weight_decay", weight_decay)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append((name, p))
    return [
        {"params": [p for _, p in group], "param_names": [n for n, _ in group], "weight_decay": wd}
        for group, wd in ((decay, weight_decay), (no_decay, 0.0))
    ]


def clip_coefficient(total_norm: float, max_norm: float) -> float:
    r"""The factor ``torch.nn.utils.clip_grad_norm_`` multiplies every gradient by.

    .. math:: c = \min\Bigl(1, \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}\Bigr)

    where :math:`\lVert g \rVert` is the 2-norm of all gradients taken together.

    >>> clip_coefficient(4.0, 1.0), clip_coefficient(0.5, 1.0)
    (0.24999993750001562, 1.0)

    Args:
        total_norm: :math:`\lVert g \rVert \ge 0`.
        max_norm: the threshold, :math:`\ge 0`.
    """
    total_norm, max_norm = check_real("total_norm", total_norm), check_real("max_norm", max_norm)
    return min(1.0, max_norm / (total_norm + 1e-6))


def recovery_steps(spike_ratio: float, beta2: float = 0.999) -> float:
    r"""Steps until Adam's :math:`v` has forgotten one gradient spike ``spike_ratio`` times the usual size.

    A spike :math:`G` adds :math:`(1-\beta_2) G^2` to :math:`v`, which then decays as
    :math:`\beta_2^k`; it stops dominating the usual :math:`g^2` when
    :math:`\beta_2^k (1-\beta_2) G^2 = g^2`, that is after

    .. math:: k = \frac{\ln\bigl((1-\beta_2)\,(G/g)^2\bigr)}{-\ln \beta_2}

    steps (zero if the spike was never larger than that). Until then every step is
    smaller than usual by about :math:`\sqrt{\beta_2^k (1-\beta_2)}\, G/g`.

    >>> round(recovery_steps(1e4))     # a 10,000x spike with the default beta2
    11507
    """
    spike_ratio, beta2 = check_real("spike_ratio", spike_ratio), check_real("beta2", beta2, high=1.0)
    if beta2 == 0.0:
        raise ValueError(f"Invalid beta2: {beta2} (allowed: 0 < beta2 < 1; with beta2 = 0, v forgets at once)")
    if spike_ratio == 0.0:
        return 0.0
    log_excess = math.log1p(-beta2) + 2.0 * math.log(spike_ratio)  # ln((1 - beta2) G^2 / g^2), in logs: no overflow
    return max(0.0, log_excess / -math.log(beta2))
