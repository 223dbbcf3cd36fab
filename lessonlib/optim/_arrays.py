"""What an optimizer asks of the arrays it is given: memory safety, so one write never spoils another.

These checks stand behind "a rejected call changes nothing". The parameters are updated in place, so each must
be a writeable float array whose elements share no memory with each other or with another parameter or state
array (:func:`overlaps_itself`, :func:`first_overlap`); a gradient that is a view of a parameter is copied before
the step writes under it (:func:`root`); and every gradient is scanned for nan and inf in one compiled read
before anything changes (:func:`all_finite`). The argument checks every layer shares (numbers, counts, seeds)
are in :mod:`lessonlib.optim._checks`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.array_utils import byte_bounds

from lessonlib.optim._checks import FLOAT_DTYPES, brief, check_plain, check_step, holds_bool
from lessonlib.optim._compile import kernel


def overlaps_itself(a: np.ndarray) -> bool:
    """True if two elements of ``a`` may share memory (a zero stride, or strides that interleave).

    Sorted by stride, each axis must step past everything the smaller axes span.
    """
    if a.size == 0:
        return False
    span = a.itemsize
    for stride, n in sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n > 1):
        if stride < span:
            return True
        span = stride * (n - 1) + span
    return False


def first_overlap(arrays) -> tuple[int, int] | None:
    """The first pair of indices ``(i, j)``, ``i < j``, of ``arrays`` whose elements share memory, or None.

    Sorted by the memory each spans, only the pairs whose spans meet are tested exactly:
    n log n for a model of many arrays.
    """
    spans = sorted((byte_bounds(a), i) for i, a in enumerate(arrays) if a.size)
    for k, ((_, hi), i) in enumerate(spans):
        for (lo, _), j in spans[k + 1 :]:
            if lo >= hi:
                break
            if np.shares_memory(arrays[i], arrays[j]):
                return min(i, j), max(i, j)
    return None


def root(a):
    """The object that owns ``a``'s memory: ``a`` itself, the array it views, or the buffer under it.

    Two arrays made by ``np.frombuffer`` on one ``bytearray`` have the same root.
    """
    while True:
        under = a.obj if isinstance(a, memoryview) else getattr(a, "base", None)
        if under is None:
            return a
        a = under


def check_params(params) -> list[np.ndarray]:
    """A non-empty list of distinct, writeable float32/float64 numpy arrays that do not overlap."""
    if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)):
        raise TypeError(
            f"params must be a list of numpy arrays (wrap a single array as [theta]), got {type(params).__name__}"
        )
    if len(params) == 0:
        raise ValueError("params is empty: the optimizer needs at least one array")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] must be a numpy array (use np.array(x, dtype=float)), got {type(p).__name__}")
        check_plain(f"params[{i}]", p)
        if p.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"params[{i}] has dtype {p.dtype}; allowed: float32 or float64 "
                "(an integer array cannot be updated in place by a fractional step)"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimizer updates it in place")
        if overlaps_itself(p):
            raise ValueError(
                f"params[{i}] is a view whose elements share memory (strides {p.strides}); "
                "an in-place update would write one element twice: pass a copy"
            )
        if id(p) in seen:
            raise ValueError(f"params[{i}] appears twice in params; each array may appear once")
        seen.add(id(p))
    pair = first_overlap(params)  # views of one buffer are fine as long as they do not overlap
    if pair:
        raise ValueError(f"params[{pair[0]}] and params[{pair[1]}] share memory; each element may be in one parameter")
    return list(params)


def _finite_loop(a):
    """0.0 if every element of the 1-D ``a`` is finite, else nan: x * 0 is nan exactly for nan and inf.

    Read as four streams (the four quarters of ``a``), which keeps more of memory's bandwidth busy
    than one: this read of g is the one a step makes beyond the seven arrays the update itself moves.
    """
    q = a.size // 4
    acc0 = acc1 = acc2 = acc3 = a.dtype.type(0)
    for i in range(q):
        acc0 += a[i] * 0
        acc1 += a[i + q] * 0
        acc2 += a[i + 2 * q] * 0
        acc3 += a[i + 3 * q] * 0
    for i in range(4 * q, a.size):
        acc0 += a[i] * 0
    return acc0 + acc1 + acc2 + acc3


_finite = kernel(_finite_loop, fastmath={"reassoc"})  # any order of the sum will do: it vectorises


def all_finite(arr: np.ndarray) -> bool:
    """True if no entry is nan or inf, in one read of ``arr`` and without a temporary array.

    A sum is finite only if every term is; when the sum is not (a real nan/inf,
    or finite values whose sum overflows), the exact element-wise test decides.
    """
    if _finite is not None and arr.flags.c_contiguous:  # one compiled read, and less overhead than numpy's
        return _finite(arr if arr.ndim == 1 else arr.reshape(-1)) == 0
    with np.errstate(over="ignore", invalid="ignore"):  # the sum of finite values may overflow: then look closer
        return math.isfinite(np.add.reduce(arr, axis=None)) or bool(np.isfinite(arr).all())


def _not_an_array(i: int, g) -> str:
    """The message for a gradient numpy cannot read as reals (written only when one is refused)."""
    return f"grads[{i}] must be an array of reals, got {type(g).__name__}: {brief(g, 60)}"


def check_grads(grads, params: list[np.ndarray], protected: set[int], *, finite: bool = True) -> list[np.ndarray]:
    """Check every gradient against its parameter; return them as arrays of the parameter's dtype.

    Raises before anything is modified: the caller applies the step only when
    all gradients have passed (a value too large for float32 becomes inf in the cast, and is refused).
    ``finite=False`` skips the one check that reads every element (see ``Optimizer.step``).
    A gradient whose memory's root (:func:`root`) has its id in ``protected`` (the parameters' and
    the state's roots) is copied: the step writes those while it reads the gradient.
    """
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(
            "grads must be a list of arrays aligned with params "
            f"(one gradient per parameter), got {type(grads).__name__}"
        )
    if len(grads) != len(params):
        raise ValueError(
            f"grads has {len(grads)} entries but there are {len(params)} params; "
            "pass one gradient per parameter, in the same order"
        )
    checked = []
    for i, (g, p) in enumerate(zip(grads, params)):
        if type(g) is np.ndarray:
            arr = g
        elif isinstance(g, np.ndarray):
            check_plain(f"grads[{i}]", g)
        else:
            if holds_bool(g):  # numpy would read [True, 0.5] as [1.0, 0.5]
                raise TypeError(_not_an_array(i, g))
            try:
                arr = np.asarray(g)
            except Exception:  # noqa: BLE001 - a ragged list, a list holding a tensor that requires grad, ...
                raise TypeError(_not_an_array(i, g)) from None
        if arr.dtype != p.dtype:
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"grads[{i}] has dtype {arr.dtype}; allowed: a real floating or integer array")
            with np.errstate(over="ignore", invalid="ignore"):  # too large for float32: inf, refused below
                arr = arr.astype(p.dtype)
        if arr.shape != p.shape:
            raise ValueError(f"grads[{i}] has shape {arr.shape} but params[{i}] has shape {p.shape}")
        if finite and not all_finite(arr):
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(
                f"grads[{i}] has {bad} non-finite value(s) (nan, inf, or too large for {p.dtype}); "
                "the step was rejected and nothing was changed"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] has become read-only; the optimizer updates it in place")
        if id(root(arr)) in protected:
            arr = arr.copy()  # a gradient that is (a view of) a parameter, as for f = theta**2 / 2
        checked.append(arr)
    return checked


def check_state(name: str, state, p: np.ndarray, moments, nonnegative, *, values: bool = True) -> None:
    """A parameter's state as an optimizer keeps it: ``t`` an int >= 0, each moment an array like ``p``.

    With ``values=False`` (before every step) only what costs no pass over memory is
    checked; with ``values=True`` (on loading) the values too: averages of squares must be
    >= 0. Arrays may hold inf and nan, because a run with valid hyperparameters can put them
    there (a finite gradient of 1e200 squares past float64's range; an lr of 1e300 sends theta
    to inf), in torch too, and an optimizer's own ``state_dict`` must load back. Each array must
    be writeable and not overlap itself (:func:`first_overlap` checks it against the rest).
    """
    if not isinstance(state, dict) or len(state) != len(moments) + 1 or not all(k in state for k in moments):
        raise ValueError(f"{name} must be a dict with the keys {sorted({'t', *moments})}")
    check_step(state.get("t"), f"{name}['t']")  # the number of steps taken
    for key in moments:
        arr = state[key]
        if type(arr) is not np.ndarray or arr.shape != p.shape or arr.dtype != p.dtype:
            raise ValueError(f"{name}['{key}'] must be a numpy array of shape {p.shape} and dtype {p.dtype}")
        if not arr.flags.writeable or overlaps_itself(arr):
            raise ValueError(f"{name}['{key}'] must be a writeable array of its own")
        if values and key in nonnegative and (arr < 0).any():
            raise ValueError(f"{name}['{key}'] must be >= 0 (it is an average of squares)")
