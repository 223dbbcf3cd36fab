r"""The harness behind the write-a-step exercises: run a learner's function on many cases and judge what it returns.

A :class:`FunctionExercise` describes one exercise: the function's signature, lessonlib's answer with that
signature, the known slips (each a function with the same signature, next to the hint for whoever makes it) and
the worked example's hyperparameters. :func:`judge` runs the learner's function on the worked example, step by
step along lessonlib's trajectory, then on seeded random cases (:func:`cases`), and answers with a
:class:`Verdict`: right, not answered yet, or wrong, with the :class:`Failure` found and, for a known slip, its
hint. It never raises: an exception, the wrong number, type or shape of values, an input changed in place are
all answers. The exercises themselves are in :mod:`lessonlib.exercises.implement_slips`; the checks the notebooks
call, in :mod:`lessonlib.exercises.implement`.
"""

from __future__ import annotations

import enum
import itertools
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lessonlib.course.worked_example import GRADS, THETA0
from lessonlib.exercises import Result, as_numbers, unanswered

N_RANDOM = 12  #: random cases per check, after the worked example's steps
RTOL, ATOL = 1e-9, 1e-12  #: how close a value must be to lessonlib's (or to a slip's) to match it
_SEED = 2013
_SHAPES = ((), (3,), (2, 3))  # the random cases cycle through these: () is a Python float
#: The ranges random inputs are drawn from: eps and lr large enough that every slip shows (the tests check
#: that the slips all differ), v large enough that beta2 * v + (1 - beta2) * g stays positive.
_RANGES = {
    "theta": (-1.5, 1.5), "g": (-1.5, 1.5), "x": (-1.5, 1.5), "avg": (-1.0, 1.0), "buf": (-1.0, 1.0),
    "m": (-1.0, 1.0), "v": (0.3, 1.2), "v_max": (0.3, 1.2),
    "lr": (0.01, 0.3), "beta": (0.5, 0.95), "momentum": (0.5, 0.95), "beta1": (0.5, 0.95),
    "alpha": (0.85, 0.99), "beta2": (0.85, 0.99), "eps": (0.01, 0.3), "weight_decay": (0.05, 0.5),
}  # fmt: skip
_ARRAYS = ("theta", "g", "x", "avg", "buf", "m", "v", "v_max")  # drawn in the case's shape; the rest are floats


@dataclass(frozen=True)
class FunctionExercise:
    """One write-a-step exercise: the function a learner writes, and what :func:`judge` compares it with.

    Attributes:
        name: the function's name, as the exercise cell defines it.
        args: its positional arguments, in order.
        kwargs: its keyword-only hyperparameters.
        outputs: what it returns, in order (named as the inputs they replace).
        reference: lessonlib's answer, with the learner's signature.
        slips: (a slip with the same signature, what to tell the learner who makes it), in the order tried.
        hyper: the worked example's hyperparameters.
        body: the template's lines between its ``def`` and its ``return``.
        grads: the worked example's gradients, one step each.
    """

    name: str
    args: tuple[str, ...]
    kwargs: tuple[str, ...]
    outputs: tuple[str, ...]
    reference: Callable
    slips: tuple[tuple[Callable, str], ...]
    hyper: dict
    body: tuple[str, ...]
    grads: tuple[float, ...] = GRADS

    @property
    def signature(self) -> str:
        """The function's signature as the exercise states it, e.g. ``ema_update(avg, x, beta)``."""
        kwargs = f", *, {', '.join(self.kwargs)}" if self.kwargs else ""
        return f"{self.name}({', '.join(self.args)}{kwargs})"

    @property
    def template(self) -> str:
        """The starter code of the exercise cell: its ``...`` lines give "not answered yet"."""
        lines = [
            f"def {self.signature}:",
            *(f"    {line}" for line in self.body),
            f"    return {', '.join(self.outputs)}",
        ]
        return "\n".join(lines) + "\n"


class Failure(enum.Enum):
    """Which check a wrong function failed, in the order :func:`judge` tries them."""

    NOT_A_FUNCTION = "not a function"  # the answer is not callable
    IN_PLACE = "an input changed in place"  # every value right, but an input array changed
    SLIP = "a known slip"  # every value matches one of the exercise's slips
    ORDER = "the values in the wrong order"  # the right values, returned in another order
    RAISED = "an exception"  # no slip explains it; on the first case it gets wrong, it raised
    MALFORMED = "not its values"  # ... there it returned the wrong number of values, or one of the wrong type or shape
    WRONG_VALUE = "a wrong value"  # ... there it returned a value that is off
    UNREADABLE = "unreadable"  # what it returned breaks even a question the check asks of it (a len() that raises)


