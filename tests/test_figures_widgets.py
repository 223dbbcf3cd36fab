"""The shared figures and the functions behind the widgets (nbval cannot move a slider, so they are tested here)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lessonlib as ll  # noqa: E402
from lessonlib.course import figures as plotting  # noqa: E402
from lessonlib.course import objectives, widgets  # noqa: E402
from lessonlib.course import runs as trajectories  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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
    fig, (left, right) = plotting.comparison(obj, runs)
    drawn = [line for line in left.get_lines() if line.get_label() == "Adam"][0]
    assert np.array_equal(drawn.get_xdata(), runs["Adam"].path[:, 0])
    assert np.array_equal(drawn.get_ydata(), runs["Adam"].path[:, 1])
    assert left.get_xlim() == obj.xlim and left.get_ylim() == obj.ylim
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
    with pytest.raises(ValueError, match="unknown optimizer"):
        widgets.optimizer_demo("Adagrad")
    with pytest.raises(ValueError, match="unknown objective"):
        widgets.optimizer_demo("Adam", "sphere")


def test_widgets_build_and_call_the_pure_functions():
    pytest.importorskip("ipywidgets")
    text_09, text_05 = widgets.ema_demo(0.9)[1], widgets.ema_demo(0.5)[1]
    plt.close("all")
    w = widgets.ema_widget()
    *controls, label, image = w.children
    assert [c.description for c in controls] == ["beta", "corrected"]
    assert label.value == text_09 and bytes(image.value).startswith(b"\x89PNG")
    first = bytes(image.value)
    controls[0].value = 0.5  # moving the slider re-runs ema_demo
    assert label.value == text_05 and bytes(image.value) != first
    o = widgets.optimizer_widget()
    *controls, label, _ = o.children
    assert [c.description for c in controls] == ["optimizer", "objective", "lr", "beta1", "beta2", "steps"]
    controls[0].value = "RMSprop"
    assert label.value.startswith("RMSprop {'lr': 0.1, 'alpha': 0.999} on quadratic")
    assert not plt.get_fignums()  # the panels close the figures they draw


def test_course_map_has_every_lesson_and_each_arrow():
    fig, ax = plotting.course_map()
    labels = [t.get_text() for t in ax.texts]
    for number in ("01", "02", "03", "04", "05", "06"):
        assert sum(label.startswith(number) for label in labels) == 1, number
    arrows = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation)]
    assert len(arrows) == len(plotting.COURSE_ARROWS) == 9
    ends = {(a.xyann, a.xy) for a in arrows}
    for start, end in plotting.COURSE_ARROWS:
        assert (plotting.COURSE_MAP[start][1:], plotting.COURSE_MAP[end][1:]) in ends


@pytest.mark.parametrize(
    "optimizer, beta1, beta2",
    [("SGD", False, False), ("momentum", True, False), ("RMSprop", False, True), ("Adam", True, True)],
)
def test_the_optimizer_panel_greys_out_the_betas_an_optimizer_ignores(optimizer, beta1, beta2):
    assert widgets.active_betas(optimizer) == {"beta1": beta1, "beta2": beta2}
    panel = widgets.optimizer_widget()
    dropdown = panel.children[0]
    dropdown.value = optimizer
    sliders = {c.description: c for c in panel.children if getattr(c, "description", "") in ("beta1", "beta2")}
    assert (not sliders["beta1"].disabled, not sliders["beta2"].disabled) == (beta1, beta2)
