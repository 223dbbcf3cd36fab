r"""Lesson 07: Reddi, Kale & Kumar's counterexample, where Adam drifts to the worst point and AMSGrad does not.

The online problem (ICLR 2018, Theorem 1) on :math:`[-1, 1]` has :math:`f_t(\theta) = C\theta` when
:math:`t \bmod 3 = 1` and :math:`-\theta` otherwise (:math:`C > 2`); its best fixed point is :math:`\theta = -1`.
With :math:`\beta_1 = 0`, :math:`\beta_2 = 1/(1+C^2)` and the step size :math:`\alpha_t = \alpha/\sqrt t`, Adam
drifts to :math:`\theta = +1`; AMSGrad does not. :func:`run_lessonlib` and :func:`run_torch` run it with a
projection onto :math:`[-1, 1]` after each step; :func:`moments` gives every intermediate of the steps (the
functions are linear, so the gradients do not depend on :math:`\theta`). The lesson's other two experiments are
:mod:`lessonlib.course.eps_scan` and :mod:`lessonlib.course.scale_shift`.

>>> counterexample_beta2(3.0)
0.1
>>> [counterexample_grad(t, 3.0) for t in range(1, 7)]
[3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
>>> run = run_lessonlib(3.0, steps=300)
>>> float(run.theta[-1]), round(float(run_lessonlib(3.0, steps=300, amsgrad=True).theta[-1]), 2)
(1.0, -0.98)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.optim._checks import MAX_RUN_STEPS, check_betas, check_bool, check_int, check_real, check_reals
from lessonlib.optim.adam import Adam, AdamStep, adam_trace

#: The feasible set of the counterexample, :math:`\mathcal F = [-1, 1]`.
BOUNDS = (-1.0, 1.0)


#: The largest C taken: C^2 (in beta2 and in v) and the regret's sums stay within float range.
MAX_C = 1e100


def _check_C(C) -> float:
    C = check_real("C", C)
    if not 2.0 < C <= MAX_C:
        raise ValueError(
            f"Invalid C: {C} (allowed: 2 < C <= {MAX_C:.0e}; C > 2 is the paper's condition, then theta = -1 is the "
            "best point)"
        )
    return C


def counterexample_beta2(C) -> float:
    r"""The :math:`\beta_2` of the paper's Theorem 1, :math:`1/(1+C^2)`: 0.1 for :math:`C = 3`.

    Args:
        C: the large gradient, :math:`C > 2`.
    """
    return 1.0 / (1.0 + _check_C(C) ** 2)


def counterexample_grad(t, C) -> float:
    r"""The gradient of :math:`f_t`, the same at every :math:`\theta`: :math:`C` if :math:`t \bmod 3 = 1`, else -1.

    Args:
        t: the step, 1-based.
        C: the large gradient, :math:`C > 2`.
    """
    t, C = check_int("t", t, low=1), _check_C(C)
    return C if t % 3 == 1 else -1.0


def counterexample_loss(theta, t, C):
    r""":math:`f_t(\theta) = C \theta` when :math:`t \bmod 3 = 1`, else :math:`-\theta` (numbers or arrays).

    Args:
        theta: the point(s) played, in :math:`[-1, 1]`.
        t: the step, 1-based.
        C: the large gradient, :math:`C > 2`.
    """
    return counterexample_grad(t, C) * check_reals("theta", theta, low=-math.inf)


def best_fixed_point(C, steps) -> float:
    r"""The fixed :math:`\theta \in [-1, 1]` with the least total loss :math:`\sum_{t \le T} f_t(\theta)`.

    The total is linear in :math:`\theta` with slope :math:`\sum_t g_t`, so the best point is an end of the
    interval: :math:`-1` when the slope is positive (every full cycle of three steps adds :math:`C - 2 > 0`).

    Args:
        C: the large gradient, :math:`C > 2`.
        steps: :math:`T \ge 1`.
    """
    steps = check_int("steps", steps, low=1, high=MAX_RUN_STEPS)
    slope = math.fsum(counterexample_grad(t, C) for t in range(1, steps + 1))
    return BOUNDS[0] if slope > 0 else BOUNDS[1]


def average_regret(theta_played, C) -> float:
    r"""The average regret :math:`R_T/T = \frac1T\bigl(\sum_t f_t(\theta_t) - \min_{\theta} \sum_t f_t(\theta)\bigr)`.

    Args:
        theta_played: :math:`\theta_1, \dots, \theta_T`, the point played at each step (before that step's update:
            ``CounterexampleRun.theta[:-1]``).
        C: the large gradient, :math:`C > 2`.
    """
    theta_played = check_reals("theta_played", theta_played, low=-math.inf)
    if theta_played.ndim != 1 or theta_played.size == 0:
        raise ValueError(f"theta_played must be a non-empty 1-D array of points, got shape {theta_played.shape}")
    T = theta_played.size
    g = np.array([counterexample_grad(t, C) for t in range(1, T + 1)])
    best = best_fixed_point(C, T)
    return float(math.fsum(g * theta_played) - math.fsum(g * best)) / T


@dataclass(frozen=True)
class CounterexampleRun:
    r"""One run of the counterexample, per step.

    ``theta[t]`` is the point after :math:`t` projected steps (``theta[0]`` the start); ``alpha_t``, ``v`` and ``v_max``
    are per step :math:`t = 1, \dots, T` (``v_max`` is None without AMSGrad).
    """

    theta: np.ndarray
    alpha_t: np.ndarray
    v: np.ndarray
    v_max: np.ndarray | None
    label: str


def _counterexample_hyper(C, steps, alpha, betas, eps, amsgrad, theta0):
    C, steps = _check_C(C), check_int("steps", steps, low=1, high=MAX_RUN_STEPS)
    alpha, eps = check_real("alpha", alpha), check_real("eps", eps)
    theta0 = check_real("theta0", theta0, low=-1.0)
    if theta0 > 1.0:
        raise ValueError(f"Invalid theta0: {theta0} (allowed: -1 <= theta0 <= 1, the feasible set)")
    betas = (0.0, counterexample_beta2(C)) if betas is None else check_betas(betas)
    return C, steps, alpha, betas, eps, check_bool("amsgrad", amsgrad), theta0


def _label(amsgrad: bool) -> str:
    return "AMSGrad" if amsgrad else "Adam"


def run_lessonlib(
    C=3.0, *, steps=3000, alpha=0.5, betas=None, eps=1e-8, amsgrad=False, theta0=0.0
) -> CounterexampleRun:
    r"""The counterexample with ``ll.Adam`` on a 1-element float64 array, projected onto :math:`[-1, 1]`.

    Before step :math:`t` the learning rate is set to :math:`\alpha_t = \alpha/\sqrt t` (the paper's
    schedule); after it, ``np.clip(theta, -1, 1, out=theta)`` projects the point back.

    Args:
        C: the large gradient, :math:`C > 2`.
        steps: :math:`T`.
        alpha: :math:`\alpha`, the base step size.
        betas: :math:`(\beta_1, \beta_2)`; by default the paper's :math:`(0, 1/(1+C^2))`.
        eps: :math:`\epsilon`.
        amsgrad: run AMSGrad instead.
        theta0: the starting point in :math:`[-1, 1]`.
    """
    C, steps, alpha, betas, eps, amsgrad, theta0 = _counterexample_hyper(C, steps, alpha, betas, eps, amsgrad, theta0)
    theta = np.array([theta0])
    opt = Adam([theta], lr=alpha, betas=betas, eps=eps, amsgrad=amsgrad)
    thetas, lrs, vs, v_maxes = [theta0], [], [], []
    for t in range(1, steps + 1):
        opt.lr = alpha / math.sqrt(t)
        opt.step([np.array([counterexample_grad(t, C)])])
        np.clip(theta, *BOUNDS, out=theta)
        state = opt.state[0]
        thetas.append(float(theta[0]))
        lrs.append(opt.lr)
        vs.append(float(state["v"][0]))
        if amsgrad:
            v_maxes.append(float(state["v_max"][0]))
    v_max = np.array(v_maxes) if amsgrad else None
    return CounterexampleRun(np.array(thetas), np.array(lrs), np.array(vs), v_max, _label(amsgrad))


def run_torch(C=3.0, *, steps=3000, alpha=0.5, betas=None, eps=1e-8, amsgrad=False, theta0=0.0) -> CounterexampleRun:
    r"""The same run with ``torch.optim.Adam`` on a 1-element float64 tensor, ``clamp_`` after each step.

    Imports torch when called (the rest of this module works without it). The arguments are those of
    :func:`run_lessonlib`; ``v`` and ``v_max`` are torch's ``exp_avg_sq`` and ``max_exp_avg_sq``.
    """
    import torch

    C, steps, alpha, betas, eps, amsgrad, theta0 = _counterexample_hyper(C, steps, alpha, betas, eps, amsgrad, theta0)
    p = torch.tensor([theta0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=alpha, betas=betas, eps=eps, amsgrad=amsgrad, foreach=False)
    thetas, lrs, vs, v_maxes = [theta0], [], [], []
    for t in range(1, steps + 1):
        opt.param_groups[0]["lr"] = alpha / math.sqrt(t)
        p.grad = torch.tensor([counterexample_grad(t, C)], dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            p.clamp_(*BOUNDS)
        state = opt.state[p]
        thetas.append(p.item())
        lrs.append(opt.param_groups[0]["lr"])
        vs.append(state["exp_avg_sq"].item())
        if amsgrad:
            v_maxes.append(state["max_exp_avg_sq"].item())
    v_max = np.array(v_maxes) if amsgrad else None
    return CounterexampleRun(np.array(thetas), np.array(lrs), np.array(vs), v_max, _label(amsgrad) + " (torch)")


def moments(C=3.0, *, steps=12, betas=None, eps=1e-8, amsgrad=False) -> list[AdamStep]:
    r"""Every intermediate of the counterexample's first ``steps`` steps, from ``ll.adam_trace`` with ``lr = 1``.

    The losses are linear, so :math:`g_t` does not depend on :math:`\theta`: the moments, and the update in
    units of :math:`\alpha_t` (``AdamStep.update``), are those of any run, projected or not.

    Args:
        C: the large gradient, :math:`C > 2`.
        steps: how many steps.
        betas: :math:`(\beta_1, \beta_2)`, by
            default the paper's.
        eps: :math:`\epsilon`.
        amsgrad: keep :math:`v^{\max}` (``AdamStep.v_max``).
    """
    C, steps, _, betas, eps, amsgrad, _ = _counterexample_hyper(C, steps, 1.0, betas, eps, amsgrad, 0.0)
    grads = [counterexample_grad(t, C) for t in range(1, steps + 1)]
    hyper = {"lr": 1.0, "beta1": betas[0], "beta2": betas[1], "eps": eps}
    if amsgrad:
        hyper["v_max"] = 0.0
    return adam_trace(0.0, grads, **hyper)


def counterexample_figure(trajectories, *, C=3.0):
    r""":math:`\theta_t` of each :class:`CounterexampleRun` (a list), with the best fixed point; returns ``(fig, ax)``.

    Args:
        trajectories: the runs to draw.
        C: the problem's large gradient (for the title).
    """
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    for tr in trajectories:
        color = "C1" if tr.label.startswith("AMSGrad") else "C0"
        torch_run = tr.label.endswith("(torch)")  # drawn thin and dashed on top of lessonlib's line
        ax.plot(
            np.arange(tr.theta.size),
            tr.theta,
            "--" if torch_run else "-",
            color="k" if torch_run else color,
            lw=0.9 if torch_run else 2.4,
            label=tr.label,
        )
    best = best_fixed_point(C, max(tr.theta.size - 1 for tr in trajectories))
    ax.axhline(best, color="0.4", lw=0.9, ls=(0, (4, 3)), label=rf"best fixed point $\theta = {best:+.0f}$")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, max(tr.theta.size - 1 for tr in trajectories))
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("step $t$ (log scale beyond 10)")
    ax.set_ylabel(r"$\theta_t$ (projected onto $[-1, 1]$)")
    b2 = counterexample_beta2(C)
    ax.set_title(
        rf"$f_t(\theta) = {C:g}\theta$ every third step, $-\theta$ otherwise; $\beta_1 = 0$, $\beta_2 = {b2:.4g}$",
        fontsize=10,
    )
    ax.legend(fontsize=9, loc="center right")
    fig.tight_layout()
    return fig, ax


def moments_figure(adam_steps, amsgrad_steps):
    r""":math:`v_t` and :math:`v^{\max}_t` (left) and the step :math:`|\Delta_t|/\alpha_t` (right), per step.

    Returns ``(fig, axes)``.

    Args:
        adam_steps: :func:`moments` of the problem, without AMSGrad.
        amsgrad_steps: :func:`moments` of the same problem with AMSGrad.
    """
    t = np.arange(1, len(adam_steps) + 1)
    fig, (ax_v, ax_s) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    ax_v.plot(t, [s.v for s in adam_steps], "o-", color="C0", label="$v_t$ (Adam and AMSGrad)")
    ax_v.plot(t, [s.v_max for s in amsgrad_steps], "s--", color="C1", mfc="none", label=r"$v^{\max}_t$ (AMSGrad)")
    ax_v.set_xlabel("step $t$")
    ax_v.set_ylabel("second moment")
    ax_v.set_title("what the denominator remembers", fontsize=10)
    ax_v.set_ylim(0.0, 1.35 * max(s.v_max for s in amsgrad_steps))
    ax_v.legend(fontsize=9, loc="upper center", ncol=2)
    for steps, name, color, marker in ((adam_steps, "Adam", "C0", "o"), (amsgrad_steps, "AMSGrad", "C1", "s")):
        ax_s.plot(
            t,
            [s.update for s in steps],
            marker + "-",
            color=color,
            mfc="none" if name == "AMSGrad" else None,
            label=name,
        )
    ax_s.axhline(0.0, color="0.4", lw=0.8)
    ax_s.set_xlabel("step $t$")
    ax_s.set_ylabel(r"update $\Delta_t / \alpha_t$ (positive: $\theta$ moves down)")
    ax_s.set_title("the step each gradient buys", fontsize=10)
    top = max(abs(s.update) for s in (*adam_steps, *amsgrad_steps))
    ax_s.set_ylim(-1.15 * top, 1.6 * top)
    ax_s.legend(fontsize=9, loc="upper center", ncol=2)
    fig.tight_layout()
    return fig, (ax_v, ax_s)