@dataclass(frozen=True, repr=False)
class Verdict(Result):
    """A function check's outcome: a :class:`~lessonlib.exercises.Result` that also says what was found.

    A notebook shows it as its message, like every Result.

    Attributes:
        ok: True when right, False when wrong, None while unanswered.
        message: what the learner reads.
        failed: which check a wrong function failed; None when it is right or unanswered.
        slip: the hint of the known slip its values match (``failed`` is SLIP or ORDER); else None.
        case: the case the message shows, the first with a wrong value (RAISED, MALFORMED, WRONG_VALUE); else None.
        changed: the inputs the function changed in place, on any case.
    """

    failed: Failure | None = None
    slip: str | None = None
    case: str | None = None
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Malformed:
    """What a function returned when it is not its values, e.g. ``returned 2 values``, ``it should return 3: ...``.

    Attributes:
        returned: what it returned, as the message says it ("returned a str as m").
        should: what it should return ("it should be a number or a numpy array").
    """

    returned: str
    should: str


#: One case's outcome, read: the values (float64 arrays, in ``outputs`` order), what it raised, or what is wrong.
Outcome = tuple[np.ndarray, ...] | Exception | Malformed


def cases(ex: FunctionExercise) -> list[tuple[str, dict]]:
    """(label, inputs by name): the worked example step by step, along lessonlib's trajectory, then random cases.

    Args:
        ex: the exercise.
    """
    data = "x" if "x" in ex.args else "g"
    state = {a: (THETA0 if a == "theta" else 0.0) for a in ex.args if a in ex.outputs}
    found = []
    for t, g in enumerate(ex.grads, start=1):
        inputs = {**state, data: g, "t": t, **ex.hyper}
        inputs = {k: inputs[k] for k in ex.args + ex.kwargs}
        found.append((f"the worked example, step {t}", inputs))
        state.update(zip(ex.outputs, map(float, as_values(ex, run(ex.reference, ex, inputs)[0]))))
    rng = np.random.default_rng(_SEED)
    for i in range(N_RANDOM):
        shape, inputs = _SHAPES[i % len(_SHAPES)], {}
        for k in ex.args + ex.kwargs:
            if k == "t":
                inputs[k] = int(rng.integers(1, 21))
            elif k in _ARRAYS and shape:
                inputs[k] = rng.uniform(*_RANGES[k], size=shape)
            else:
                inputs[k] = float(rng.uniform(*_RANGES[k]))
        found.append((f"random case {i + 1}", inputs))
    return found


def run(fn: Callable, ex: FunctionExercise, inputs: dict) -> tuple[object, list[str]]:
    """Run ``fn`` on copies of the inputs: (what it returned or raised, the names of the inputs it changed).

    Args:
        fn: the learner's function, the reference or a slip.
        ex: the exercise (which inputs are positional, which keyword-only).
        inputs: one case's inputs by name.
    """
    args = {k: x.copy() if isinstance(x, np.ndarray) else x for k, x in inputs.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # a nan is reported as a wrong value
            warnings.simplefilter("ignore")
            out = fn(*(args[k] for k in ex.args), **{k: args[k] for k in ex.kwargs})
    except Exception as exc:  # reported to the learner, not raised
        return exc, []
    changed = [k for k, x in inputs.items() if isinstance(x, np.ndarray) and not np.array_equal(x, args[k], True)]
    return out, changed


def as_values(ex: FunctionExercise, out, shapes: tuple[tuple[int, ...], ...] | None = None) -> Outcome:
    """``out`` as a tuple of float64 arrays of the right shapes; else the exception it is, or :class:`Malformed`.

    Args:
        ex: the exercise (how many values, and their names).
        out: what a function returned, or the exception it raised.
        shapes: the shape each value must have (None: any).
    """
    if isinstance(out, Exception):
        return out
    k = len(ex.outputs)
    if k > 1 and not (isinstance(out, (tuple, list)) and len(out) == k):
        n = len(out) if isinstance(out, (tuple, list)) else 1
        return Malformed(f"returned {n} value{'s' * (n != 1)}", f"it should return {k}: {', '.join(ex.outputs)}")
    values = []
    for name, x, shape in zip(ex.outputs, out if k > 1 else (out,), shapes or (None,) * k):
        a = as_numbers(x)  # None for a string, a complex number, a huge int, an object of no use...
        if a is None:
            return Malformed(f"returned a {type(x).__name__} as {name}", "it should be a number or a numpy array")
        if shape is not None and a.shape != shape:
            return Malformed(f"returned {name} with shape {a.shape}", f"it should have shape {shape}")
        values.append(a)
    return tuple(values)


def same(a: Outcome, b: Outcome) -> bool:
    """Two outcomes agree: the same exception type, or every value within RTOL/ATOL (nan matches nan).

    Args:
        a: one outcome, from :func:`as_values`.
        b: the other.
    """
    if isinstance(a, (Exception, Malformed)) or isinstance(b, (Exception, Malformed)):
        return isinstance(a, Exception) and type(a) is type(b)
    return all(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True) for x, y in zip(a, b))


