"""Argument checks shared by every public function and class of lessonlib.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the
argument and the range it must lie in, the way ``torch.optim`` does. Nothing
here modifies its input: the optimizers call these checks *before* they touch
any parameter or any piece of state, so a rejected call loses nothing.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.lib.array_utils import byte_bounds

from lessonlib.optim._compile import kernel

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: The largest step count anything accepts: far beyond any run, and safe in int64 and in ``beta ** t``.
MAX_STEPS = 2**62


def check_real(name: str, value, *, low: float = 0.0, high: float | None = None) -> float:
    """Return ``value`` as a Python float after checking ``low <= value`` (``< high``).

    A Python float (not a ``np.float64``) is returned on purpose: under NumPy 2 a
    ``np.float64`` scalar upcasts a float32 array, a Python float does not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"Invalid {name}: too large for a float (must be finite)") from None
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (must be finite)")
    if value < low or (high is not None and value >= high):
        allowed = f"{low} <= {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {value} (allowed: {allowed})")
    return value


def check_bool(name: str, value) -> bool:
    """A flag: ``True`` or ``False`` (numpy's bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


def check_beta(name: str, value) -> float:
    """A decay rate of a moving average: ``0 <= beta < 1``."""
    return check_real(name, value, low=0.0, high=1.0)


def check_betas(betas) -> tuple[float, float]:
    """The pair ``(beta1, beta2)``, each in ``[0, 1)``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return check_beta("beta1 (betas[0])", betas[0]), check_beta("beta2 (betas[1])", betas[1])


def check_plain(name: str, a: np.ndarray) -> None:
    """Refuse ndarray subclasses: ``np.matrix`` changes what ``*`` means, a masked array hides values."""
    if type(a) is not np.ndarray:
        fix = "a.filled(...) says what a masked entry is" if isinstance(a, np.ma.MaskedArray) else "np.asarray(a)"
        raise TypeError(f"{name} is a {type(a).__module__}.{type(a).__name__}; pass a plain numpy array ({fix})")


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
            arr = np.asarray(g)
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


class hyperparameter:
    """A validated attribute: ``opt.lr = -1`` raises, like the constructor does.

    Lets a schedule change ``opt.lr`` between steps while keeping the checks.
    """

    def __init__(self, check, *, fixed: bool = False):
        self.check, self.fixed = check, fixed

    def __set_name__(self, owner, name):
        self.name, self.attr = name, "_" + name

    def __get__(self, obj, objtype=None):
        return self if obj is None else getattr(obj, self.attr)

    def __set__(self, obj, value):
        value = self.check(self.name, value)
        if self.fixed and hasattr(obj, self.attr) and getattr(obj, self.attr) != value:
            raise ValueError(f"{self.name} is fixed when the optimizer is made; make a new one to change it")
        setattr(obj, self.attr, value)


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
    t = state.get("t")
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or not 0 <= t < MAX_STEPS:
        raise ValueError(f"{name}['t'] must be an int, 0 <= t < 2**62 (the number of steps taken), got {t!r}")
    for key in moments:
        arr = state[key]
        if type(arr) is not np.ndarray or arr.shape != p.shape or arr.dtype != p.dtype:
            raise ValueError(f"{name}['{key}'] must be a numpy array of shape {p.shape} and dtype {p.dtype}")
        if not arr.flags.writeable or overlaps_itself(arr):
            raise ValueError(f"{name}['{key}'] must be a writeable array of its own")
        if values and key in nonnegative and (arr < 0).any():
            raise ValueError(f"{name}['{key}'] must be >= 0 (it is an average of squares)")


#: The most steps a course run takes (stated in the error): a bigger count would only run on, or fill memory, for hours.
MAX_RUN_STEPS = 10**7


def is_tensor(x) -> bool:
    """True for a torch tensor (or a Parameter), told by its type's module: torch need not be imported."""
    return type(x).__module__.partition(".")[0] == "torch"


def check_shown(name: str, x) -> float:
    """A real number to print, as a float: a float inf or nan passes (a run that never got there).

    Anything else goes through :func:`check_real` (finite, any sign).
    """
    if isinstance(x, float | np.floating) and not math.isfinite(x):
        return float(x)
    return check_real(name, x, low=-math.inf)


