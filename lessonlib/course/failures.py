r"""Lesson 07: when Adam fails, and the knobs people turn (AMSGrad, :math:`\epsilon`, :math:`\beta_2`).

Three experiments, as functions that tests can check, and the figures that show them:

- **Reddi, Kale & Kumar's counterexample** (ICLR 2018, Theorem 1): the online problem on
  :math:`[-1, 1]` with :math:`f_t(\theta) = C\theta` when :math:`t \bmod 3 = 1` and :math:`-\theta` otherwise
  (:math:`C > 2`), whose best fixed point is :math:`\theta = -1`. With :math:`\beta_1 = 0`,
  :math:`\beta_2 = 1/(1+C^2)` and the step size :math:`\alpha_t = \alpha/\sqrt t`, Adam drifts to
  :math:`\theta = +1`; AMSGrad does not. :func:`run_lessonlib` and :func:`run_torch` run it with a
  projection onto :math:`[-1, 1]` after each step; :func:`moments` gives every intermediate of the
  steps (the functions are linear, so the gradients do not depend on :math:`\theta`).
- **eps as a cap on the step**: :func:`eps_scan` measures Adam's step, in units of :math:`\alpha`,
  for gradients from :math:`10^{-12}` to :math:`1` in size.
- **the choice of beta2**: :func:`scale_shift` changes the gradient's scale twice during a run and
  measures how long :math:`\sqrt{\hat v}` takes to follow, and how much it jitters.

>>> counterexample_beta2(3.0)
0.1
>>> [counterexample_grad(t, 3.0) for t in range(1, 7)]
[3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
>>> tr = run_lessonlib(3.0, steps=300)
>>> float(tr.theta[-1]), round(float(run_lessonlib(3.0, steps=300, amsgrad=True).theta[-1]), 2)
(1.0, -0.98)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.optim._checks import check_beta, check_bool, check_real
from lessonlib.optim.adam import Adam, AdamStep, adam_trace
from lessonlib.optim.ema import effective_window

# ---------------------------------------------------------------------------------------------------------------------
# Reddi, Kale & Kumar (2018): the online problem on [-1, 1]

#: The feasible set of the counterexample, :math:`\mathcal F = [-1, 1]`.
BOUNDS = (-1.0, 1.0)


def _check_steps(name: str, value, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < low:
        raise ValueError(f"Invalid {name}: {value} (allowed: {name} >= {low})")
    return int(value)


def _check_C(C) -> float:
    C = check_real("C", C)
    if not C > 2.0:
        raise ValueError(f"Invalid C: {C} (allowed: C > 2, the paper's condition; then theta = -1 is the best point)")
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
    t, C = _check_steps("t", t), _check_C(C)
    return C if t % 3 == 1 else -1.0


def counterexample_loss(theta, t, C):
    r""":math:`f_t(\theta) = C \theta` when :math:`t \bmod 3 = 1`, else :math:`-\theta` (numbers or arrays).

    Args:
        theta: the point(s) played, in :math:`[-1, 1]`.
        t: the step, 1-based.
        C: the large gradient, :math:`C > 2`.
    """
    return counterexample_grad(t, C) * np.asarray(theta, dtype=np.float64)


def best_fixed_point(C, steps) -> float:
    r"""The fixed :math:`\theta \in [-1, 1]` with the least total loss :math:`\sum_{t \le T} f_t(\theta)`.

    The total is linear in :math:`\theta` with slope :math:`\sum_t g_t`, so the best point is an end of the
    interval: :math:`-1` when the slope is positive (every full cycle of three steps adds :math:`C - 2 > 0`).

    Args:
        C: the large gradient, :math:`C > 2`.
        steps: :math:`T \ge 1`.
    """
    steps = _check_steps("steps", steps)
    slope = math.fsum(counterexample_grad(t, C) for t in range(1, steps + 1))
    return BOUNDS[0] if slope > 0 else BOUNDS[1]


def average_regret(theta_played, C) -> float:
    r"""The average regret :math:`R_T/T = \frac1T\bigl(\sum_t f_t(\theta_t) - \min_{\theta} \sum_t f_t(\theta)\bigr)`.

    Args:
        theta_played: :math:`\theta_1, \dots, \theta_T`, the point played at each step (before that step's update:
            ``Trajectory.theta[:-1]``).
        C: the large gradient, :math:`C > 2`.
    """
    theta_played = np.asarray(theta_played, dtype=np.float64)
    if theta_played.ndim != 1 or theta_played.size == 0:
        raise ValueError(f"theta_played must be a non-empty 1-D array of points, got shape {theta_played.shape}")
    T = theta_played.size
    g = np.array([counterexample_grad(t, C) for t in range(1, T + 1)])
    best = best_fixed_point(C, T)
    return float(math.fsum(g * theta_played) - math.fsum(g * best)) / T


@dataclass(frozen=True)
class Trajectory:
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
    C, steps = _check_C(C), _check_steps("steps", steps)
    alpha, eps = check_real("alpha", alpha), check_real("eps", eps)
    theta0 = check_real("theta0", theta0, low=-1.0)
    if theta0 > 1.0:
        raise ValueError(f"Invalid theta0: {theta0} (allowed: -1 <= theta0 <= 1, the feasible set)")
    betas = (
        (0.0, counterexample_beta2(C))
        if betas is None
        else (check_beta("beta1", betas[0]), check_beta("beta2", betas[1]))
    )
    return C, steps, alpha, betas, eps, check_bool("amsgrad", amsgrad), theta0


def _label(amsgrad: bool) -> str:
    return "AMSGrad" if amsgrad else "Adam"


def run_lessonlib(C=3.0, *, steps=3000, alpha=0.5, betas=None, eps=1e-8, amsgrad=False, theta0=0.0) -> Trajectory:
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
    return Trajectory(np.array(thetas), np.array(lrs), np.array(vs), v_max, _label(amsgrad))


def run_torch(C=3.0, *, steps=3000, alpha=0.5, betas=None, eps=1e-8, amsgrad=False, theta0=0.0) -> Trajectory:
    r"""The same run with ``torch.optim.Adam`` on a 1-element float64 tensor, ``clamp_`` after each step.

    Imports torch when called (the rest of this module works without it). The arguments are those of
    :func:`run_lessonlib`; ``v`` and ``v_max`` are torch's ``exp_avg_sq`` and ``max_exp_avg_sq``.

    Args:
        C: the large gradient, :math:`C > 2`.
        steps: :math:`T`.
        alpha: :math:`\alpha`, the base step size.
        betas: :math:`(\beta_1, \beta_2)`; by default the paper's :math:`(0, 1/(1+C^2))`.
        eps: :math:`\epsilon`.
        amsgrad: run AMSGrad instead.
        theta0: the starting point in :math:`[-1, 1]`.
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
    return Trajectory(np.array(thetas), np.array(lrs), np.array(vs), v_max, _label(amsgrad) + " (torch)")


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
    r""":math:`\theta_t` of each :class:`Trajectory` (a list), with the best fixed point; returns ``(fig, ax)``.

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


# ---------------------------------------------------------------------------------------------------------------------
# eps: a cap on the step when the gradients are tiny


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
    scales = np.asarray(scales, dtype=np.float64)
    if scales.ndim != 1 or scales.size == 0 or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(f"scales must be a non-empty 1-D array of finite numbers > 0, got {scales!r}")
    steps, last = _check_steps("steps", steps), _check_steps("last", last)
    if last > steps:
        raise ValueError(f"Invalid last: {last} (allowed: 1 <= last <= steps = {steps})")
    noise = check_real("noise", noise)
    eps_values = tuple(check_real("eps", e) for e in eps_values)
    xi = np.random.default_rng(seed).standard_normal(steps)
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


# ---------------------------------------------------------------------------------------------------------------------
# beta2: how fast v follows a change in the gradient's scale, and how much it jitters


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
        target: the value it should reach.
        start: the index of the first step at the new scale.
        tol: the relative tolerance, > 0.
    """
    root_v_hat = np.asarray(root_v_hat, dtype=np.float64)
    tol = check_real("tol", tol)
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
    steps, window = _check_steps("steps", steps), _check_steps("window", window)
    shifts = tuple((_check_steps("shift step", at), check_real("new scale", new)) for at, new in shifts)
    if not shifts or any(b[0] <= a[0] for a, b in zip(shifts, shifts[1:])) or shifts[-1][0] >= steps:
        raise ValueError(f"Invalid shifts: {shifts} (allowed: increasing steps, each below steps = {steps})")
    if window > shifts[0][0]:
        raise ValueError(f"Invalid window: {window} (allowed: at most the first shift's step, {shifts[0][0]})")
    if any(new <= 0 for _, new in shifts) or check_real("start_scale", start_scale) <= 0:
        raise ValueError("every scale must be > 0")
    noise, tol = check_real("noise", noise), check_real("tol", tol)
    scale = _shift_scale(steps, shifts, float(start_scale))
    g = scale * (1.0 + noise * np.random.default_rng(seed).standard_normal(steps))
    rms = math.hypot(1.0, noise)
    root_v_hat, step, adapt, jitter, step_jitter = {}, {}, {}, {}, {}
    for b2 in beta2s:
        b2 = check_beta("beta2", b2)
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
