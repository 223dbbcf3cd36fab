r"""Lesson 07: the choice of :math:`\beta_2`, how fast :math:`\sqrt{\hat v}` follows a change of the gradient's scale.

:func:`scale_shift` changes the gradient's scale twice during a run and measures how long :math:`\sqrt{\hat v}`
takes to follow, and how much it jitters, one run per :math:`\beta_2`; :func:`scale_shift_figure` draws it.

>>> result = scale_shift((0.9,), shifts=((200, 10.0),), steps=400, window=100, noise=0.0)
>>> result.adapt[0.9], round(result.jitter[0.9], 12)   # 1 + 99 (1 - 0.9^k) >= 0.9^2 * 100 first at k = 15
([15], 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.optim._checks import brief, check_beta, check_int, check_real, check_reals, check_seed
from lessonlib.optim.adam import Adam
from lessonlib.optim.ema import effective_window


@dataclass(frozen=True)
class ScaleShift:
    r"""Runs of Adam on gradients whose scale changes at given steps, one per :math:`\beta_2`.

    ``scale[t-1]`` is the gradient's scale at step :math:`t`; ``root_v_hat[b2]`` is :math:`\sqrt{\hat v_t}` and
    ``step[b2]`` the update :math:`\Delta_t/\alpha` per step. ``rms`` is the gradient's RMS in units of its
    scale, so :math:`\sqrt{\hat v_t}` should be ``rms * scale``. ``adapt[b2][k]`` is how many steps after the
    ``k``-th change :math:`\sqrt{\hat v}` first lies within ``tol`` of its new target; ``jitter[b2]`` is the
    relative standard deviation of :math:`\sqrt{\hat v}` and ``step_jitter[b2]`` the standard deviation of
    the step, both over the ``window`` steps before the first change.
    """

    scale: np.ndarray
    shifts: tuple
    root_v_hat: dict
    step: dict
    rms: float
    adapt: dict
    jitter: dict
    step_jitter: dict
    tol: float
    window: int


def _shift_scale(steps, shifts, start_scale) -> np.ndarray:
    scale = np.full(steps, start_scale)
    for at, new in shifts:
        scale[at:] = new  # step t = at + 1 (index at) is the first at the new scale
    return scale


def adaptation_steps(root_v_hat, target, start, tol) -> int:
    r"""Steps from ``start`` until :math:`\sqrt{\hat v_t}` is within ``tol`` of ``target``.

    That is, until :math:`|\sqrt{\hat v_t}/\text{target} - 1| <` ``tol`` first holds (``-1`` if it never does);
    ``start`` is the 0-based index of the first step at the new scale.

    Args:
        root_v_hat: :math:`\sqrt{\hat v_t}` per step.
        target: the value it should reach, > 0.
        start: the index of the first step at the new scale.
        tol: the relative tolerance, > 0.
    """
    root_v_hat = check_reals("root_v_hat", root_v_hat, low=0.0)
    if root_v_hat.ndim != 1 or root_v_hat.size == 0:
        raise ValueError(f"root_v_hat must be a non-empty 1-D sequence (a value per step), shape {root_v_hat.shape}")
    target, tol = check_real("target", target), check_real("tol", tol)
    for name, value in (("target", target), ("tol", tol)):
        if value == 0:  # target divides; a tolerance of 0 is never met
            raise ValueError(f"Invalid {name}: 0.0 (allowed: {name} > 0)")
    start = check_int("start", start)
    if start >= root_v_hat.size:
        raise ValueError(
            f"Invalid start: {brief(start)} (allowed: an index of root_v_hat, 0 <= start < {root_v_hat.size})"
        )
    close = np.flatnonzero(np.abs(root_v_hat[start:] / target - 1.0) < tol)
    return int(close[0]) if close.size else -1


def scale_shift(
    beta2s=(0.999, 0.99, 0.95),
    *,
    shifts=((3000, 10.0), (9000, 1.0)),
    steps=16000,
    start_scale=1.0,
    noise=0.3,
    beta1=0.9,
    eps=1e-8,
    tol=0.1,
    window=1000,
    seed=0,
) -> ScaleShift:
    r"""Adam (``lr = 1``) on gradients :math:`\gamma_t\,(1 + \text{noise}\,\xi_t)` (scale :math:`\gamma_t`).

    The scale changes at ``shifts``. Every :math:`\beta_2` sees the same seeded :math:`\xi_t`. The default run
    starts at scale 1, jumps to 10 after step 3000 and back to 1 after step 9000: :math:`\sqrt{\hat v}` must first
    grow tenfold, then shrink tenfold.

    Args:
        beta2s: the :math:`\beta_2` to compare.
        shifts: pairs ``(step, new_scale)``; the scale is
            ``new_scale`` from step ``step + 1`` on.
        steps: the run's length.
        start_scale: the first scale.
        noise: :math:`\sigma/\bar g` of the gradient.
        beta1: :math:`\beta_1`.
        eps: :math:`\epsilon`.
        tol: the relative tolerance of ``adapt``.
        window: the steps before the first change that the
            jitters are measured over.
        seed: the generator's seed.
    """
    steps, window = check_int("steps", steps, low=1), check_int("window", window, low=1)
    shifts = tuple((check_int("shift step", at, low=1), check_real("new scale", new)) for at, new in shifts)
    if not shifts or any(b[0] <= a[0] for a, b in zip(shifts, shifts[1:])) or shifts[-1][0] >= steps:
        raise ValueError(f"Invalid shifts: {shifts} (allowed: increasing steps, each below steps = {steps})")
    if window > shifts[0][0]:
        raise ValueError(f"Invalid window: {window} (allowed: at most the first shift's step, {shifts[0][0]})")
    if any(new <= 0 for _, new in shifts) or check_real("start_scale", start_scale) <= 0:
        raise ValueError("every scale must be > 0")
    noise, tol = check_real("noise", noise), check_real("tol", tol)
    beta2s = tuple(check_beta("beta2", b2) for b2 in beta2s)
    beta1, eps, seed = check_beta("beta1", beta1), check_real("eps", eps), check_seed(seed)
    scale = _shift_scale(steps, shifts, float(start_scale))
    g = scale * (1.0 + noise * np.random.default_rng(seed).standard_normal(steps))
    rms = math.hypot(1.0, noise)
    root_v_hat, step, adapt, jitter, step_jitter = {}, {}, {}, {}, {}
    for b2 in beta2s:
        theta = np.zeros(1)
        opt = Adam([theta], lr=1.0, betas=(beta1, b2), eps=eps)
        roots, ups = np.empty(steps), np.empty(steps)
        for t in range(1, steps + 1):
            before = theta[0]
            opt.step([g[t - 1 : t]])
            roots[t - 1] = math.sqrt(opt.state[0]["v"][0] / (1.0 - b2**t))
            ups[t - 1] = before - theta[0]
        root_v_hat[b2], step[b2] = roots, ups
        adapt[b2] = [adaptation_steps(roots, rms * new, at, tol) for at, new in shifts]
        calm = slice(shifts[0][0] - window, shifts[0][0])
        jitter[b2] = float(np.std(roots[calm]) / np.mean(roots[calm]))
        step_jitter[b2] = float(np.std(ups[calm]))
    return ScaleShift(scale, shifts, root_v_hat, step, rms, adapt, jitter, step_jitter, tol, window)


def scale_shift_figure(result: ScaleShift, *, zoom=(-30, 300)):
    r"""How :math:`\sqrt{\hat v_t}` follows a change of scale, and what the steps do meanwhile.

    Left, :math:`\sqrt{\hat v_t}` over the whole run (log scale, with the target); right, the step
    :math:`\Delta_t/\alpha` around the first change. Returns ``(fig, axes)``.

    Args:
        result: a :class:`ScaleShift`.
        zoom: the steps around the first change that the right panel shows.
    """
    fig, (ax_v, ax_s) = plt.subplots(1, 2, figsize=(11.0, 4.0), width_ratios=(1.3, 1.0))
    t = np.arange(1, result.scale.size + 1)
    target = result.rms * result.scale
    ax_v.semilogy(t, target, color="k", lw=1.0, ls="--", zorder=10, label=r"target $\sqrt{E[g^2]}$")
    at = result.shifts[0][0]
    lo, hi = max(0, at + zoom[0]), min(t.size, at + zoom[1])
    for i, (b2, roots) in enumerate(result.root_v_hat.items()):
        window = effective_window(b2)
        label, z = rf"$\beta_2 = {b2:g}$ (window {window:.0f})", 5 - i  # the longest memory on top
        ax_v.semilogy(t, roots, color=f"C{i}", lw=1.0, zorder=z, label=label)
        ax_s.plot(t[lo:hi] - at, result.step[b2][lo:hi], color=f"C{i}", lw=1.0, zorder=z, label=label)
    ax_v.set_xlabel("step $t$")
    ax_v.set_ylabel(r"$\sqrt{\hat v_t}$ (log scale)")
    ax_v.set_title("the denominator follows the gradient's scale", fontsize=10)
    ax_v.set_ylim(target.min() / 1.6, target.max() * 5)  # room for the legend above the curves
    ax_v.legend(fontsize=8, loc="upper center", ncol=2)
    ax_s.axvline(0.0, color="0.4", lw=0.8)
    ax_s.axhline(
        result.rms**-1, color="0.4", lw=0.8, ls="--", label=r"$\bar g/\sqrt{\bar g^2+\sigma^2}$, the usual step"
    )
    ax_s.set_xlabel(f"steps since the scale jumped from {result.scale[at - 1]:g} to {result.scale[at]:g}")
    ax_s.set_ylabel(r"step $\Delta_t / \alpha$")
    ax_s.set_title("the step right after the jump", fontsize=10)
    ax_s.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig, (ax_v, ax_s)
