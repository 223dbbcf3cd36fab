"""The functions behind the notebooks' sliders and buttons, and the helpers that build the widgets.

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
from contextlib import contextmanager
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from lessonlib.course import figures
from lessonlib.course.objectives import by_name
from lessonlib.course.runs import OPTIMIZERS, run
from lessonlib.optim._checks import (
    MAX_RUN_STEPS,
    check_beta,
    check_int,
    check_name,
    check_real,
    check_seed,
    check_shown,
)
from lessonlib.optim.ema import effective_window

SIGNAL_SHIFT = 100  # the step at which the demo signal's mean jumps from 2 to 4
PANEL_DPI = 100  # a panel's PNG: one pixel per pixel of the page, as the notebook's own figures (figure.dpi)


def demo_signal(n: int = 200, *, seed: int = 0, sigma: float = 0.5) -> np.ndarray:
    r"""A noisy signal :math:`x_t = \bar x_t + \sigma\,\xi_t`: mean :math:`\bar x_t = 2` up to step 100, 4 after.

    The first value is exactly 2 (:math:`\xi_1 = 0`) so the bias at :math:`t = 1` reads cleanly.

    Args:
        n: the number of values, at least 1.
        seed: the seed of the noise :math:`\xi_t`.
        sigma: :math:`\sigma`.

    >>> x = demo_signal()
    >>> x.shape, float(x[0]), round(float(x[1:100].mean()), 1), round(float(x[100:].mean()), 1)
    ((200,), 2.0, 2.0, 4.0)
    """
    n, seed, sigma = check_int("n", n, low=1, high=MAX_RUN_STEPS), check_seed(seed), check_real("sigma", sigma)
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    noise = sigma * rng.standard_normal(n)
    noise[0] = 0.0
    return np.where(t <= SIGNAL_SHIFT, 2.0, 4.0) + noise


def ema_demo(beta: float = 0.9, *, corrected: bool = True, raw: bool = True, n: int = 200, seed: int = 0):
    r"""The EMA of :func:`demo_signal` for one :math:`\beta`, raw and bias-corrected, each optional.

    Returns ``(fig, text)``; the text gives the window and, at :math:`t = 1`, the value of each
    average that is drawn (and only those: a hidden line's number is not in the text either).

    Args:
        beta: the decay :math:`\beta`, in ``[0, 1)``.
        corrected: draw (and report) the bias-corrected :math:`\hat a_t`.
        raw: draw (and report) the raw :math:`a_t`.
        n: the length of the signal.
        seed: the seed of its noise.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, text = ema_demo(beta=0.9, corrected=False)
    >>> print(text)
    beta = 0.9: window about 10 steps; at t = 1 the raw average is 0.20 (signal mean 2 until t = 100, then 4)
    >>> plt.close(fig)
    """
    x = demo_signal(n, seed=seed)
    fig, ax = figures.ema_signal(x, betas=(beta,), corrected=corrected, raw=raw)
    ax.axvline(SIGNAL_SHIFT + 0.5, color="0.7", lw=1)
    ax.set_title(rf"EMA with $\beta = {beta:g}$", fontsize=10)
    raw_1, hat_1 = figures.ema_lines(x[:1], beta)
    shown = []
    if raw:
        shown.append(f"the raw average is {raw_1[0]:.2f}")
    if corrected:
        shown.append(f"the corrected one {hat_1[0]:.2f}" if raw else f"the corrected average is {hat_1[0]:.2f}")
    at_1 = f"; at t = 1 {', '.join(shown)}" if shown else "; no average shown"
    text = (
        f"beta = {beta:g}: window about {effective_window(beta):.0f} steps{at_1} "
        f"(signal mean 2 until t = {SIGNAL_SHIFT}, then 4)"
    )
    return fig, text


def short(x: float) -> str:
    r"""A hyperparameter as a person would write it: 3 significant digits, a decay rate to the digit that counts.

    For :math:`0.9 \le x < 1` what matters is :math:`1 - x`, so that is rounded to 2 significant digits
    (0.9999 stays 0.9999, not 1); anything else gets 3 significant digits. Slider arithmetic leaves
    values like 0.8000000000000002 and 10**-0.6: they print as 0.8 and 0.251.

    Args:
        x: the value (a real number).

    >>> [short(x) for x in (10**-0.6, 0.8000000000000002, 0.999, 0.9999, 0.99, 0.0, 1e-3, 0.5)]
    ['0.251', '0.8', '0.999', '0.9999', '0.99', '0', '0.001', '0.5']
    """
    x = check_shown("x", x)
    if 0.9 <= x < 1:
        return f"{1 - float(f'{1 - x:.2g}'):.6g}"
    return f"{x:.3g}"


def format_hyper(hyper: dict) -> str:
    """The keyword arguments of :func:`optimizer_hyper` as one would type them, rounded by :func:`short`.

    Args:
        hyper: ``{name: value}``; a value may be a tuple of numbers (``betas``).

    >>> format_hyper({"lr": 0.25118864315095796, "betas": (0.8000000000000002, 0.999)})
    'lr=0.251, betas=(0.8, 0.999)'
    """
    if not isinstance(hyper, dict):
        raise TypeError(f"hyper must be a dict of keyword arguments, got {type(hyper).__name__}")

    def one(value):
        return f"({', '.join(short(v) for v in value)})" if isinstance(value, tuple) else short(value)

    return ", ".join(f"{name}={one(value)}" for name, value in hyper.items())


def loss_text(loss: float, floor: float = figures.LOSS_FLOOR) -> str:
    """A loss as the figures draw it: 3 significant digits, or "below 1e-12" where the log axis floors it.

    Args:
        loss: the loss.
        floor: the floor of :func:`figures.losses` (``figures.LOSS_FLOOR``).

    >>> loss_text(23.6249), loss_text(4.47e-168), loss_text(1e-12)
    ('23.6', 'below 1e-12', '1e-12')
    """
    loss, floor = check_shown("loss", loss), check_real("floor", floor)
    return f"below {floor:.0e}".replace("e-0", "e-").replace("e+0", "e+") if loss < floor else f"{loss:.3g}"


def _check_optimizer(optimizer) -> None:
    check_name("optimizer", optimizer, OPTIMIZERS)


def optimizer_hyper(optimizer: str, lr: float, beta1: float, beta2: float) -> dict:
    r"""The keyword arguments one set of widget values means for each optimizer.

    ``beta1`` is the momentum of "momentum" (it plays the part of Adam's beta1),
    ``beta2`` is RMSprop's decay (torch calls it ``alpha``); plain SGD uses only ``lr``.

    Args:
        optimizer: a name of ``runs.OPTIMIZERS``.
        lr: the learning-rate slider's value, :math:`\alpha`.
        beta1: the beta1 slider's value (Adam's :math:`\beta_1`, the momentum :math:`\mu` of "momentum").
        beta2: the beta2 slider's value (Adam's :math:`\beta_2`, RMSprop's :math:`\rho`).

    >>> optimizer_hyper("momentum", 0.01, 0.8, 0.999), optimizer_hyper("RMSprop", 0.01, 0.8, 0.99)
    ({'lr': 0.01, 'momentum': 0.8}, {'lr': 0.01, 'alpha': 0.99})
    """
    _check_optimizer(optimizer)
    used = OPTIMIZERS[optimizer].defaults  # the sliders it reads; the others may hold anything (None, greyed out)
    lr = check_real("lr", lr)
    beta1 = check_beta("beta1", beta1) if "beta1" in used else beta1
    beta2 = check_beta("beta2", beta2) if "beta2" in used else beta2
    return OPTIMIZERS[optimizer].sliders(lr, beta1, beta2)


def optimizer_defaults(optimizer: str) -> dict:
    """The slider values ``optimizer`` starts from (``runs.OPTIMIZERS``): a value for each slider it uses.

    Args:
        optimizer: a name of ``runs.OPTIMIZERS``.

    >>> optimizer_defaults("RMSprop")
    {'lr': 0.1, 'beta2': 0.99}
    """
    _check_optimizer(optimizer)
    return dict(OPTIMIZERS[optimizer].defaults)


def active_betas(optimizer: str) -> dict[str, bool]:
    """Which of the two beta sliders ``optimizer`` uses (the panel greys out the other).

    Args:
        optimizer: a name of ``runs.OPTIMIZERS``.

    >>> active_betas("RMSprop"), active_betas("Adam")
    ({'beta1': False, 'beta2': True}, {'beta1': True, 'beta2': True})
    """
    hyper = optimizer_hyper(optimizer, 1.0, 0.25, 0.5)  # distinct values, to see where each one lands
    used = {x for value in hyper.values() for x in (value if isinstance(value, tuple) else (value,))}
    return {"beta1": 0.25 in used, "beta2": 0.5 in used}


def optimizer_demo(
    optimizer: str = "Adam",
    objective: str = "quadratic",
    lr: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    steps: int = 200,
    *,
    seed: int = 0,
):
    r"""One optimizer (a name of ``OPTIMIZERS``) on one objective (a name for ``objectives.by_name``).

    Returns ``(fig, text)``: the path on the contours and the loss curve, and a line with the
    hyperparameters used (rounded, :func:`format_hyper`) and the final loss as the plot shows it
    (:func:`loss_text`); if the path leaves the plotted box, the line says at which step.

    Args:
        optimizer: a name of ``runs.OPTIMIZERS``.
        objective: ``"quadratic"``, ``"Rosenbrock"`` or ``"noisy"``.
        lr: the learning rate :math:`\alpha`; None takes the optimizer's own default (:func:`optimizer_defaults`).
        beta1: :math:`\beta_1` (the momentum of "momentum"); None takes the optimizer's default.
        beta2: :math:`\beta_2` (RMSprop's :math:`\rho`); None takes the optimizer's default (RMSprop's 0.99,
            Adam's 0.999).
        steps: how many steps to take.
        seed: the seed of a noisy objective's noise.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, text = optimizer_demo("Adam", "quadratic", lr=10**-0.6, beta1=0.8000000000000002, steps=200)
    >>> text.split(": ")[0]
    'Adam (lr=0.251, betas=(0.8, 0.999)) on quadratic'
    >>> plt.close(fig)
    """
    obj = by_name(objective)
    defaults = optimizer_defaults(optimizer)
    given = {"lr": lr, "beta1": beta1, "beta2": beta2}
    values = {name: defaults.get(name) if value is None else value for name, value in given.items()}
    hyper = optimizer_hyper(optimizer, **values)
    tr = run(optimizer, obj, steps=steps, seed=seed, **hyper)
    fig, _ = figures.comparison(obj, {optimizer: tr})
    taken = len(tr.losses) - 1
    ending = f"diverged after {taken} steps" if tr.diverged else f"in {taken} steps"
    text = (
        f"{optimizer} ({format_hyper(hyper)}) on {obj.name}: "
        f"loss {loss_text(tr.losses[0])} -> {loss_text(tr.final_loss)} {ending}"
    )
    exit_step = figures.first_exit(obj, tr.path)
    if exit_step is not None:
        theta = ", ".join(f"{c:.3g}" for c in tr.path[exit_step])
        text += f"; the path leaves the plot at step {exit_step} (theta = ({theta}))"
    return fig, text


class StaticPanel(NamedTuple):
    """What a panel shows before anyone moves a control: its PNG, its width in pixels and its line of text."""

    png: bytes
    width: int
    text: str


_STATIC: list[bool] = []  # non-empty inside static_panels(): panel() returns its initial state, not widgets


@contextmanager
def static_panels():
    r"""Inside this block :func:`panel` (and so every ``*_widget``) returns a :class:`StaticPanel`.

    That is the figure and text of its initial control values, drawn once, with no callbacks attached.

    The site, slides and handouts (``notebooks/_site``) show that figure where a notebook has a live panel;
    outside the block the panels are the live widgets, unchanged.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> with static_panels():
    ...     still = ema_widget()
    >>> still.text.startswith("beta = 0.9: window about 10 steps"), still.png[:4] == b"\x89PNG", still.width > 0
    (True, True, True)
    """
    _STATIC.append(True)
    try:
        yield
    finally:
        _STATIC.pop()


def _draw(fn, controls: dict) -> StaticPanel:
    """Call ``fn`` with the controls' values and render its figure as the panel shows it (then close it)."""
    fig, text = fn(**{key: control.value for key, control in controls.items()})
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PANEL_DPI)
    width = round(fig.get_figwidth() * PANEL_DPI)
    plt.close(fig)
    return StaticPanel(buf.getvalue(), width, text)


def panel(fn, controls: dict, *, links: dict | None = None):
    """A widget panel around a ``(fig, text)`` function: the controls, then the text, then the figure.

    The figure is shown as a PNG in an ``ipywidgets.Image`` at its own size (one pixel of the PNG per
    pixel of the page: 100 dpi, so an 8.8-inch figure is 880 pixels wide and its 10-point text is read at about
    that size; a narrower notebook column shrinks it to fit), and the text in a ``Label``; moving a
    control calls ``fn(**values)`` again and replaces both. Nothing is printed or displayed from inside
    the callback, so there is no output for a notebook runner to capture (or lose) while the panel updates.

    Args:
        fn: ``fn(**{name: control.value})`` returns ``(fig, text)``.
        controls: ``{name: widget}``, in the order they are shown.
        links: ``{name: hook}``: when control ``name`` changes, ``hook(new_value)`` returns
            ``{other_name: value}`` to set on other controls first (an optimizer's own defaults, say);
            the figure is then drawn once, for all the new values together.

    Inside :func:`static_panels` it returns the :class:`StaticPanel` of the initial values instead.
    """
    import ipywidgets as w

    image = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
    label = w.Label()
    busy = [False]

    def refresh(_change=None):
        if busy[0]:
            return
        drawn = _draw(fn, controls)
        image.value, label.value = drawn.png, drawn.text
        image.layout.width = f"{drawn.width}px"

    def linked(hook):
        def on_change(change):
            busy[0] = True
            try:
                for name, value in hook(change["new"]).items():
                    controls[name].value = value
            finally:
                busy[0] = False
            refresh()

        return on_change

    links = links or {}
    unknown = sorted(set(links) - set(controls))
    if unknown:
        raise ValueError(f"links names controls that are not in controls: {unknown}")
    if _STATIC:
        return _draw(fn, controls)
    for name, control in controls.items():
        control.observe(linked(links[name]) if name in links else refresh, names="value")
    refresh()
    return w.VBox([*controls.values(), label, image])


def ema_widget():
    """A slider for beta around :func:`ema_demo`, and boxes to hide the corrected and the raw line."""
    import ipywidgets as w

    controls = {
        "beta": w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="beta", continuous_update=False),
        "corrected": w.Checkbox(value=True, description="corrected"),
        "raw": w.Checkbox(value=True, description="raw"),
    }
    return panel(ema_demo, controls)


#: The learning rates the optimizer panel offers: 1, 2, 3, 5 per decade (0.003 is where SGD on
#: Rosenbrock starts to diverge).
LR_CHOICES = (0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
#: The beta2 (RMSprop's rho) the panel offers: evenly spaced in log(1 - beta2), half a decade apart
#: (1 - beta2 = 0.1, 0.03, 0.01, ...), each the true value it shows.
BETA2_CHOICES = (0.9, 0.97, 0.99, 0.997, 0.999, 0.9997, 0.9999)


def _choices(values):
    return [(short(v), v) for v in values]


def optimizer_widget():
    """Buttons and sliders around :func:`optimizer_demo`: optimizer, objective, lr, beta1, beta2, steps.

    The choices are toggle buttons, not drop-downs: in JupyterLab a collapsed drop-down hands its keys to the
    notebook (ipywidgets issue 3912), so a letter typed to pick an option runs a cell shortcut instead
    ("r" turns the widget's cell into a raw cell).

    Choosing an optimizer moves its sliders to its own defaults (:func:`optimizer_defaults`) and
    greys out the betas it does not use. The learning rate and beta2 are chosen from
    :data:`LR_CHOICES` and :data:`BETA2_CHOICES`, evenly spaced on a log scale (of lr, of 1 - beta2).
    """
    import ipywidgets as w

    start = optimizer_defaults("Adam")
    slider = dict(continuous_update=False)

    # one row: the description beside its buttons (as for the sliders), each button as wide as its label
    def buttons():
        return dict(style={"button_width": "auto"}, layout=w.Layout(display="flex", align_items="center"))

    controls = {
        "optimizer": w.ToggleButtons(options=list(OPTIMIZERS), value="Adam", description="optimizer", **buttons()),
        "objective": w.ToggleButtons(
            options=["quadratic", "Rosenbrock", "noisy"], value="quadratic", description="objective", **buttons()
        ),
        "lr": w.SelectionSlider(options=_choices(LR_CHOICES), value=start["lr"], description="lr", **slider),
        "beta1": w.FloatSlider(
            value=start["beta1"], min=0.0, max=0.99, step=0.01, description="beta1", readout_format=".2f", **slider
        ),
        "beta2": w.SelectionSlider(
            options=_choices(BETA2_CHOICES), value=start["beta2"], description="beta2", **slider
        ),
        "steps": w.IntSlider(value=200, min=10, max=1000, step=10, description="steps", continuous_update=False),
    }

    def grey_out_unused(_change=None):
        for name, used in active_betas(controls["optimizer"].value).items():
            controls[name].disabled = not used

    controls["optimizer"].observe(grey_out_unused, names="value")
    grey_out_unused()
    return panel(optimizer_demo, controls, links={"optimizer": optimizer_defaults})
