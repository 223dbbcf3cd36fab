"""The shared figures and the functions behind the widgets (nbval cannot move a slider, so they are tested here)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lessonlib as ll
from lessonlib.course import figures as plotting
from lessonlib.course import objectives, widgets
from lessonlib.course import runs as trajectories


def test_ema_lines_are_the_ema_and_its_correction():
    x = np.array([1.0, 3.0, -2.0, 5.0])
    raw, corrected = plotting.ema_lines(x, 0.7)
    avg = ll.EMA(0.7)
    for t, xt in enumerate(x):
        assert raw[t] == avg.update(xt)
        assert corrected[t] == avg.corrected
    assert corrected[0] == x[0]


def test_ema_signal_draws_raw_and_corrected_per_beta():
    x = widgets.demo_signal(50)
    fig, ax = plotting.ema_signal(x, betas=(0.5, 0.9))
    lines = ax.get_lines()
    assert len(lines) == 1 + 2 * 2  # the signal, then raw and corrected for each beta
    raw, corrected = plotting.ema_lines(x, 0.9)
    assert np.array_equal(lines[3].get_ydata(), raw) and np.array_equal(lines[4].get_ydata(), corrected)
    assert fig is ax.figure
    _, ax2 = plotting.ema_signal(x, betas=(0.9,), corrected=False)
    assert len(ax2.get_lines()) == 2


def test_bias_correction_curves():
    ax = plotting.bias_correction_curves(betas=(0.9, 0.999), t_max=100)
    curve = ax.get_lines()[0]
    assert np.allclose(curve.get_ydata(), 1 - 0.9 ** np.arange(1, 101))
    assert ax.get_xscale() == "log"


def test_trajectories_and_losses_plot_the_paths():
    obj = objectives.quadratic()
    runs = trajectories.compare({"SGD": ("SGD", {"lr": 0.05}), "Adam": ("Adam", {"lr": 0.1})}, obj, steps=30)
    fig, axes = plotting.comparison(obj, runs)
    assert len(axes) == 3  # a panel per path, then the losses
    *paths, right = axes
    for ax, label in zip(paths, runs):
        drawn = [line for line in ax.get_lines() if line.get_label() == label]
        assert len(drawn) == 1  # each panel holds its own run, and only that one
        assert np.array_equal(drawn[0].get_xdata(), runs[label].path[:, 0])
        assert np.array_equal(drawn[0].get_ydata(), runs[label].path[:, 1])
        assert ax.get_xlim() == obj.xlim and ax.get_ylim() == obj.ylim
    assert [line.get_label() for line in right.get_lines()] == ["SGD", "Adam"]
    assert np.array_equal(right.get_lines()[0].get_ydata(), runs["SGD"].losses)
    assert right.get_yscale() == "log"


def test_a_diverged_run_is_labelled():
    obj = objectives.rosenbrock()
    ax = plotting.trajectories(obj, {"SGD": trajectories.run("SGD", obj, steps=300, lr=0.05)})
    assert "SGD (diverged)" in ax.get_legend_handles_labels()[1]


def test_plotting_never_shows(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("a lessonlib figure called plt.show()"))
    widgets.ema_demo(0.9)
    widgets.optimizer_demo("SGD", "noisy", lr=0.05, steps=10)
    plotting.bias_correction_curves()


def test_demo_signal():
    x = widgets.demo_signal(200, seed=0)
    assert x[0] == 2.0 and np.array_equal(x, widgets.demo_signal(200, seed=0))
    assert abs(x[1:100].mean() - 2.0) < 0.15 and abs(x[100:].mean() - 4.0) < 0.15


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_ema_demo_is_the_ema_of_the_demo_signal(beta):
    fig, text = widgets.ema_demo(beta)
    ax = fig.axes[0]
    raw, corrected = plotting.ema_lines(widgets.demo_signal(), beta)
    ys = [line.get_ydata() for line in ax.get_lines()]
    assert any(np.array_equal(y, raw) for y in ys) and any(np.array_equal(y, corrected) for y in ys)
    assert f"window about {1 / (1 - beta):.0f} steps" in text
    assert f"raw average is {(1 - beta) * 2.0:.2f}, the corrected one 2.00" in text


@pytest.mark.parametrize(
    "name, expected",
    [
        ("SGD", {"lr": 0.01}),
        ("momentum", {"lr": 0.01, "momentum": 0.8}),
        ("RMSprop", {"lr": 0.01, "alpha": 0.95}),
        ("Adam", {"lr": 0.01, "betas": (0.8, 0.95)}),
    ],
)
def test_optimizer_hyper_maps_the_widget_values(name, expected):
    assert widgets.optimizer_hyper(name, 0.01, 0.8, 0.95) == expected


@pytest.mark.parametrize("objective", ["quadratic", "Rosenbrock", "noisy"])
def test_optimizer_demo_draws_the_run_it_reports(objective):
    fig, text = widgets.optimizer_demo("momentum", objective, lr=0.001, beta1=0.8, steps=50)
    tr = trajectories.run("momentum", objectives.by_name(objective), steps=50, lr=0.001, momentum=0.8, seed=0)
    path = [line for line in fig.axes[0].get_lines() if line.get_label().startswith("momentum")][0]
    assert np.array_equal(path.get_xdata(), tr.path[:, 0])
    assert text.endswith(f"loss {tr.losses[0]:.3g} -> {tr.final_loss:.3g} in 50 steps")


def test_optimizer_demo_reports_divergence_and_rejects_unknown_names():
    _, text = widgets.optimizer_demo("SGD", "Rosenbrock", lr=0.1, steps=100)
    assert "diverged after" in text
    with pytest.raises(ValueError, match="Invalid optimizer"):
        widgets.optimizer_demo("Adagrad")
    with pytest.raises(ValueError, match="unknown objective"):
        widgets.optimizer_demo("Adam", "sphere")


def test_widgets_build_and_call_the_pure_functions():
    pytest.importorskip("ipywidgets")
    text_09, text_05 = widgets.ema_demo(0.9)[1], widgets.ema_demo(0.5)[1]
    plt.close("all")
    w = widgets.ema_widget()
    *controls, label, image = w.children
    assert [c.description for c in controls] == ["beta", "corrected", "raw"]
    assert label.value == text_09 and bytes(image.value).startswith(b"\x89PNG")
    first = bytes(image.value)
    controls[0].value = 0.5  # moving the slider re-runs ema_demo
    assert label.value == text_05 and bytes(image.value) != first
    o = widgets.optimizer_widget()
    *controls, label, _ = o.children
    assert [c.description for c in controls] == ["optimizer", "objective", "lr", "beta1", "beta2", "steps"]
    controls[0].value = "RMSprop"
    assert label.value.startswith("RMSprop (lr=0.1, alpha=0.99) on quadratic")
    assert not plt.get_fignums()  # the panels close the figures they draw


@pytest.mark.parametrize(
    "optimizer, beta1, beta2",
    [("SGD", False, False), ("momentum", True, False), ("RMSprop", False, True), ("Adam", True, True)],
)
def test_the_optimizer_panel_greys_out_the_betas_an_optimizer_ignores(optimizer, beta1, beta2):
    assert widgets.active_betas(optimizer) == {"beta1": beta1, "beta2": beta2}
    panel = widgets.optimizer_widget()
    choice = panel.children[0]
    choice.value = optimizer
    sliders = {c.description: c for c in panel.children if getattr(c, "description", "") in ("beta1", "beta2")}
    assert (not sliders["beta1"].disabled, not sliders["beta2"].disabled) == (beta1, beta2)


# --- what a learner sees: sizes, fonts, legends, labels, symbols ---------------------------------------------------

MAX_PX = 900  # the widest a JupyterLab notebook column shows a figure at 100%
MIN_PT = 9  # the smallest text we draw, in points (read at that size when the figure is shown at 100%)

LESSON_04_VALLEY = {  # notebooks/04-adam.ipynb, the cell that compares the four on Rosenbrock's valley
    "SGD, lr 0.001": ("SGD", {"lr": 0.001}),
    "momentum 0.9, lr 0.001": ("momentum", {"lr": 0.001}),
    "RMSprop, lr 0.01": ("RMSprop", {"lr": 0.01}),
    "Adam, lr 0.1": ("Adam", {"lr": 0.1}),
}
LESSON_04_BOWL = {
    "SGD, lr 0.09": ("SGD", {"lr": 0.09}),
    "momentum 0.5, lr 0.06": ("momentum", {"lr": 0.06, "momentum": 0.5}),
    "RMSprop, lr 0.1": ("RMSprop", {"lr": 0.1}),
    "Adam, lr 0.1": ("Adam", {"lr": 0.1}),
}


@pytest.fixture
def course_style():
    with matplotlib.rc_context(ll.course.STYLE):
        yield


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def inline_png(fig) -> bytes:
    """The PNG a notebook shows: IPython's inline backend saves at the figure's dpi with a tight bounding box."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    return buf.getvalue()