def judge(ex: FunctionExercise, fn) -> Verdict:
    """Whether ``fn`` is right for the exercise ``ex``, and if not, why; it never raises.

    Args:
        ex: the exercise.
        fn: the learner's answer: their function (``...`` or None while unanswered).
    """
    if fn is ... or fn is None:
        return Verdict(None, unanswered(ex.name).message)
    if not callable(fn):
        got = f"{type(fn).__name__} {_text(fn, repr)}"
        return Verdict(False, f"✗ {ex.name}: expected your function {ex.signature}, got {got}.", Failure.NOT_A_FUNCTION)
    try:
        return _judge_function(ex, fn)
    except Exception as exc:  # noqa: BLE001 - what it returned broke even a len(): that gets an answer too
        message = f"✗ {ex.name}: what your function gave could not be read ({type(exc).__name__})."
        return Verdict(False, message, Failure.UNREADABLE)


def _judge_function(ex: FunctionExercise, fn: Callable) -> Verdict:
    found = cases(ex)
    runs = [run(fn, ex, inputs) for _, inputs in found]
    if any(_unanswered(out) for out, _ in runs):
        none = " (It returned None: is the return line missing?)" if any(out is None for out, _ in runs) else ""
        return Verdict(None, unanswered(ex.name).message + none)
    want = [as_values(ex, run(ex.reference, ex, inputs)[0]) for _, inputs in found]
    shapes = [tuple(w.shape for w in values) for values in want]
    got = [as_values(ex, out, s) for (out, _), s in zip(runs, shapes)]
    changed = next((tuple(names) for _, names in runs if names), ())
    if all(map(same, got, want)):
        if changed:
            message = f"✗ {ex.name}: right values, but {_in_place(changed)}"
            return Verdict(False, message, Failure.IN_PLACE, changed=changed)
        return Verdict(True, f"✓ {ex.name} agrees with lessonlib on the worked example and {N_RANDOM} random cases.")
    for slip, hint, failure in _known_slips(ex):
        if all(same(g, as_values(ex, run(slip, ex, inputs)[0], s)) for g, (_, inputs), s in zip(got, found, shapes)):
            return Verdict(False, f"✗ {ex.name}: {hint}", failure, slip=hint, changed=changed)
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if not same(g, w))
    (label, inputs), g = found[i], got[i]
    where = f"on {label} ({', '.join(f'{k}={_show(x)}' for k, x in inputs.items())})"
    if isinstance(g, Exception):
        failure, said = Failure.RAISED, _text(g, str)
        text = f"it raised {type(g).__name__}: {said} {where}."
        if isinstance(g, TypeError) and "argument" in said:
            text += f" Its signature should be {ex.signature}."
        elif isinstance(g, TypeError) and "scalar" in said:
            text += " The math module takes single numbers only; numpy's functions (np.sqrt) take arrays too."
    elif isinstance(g, Malformed):
        failure, text = Failure.MALFORMED, f"it {g.returned} {where}; {g.should}."
    else:
        j = next(j for j, (x, y) in enumerate(zip(g, want[i])) if not same((x,), (y,)))
        failure = Failure.WRONG_VALUE
        text = f"{ex.outputs[j]} is wrong {where}: expected {_show(want[i][j])}, got {_show(g[j])}."
    also = f" Also, {_in_place(changed)}" if changed else ""
    return Verdict(False, f"✗ {ex.name}: {text}{also}", failure, case=label, changed=changed)


def _known_slips(ex: FunctionExercise) -> Iterator[tuple[Callable, str, Failure]]:
    """The exercise's slips, then the right values returned in another order: (function, hint, failure)."""
    yield from ((slip, hint, Failure.SLIP) for slip, hint in ex.slips)
    hint = f"your values are right but in the wrong order: return {', '.join(ex.outputs)}."
    for p in itertools.permutations(range(len(ex.outputs))):
        if p != tuple(range(len(p))):
            yield (lambda *a, p=p, **h: tuple(ex.reference(*a, **h)[i] for i in p)), hint, Failure.ORDER


def _unanswered(out) -> bool:
    if out is None or out is ... or isinstance(out, NotImplementedError):
        return True
    if isinstance(out, TypeError) and "ellipsis" in _text(out, str):  # arithmetic on a line that is still ...
        return True
    return isinstance(out, (tuple, list)) and any(x is ... for x in out)


def _text(x, how: Callable[[object], str]) -> str:
    """``str(x)`` or ``repr(x)``, or a placeholder where the learner's object breaks it (or it is too long)."""
    try:
        return how(x)
    except Exception:  # noqa: BLE001 - a learner's object may have any str and repr; an int over 4300 digits has none
        return f"<{type(x).__name__} object>"


def _show(x) -> str:
    a = np.asarray(x)
    if a.ndim == 0:
        return f"{float(a):.10g}" if np.issubdtype(a.dtype, np.floating) else repr(x)
    return np.array2string(a, precision=10, separator=", ", max_line_width=10**6)


def _in_place(names: tuple[str, ...]) -> str:
    n = names[0]
    return (
        f"it changed its input{'s' * (len(names) > 1)} {', '.join(names)} in place (as {n} += ... "
        f"or {n}[...] = ... do): compute new values and return them; "
        "the caller still holds the inputs and expects them unchanged."
    )
