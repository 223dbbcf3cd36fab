"""Argument checks shared by every public function and class of lessonlib.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the
argument and the range it must lie in, the way ``torch.optim`` does. Nothing
here modifies its input: the optimizers call these checks *before* they touch
any parameter or any piece of state, so a rejected call loses nothing.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: The largest step count anything accepts: far beyond any run, and safe in int64 and in ``beta ** t``.
MAX_STEPS = 2**62


def brief(x, limit: int = 200) -> str:
    """``repr(x)`` for an error message, at most ``limit`` characters.

    Never raises (the repr of an int past 4300 digits does, and so may a learner's class) and never spends long
    on a huge int.
    """
    if isinstance(x, numbers.Integral) and not isinstance(x, bool) and abs(int(x)).bit_length() > 600:
        return f"an int of about {int(abs(int(x)).bit_length() * math.log10(2))} digits"
    try:
        text = str(x) if isinstance(x, (np.number, np.bool_)) else repr(x)  # np.int64(3) shown as 3, the number
    except Exception:  # noqa: BLE001 - whatever the object's repr raises, the message still names the argument
        return f"a {type(x).__name__} whose repr fails"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_real(name: str, value, *, low: float = 0.0, high: float | None = None) -> float:
    """Return ``value`` as a Python float after checking ``low <= value`` (``< high``).

    A Python float (not a ``np.float64``) is returned on purpose: under NumPy 2 a
    ``np.float64`` scalar upcasts a float32 array, a Python float does not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {brief(value)}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"Invalid {name}: too large for a float (must be finite)") from None
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (must be finite)")
    if value < low or (high is not None and value >= high):
        allowed = f"{low} <= {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {brief(value)} (allowed: {allowed})")
    return value


def check_bool(name: str, value) -> bool:
    """A flag: ``True`` or ``False`` (numpy's bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {brief(value)}")
    return bool(value)


def check_beta(name: str, value) -> float:
    """A decay rate of a moving average: ``0 <= beta < 1``."""
    return check_real(name, value, low=0.0, high=1.0)


def check_betas(betas) -> tuple[float, float]:
    """The pair ``(beta1, beta2)``, each in ``[0, 1)``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {brief(betas)}")
    return check_beta("beta1 (betas[0])", betas[0]), check_beta("beta2 (betas[1])", betas[1])


def check_plain(name: str, a: np.ndarray) -> None:
    """Refuse ndarray subclasses: ``np.matrix`` changes what ``*`` means, a masked array hides values."""
    if type(a) is not np.ndarray:
        fix = "a.filled(...) says what a masked entry is" if isinstance(a, np.ma.MaskedArray) else "np.asarray(a)"
        raise TypeError(f"{name} is a {type(a).__module__}.{type(a).__name__}; pass a plain numpy array ({fix})")


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
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {brief(value)}")
    if value < low or (high is not None and value > high):
        allowed = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {brief(value)} (allowed: {allowed})")
    return int(value)


def check_step(t, name: str = "t", low: int = 0) -> int:
    """A step count: an int (Python or numpy), ``low <= t < 2**62``; returned as a Python int."""
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
        raise TypeError(f"{name} must be an int (a step count), got {type(t).__name__}: {brief(t)}")
    if not low <= t < MAX_STEPS:
        raise ValueError(f"Invalid {name}: {brief(t)} (allowed: {low} <= {name} < 2**62)")
    return int(t)


def check_seed(seed, name: str = "seed") -> int:
    """A random seed: an int, ``0 <= seed < 2**32`` (np.random.seed, default_rng and torch.manual_seed take it).

    Only ints pass: numpy 2.4's ``default_rng`` kills the interpreter when given an ``np.matrix``, and torch
    raises a RuntimeError on a float.
    """
    return check_int(name, seed, low=0, high=2**32 - 1)  # what np.random.seed takes (the others take more)


def _not_reals(name: str, x) -> str:
    """The message for a value :func:`check_reals` cannot read as reals.

    Written only when a value is refused: the repr of a large array costs more than the check itself.
    """
    return f"{name} must be a real number or an array of them, got {type(x).__name__}: {brief(x)}"


def _is_bool(e) -> bool:
    return isinstance(e, (bool, np.bool_)) or (isinstance(e, np.ndarray) and e.dtype.kind == "b")


def holds_bool(x) -> bool:
    """Whether a list or tuple holds a bool at any depth (numpy would read ``[True, 0.5]`` as ``[1.0, 0.5]``).

    A list nested too deep to look through counts as holding one: it is refused too.
    """
    try:
        return isinstance(x, (list, tuple)) and any(_is_bool(e) or holds_bool(e) for e in x)
    except RecursionError:
        return True