def check_int(name: str, value, *, low: int = 0, high: int | None = None) -> int:
    """A count or an index: an int (Python or numpy, not a bool), ``low <= value`` (``<= high``); a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {value} (allowed: {allowed})")
    return int(value)


def check_step(t, name: str = "t", low: int = 0) -> int:
    """A step count: an int (Python or numpy), ``low <= t < 2**62``; returned as a Python int."""
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{name} must be an int (a step count), got {type(t).__name__}: {t!r}")
    if not low <= t < MAX_STEPS:
        raise ValueError(f"Invalid {name}: {t} (allowed: {low} <= {name} < 2**62)")
    return int(t)


def check_seed(seed, name: str = "seed") -> int:
    """A random seed: an int ``>= 0`` (``np.random.default_rng`` and ``torch.manual_seed`` both take it).

    Only ints pass: numpy 2.4's ``default_rng`` kills the interpreter when given an ``np.matrix``, and torch
    raises a RuntimeError on a float.
    """
    return check_int(name, seed, low=0, high=2**63 - 1)


def check_reals(name: str, x, *, low: float, high: float | None = None, strict_low: bool = False) -> np.ndarray:
    """``x`` (a number or an array of them) as a float64 array, every entry finite and in range."""
    if isinstance(x, (bool, np.bool_, str, bytes)) or x is None:
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}: {x!r}")
    if is_tensor(x):  # np.asarray of a tensor that requires grad raises a RuntimeError
        raise TypeError(
            f"{name} must be a real number or a list or numpy array of them, got a torch tensor "
            "(pass t.detach().numpy())"
        )
    shown = repr(x) if not isinstance(x, int) or x.bit_length() < 200 else "a number too large for a float"
    what = f"{name} must be a real number or an array of them, got {type(x).__name__}: {shown[:200]}"
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            raw = np.asarray(x)
            reals = raw.dtype.kind in "iuf" or (
                raw.dtype.kind == "O"
                and all(isinstance(e, numbers.Real) and not isinstance(e, (bool, np.bool_)) for e in raw.flat)
            )
            if not reals:  # strings ("0.1", also inside a list), bools, complex numbers, None
                raise TypeError(what)
            arr = raw.astype(np.float64)
    except OverflowError:
        raise ValueError(f"Invalid {name}: too large for a float (must be finite)") from None
    except (TypeError, ValueError):
        raise TypeError(what) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name}: {x!r} (must be finite and within float range)")
    bad_low = np.any(arr <= low) if strict_low else np.any(arr < low)
    bad_high = high is not None and np.any(arr >= high)
    if bad_low or bad_high:
        allowed = f"{low} {'<' if strict_low else '<='} {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {x!r} (allowed: {allowed})")
    return arr


def plain(*values):
    """``values`` with every numpy scalar made a Python scalar (``np.float64(0.9)`` -> ``0.9``), others as given.

    The pure step functions pass their hyperparameters through this: under NumPy 2 a ``np.float64``
    hyperparameter would turn a float32 result into float64, a Python float does not. Arrays,
    Fractions and Python numbers come back unchanged.
    """
    return tuple(v.item() if isinstance(v, np.generic) else v for v in values)


def check_number(name: str, x, *, like=None):
    """A finite real number (int, float, Fraction) or a plain real array; an array keeps the shape of ``like``."""
    if isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)):
        value = x
    elif type(x) is np.ndarray and x.dtype.kind in "fiu":
        value = x
    else:
        raise TypeError(f"{name} must be a real number or a plain numpy array of reals, got {type(x).__name__}")
    with np.errstate(invalid="ignore", over="ignore"):
        try:
            finite = np.isfinite(np.asarray(value, dtype=float)).all()
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{name} must be finite (no nan or inf) and within float range, got {x!r}")
    if like is not None and np.shape(like) != np.shape(x) and np.ndim(like) != 0:
        raise ValueError(f"{name} has shape {np.shape(x)} but the average so far has shape {np.shape(like)}")
    return value


#: The largest float: a Python int or Fraction beyond it cannot meet a float in a formula.
_FLOAT_MAX = float(np.finfo(np.float64).max)  # a Python float: an int compares with it exactly


def check_operand(name: str, x):
    """An operand of a textbook formula: a real number (int, float, Fraction, numpy scalar) or a plain real array.

    Returned as given, so a Fraction stays exact. Refused with a TypeError: a bool, a string, a list (numpy would
    not do arithmetic on it), an ``np.matrix`` or masked array (``*`` means another thing on them), a torch tensor
    (``np.sqrt`` cannot take one that requires grad: pass ``t.detach().numpy()``); with a ValueError an int or
    Fraction beyond float's range, which would overflow where it meets a float.
    """
    if isinstance(x, np.ndarray):
        check_plain(name, x)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{name} has dtype {x.dtype}; allowed: a real number or a numpy array of reals")
        return x
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number or a numpy array of reals, got {type(x).__name__}: {x!r:.60}")
    if isinstance(x, numbers.Rational) and not isinstance(x, np.integer) and abs(x) > _FLOAT_MAX:
        raise ValueError(f"Invalid {name}: {x!r:.40} (too large for a float; allowed: within float's range)")
    return x


def check_coefficient(name: str, value, *, low: float = 0.0, high: float | None = None):
    """A hyperparameter of a textbook formula, checked as :func:`check_real`, but returned as given.

    A Fraction stays exact; a numpy scalar becomes the Python number it holds (see :func:`plain`).
    """
    check_real(name, value, low=low, high=high)
    return value.item() if isinstance(value, np.generic) else value


def check_steps(name: str, t, *, low: int = 0):
    """A step count (:func:`check_step`) or a plain numpy array of them, every one ``low <= t < 2**62``."""
    if isinstance(t, np.ndarray):
        check_plain(name, t)
        if t.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an int or an integer array of steps, got an array of dtype {t.dtype}")
        if t.size and (t.min() < low or t.max() >= MAX_STEPS):
            raise ValueError(f"Invalid {name}: {t.min()}..{t.max()} (allowed: {low} <= {name} < 2**62)")
        return t
    return check_step(t, name, low)


def check_function(name: str, fn):
    """A function argument (``sqrt``, say): anything callable."""
    if not callable(fn):
        raise TypeError(f"{name} must be a function, got {type(fn).__name__}: {fn!r:.60}")
    return fn
