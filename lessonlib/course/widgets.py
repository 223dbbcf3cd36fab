"""The functions behind the notebooks' sliders and dropdowns, and the helpers that build the widgets.

Each ``*_demo`` function is pure: it takes the widget values and returns
``(fig, text)``, a matplotlib Figure and a one-line summary, so a notebook (and a
test) can call it directly with fixed values. ``*_widget`` wraps it in a panel of
ipywidgets controls (:func:`panel`); ipywidgets is imported only there.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> fig, text = ema_demo(beta=0.9)
>>> print(text)
beta = 0.9: window about 10 steps; at t = 1 the raw average is 0.20, the corrected one 2.00 (signal mean 2 until ...
>>> plt.close(fig)
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course import figures
from lessonlib.course.objectives import by_name
from lessonlib.course.runs import OPTIMIZERS, run
from lessonlib.optim.ema import effective_window

SIGNAL_SHIFT = 100  # the step at which the demo signal's mean jumps from 2 to 4


def demo_signal(n: int = 200, *, seed: int = 0, sigma: float = 0.5) -> np.ndarray:
    r"""A noisy signal :math:`x_t = \mu_t + \sigma\,\xi_t`: mean :math:`\mu_t = 2` up to step 100, 4 after.

    The first value is exactly 2 (:math:`\xi_1 = 0`) so the bias at :math:`t = 1` reads cleanly.

    >>> x = demo_signal()
    >>> x.shape, float(x[0]), round(float(x[1:100].mean()), 1), round(float(x[100:].mean()), 1)
    ((200,), 2.0, 2.0, 4.0)
    """
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    noise = sigma * rng.standard_normal(n)
    noise[0] = 0.0
    return np.where(t <= SIGNAL_SHIFT, 2.0, 4.0) + noise


def ema_demo(beta: float = 0.9, *, corrected: bool = True, n: int = 200, seed: int = 0):
    r"""The EMA of :func:`demo_signal` for one :math:`\beta`, raw and (optionally) bias-corrected.

    Returns ``(fig, text)``; the text gives the window and the two averages at :math:`t = 1`.
    """
    x = demo_signal(n, seed=seed)
    fig, ax = figures.ema_signal(x, betas=(beta,), corrected=corrected)
    ax.axvline(SIGNAL_SHIFT + 0.5, color="0.7", lw=1)
    ax.set_title(rf"EMA with $\beta = {beta:g}$", fontsize=10)
    raw, hat = figures.ema_lines(x[:1], beta)
    text = (
        f"beta = {beta:g}: window about {effective_window(beta):.0f} steps; at t = 1 the raw average is "
        f"{raw[0]:.2f}, the corrected one {hat[0]:.2f} (signal mean 2 until t = {SIGNAL_SHIFT}, then 4)"
    )
    return fig, text


def optimizer_hyper(optimizer: str, lr: float, beta1: float, beta2: float) -> dict:
    """The keyword arguments one set of widget values means for each optimizer.

    ``beta1`` is the momentum of "momentum" (it plays the part of Adam's beta1),
    ``beta2`` is RMSprop's decay (torch calls it ``alpha``); plain SGD uses only ``lr``.

    >>> optimizer_hyper("momentum", 0.01, 0.8, 0.999), optimizer_hyper("RMSprop", 0.01, 0.8, 0.99)
    ({'lr': 0.01, 'momentum': 0.8}, {'lr': 0.01, 'alpha': 0.99})
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {list(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer].sliders(lr, beta1, beta2)


def active_betas(optimizer: str) -> dict[str, bool]:
    """Which of the two beta sliders ``optimizer`` uses (the panel greys out the other).

    >>> active_betas("RMSprop"), active_betas("Adam")
    ({'beta1': False, 'beta2': True}, {'beta1': True, 'beta2': True})
    """
    hyper = optimizer_hyper(optimizer, 1.0, 0.25, 0.5)  # distinct values, to see where each one lands
    used = {x for value in hyper.values() for x in (value if isinstance(value, tuple) else (value,))}
    return {"beta1": 0.25 in used, "beta2": 0.5 in used}


def optimizer_demo(
    optimizer: str = "Adam",
    objective: str = "quadratic",
    lr: float = 0.1,
    beta1: float = 0.9,
    beta2: float = 0.999,
    steps: int = 200,
    *,
    seed: int = 0,
):
    """One optimizer (a name of ``OPTIMIZERS``) on one objective (a name for ``objectives.by_name``).

    Returns ``(fig, text)``: the path on the contours and the loss curve, and a
    line with the hyperparameters used and the final loss.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, text = optimizer_demo("Adam", "quadratic", lr=0.1, steps=200)
    >>> text.split(" -> ")[0]
    "Adam {'lr': 0.1, 'betas': (0.9, 0.999)} on quadratic: loss 23.6"
    >>> plt.close(fig)
    """
    obj = by_name(objective)
    hyper = optimizer_hyper(optimizer, lr, beta1, beta2)
    tr = run(optimizer, obj, steps=steps, seed=seed, **hyper)
    fig, _ = figures.comparison(obj, {optimizer: tr})
    taken = len(tr.losses) - 1
    ending = f"diverged after {taken} steps" if tr.diverged else f"in {taken} steps"
    text = f"{optimizer} {hyper} on {obj.name}: loss {tr.losses[0]:.3g} -> {tr.final_loss:.3g} {ending}"
    return fig, text


def panel(fn, controls: dict):
    """A widget panel around a ``(fig, text)`` function: the controls, then the text, then the figure.

    The figure is shown as a PNG in an ``ipywidgets.Image`` and the text in a
    ``Label``; moving a control calls ``fn(**values)`` again and replaces both.
    Nothing is printed or displayed from inside the callback, so there is no
    output for a notebook runner to capture (or lose) while the panel updates.
    """
    import ipywidgets as w

    image = w.Image(format="png", layout=w.Layout(width="700px"))
    label = w.Label()

    def refresh(_change=None):
        fig, text = fn(**{key: control.value for key, control in controls.items()})
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        image.value, label.value = buf.getvalue(), text

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return w.VBox([*controls.values(), label, image])


def ema_widget():
    """A slider for beta around :func:`ema_demo` (and a box to hide the corrected line)."""
    import ipywidgets as w

    controls = {
        "beta": w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="beta", continuous_update=False),
        "corrected": w.Checkbox(value=True, description="corrected"),
    }
    return panel(ema_demo, controls)


def optimizer_widget():
    """Dropdowns and sliders around :func:`optimizer_demo`: optimizer, objective, lr, beta1, beta2, steps."""
    import ipywidgets as w

    slider = dict(continuous_update=False, readout_format=".3f")
    controls = {
        "optimizer": w.Dropdown(options=list(OPTIMIZERS), value="Adam", description="optimizer"),
        "objective": w.Dropdown(
            options=["quadratic", "Rosenbrock", "noisy"], value="quadratic", description="objective"
        ),
        "lr": w.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.1, description="lr", **slider),
        "beta1": w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="beta1", **slider),
        "beta2": w.FloatSlider(
            value=0.999, min=0.9, max=0.9999, step=0.0001, description="beta2", **{**slider, "readout_format": ".4f"}
        ),
        "steps": w.IntSlider(value=200, min=10, max=1000, step=10, description="steps", continuous_update=False),
    }

    def grey_out_unused(_change=None):
        for name, used in active_betas(controls["optimizer"].value).items():
            controls[name].disabled = not used

    controls["optimizer"].observe(grey_out_unused, names="value")
    grey_out_unused()
    return panel(optimizer_demo, controls)