def valley_figure(**kw):
    obj = objectives.rosenbrock()
    return plotting.comparison(obj, trajectories.compare(LESSON_04_VALLEY, obj, steps=1000), **kw)[0]


def bowl_figure(**kw):
    obj = objectives.quadratic()
    return plotting.comparison(obj, trajectories.compare(LESSON_04_BOWL, obj, steps=100), **kw)[0]


def noisy_figure():
    obj = objectives.noisy(sigma=2.0)
    runs = {"SGD": ("SGD", {"lr": 0.03}), "Adam": ("Adam", {"lr": 0.05}), "RMSprop": ("RMSprop", {"lr": 0.03})}
    return plotting.comparison(obj, trajectories.compare(runs, obj, steps=200))[0]


FIGURES = {
    "comparison, valley": valley_figure,
    "comparison, valley, overlay": lambda: valley_figure(overlay=True),
    "comparison, bowl": bowl_figure,
    "comparison, noisy, 3 runs": noisy_figure,
    "optimizer_demo": lambda: widgets.optimizer_demo("Adam", "Rosenbrock", lr=0.1, steps=300)[0],
    "optimizer_demo, floored": lambda: widgets.optimizer_demo("RMSprop", "quadratic", lr=0.1, beta2=0.999)[0],
    "ema_demo": lambda: widgets.ema_demo(0.9)[0],
    "ema_signal, 3 betas": lambda: plotting.ema_signal(widgets.demo_signal(), betas=(0.5, 0.9, 0.98))[0],
    "ema_signal, 1 beta": lambda: plotting.ema_signal(widgets.demo_signal(), betas=(0.98,))[0],
    "bias_correction_curves": lambda: plotting.bias_correction_curves(betas=(0.9, 0.999), t_max=10_000).figure,
    "course_map": lambda: plotting.course_map()[0],
    "trajectories": lambda: (
        plotting.trajectories(
            objectives.quadratic(), trajectories.compare(LESSON_04_BOWL, objectives.quadratic(), steps=100)
        ).figure
    ),
    "losses": lambda: plotting.losses(trajectories.compare(LESSON_04_BOWL, objectives.quadratic(), steps=100)).figure,
}
WIDE = ["comparison, valley", "comparison, valley, overlay", "comparison, bowl", "optimizer_demo", "course_map"]
STYLES = {"course": ll.course.STYLE, "matplotlib": {}}
_BUILT: dict[tuple[str, str], object] = {}
_DRAWN: set[tuple[str, str]] = set()  # the (name, style) whose figure in _BUILT holds the layout of its one drawing


