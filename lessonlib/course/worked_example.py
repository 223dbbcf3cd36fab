r"""Lesson 05: the lesson's worked example, four Adam steps on one parameter, as a table.

The example: :math:`\theta_0 = 1`, gradients :math:`g_{1..4} = 0.5, 0.3, 0.8, 0.6`,
:math:`\alpha = 0.001`, :math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`,
:math:`\epsilon = 10^{-8}`. Each row of the table is one
:class:`lessonlib.AdamStep`, made by :func:`lessonlib.adam_trace` (the library's
own step, not a second copy of it):

.. math::

    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
    v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
    \hat m_t = \frac{m_t}{1-\beta_1^t}, \quad
    \hat v_t = \frac{v_t}{1-\beta_2^t}, \quad
    \theta_t = \theta_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

The same table comes in three number systems: ``"float64"``, ``"float32"``, and
``"exact"`` (fractions, with the one square root taken to 60 digits by
:func:`lessonlib.exact.sqrt`).

>>> steps = table("exact")
>>> steps[1].v, steps[1].bc2          # the lesson prints 0.0003398 and 0.002
(Fraction(1359, 4000000), Fraction(1999, 1000000))
>>> print(format_table(table("float64"), digits=6))
t    g        m           v  1-β1^t    1-β2^t         m̂         v̂       update         θ
1  0.5     0.05     0.00025     0.1     0.001       0.5      0.25        0.001     0.999
2  0.3    0.075  0.00033975    0.19  0.001999  0.394737   0.16996   0.00095749  0.998043
3  0.8   0.1475  0.00097941   0.271  0.002997   0.54428  0.326797  0.000952103   0.99709
4  0.6  0.19275  0.00133843  0.3439  0.003994  0.560483   0.33511  0.000968208  0.996122
"""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

from lessonlib.optim._checks import brief, check_int, check_real
from lessonlib.optim.adam import AdamStep, adam_trace
from lessonlib.optim.exact import fraction
from lessonlib.optim.exact import sqrt as exact_sqrt

THETA0 = 1.0
GRADS = (0.5, 0.3, 0.8, 0.6)
HYPER = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
KINDS = ("float64", "float32", "exact")

#: The table's columns: ``AdamStep`` field names, and the headings they are printed under.
COLUMNS = ("t", "g", "m", "v", "bc1", "bc2", "m_hat", "v_hat", "update", "theta")
HEADINGS = {"bc1": "1-β1^t", "bc2": "1-β2^t", "m_hat": "m̂", "v_hat": "v̂", "theta": "θ"}

#: The numbers the lesson text prints, exactly as printed, keyed by ``(t, name)``. ``beta2*v1`` is the
#: product inside its v_2 line, ``sqrt(v_hat)`` the root in its step-2 update (which has no eps).
LESSON = {
    (1, "m"): "0.05",
    (1, "v"): "0.00025",
    (1, "bc1"): "0.1",
    (1, "bc2"): "0.001",
    (1, "m_hat"): "0.5",
    (1, "v_hat"): "0.25",
    (1, "update"): "0.001",
    (1, "theta"): "0.999",
    (2, "m"): "0.075",
    (2, "beta2*v1"): "0.0002498",
    (2, "v"): "0.0003398",
    (2, "bc1"): "0.19",
    (2, "bc2"): "0.002",
    (2, "m_hat"): "0.395",
    (2, "v_hat"): "0.170",
    (2, "sqrt(v_hat)"): "0.412",
    (2, "update"): "0.00096",
    (2, "theta"): "0.998",
}


def hyper(kind: str = "float64", **overrides) -> dict:
    """The example's hyperparameters as :func:`lessonlib.adam_step` takes them, for one number system.

    ``"exact"`` turns each decimal into the fraction a person means by it and adds the exact ``sqrt``;
    ``"float32"`` keeps Python floats (as ``torch.optim`` does: NumPy 2 then computes in float32).

    >>> hyper("exact")["lr"]
    Fraction(1, 1000)
    """
    _check_kind(kind)
    h = {**HYPER, **overrides}
    if kind == "exact":
        h = {k: fraction(x) for k, x in h.items()}
        h["sqrt"] = exact_sqrt
    return h


