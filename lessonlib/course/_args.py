"""What the course modules add to :mod:`lessonlib.optim._checks`: arrays of reals that refuse a torch tensor by kind.

``np.asarray`` of a tensor that requires grad raises a RuntimeError (not a TypeError), so
:func:`check_reals` here refuses every torch tensor up front, naming the argument, then hands the rest to
:func:`lessonlib.optim._checks.check_reals`. (It belongs in ``_checks.check_reals``; it is here until it moves.)
"""

from __future__ import annotations

import math

import numpy as np

from lessonlib.optim import _checks

#: The most steps a course run takes (stated in the error): a bigger count would only run on, or fill memory, for hours.
MAX_RUN_STEPS = 10**7


def is_tensor(x) -> bool:
    """True for a torch tensor (or a Parameter), told by its type's module: torch need not be imported."""
    return type(x).__module__.partition(".")[0] == "torch"


def check_reals(name: str, x, *, low: float, high: float | None = None, strict_low: bool = False) -> np.ndarray:
    """:func:`lessonlib.optim._checks.check_reals`, with a torch tensor refused as a TypeError naming ``name``."""
    if is_tensor(x):
        raise TypeError(
            f"{name} must be a real number or a list or numpy array of them, got a torch tensor "
            "(pass t.detach().numpy())"
        )
    return _checks.check_reals(name, x, low=low, high=high, strict_low=strict_low)


def check_shown(name: str, x) -> float:
    """A real number to print, as a float: a float inf or nan passes (a run that never got there).

    Anything else goes through :func:`lessonlib.optim._checks.check_real` (finite, any sign).
    """
    if isinstance(x, float | np.floating) and not math.isfinite(x):
        return float(x)
    return _checks.check_real(name, x, low=-math.inf)
