"""The one switch between compiled and numpy kernels (see :mod:`lessonlib.optim.optimizer`)."""

from __future__ import annotations

import os


def _numba():
    if os.environ.get("LESSONLIB_KERNEL", "numba") == "numpy":
        return None
    try:
        import numba
    except ImportError:  # no wheel for this Python yet, or a browser-only Python
        return None
    return numba


_nb = _numba()

#: Which kernels the optimizer classes run: ``"numba"`` (compiled loops) or ``"numpy"`` (the textbook form).
KERNEL = "numpy" if _nb is None else "numba"


def kernel(loop, **options):
    """Compile ``loop`` with numba (serial, no Python objects, numpy's float semantics), or return None.

    ``error_model="numpy"`` lets a division by zero give inf as numpy does, instead of
    raising; nothing in a kernel can raise half-way through a step.
    ``cache=True`` keeps the machine code between sessions (a first compile takes a few tenths
    of a second per dtype); where neither the package folder nor ``$HOME`` is writable numba
    refuses to cache, and the kernel is compiled anew in every session instead.
    """
    if _nb is None:
        return None
    try:
        return _nb.njit(loop, cache=True, error_model="numpy", **options)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return _nb.njit(loop, cache=False, error_model="numpy", **options)


#: The two of LLVM's fast-math liberties the optimizer kernels take. ``arcp``: a division by a number that is
#: the same for every element (``m / bc1``) may become a multiplication by its reciprocal. ``contract``:
#: ``a * b + c`` may become one fused multiply-add, as torch's CPU kernels compute their lerp and addcmul.
#: Each changes a result by at most a rounding; neither touches how nan and inf behave (no ``nnan``, ``ninf``).
FAST = {"arcp", "contract"}