def table(kind: str = "float64", *, theta0=THETA0, grads=GRADS, **overrides) -> list[AdamStep]:
    r"""The four steps of the worked example, one :class:`lessonlib.AdamStep` per step.

    ``kind`` is ``"float64"``, ``"float32"`` (theta and the gradients as ``np.float32``) or ``"exact"``
    (``fractions.Fraction`` throughout, square roots to 60 digits). ``overrides`` change a hyperparameter,
    e.g. ``lr=3e-4``.

    >>> [s.theta.dtype.name for s in table("float32")][-1]
    'float32'
    >>> float(table("exact")[0].update)     # not 0.001: eps sits under the fraction bar
    0.0009999999800000003
    """
    _check_kind(kind)
    _check_number("theta0", theta0)
    if not isinstance(grads, (list, tuple)) and not (type(grads) is np.ndarray and grads.ndim == 1):
        raise TypeError(f"grads must be a list of numbers, got {type(grads).__name__}: {brief(grads, 60)}")
    for i, g in enumerate(grads):
        _check_number(f"grads[{i}]", g)
    if kind == "exact":
        theta0, grads = fraction(theta0), [fraction(g) for g in grads]
    else:
        dtype = np.float64 if kind == "float64" else np.float32
        theta0, grads = dtype(theta0), [dtype(g) for g in grads]
    return adam_trace(theta0, grads, **hyper(kind, **overrides))


def exact_value(x) -> Fraction:
    """``x`` as an exact fraction: a float or numpy scalar by its binary value, a string as the decimal it spells.

    >>> exact_value("0.1"), exact_value(np.float32(0.5))
    (Fraction(1, 10), Fraction(1, 2))
    """
    return _exact("x", x)


def relative_error(got, want) -> float:
    r"""The relative error :math:`|got - want| / |want|`, computed exactly, then rounded to a float.

    >>> f"{relative_error('0.0003398', '0.00033975'):.3e}"
    '1.472e-04'
    """
    got, want = _exact("got", got), _exact("want", want)
    if want == 0:
        raise ValueError("Invalid want: 0 (the error is relative to want, which must not be zero)")
    try:
        return float(abs(got - want) / abs(want))
    except OverflowError:  # an error beyond float's range
        return math.inf


