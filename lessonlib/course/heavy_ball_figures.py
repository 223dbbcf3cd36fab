r"""Lesson 02's figures of the heavy ball: the rate map, the three regimes, and the damping demo and its widget.

The analysis they draw is :mod:`lessonlib.course.heavy_ball`.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course.heavy_ball import (
    BOWL,
    curvatures,
    envelope,
    flips_sign,
    gd_optimal,
    heavy_ball_run,
    polyak_optimal,
    rate,
    regime,
    spectral_radius,
    stable_lr,
    steps_per_e,
)
from lessonlib.optim._checks import check_beta, check_int, check_real


def rate_map(hs=BOWL, *, n: int = 301, ax=None):
    r"""The bowl's rate :math:`r(\alpha, \mu)` over the plane of hyperparameters.

    Marked: the stable edge :math:`\alpha = 2(1+\mu)/h_{\max}`, gradient descent's best step and Polyak's optimum.

    Returns ``(fig, ax)``.

    Args:
        hs: the curvatures :math:`h_i > 0`.
        n: the grid's points per axis.
        ax: an Axes to draw on, or None for a new figure.
    """
    hs = curvatures(hs)
    n = check_int("n", n, low=2)
    lo, hi = float(hs.min()), float(hs.max())
    mu = np.linspace(0.0, 0.99, n)
    lr = np.linspace(0.0, 1.05 * stable_lr(hi, 0.99), n)[1:]
    LR, MU = np.meshgrid(lr, mu)
    r = rate(hs, LR, MU)
    fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
    levels = [0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1.0]
    filled = ax.contourf(LR, MU, np.minimum(r, 1.0), levels=levels, cmap="viridis_r", extend="neither")
    ax.contourf(LR, MU, r, levels=[1.0, np.inf], colors=["0.88"])
    edge = np.linspace(0.0, 0.99, 100)
    ax.plot([stable_lr(hi, m) for m in edge], edge, "-", color="C3", lw=1.5, label=r"stable edge $2(1+\mu)/h_{\max}$")
    gd, hb = gd_optimal(lo, hi), polyak_optimal(lo, hi)
    ax.plot(
        gd.lr, 0.0, "o", color="C1", markersize=8, clip_on=False, label=f"best gradient descent, rate {gd.rate:.3f}"
    )
    share = hb.lr / stable_lr(hi, hb.momentum)  # kappa / (kappa + 1): just inside the edge, not on it
    ax.plot(
        hb.lr,
        hb.momentum,
        "*",
        color="C3",
        markersize=14,
        label=f"Polyak's optimum, rate {hb.rate:.3f}\n(at {share:.3f} of the edge's $\\alpha$)",
    )
    ax.text(0.98 * lr[-1], 0.05, "unstable\n" + r"($r \geq 1$)", ha="right", va="bottom", fontsize=9, color="0.3")
    fig.colorbar(filled, ax=ax, label=r"rate $r$ (the error shrinks by $r$ per step)")
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(r"momentum $\mu$")
    ax.set_ylim(0, 0.99)
    ax.grid(False)
    curv = ", ".join(f"{x:g}" for x in hs)
    ax.set_title(rf"Rate of the heavy ball on the bowl $h = ({curv})$", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    return fig, ax


def regimes_figure(h=1.0, lr=None, momenta=(0.3, None, 0.95), *, steps: int = 80):
    r"""One direction of curvature ``h`` under the heavy ball, one panel per momentum.

    The momenta are chosen over-, critically and under-damped.

    Each panel shows :math:`\tilde\theta_t / \tilde\theta_0` (from :func:`heavy_ball_run`), dashed its exact
    :func:`envelope` (which
    decays like :math:`t\,r^t` for the double root of critical damping), and dotted :math:`\pm r^t` for scale.
    ``lr`` defaults to Polyak's for :data:`BOWL`; a ``None`` in ``momenta`` is the critical momentum
    :math:`(1 - \sqrt{\alpha h})^2`. Returns ``(fig, axes)``.

    Args:
        h: :math:`h > 0`.
        lr: :math:`\alpha`, or None.
        momenta: the :math:`\mu` of each panel (None: critical).
        steps: how many steps to draw.
    """
    lr = polyak_optimal(min(BOWL), max(BOWL)).lr if lr is None else check_real("lr", lr)
    h = check_real("h", h)
    steps = check_int("steps", steps)
    momenta = [(1 - math.sqrt(lr * h)) ** 2 if m is None else check_beta("momentum", m) for m in momenta]
    fig, axes = plt.subplots(1, len(momenta), figsize=(10.0, 3.8), sharey=True, squeeze=False)
    axes = axes[0]
    t = np.arange(steps + 1)
    for ax, mu in zip(axes, momenta):
        err = heavy_ball_run([h], lr, mu, steps)[:, 0]
        r = spectral_radius(h, lr, mu)
        env, label = envelope(h, lr, mu, steps)
        ax.plot(t, err, "-", color="C0", lw=1.8, label=r"$\tilde\theta_t / \tilde\theta_0$")
        ax.plot(t, env, "--", color="C3", lw=1.2, label=label)
        ax.plot(t, -env, "--", color="C3", lw=1.2)
        ax.plot(t, r**t, ":", color="0.4", lw=1.2, label=r"$\pm r^t$")
        ax.plot(t, -(r**t), ":", color="0.4", lw=1.2)
        ax.axhline(0.0, color="0.3", lw=0.6)
        ax.set_title(f"$\\mu = {mu:.3g}$: {regime(h, lr, mu)}\n$r = {r:.3f}$", fontsize=10)
        ax.set_xlabel("step $t$")
        ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    top = max(1.05, 1.05 * max(ax.get_lines()[1].get_ydata().max() for ax in axes))
    axes[0].set_ylim(-top, top)
    axes[0].set_ylabel(rf"error $\tilde\theta_t / \tilde\theta_0$ ($h = {h:g}$)")
    fig.suptitle(f"The heavy ball in one direction, $\\alpha = {lr:.4f}$", fontsize=11)
    fig.tight_layout()
    return fig, axes


def damping_demo(lr: float = 0.02, momentum: float = 0.9, *, hs=BOWL, steps: int = 80):
    r"""The heavy ball on the bowl for one :math:`(\alpha, \mu)`: the error in each eigen-direction over the steps.

    Left: :math:`\tilde\theta_{k,t}/\tilde\theta_{k,0}`; right: :math:`|\tilde\theta_{k,t}|` on a log scale,
    :math:`r_k^t` dashed.
    Returns ``(fig, text)``; the text gives the spectral radius and each direction's regime.

    Args:
        lr: :math:`\alpha \ge 0`.
        momentum: :math:`\mu \in [0, 1)`.
        hs: the curvatures :math:`h_i > 0`.
        steps: how many steps to run and draw.
    """
    hs = curvatures(hs)
    path = heavy_ball_run(hs, lr, momentum, steps)
    t = np.arange(steps + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    parts = []
    for i in reversed(range(len(hs))):  # the flattest direction drawn last, on top
        h = float(hs[i])
        r_i = spectral_radius(h, lr, momentum)
        kind = regime(h, lr, momentum) + (", sign flips" if flips_sign(h, lr, momentum) else "")
        left.plot(t, path[:, i], "-", color=f"C{i}", lw=1.4, label=rf"$h = {h:g}$: {kind}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            right.semilogy(t, np.abs(path[:, i]), "-", color=f"C{i}", lw=1.4)
            right.semilogy(t, r_i**t, "--", color=f"C{i}", lw=0.9)
        parts.insert(0, f"h = {h:g}: {kind} (r {r_i:.3f})")
    with np.errstate(over="ignore", invalid="ignore"):
        size = np.abs(path[np.isfinite(path)])
    top = float(min(max(size.max(initial=1.0), 1.0), 5.0)) * 1.05
    left.axhline(0.0, color="0.3", lw=0.6)
    left.set_ylim(-top, top)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"error $\tilde\theta_{k,t} / \tilde\theta_{k,0}$")
    handles, labels = left.get_legend_handles_labels()
    left.legend(handles[::-1], labels[::-1], loc="lower right", fontsize=8, framealpha=0.85, frameon=True)
    positive = size[size > 0]
    right.set_ylim(max(1e-12, positive.min(initial=1.0) / 3), min(1e6, max(3.0, 3 * positive.max(initial=1.0))))
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\tilde\theta_{k,t}|$ (log); dashed: $r_k^t$")
    fig.suptitle(rf"Heavy ball on the bowl, $\alpha = {lr:.4f}$, $\mu = {momentum:.2f}$", fontsize=11)
    fig.tight_layout()
    r = rate(hs, lr, momentum)
    if abs(r - 1) <= 1e-9:
        head = f"alpha = {lr:.4f}, mu = {momentum:.2f}: on the stable edge, spectral radius 1 (the error stays)"
    elif r > 1:
        head = f"alpha = {lr:.4f}, mu = {momentum:.2f}: unstable, spectral radius {r:.3f} > 1 (the error grows)"
    else:
        head = (
            f"alpha = {lr:.4f}, mu = {momentum:.2f}: spectral radius {r:.3f} ({steps_per_e(r):.1f} steps per factor e)"
        )
    return fig, head + "; " + "; ".join(parts)


def damping_widget():
    """Sliders for the learning rate and the momentum around :func:`damping_demo` (via ``widgets.panel``)."""
    import ipywidgets as w

    from lessonlib.course.widgets import panel

    controls = {
        "lr": w.FloatSlider(
            value=0.02,
            min=0.001,
            max=0.04,
            step=0.0005,
            description="alpha",
            readout_format=".4f",
            continuous_update=False,
        ),
        "momentum": w.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="mu", readout_format=".2f", continuous_update=False
        ),
    }
    return panel(damping_demo, controls)