def as_reals(name: str, x) -> np.ndarray:
    """``x`` (a real number, or a list, tuple or plain numpy array of them) as a float64 array; nan and inf pass.

    A real number is an int, a float, numpy's, a Fraction or a Decimal. Refused with a TypeError: a bool, a string,
    None (also inside a list), a complex number, a torch tensor, a masked array or ``np.matrix``; with a ValueError a
    number beyond float's range.
    """
    if isinstance(x, (bool, np.bool_, str, bytes)) or x is None or holds_bool(x):
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}: {brief(x)}")
    if is_tensor(x):  # np.asarray of a tensor that requires grad raises a RuntimeError
        raise TypeError(
            f"{name} must be a real number or a list or numpy array of them, got a torch tensor "
            "(pass t.detach().numpy())"
        )
    if isinstance(x, np.ndarray):
        check_plain(name, x)  # a masked array hides values, np.matrix changes what * means
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            raw = np.asarray(x)
            reals = raw.dtype.kind in "iuf" or (
                raw.dtype.kind == "O"
                and all(isinstance(e, (numbers.Real, Decimal)) and not _is_bool(e) for e in raw.flat)
            )
            if not reals:  # strings ("0.1", also inside a list), bools, complex numbers, None
                raise TypeError(_not_reals(name, x))
            return raw.astype(np.float64)
    except OverflowError:
        raise ValueError(f"Invalid {name}: too large for a float (must be finite)") from None
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a list holding a tensor that requires grad
        raise TypeError(_not_reals(name, x)) from None


def check_reals(name: str, x, *, low: float, high: float | None = None, strict_low: bool = False) -> np.ndarray:
    """``x`` (a number or an array of them, read by :func:`as_reals`) as float64, every entry finite and in range."""
    arr = as_reals(name, x)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name}: {brief(x)} (must be finite and within float range)")
    bad_low = np.any(arr <= low) if strict_low else np.any(arr < low)
    bad_high = high is not None and np.any(arr >= high)
    if bad_low or bad_high:
        allowed = f"{low} {'<' if strict_low else '<='} {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {brief(x)} (allowed: {allowed})")
    return arr


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
            raise ValueError(f"{name} must be finite (no nan or inf) and within float range, got {brief(x)}")
    if like is not None and np.shape(like) != np.shape(x) and np.ndim(like) != 0:
        raise ValueError(f"{name} has shape {np.shape(x)} but the average so far has shape {np.shape(like)}")
    return value


#: The largest float: a Python int or Fraction beyond it cannot meet a float in a formula.
_FLOAT_MAX = float(np.finfo(np.float64).max)  # a Python float: an int compares with it exactly


def check_operand(name: str, x):
    """An operand of a textbook formula: a real number (int, float, Fraction, numpy scalar) or a plain real array.

    Returned as given, so a Fraction stays exact; a list of reals comes back as the array it makes. Refused with a
    TypeError: a bool, a string, a ragged or non-numeric list, an ``np.matrix`` or masked array (``*`` means
    another thing on them), a torch tensor (``np.sqrt`` cannot take one that requires grad: pass
    ``t.detach().numpy()``); with a ValueError an int or Fraction beyond float's range, which would overflow where
    it meets a float.
    """
    if isinstance(x, (list, tuple)):  # a list of numbers computes as the array it makes
        try:
            arr = np.asarray(x)
        except (ValueError, RuntimeError):  # ragged, or holding a tensor that requires grad
            arr = None
        if arr is None or arr.dtype.kind not in "fiu" or holds_bool(x):
            raise TypeError(f"{name} must be a real number or an array (or list) of reals, got {brief(x, 60)}")
        return arr
    if isinstance(x, np.ndarray):
        check_plain(name, x)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{name} has dtype {x.dtype}; allowed: a real number or a numpy array of reals")
        return x
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{name} must be a real number or a numpy array of reals, got {type(x).__name__}: {brief(x, 60)}"
        )
    if isinstance(x, numbers.Rational) and not isinstance(x, np.integer) and abs(x) > _FLOAT_MAX:
        raise ValueError(f"Invalid {name}: {brief(x, 40)} (too large for a float; allowed: within float's range)")
    return x


def checked_root(sqrt):
    """A pure step function's ``sqrt`` argument, checked once: numpy's as it is, another one wrapped.

    The wrapper checks each result as an operand (a string, a tensor or an int past float's range from it is refused,
    naming ``sqrt``): that check runs per call only for a ``sqrt`` of the caller's own (``exact.sqrt``, say).
    """
    check_function("sqrt", sqrt)
    if sqrt is np.sqrt:
        return sqrt

    def root(x):
        return check_operand("sqrt(...)'s result", sqrt(x))

    return root


