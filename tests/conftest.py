"""Shared test settings: hypothesis without deadlines (the machine is shared and noisy), the ``kernel``
fixture, and a summary of the worst disagreement with torch.optim measured in this run."""

from __future__ import annotations

import os
import sys
from collections import defaultdict

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")  # before any test module imports pyplot: figures are drawn, never shown

import lessonlib as ll
from lessonlib.optim import adam, rmsprop, sgd

settings.register_profile(
    "course",
    deadline=None,
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("course")


@pytest.fixture(autouse=True)
def close_figures():
    """Every test leaves no figure open (matplotlib warns past 20, and they hold memory)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(params=["numba", "numpy"])
def kernel(request, monkeypatch):
    """Run a test on the compiled kernels and on the numpy fallback (as where numba cannot import)."""
    if request.param == "numba" and ll.KERNEL != "numba":
        pytest.skip("numba is not installed here")
    use_kernel(monkeypatch, request.param)
    return request.param


def use_kernel(monkeypatch, name: str) -> None:
    """Make Adam (and AdamW), RMSprop and SGD run the compiled kernels ("numba") or the numpy form ("numpy")."""
    for cls in (adam.Adam, rmsprop.RMSprop, sgd.SGD):
        monkeypatch.setattr(cls, "_update", cls._update_compiled if name == "numba" else cls._update_numpy)


# (optimizer, dtype) -> worst relative deviation from torch.optim seen in this run. Tests report each
# measurement as a user property ("torch_deviation", (optimizer, dtype, value)), which reaches the main
# process also when pytest-xdist runs the tests in workers.
TORCH_DEVIATIONS: dict[tuple[str, str], float] = defaultdict(float)


def pytest_runtest_logreport(report):
    for name, value in report.user_properties:
        if name == "torch_deviation":
            optimizer, dtype, dev = value
            TORCH_DEVIATIONS[optimizer, dtype] = max(TORCH_DEVIATIONS[optimizer, dtype], dev)


def pytest_terminal_summary(terminalreporter):
    if not TORCH_DEVIATIONS:
        return
    terminalreporter.section("largest deviation from torch.optim (max |theta - theta_torch| / max |theta|)")
    for (name, dtype), dev in sorted(TORCH_DEVIATIONS.items()):
        terminalreporter.write_line(f"{name:8s} {dtype:8s} {dev:.3e}")