def built(name: str, style: str = "course"):
    """FIGURES[name] made under a style, once per test session: the layout checks below only read it, laid out once
    (``drawn``), so five checks need not run the same optimizers and contours five times. A check that changes the
    figure's layout (a save with a tight bounding box lays it out again, a resize) must discard it from ``_DRAWN``.

    The figure gets a new Agg canvas at each call: the autouse ``close_figures`` closes it after a test, and a closed
    figure's canvas is a FigureCanvasBase, whose ``draw`` does nothing (the next check would read a stale layout).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if (name, style) not in _BUILT:
        with matplotlib.rc_context(STYLES[style]):
            _BUILT[name, style] = FIGURES[name]()
    fig = _BUILT[name, style]
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def drawn(name: str, style: str = "course"):
    """built(name, style) laid out: drawn once per (figure, style), under the style, and read by every check after.

    ``fig.draw_without_rendering()`` runs the same draw as ``fig.canvas.draw()`` (constrained layout, tick labels,
    legend placement, every text's extent, through an Agg renderer) and only skips the rasterising, which no check
    reads: every text window extent, tick label, legend box and data point the checks below read is the same, to the
    bit, as after ``fig.canvas.draw()``. (A second drawing would not reproduce the first exactly anyway: constrained
    layout moves things by hundredths of a pixel at each draw, so the checks never depended on how many came before.)
    Reading a drawn figure changes nothing, and attaching a new canvas in ``built`` keeps its layout.
    """
    fig = built(name, style)
    if (name, style) not in _DRAWN:
        with matplotlib.rc_context(STYLES[style]):
            fig.draw_without_rendering()
        _DRAWN.add((name, style))
    return fig


def visible_texts(fig):
    """The texts a learner sees on ``fig``, which must be laid out already (see ``drawn``)."""
    texts = fig.findobj(matplotlib.text.Text)
    return [t for t in texts if t.get_visible() and t.get_text().strip() and t.get_window_extent().width > 0]


def data_points(ax, per_segment: int = 20):
    """Display coordinates of every line's points and of the points between them, inside the axes."""
    points = []
    for line in ax.get_lines():
        if not line.get_visible() or line.get_label() == "_floor":
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy) > 1 and line.get_linestyle() not in ("None", "none", " ", ""):
            s = np.linspace(0, 1, per_segment)[:, None, None]
            xy = (xy[:-1] * (1 - s) + xy[1:] * s).reshape(-1, 2)
        points.append(xy)
    for collection in ax.collections:  # contour lines
        for path in collection.get_paths():
            points.append(collection.get_transform().transform(path.vertices))
    if not points:
        return np.empty((0, 2))
    xy = np.concatenate(points)
    box = ax.get_window_extent()
    inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
    return xy[inside]


