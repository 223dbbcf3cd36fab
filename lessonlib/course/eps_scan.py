r"""Lesson 07: :math:`\epsilon` as a cap on Adam's step when the gradients are tiny.

:func:`eps_scan` measures Adam's step, in units of :math:`\alpha`, for gradients from :math:`10^{-12}` to
:math:`1` in size, one run per :math:`\epsilon`; :func:`eps_figure` draws it.

>>> scan = eps_scan([1e-10, 1.0], eps_values=(0.0, 1e-8), noise=0.0, steps=10, last=5)
>>> [f"{x:.3f}" for x in scan.late[0.0]], [f"{x:.3f}" for x in scan.late[1e-8]]
(['1.000', '1.000'], ['0.010', '1.000'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.optim._checks import MAX_RUN_STEPS, brief, check_betas, check_int, check_real, check_reals, check_seed
from lessonlib.optim.adam import Adam


@dataclass(frozen=True)
class EpsScan:
    r"""Adam's step in units of :math:`\alpha` for gradients of many sizes (one entry per scale), per :math:`\epsilon`.

    ``first[eps]`` is :math:`|\Delta_1|/\alpha` and ``late[eps]`` the mean :math:`|\Delta_t|/\alpha` over the
    last ``last`` steps, one value per scale; ``rms`` is the gradients' root mean square in units of their
    scale, :math:`\sqrt{\bar g^2+\sigma^2}` with :math:`\bar g = 1`.
    """

    scales: np.ndarray
    first: dict
    late: dict
    rms: float
    steps: int
    last: int


def eps_scan(scales, eps_values=(0.0, 1e-8, 1e-5), *, steps=300, last=100, noise=0.5, betas=(0.9, 0.999), seed=0):
    r"""Adam (``lr = 1``: steps in units of :math:`\alpha`) on gradients :math:`\bar g\,(1 + \text{noise}\,\xi_t)`.

    One parameter per size (mean) :math:`\bar g`, all fed the same seeded :math:`\xi_t \sim N(0, 1)`, so the scales
    differ only in size; one run per :math:`\epsilon`. With :math:`\epsilon = 0` every scale then takes the
    same steps (scale invariance); with :math:`\epsilon > 0` each step is the :math:`\epsilon = 0` step times
    :math:`\sqrt{\hat v_t}/(\sqrt{\hat v_t}+\epsilon)`. With ``noise = 0`` the gradient is the constant
    :math:`\bar g`, :math:`\hat m_t = \bar g`, :math:`\hat v_t = \bar g^2`, and every step is
    :math:`\bar g/(\bar g+\epsilon)`.

    Args:
        scales: the gradient sizes (means) :math:`\bar g > 0`.
        eps_values: the :math:`\epsilon` to compare.
        steps: steps per run.
        last: how many final steps ``late`` averages.
        noise: :math:`\sigma/\bar g`.
        betas: :math:`(\beta_1, \beta_2)`.
        seed: the generator's seed.
    """
    scales = check_reals("scales", scales, low=0.0, strict_low=True)
    if scales.ndim != 1 or scales.size == 0:
        raise ValueError(f"scales must be a non-empty 1-D array of finite numbers > 0, got shape {scales.shape}")
    steps = check_int("steps", steps, low=1, high=MAX_RUN_STEPS)
    last = check_int("last", last, low=1)
    if last > steps:
        raise ValueError(f"Invalid last: {brief(last)} (allowed: 1 <= last <= steps = {steps})")
    noise = check_real("noise", noise)
    betas = check_betas(betas)
    eps_array = check_reals("eps_values", eps_values, low=0.0)
    if eps_array.ndim != 1:
        raise ValueError(f"eps_values must be a list of numbers eps >= 0, got shape {eps_array.shape}")
    eps_values = tuple(float(e) for e in eps_array)
    xi = np.random.default_rng(check_seed(seed)).standard_normal(steps)
    first, late = {}, {}
    for eps in eps_values:
        theta = np.zeros_like(scales)
        opt = Adam([theta], lr=1.0, betas=betas, eps=eps)
        sizes = np.empty((steps, scales.size))
        for t in range(steps):
            before = theta.copy()
            opt.step([scales * (1.0 + noise * xi[t])])
            sizes[t] = np.abs(theta - before)
        first[eps], late[eps] = sizes[0], sizes[-last:].mean(axis=0)
    return EpsScan(scales, first, late, math.hypot(1.0, noise), steps, last)


def eps_figure(scan: EpsScan):
    r"""The late step :math:`|\Delta|/\alpha` against the gradient's size, one line per :math:`\epsilon`.

    Where :math:`\sqrt{\hat v} \ll \epsilon` a dotted line shows gradient descent with the rate
    :math:`\alpha/\epsilon`: the :math:`\epsilon = 0` step times :math:`\bar g \cdot \text{rms}/\epsilon`, that is
    :math:`\alpha\,|\hat m|/\epsilon`. Needs ``0.0`` among the scan's :math:`\epsilon`. Returns ``(fig, ax)``.

    Args:
        scan: an :class:`EpsScan` that includes :math:`\epsilon = 0`.
    """
    if 0.0 not in scan.late:
        raise ValueError("scan must include eps = 0.0 (the scale-invariant reference)")
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    size, free = scan.scales, scan.late[0.0]
    ax.loglog(size, free, "s-", color="0.35", mfc="none", label=r"$\epsilon = 0$: the same step at every scale")
    for i, eps in enumerate(e for e in scan.late if e > 0):
        ax.loglog(size, scan.late[eps], "o-", color=f"C{i}", label=rf"$\epsilon = 10^{{{math.log10(eps):.0f}}}$")
        small = size * scan.rms < eps / 10
        ax.loglog(
            size[small],
            (free * size * scan.rms / eps)[small],
            ":",
            color="k",
            lw=1.6,
            zorder=3,
            label=r"$\alpha|\hat m|/\epsilon$: gradient descent, rate $\alpha/\epsilon$" if i == 0 else None,
        )
        ax.axvline(eps, color=f"C{i}", lw=0.7, ls="--")
    ax.set_xlabel(r"gradient size $\bar g$ (log scale; dashed verticals at $\bar g = \epsilon$)")
    ax.set_ylabel(r"step $|\Delta_t| / \alpha$ (log scale)")
    ax.set_title(
        f"Adam, torch's betas: the mean step over steps {scan.steps - scan.last + 1}-{scan.steps}", fontsize=10
    )
    ax.set_ylim(top=5.0)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig, ax
