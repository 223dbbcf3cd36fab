"""What every notebook does first: seed every random generator and set one figure style.

>>> rng = setup(seed=0)
>>> float(rng.standard_normal()) == float(np.random.default_rng(0).standard_normal())
True

torch is seeded only if it is already imported: importing it takes about 2 s of a kernel's start, which a lesson
that never uses torch should not pay. A lesson that draws from torch's global generator (``torch.randn``, a layer's
initial weights) imports torch before it calls ``setup``:

>>> import torch
>>> _ = setup(seed=3)
>>> torch.initial_seed()
3
"""

from __future__ import annotations

import random
import sys

import numpy as np

from lessonlib.optim._checks import check_seed

STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def _retina_inline_figures() -> None:
    """In a notebook, store figures at twice their pixel size, shown at their size.

    Sharp in JupyterLab, on the site and on a printed A4 handout, where 100 dpi is blurred. Outside IPython's
    inline backend there is nothing to do.
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - both come with the course environment
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def setup(seed: int = 0) -> np.random.Generator:
    """Seed Python's, numpy's (and torch's, if it is imported) generators; apply the course style.

    Returns a fresh ``np.random.Generator`` seeded with ``seed``, the one a
    notebook should draw its random numbers from.

    Args:
        seed: an int >= 0 (checked first: numpy 2.4's ``default_rng`` kills the interpreter on an ``np.matrix``).
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (seeds code that still uses the legacy global generator)
    torch = sys.modules.get("torch")  # imported by the lesson before this call, or not needed (module docstring)
    if torch is not None:
        torch.manual_seed(seed)
    try:
        import matplotlib as mpl
    except ImportError:  # pragma: no cover
        pass
    else:
        mpl.rcParams.update(STYLE)
        _retina_inline_figures()
    return np.random.default_rng(seed)