@pytest.mark.slow
@pytest.mark.parametrize("name", WIDE)
def test_wide_figures_fit_a_notebook_column_at_100_percent(name, course_style):
    fig = built(name)
    width, _ = fig.get_size_inches() * fig.dpi
    assert width <= MAX_PX
    _DRAWN.discard((name, "course"))  # saving with a tight bounding box lays the figure out again, shifted
    assert png_size(inline_png(fig))[0] <= MAX_PX  # nothing sticks out past the figure either


@pytest.mark.slow
@pytest.mark.parametrize("style", ["course", "matplotlib"])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_text_is_smaller_than_9_points(name, style):
    with matplotlib.rc_context(STYLES[style]):
        fig = drawn(name, style)
        small = [(t.get_text(), t.get_fontsize()) for t in visible_texts(fig) if t.get_fontsize() < MIN_PT]
    assert not small


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_legend_covers_data(name, course_style):
    fig = drawn(name)
    legends = fig.findobj(matplotlib.legend.Legend)
    assert legends or name == "course_map"
    for legend in legends:
        box = legend.get_window_extent()
        for ax in fig.axes:
            xy = data_points(ax)
            covered = (xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)
            assert not covered.any(), f"the legend covers {covered.sum()} data points of {ax.get_title()!r}"


def shown_tick_labels(axis):
    """The major tick labels drawn: those inside the view (the locator also places some beyond it)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * (hi - lo)
    ticks = [t for t in axis.get_major_ticks() if lo - slack <= t.get_loc() <= hi + slack]
    return [t.label1 for t in ticks if t.label1.get_visible() and t.label1.get_text()]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(FIGURES) - {"course_map"}))
def test_every_axis_is_labelled_and_no_tick_labels_collide(name, course_style):
    fig = drawn(name)
    ticks = []
    for ax in fig.axes:
        shown_x, shown_y = shown_tick_labels(ax.xaxis), shown_tick_labels(ax.yaxis)
        assert shown_x and ax.get_xlabel(), f"x axis of {ax.get_title()!r} has no ticks or no label"
        if shown_y:  # a panel sharing the y axis of its left neighbour shows no y ticks, and needs no label
            assert ax.get_ylabel(), f"y axis of {ax.get_title()!r} has no label"
        ticks += shown_x + shown_y
    boxes = [t.get_window_extent() for t in ticks]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two tick labels overlap"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_symbols_are_math_not_literal_text(name):
    """A Greek letter typed as text, or a LaTeX name outside $...$, is drawn as is: write $\\eta_t$."""
    import re

    typed = re.compile("[\u0370-\u03ff\u1d00-\u1dbf\u2070-\u209f]")  # Greek, sub- and superscript letters
    for t in visible_texts(drawn(name, "matplotlib")):  # matplotlib's own style, as before
        text = t.get_text()
        assert not typed.search(text), f"a typed symbol in {text!r}: write it as mathtext"
        outside_math = re.sub(r"\$[^$]*\$", "", text)
        assert text.count("$") % 2 == 0 and not re.search(r"\\[A-Za-z]", outside_math), text


# --- comparison: paths that overlap stay visible -------------------------------------------------------------------


def path_lines(ax, labels):
    return [line for line in ax.get_lines() if line.get_label() in labels]


@pytest.mark.parametrize("make", [valley_figure, bowl_figure], ids=["valley", "bowl"])
def test_comparison_gives_each_path_its_own_panel_and_style(make):
    fig = make()
    *panels, loss_ax = fig.axes
    labels = list(LESSON_04_VALLEY if make is valley_figure else LESSON_04_BOWL)
    assert len(panels) == len(labels) == 4
    styles = set()
    for ax, label in zip(panels, labels):
        (line,) = path_lines(ax, labels)  # one run per panel: no path can hide another
        assert line.get_label() == label and ax.get_title().startswith(label)
        styles.add((line.get_color(), line.get_linestyle(), line.get_marker()))
    assert len(styles) == 4
    assert [line.get_label() for line in loss_ax.get_lines() if line.get_label() in labels] == labels


def test_overlaid_paths_are_styled_apart_widest_first():
    fig = valley_figure(overlay=True)
    labels = list(LESSON_04_VALLEY)
    lines = path_lines(fig.axes[0], labels)
    assert [line.get_label() for line in lines] == labels  # drawn in this order
    assert len({(line.get_color(), line.get_linestyle(), line.get_marker()) for line in lines}) == 4
    widths = [line.get_linewidth() for line in lines]
    assert all(a > b for a, b in zip(widths, widths[1:]))  # each thinner than the ones under it
    assert all(line.get_zorder() == lines[0].get_zorder() for line in lines)  # so the order decides what is on top


def test_comparison_labels_what_the_axes_cannot_show():
    bowl = objectives.quadratic()
    out = trajectories.run("RMSprop", bowl, steps=20, lr=0.1, alpha=0.999)
    fig, axes = plotting.comparison(bowl, {"RMSprop": out})
    assert axes[0].get_title() == "RMSprop\n(leaves the plot at step 1)"
    valley = objectives.rosenbrock()
    fig, axes = plotting.comparison(valley, {"SGD": trajectories.run("SGD", valley, steps=100, lr=0.05)})
    assert axes[0].get_title() == "SGD\n(diverged)"
    with pytest.raises(ValueError, match="runs"):
        plotting.comparison(bowl, {})


def test_first_exit_finds_the_first_step_outside_the_box():
    bowl = objectives.quadratic()  # the box is [-4.5, 1.5] x [-1.5, 1.5]
    assert plotting.first_exit(bowl, [[-4.0, 1.0], [1.5, -1.5], [1.6, 0.0], [0.0, 9.0]]) == 2
    assert plotting.first_exit(bowl, [[-4.4, 1.4]]) is None
    with pytest.raises(ValueError, match="path"):
        plotting.first_exit(bowl, [1.0, 2.0])


def test_losses_below_the_floor_are_drawn_on_it_and_the_axis_says_so():
    bowl = objectives.quadratic()
    tr = trajectories.run("RMSprop", bowl, steps=200, lr=0.1)
    assert tr.final_loss < 1e-12
    ax = plotting.losses({"RMSprop": tr})
    drawn = ax.get_lines()[0].get_ydata()
    assert drawn.min() == 1e-12 and np.array_equal(drawn[tr.losses >= 1e-12], tr.losses[tr.losses >= 1e-12])
    assert "floor" in ax.get_ylabel()
    ax2 = plotting.losses({"RMSprop": trajectories.run("RMSprop", bowl, steps=5, lr=0.1)})
    assert "floor" not in ax2.get_ylabel()
    with pytest.raises(ValueError, match="floor"):
        plotting.losses({"RMSprop": tr}, floor=0.0)


def test_run_style_is_distinct_and_thinner_each_run():
    styles = [plotting.run_style(i) for i in range(6)]
    assert len({(s["color"], s["ls"], s["marker"]) for s in styles}) == 6
    assert all(a["lw"] >= b["lw"] for a, b in zip(styles, styles[1:])) and styles[0]["lw"] > styles[3]["lw"]
    for bad, error in (
        (-1, ValueError),
        (10**6 + 1, ValueError),
        (1.0, TypeError),
        ("0", TypeError),
        (True, TypeError),
    ):
        with pytest.raises(error, match="i"):
            plotting.run_style(bad)


# --- the course map -------------------------------------------------------------------------------------------------

# The lessons are the notebooks in notebooks/ (NN-slug.ipynb); what builds on what, as the course's lead gave it.
LESSONS = sorted(p.name[:2] for p in (Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))
BUILDS_ON = {
    ("01", "02"),  # EMA -> momentum
    ("02", "03"),  # momentum -> AdaGrad and RMSprop
    ("01", "03"),  # EMA -> RMSprop
    ("01", "04"),  # EMA -> Adam (both moments are EMAs with a bias correction)
    ("02", "04"),  # momentum -> Adam
    ("03", "04"),  # RMSprop -> Adam
    ("04", "05"),  # Adam -> the worked example
    ("04", "06"),  # Adam -> schedules and AdamW
    ("04", "07"),  # Adam -> when Adam fails
    ("04", "08"),  # Adam -> what a step costs
    ("08", "09"),  # what a step costs -> Adam at scale
    ("06", "09"),  # AdamW -> Adam at scale
    ("06", "10"),  # AdamW -> PyTorch
    ("07", "10"),  # failures -> PyTorch
    ("08", "10"),  # what a step costs -> PyTorch
    ("09", "10"),  # Adam at scale -> PyTorch
}


def map_boxes(ax):
    """{lesson number: display bbox of its box} for the lesson boxes of the course map."""
    boxes = {}
    for text in ax.texts:
        if text.get_bbox_patch() is not None:
            boxes[text.get_text()[:2]] = text.get_bbox_patch().get_window_extent()
    return boxes


def test_course_map_has_every_lesson_once_and_each_arrow(course_style):
    fig, ax = plotting.course_map()
    numbers = [t.get_text()[:2] for t in ax.texts if t.get_bbox_patch() is not None]
    assert LESSONS[0] == "00" and len(LESSONS) >= 10
    assert sorted(numbers) == LESSONS  # each notebook once, and no box without a notebook
    number = {key: label[:2] for key, (label, _, _) in plotting.COURSE_MAP.items()}
    arrows = {(number[a], number[b]) for a, b in plotting.COURSE_ARROWS}
    assert arrows - {("00", "01")} == BUILDS_ON
    drawn = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]
    assert len(drawn) == len(plotting.COURSE_ARROWS)


def test_course_map_boxes_do_not_overlap_and_stay_inside(course_style):
    fig, ax = plotting.course_map()
    fig.canvas.draw()
    boxes = map_boxes(ax)
    inside = ax.get_window_extent()
    for key, box in boxes.items():
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, key
    keys = sorted(boxes)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not boxes[a].overlaps(boxes[b]), f"boxes {a} and {b} overlap"


def test_course_map_arrows_cross_no_box(course_style):
    fig, ax = plotting.course_map()
    fig.canvas.draw()
    outlines = {  # each box's rounded outline, in display coordinates
        t.get_text()[:2]: t.get_bbox_patch().get_transform().transform_path(t.get_bbox_patch().get_path())
        for t in ax.texts
        if t.get_bbox_patch() is not None
    }
    number = {key: label[:2] for key, (label, _, _) in plotting.COURSE_MAP.items()}
    annotations = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]
    assert len(annotations) == len(plotting.COURSE_ARROWS)
    for (start, end), ann in zip(plotting.COURSE_ARROWS, annotations):
        patch = ann.arrow_patch
        path = patch.get_transform().transform_path(patch.get_path())
        pieces = path.to_polygons(closed_only=False)  # the shaft (a curve, flattened) and the head
        s = np.linspace(0, 1, 50)[:, None, None]
        xy = np.concatenate([(p[:-1] * (1 - s) + p[1:] * s).reshape(-1, 2) for p in pieces])  # densely
        for key, outline in outlines.items():
            hits = outline.contains_points(xy)
            assert not hits.any(), f"the arrow {number[start]} -> {number[end]} crosses box {key}"
        shaft = np.hypot(*(pieces[0][-1] - pieces[0][0]))
        assert shaft > 15, f"the arrow {number[start]} -> {number[end]} is too short to see ({shaft:.0f} px)"


# --- the optimizer panel (lesson 04's "Try it") ---------------------------------------------------------------------


def significant_digits(number: str) -> int:
    mantissa = number.lower().split("e")[0].lstrip("+-").replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in number.lower().split("e")[0] else len(mantissa.rstrip("0") or "0")


def test_significant_digits_helper():
    assert [significant_digits(x) for x in ("0.251", "0.9999", "4.47e-168", "1000", "0.8000000000000002")] == [
        3,
        4,
        3,
        1,
        16,
    ]


@pytest.mark.parametrize(
    "optimizer, lr, beta1, beta2",
    [
        ("Adam", 10**-0.6, 0.8000000000000002, 0.999),
        ("Adam", 10**-2.9, 0.9, 0.9999),
        ("RMSprop", 0.1, 0.9, 0.9997),
        ("momentum", 10**-1.3, 0.7000000000000001, 0.999),
        ("SGD", 0.0031622776601683794, 0.9, 0.999),
    ],
)
def test_the_demo_text_prints_no_float_longer_than_4_significant_digits(optimizer, lr, beta1, beta2):
    import re

    _, text = widgets.optimizer_demo(optimizer, "quadratic", lr=lr, beta1=beta1, beta2=beta2, steps=50)
    numbers = re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+", text)
    assert numbers and all(significant_digits(x) <= 4 for x in numbers), text


def test_the_demo_text_rounds_as_a_person_would():
    _, text = widgets.optimizer_demo("Adam", "quadratic", lr=10**-0.6, beta1=0.8000000000000002, beta2=0.999)
    assert text.startswith("Adam (lr=0.251, betas=(0.8, 0.999)) on quadratic: loss 23.6 -> ")


@pytest.mark.parametrize(
    "x, expected",
    [(0.25118864315095796, "0.251"), (0.8000000000000002, "0.8"), (0.9999, "0.9999"), (0.9997, "0.9997")]
    + [(0.97, "0.97"), (0.001, "0.001"), (1.0, "1"), (0.0, "0"), (123.456, "123"), (np.float64(0.95), "0.95")],
)
def test_short(x, expected):
    assert widgets.short(x) == expected


def test_short_and_format_hyper_reject_what_is_not_a_number():
    with pytest.raises(TypeError, match="x"):
        widgets.short("0.1")
    with pytest.raises(TypeError, match="hyper"):
        widgets.format_hyper([("lr", 0.1)])
    assert widgets.format_hyper({"lr": 0.05, "alpha": 0.99}) == "lr=0.05, alpha=0.99"


def test_a_loss_below_the_floor_is_reported_as_the_plot_shows_it():
    bowl = objectives.quadratic()
    tr = trajectories.run("RMSprop", bowl, steps=200, lr=0.1, alpha=0.999)
    assert tr.final_loss < 1e-100  # what the text used to print: 4.47e-168, against a plot that stops at 1e-12
    fig, text = widgets.optimizer_demo("RMSprop", "quadratic", lr=0.1, beta2=0.999, steps=200)
    assert "-> below 1e-12 in 200 steps" in text
    assert fig.axes[-1].get_lines()[0].get_ydata().min() == 1e-12
    assert widgets.loss_text(3.0e-12) == "3e-12" and widgets.loss_text(0.0) == "below 1e-12"


def test_a_path_that_leaves_the_axes_is_reported_with_where():
    # RMSprop's first step has no bias correction: v_1 = (1 - rho) g^2, so each coordinate moves by
    # lr / sqrt(1 - rho), here 0.1 / sqrt(0.001) = 3.162, from (-4, 1.25) towards the minimum.
    big = 0.1 / np.sqrt(0.001)
    theta_1 = (-4.0 + big, 1.25 - big)
    assert theta_1[1] < -1.5  # below the plotted box
    _, text = widgets.optimizer_demo("RMSprop", "quadratic", lr=0.1, beta2=0.999)
    assert text.endswith(f"the path leaves the plot at step 1 (theta = ({theta_1[0]:.3g}, {theta_1[1]:.3g}))")
    _, text = widgets.optimizer_demo("RMSprop", "quadratic", lr=0.1, beta2=0.99)
    assert "leaves" not in text  # rho = 0.99: the first step is 0.1 / sqrt(0.01) = 1, inside the box


def test_the_demo_takes_each_optimizers_own_defaults():
    _, text = widgets.optimizer_demo("RMSprop", "quadratic")
    assert text.startswith("RMSprop (lr=0.1, alpha=0.99) on quadratic")
    _, text = widgets.optimizer_demo("Adam", "quadratic")
    assert text.startswith("Adam (lr=0.1, betas=(0.9, 0.999)) on quadratic")
    _, text = widgets.optimizer_demo("momentum", "quadratic", lr=0.02)
    assert text.startswith("momentum (lr=0.02, momentum=0.9) on quadratic")
    assert widgets.optimizer_defaults("RMSprop") == {"lr": 0.1, "beta2": 0.99}
    with pytest.raises(ValueError, match="Invalid optimizer"):
        widgets.optimizer_defaults("Adagrad")


def test_switching_the_optimizer_sets_its_own_defaults_and_draws_once(monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    demo = widgets.optimizer_demo
    monkeypatch.setattr(widgets, "optimizer_demo", lambda **kw: calls.append(kw) or demo(**kw))
    o = widgets.optimizer_widget()
    controls = {c.description: c for c in o.children[:-2]}
    assert calls[-1] == {"optimizer": "Adam", "objective": "quadratic", "lr": 0.1, "beta1": 0.9}.__or__(
        {"beta2": 0.999, "steps": 200}
    )
    label = o.children[-2]
    calls.clear()
    controls["optimizer"].value = "RMSprop"
    assert controls["beta2"].value == 0.99 and controls["beta2"].label == "0.99"  # RMSprop's rho, torch's default
    assert controls["lr"].value == 0.1
    assert len(calls) == 1 and calls[0]["beta2"] == 0.99  # one drawing, with every new value in it
    assert label.value.startswith("RMSprop (lr=0.1, alpha=0.99) on quadratic") and "leaves" not in label.value
    controls["optimizer"].value = "momentum"
    assert (controls["lr"].value, controls["beta1"].value) == (0.01, 0.9)
    controls["beta2"].value = 0.9999  # an unused slider keeps what it had
    controls["optimizer"].value = "Adam"
    assert (controls["lr"].value, controls["beta1"].value, controls["beta2"].value) == (0.1, 0.9, 0.999)


def test_the_sliders_show_true_values_evenly_spaced_on_a_log_scale():
    pytest.importorskip("ipywidgets")
    o = widgets.optimizer_widget()
    controls = {c.description: c for c in o.children[:-2]}
    beta2, lr = controls["beta2"], controls["lr"]
    for slider in (beta2, lr):
        for text, value in slider.options:
            assert float(text) == value  # the label shown is the value used
    values = np.array([value for _, value in beta2.options])
    assert values[0] == 0.9 and values[-1] == 0.9999 and {0.99, 0.999} <= set(values)
    steps = np.diff(np.log10(1 - values))
    assert np.all(np.abs(steps - steps.mean()) < 0.03 * 4)  # half a decade of 1 - beta2 each, within 0.12
    assert np.all(np.abs(steps + 0.5) < 0.03)
    assert 0.003 in {value for _, value in lr.options}  # lesson 04 asks for SGD on Rosenbrock at 0.003
    for name, entry in trajectories.OPTIMIZERS.items():  # every default is on its slider
        for key, value in entry.defaults.items():
            slider = controls[key]
            if hasattr(slider, "options"):
                assert value in [v for _, v in slider.options], (name, key)
            else:
                assert slider.min <= value <= slider.max, (name, key)


def test_the_panel_shows_its_figure_at_100_percent(course_style):
    pytest.importorskip("ipywidgets")
    for w in (widgets.optimizer_widget(), widgets.ema_widget()):
        image = w.children[-1]
        width, height = png_size(bytes(image.value))
        assert width <= MAX_PX and image.layout.width == f"{width}px"  # one PNG pixel per page pixel
        assert image.layout.max_width == "100%"  # a narrower column scales it down instead of cutting it
    o = widgets.optimizer_widget()
    assert png_size(bytes(o.children[-1].value)) == (880, 400)


def test_panel_links_set_other_controls_and_check_their_names():
    w = pytest.importorskip("ipywidgets")
    calls = []

    def fn(a, b):
        calls.append((a, b))
        return plt.figure(figsize=(2, 1)), f"{a} {b}"

    controls = {"a": w.IntSlider(value=1), "b": w.IntSlider(value=0)}
    panel = widgets.panel(fn, controls, links={"a": lambda a: {"b": 10 * a}})
    assert calls == [(1, 0)]
    controls["a"].value = 2
    assert calls == [(1, 0), (2, 20)] and panel.children[-2].value == "2 20"
    controls["b"].value = 5
    assert calls[-1] == (2, 5)
    with pytest.raises(ValueError, match="links"):
        widgets.panel(fn, controls, links={"c": lambda c: {}})


# --- the EMA panel (lesson 01) --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, corrected", [(True, True), (True, False), (False, True), (False, False)])
def test_the_ema_text_reports_only_the_lines_drawn(raw, corrected):
    fig, text = widgets.ema_demo(0.9, raw=raw, corrected=corrected)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    # at t = 1 the raw EMA is (1 - 0.9) * 2 = 0.20 and the corrected one is the signal's first value, 2.00
    assert ("0.20" in text) == raw == any(label.startswith("raw") for label in labels)
    assert ("2.00" in text) == corrected == any(label.startswith("corrected") for label in labels)
    assert ("raw" in text) == raw and ("corrected" in text) == corrected
    assert text.startswith("beta = 0.9: window about 10 steps")


def test_the_ema_checkboxes_remove_the_numbers():
    pytest.importorskip("ipywidgets")
    w = widgets.ema_widget()
    *controls, label, _ = w.children
    boxes = {c.description: c for c in controls}
    assert "corrected one 2.00" in label.value
    boxes["corrected"].value = False
    assert "corrected" not in label.value and "2.00" not in label.value and "raw average is 0.20" in label.value
    boxes["raw"].value = False
    assert "raw" not in label.value and "0.20" not in label.value
    boxes["corrected"].value = True
    assert "the corrected average is 2.00" in label.value and "raw" not in label.value


# --- the panels' stills (the site, slides and handouts show them where a notebook has a live panel) ------------------


def test_static_panels_give_each_widget_its_initial_figure_and_text_and_leave_live_panels_alone():
    pytest.importorskip("ipywidgets")
    from lessonlib.course import heavy_ball_figures

    live = widgets.ema_widget()
    with widgets.static_panels():
        stills = {
            f.__name__: f() for f in (widgets.ema_widget, heavy_ball_figures.damping_widget, widgets.optimizer_widget)
        }
    assert not plt.get_fignums()  # each still closes the figure it drew
    assert all(isinstance(s, widgets.StaticPanel) for s in stills.values())
    assert all(s.png.startswith(b"\x89PNG") and s.width > 0 for s in stills.values())
    assert stills["ema_widget"].text == widgets.ema_demo(0.9)[1] == live.children[-2].value
    assert stills["ema_widget"].png == bytes(live.children[-1].value)  # the same pixels as the live panel's start
    assert stills["damping_widget"].text == heavy_ball_figures.damping_demo(lr=0.02, momentum=0.9)[1]
    assert stills["optimizer_widget"].text == widgets.optimizer_demo("Adam", "quadratic", steps=200)[1]
    again = widgets.ema_widget()  # outside the block: a live panel again
    assert type(again).__name__ == "VBox" and not widgets._STATIC