def check_made(name: str, made):
    """What a factory argument (an optimizer class, or a function standing in for one) made: an optimizer."""
    if not callable(getattr(made, "step", None)):
        raise TypeError(f"{name} must make an optimizer (an object with a step method), it made {brief(made, 60)}")
    return made


def check_coefficient(name: str, value, *, low: float = 0.0, high: float | None = None):
    """A hyperparameter of a textbook formula, checked as :func:`check_real`, but returned as given.

    A Fraction stays exact; a numpy scalar or a 0-d array becomes the Python number it holds: under NumPy 2 a
    ``np.float64`` hyperparameter would turn a float32 result into float64, a Python float does not.
    """
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value.item()  # a 0-d array of a real (what numpy returns from a reduction) computes as that number
    check_real(name, value, low=low, high=high)
    if isinstance(value, np.longdouble):  # its .item() is itself: it would make a float32 result float128
        return float(value)
    return value.item() if isinstance(value, np.generic) else value


def as_ints(name: str, x, *, what: str = "an int or an array (or list) of ints") -> np.ndarray:
    """``x`` (an int, or a list, tuple or plain numpy array of them) as an integer array, its range unchecked.

    Refused with a TypeError: a bool (in a list too: numpy reads True as 1), a float, a string, a torch tensor, a
    ragged list, a masked array or ``np.matrix``; with a ValueError an int beyond int64, past every range allowed.
    """
    refused = f"{name} must be {what}, got {type(x).__name__}: {brief(x, 60)}"
    if isinstance(x, (bool, np.bool_, str, bytes)) or x is None or is_tensor(x) or holds_bool(x):
        raise TypeError(refused)
    if isinstance(x, np.ndarray):
        check_plain(name, x)
    try:
        arr = np.asarray(x, dtype=object) if isinstance(x, (list, tuple)) else np.asarray(x)
        if arr.dtype.kind == "O" and arr.size and all(isinstance(e, numbers.Integral) for e in arr.flat):
            if not all(-(2**63) <= e < 2**63 for e in arr.flat):  # numpy would read [2**63, -1] as floats
                raise OverflowError
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "O":
            arr = np.asarray(x)  # what numpy makes of it: floats, strings... (refused below)
    except OverflowError:
        raise ValueError(f"Invalid {name}: {brief(x, 60)} (an int beyond int64's range)") from None
    except (TypeError, ValueError, RuntimeError):  # ragged, or holding a tensor that requires grad
        raise TypeError(refused) from None
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"{refused} (dtype {arr.dtype})")
    return arr if arr.size else arr.astype(np.int64)  # an empty list reads as float64


def check_steps(name: str, t, *, low: int = 0):
    """A step count (:func:`check_step`), or a plain numpy array, list or tuple of them, each ``low <= t < 2**62``.

    A list or tuple is returned as an array.
    """
    if not isinstance(t, (list, tuple, np.ndarray)):
        return check_step(t, name, low)
    t = as_ints(name, t, what="an int or an integer array of steps")
    if t.size and (t.min() < low or t.max() >= MAX_STEPS):
        raise ValueError(f"Invalid {name}: {t.min()}..{t.max()} (allowed: {low} <= {name} < 2**62)")
    return t


def check_function(name: str, fn):
    """A function argument (``sqrt``, say): anything callable."""
    if not callable(fn):
        raise TypeError(f"{name} must be a function, got {type(fn).__name__}: {brief(fn, 60)}")
    return fn


def check_name(name: str, value, allowed) -> str:
    """One name from ``allowed`` (a TypeError for anything but a str, a ValueError for an unknown one)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {list(allowed)}; got {type(value).__name__}: {brief(value, 60)}")
    if value not in allowed:
        raise ValueError(f"Invalid {name}: {brief(value, 60)} (allowed: one of {list(allowed)})")
    return value


def check_names(name: str, values, allowed) -> tuple[str, ...]:
    """A list or tuple of names, each one of ``allowed``; returned as a tuple."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of names from {list(allowed)}, got {type(values).__name__}")
    for value in values:
        if not isinstance(value, str):
            raise TypeError(f"{name} must hold names (str) from {list(allowed)}, got {type(value).__name__}")
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"Invalid {name}: unknown {sorted(unknown)} (allowed: names from {list(allowed)})")
    return tuple(values)