def _exact(name: str, x) -> Fraction:
    """:func:`exact_value`, its messages naming ``name``."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, str):
        try:
            return Fraction(x)
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"Invalid {name}: {brief(x, 60)} (allowed: a string that spells a finite number)"
            ) from None
    if isinstance(x, np.ndarray) and type(x) is np.ndarray and x.ndim == 0:
        x = x[()]
    if isinstance(x, Decimal) and x.is_finite():
        return Fraction(x)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return Fraction(int(x))
    _check_number(name, x)
    return Fraction(float(x))


def _check_number(name: str, x) -> None:
    """A finite real number (int, float, Fraction, numpy scalar), not a bool; it stays as it is."""
    check_real(name, x, low=-math.inf)


def _check_steps(name: str, steps) -> list:
    """A list of :class:`~lessonlib.AdamStep` (or of anything with their fields)."""
    if isinstance(steps, (str, bytes)) or not isinstance(steps, (list, tuple)):
        raise TypeError(f"{name} must be a list of AdamStep (as table() returns), got {type(steps).__name__}")
    for i, s in enumerate(steps):
        if not all(hasattr(s, c) for c in COLUMNS):
            raise TypeError(f"{name}[{i}] must be an AdamStep (as table() returns), got {type(s).__name__}")
    return list(steps)


def relative_errors(steps, reference, names=COLUMNS[2:]) -> dict[str, list[float]]:
    """For each name, the relative error of every step in ``steps`` against the same step in ``reference``.

    >>> errs = relative_errors(table("float32"), table("exact"))
    >>> sorted(errs) == sorted(COLUMNS[2:]), max(max(e) for e in errs.values()) < 1e-6
    (True, True)
    """
    steps, reference = _check_steps("steps", steps), _check_steps("reference", reference)
    if len(steps) != len(reference):
        raise ValueError(f"reference has {len(reference)} steps but steps has {len(steps)}; they must match")
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n in COLUMNS for n in names):
        raise ValueError(f"names must be a selection of {COLUMNS}, got {brief(names, 60)}")
    pairs = list(zip(steps, reference))
    return {name: [relative_error(getattr(s, name), getattr(r, name)) for s, r in pairs] for name in names}


def _decimal(x, digits: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = digits
        if isinstance(x, Fraction):
            return Decimal(x.numerator) / Decimal(x.denominator)
        return +Decimal(float(x))  # unary plus rounds to the context's precision


def format_number(x, digits: int = 10) -> str:
    """A number (int, float, numpy scalar or Fraction) to ``digits`` significant digits, trailing zeros dropped.

    >>> format_number(Fraction(1, 3), 5), format_number(np.float32(0.1), 12), format_number(2)
    ('0.33333', '0.10000000149', '2')
    """
    digits = check_int("digits", digits, low=1, high=1000)
    if isinstance(x, np.ndarray) and type(x) is np.ndarray and x.ndim == 0:
        x = x[()]
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        try:
            return str(int(x))
        except ValueError:  # past the digits Python writes an int in (sys.get_int_max_str_digits(), 4300 by default)
            raise ValueError(f"Invalid x: {brief(x)} (allowed: an int Python can print)") from None
    _check_number("x", x)
    text = format(_decimal(x, digits), f".{digits}g")
    mantissa, e, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + e + exponent


def _columns(columns) -> tuple[str, ...]:
    if columns is not None and (isinstance(columns, str) or not isinstance(columns, (list, tuple))):
        raise TypeError(f"columns must be a list of column names from {COLUMNS}, got {brief(columns, 60)}")
    columns = COLUMNS if columns is None else tuple(columns)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        raise ValueError(f"columns must be a non-empty selection of {COLUMNS}, got {brief(columns)}")
    return columns


def rows(steps, digits: int = 10, columns=None) -> list[list[str]]:
    """The table as text cells: a heading row, then one row per step (``columns``: a selection of COLUMNS)."""
    columns, steps = _columns(columns), _check_steps("steps", steps)
    digits = check_int("digits", digits, low=1, high=1000)
    head = [HEADINGS.get(c, c) for c in columns]
    return [head] + [[format_number(getattr(s, c), digits) for c in columns] for s in steps]


def format_table(steps, digits: int = 10, columns=None) -> str:
    """The table as aligned text, one step per line, every number to ``digits`` significant digits."""
    cells = rows(steps, digits, columns)
    widths = [max(_width(r[j]) for r in cells) for j in range(len(cells[0]))]
    return "\n".join("  ".join(" " * (w - _width(c)) + c for c, w in zip(r, widths)).rstrip() for r in cells)


def _width(text: str) -> int:
    """Printed width: a combining accent (the hat of m̂) takes no column of its own."""
    return sum(not unicodedata.combining(ch) for ch in text)


def html_table(steps, digits: int = 10, caption: str = "", columns=None) -> str:
    """The table as an HTML ``<table>`` (what a notebook displays).

    >>> html_table(table(), 3).count("<tr>")
    5
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a string, got {type(caption).__name__}")
    head, *body = rows(steps, digits, columns)
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>")
    out += ["<tr>" + "".join(f'<td style="text-align:right">{c}</td>' for c in r) + "</tr>" for r in body]
    out.append("</table>")
    return "\n".join(out)


class Table:
    """A table that shows itself as HTML in a notebook and as aligned text elsewhere.

    >>> Table(table("exact")[:1], digits=4, caption="step 1, exact, 4 digits")
    step 1, exact, 4 digits
    t    g     m        v  1-β1^t  1-β2^t    m̂     v̂  update      θ
    1  0.5  0.05  0.00025     0.1   0.001  0.5  0.25   0.001  0.999
    """

    def __init__(self, steps, digits: int = 10, caption: str = "", columns=None):
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {type(caption).__name__}")
        rows(steps, digits, columns)  # checks all three now, not when the table is first shown
        self.steps, self.digits, self.caption, self.columns = list(steps), digits, caption, _columns(columns)

    def __repr__(self) -> str:
        text = format_table(self.steps, self.digits, self.columns)
        return f"{self.caption}\n{text}" if self.caption else text

    def _repr_html_(self) -> str:
        return html_table(self.steps, self.digits, self.caption, self.columns)


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {brief(kind)}")
