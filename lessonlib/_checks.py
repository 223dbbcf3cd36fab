"""Argument checks shared by every optimizer.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the
argument and the range it must lie in, the way ``torch.optim`` does. Nothing
here modifies its input: the optimizers call these checks *before* they touch
any parameter or any piece of state, so a rejected call loses nothing.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_real(name: str, value, *, low: float = 0.0, high: float | None = None) -> float:
    """Return ``value`` as a Python float after checking ``low <= value`` (``< high``).

    A Python float (not a ``np.float64``) is returned on purpose: under NumPy 2 a
    ``np.float64`` scalar upcasts a float32 array, a Python float does not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (must be finite)")
    if value < low or (high is not None and value >= high):
        allowed = f"{low} <= {name}" + (f" < {high}" if high is not None else "")
        raise ValueError(f"Invalid {name}: {value} (allowed: {allowed})")
    return value


def check_beta(name: str, value) -> float:
    """A decay rate of a moving average: ``0 <= beta < 1``."""
    return check_real(name, value, low=0.0, high=1.0)


def check_betas(betas) -> tuple[float, float]:
    """The pair ``(beta1, beta2)``, each in ``[0, 1)``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return check_beta("beta1 (betas[0])", betas[0]), check_beta("beta2 (betas[1])", betas[1])


def root(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (``a`` itself if it owns it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


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
        if p.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"params[{i}] has dtype {p.dtype}; allowed: float32 or float64 "
                "(an integer array cannot be updated in place by a fractional step)"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimizer updates it in place")
        if id(p) in seen:
            raise ValueError(f"params[{i}] appears twice in params; each array may appear once")
        seen.add(id(p))
    by_root: dict[int, list[int]] = {}
    for i, p in enumerate(params):
        by_root.setdefault(id(root(p)), []).append(i)
    for members in by_root.values():  # views of one buffer are fine as long as they do not overlap
        for k, i in enumerate(members):
            for j in members[k + 1 :]:
                if np.shares_memory(params[i], params[j]):
                    raise ValueError(f"params[{i}] and params[{j}] share memory; each element may be in one parameter")
    return list(params)


def all_finite(arr: np.ndarray) -> bool:
    """True if no entry is nan or inf, in one read of ``arr`` and without a temporary array.

    A sum is finite only if every term is; when the sum is not (a real nan/inf,
    or finite values whose sum overflows), the exact element-wise test decides.
    Call it under ``np.errstate(over="ignore", invalid="ignore")``, as :func:`check_grads` does.
    """
    return bool(np.isfinite(np.add.reduce(arr, axis=None))) or bool(np.isfinite(arr).all())


def check_grads(grads, params: list[np.ndarray]) -> list[np.ndarray]:
    """Check every gradient against its parameter; return them as arrays of the parameter's dtype.

    Raises before anything is modified: the caller applies the step only when
    all gradients have passed.
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
    param_roots = {id(root(p)) for p in params}
    # One errstate for the whole loop (entering one costs microseconds, and models have many arrays):
    # a value too large for float32 becomes inf in the cast, and a sum may overflow; both are handled.
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (g, p) in enumerate(zip(grads, params)):
            arr = g if isinstance(g, np.ndarray) else np.asarray(g)
            if arr.dtype != p.dtype:
                if arr.dtype.kind not in "fiu":
                    raise TypeError(f"grads[{i}] has dtype {arr.dtype}; allowed: a real floating or integer array")
                arr = arr.astype(p.dtype)
            if arr.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {arr.shape} but params[{i}] has shape {p.shape}")
            if not all_finite(arr):
                bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
                raise ValueError(
                    f"grads[{i}] has {bad} non-finite value(s) (nan, inf, or too large for {p.dtype}); "
                    "the step was rejected and nothing was changed"
                )
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] has become read-only; the optimizer updates it in place")
            if id(root(arr)) in param_roots:
                arr = arr.copy()  # a gradient that is (a view of) a parameter, as for f = theta**2 / 2
            checked.append(arr)
    return checked


class hyperparameter:
    """A validated attribute: ``opt.lr = -1`` raises, like the constructor does.

    Lets a schedule change ``opt.lr`` between steps while keeping the checks.
    """

    def __init__(self, check):
        self.check = check

    def __set_name__(self, owner, name):
        self.name, self.attr = name, "_" + name

    def __get__(self, obj, objtype=None):
        return self if obj is None else getattr(obj, self.attr)

    def __set__(self, obj, value):
        setattr(obj, self.attr, self.check(self.name, value))
