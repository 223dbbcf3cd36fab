r"""Checks for the exercises "write it yourself": one step of each optimizer, as a function.

Lessons 01, 02, 03, 04, 06 and 07 each end with an exercise in which you write a function of the
optimizer: ``ema_update``, ``momentum_step``, ``rmsprop_step``, ``adam_step``, ``adamw_step`` or
``amsgrad_step``. ``TEMPLATE[name]`` is the starter code of the exercise cell, and ``check_<name>(fn)``
runs your function on the lesson's worked example (:math:`\theta_0 = 1`, gradients 0.5, 0.3, 0.8, 0.6,
along lessonlib's own trajectory) and on seeded random cases (Python floats and float64 arrays), and
compares every value it returns with lessonlib. When a value is wrong, the check recomputes the known
slips (each is a small function below, next to its message) and names the one your values match on
every case; if none does, it shows the first wrong value with its inputs. It also reports an
exception, the wrong number, type or shape of values, and an input changed in place.

>>> def ema_update(avg, x, beta):
...     return beta * avg + (1 - beta) * x
>>> check_ema_update(ema_update)
✓ ema_update agrees with lessonlib on the worked example and 12 random cases.
>>> check_ema_update(lambda avg, x, beta: (1 - beta) * avg + beta * x)  # doctest: +NORMALIZE_WHITESPACE
✗ ema_update: your average matches (1 - beta) * avg + beta * x: the weights are swapped;
beta belongs to the old average, 1 - beta to the new value.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lessonlib import optim as ll
from lessonlib.course.worked_example import GRADS, HYPER, THETA0
from lessonlib.exercises import Result, unanswered

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
class _Exercise:
    name: str
    args: tuple[str, ...]  # the positional arguments, in order
    kwargs: tuple[str, ...]  # the keyword-only hyperparameters
    outputs: tuple[str, ...]  # what it returns, in order (named as the inputs they replace)
    reference: Callable  # lessonlib's answer, with the learner's signature
    slips: tuple[tuple[Callable, str], ...]  # (a slip with the same signature, what to tell the learner)
    hyper: dict  # the worked example's hyperparameters
    body: tuple[str, ...]  # the template's lines
    grads: tuple[float, ...] = GRADS

    @property
    def signature(self) -> str:
        kwargs = f", *, {', '.join(self.kwargs)}" if self.kwargs else ""
        return f"{self.name}({', '.join(self.args)}{kwargs})"

    @property
    def template(self) -> str:
        lines = [
            f"def {self.signature}:",
            *(f"    {line}" for line in self.body),
            f"    return {', '.join(self.outputs)}",
        ]
        return "\n".join(lines) + "\n"


def _cases(ex: _Exercise) -> list[tuple[str, dict]]:
    """(label, inputs by name): the worked example step by step, along lessonlib's trajectory, then random cases."""
    data = "x" if "x" in ex.args else "g"
    state = {a: (THETA0 if a == "theta" else 0.0) for a in ex.args if a in ex.outputs}
    cases = []
    for t, g in enumerate(ex.grads, start=1):
        values = {**state, data: g, "t": t, **ex.hyper}
        values = {k: values[k] for k in ex.args + ex.kwargs}
        cases.append((f"the worked example, step {t}", values))
        state.update(zip(ex.outputs, map(float, _values(ex, _call(ex.reference, ex, values)[0]))))
    rng = np.random.default_rng(_SEED)
    for i in range(N_RANDOM):
        shape, values = _SHAPES[i % len(_SHAPES)], {}
        for k in ex.args + ex.kwargs:
            if k == "t":
                values[k] = int(rng.integers(1, 21))
            elif k in _ARRAYS and shape:
                values[k] = rng.uniform(*_RANGES[k], size=shape)
            else:
                values[k] = float(rng.uniform(*_RANGES[k]))
        cases.append((f"random case {i + 1}", values))
    return cases


def _call(fn: Callable, ex: _Exercise, values: dict):
    """Run ``fn`` on copies of the inputs: (what it returned or raised, the names of the inputs it changed)."""
    args = {k: x.copy() if isinstance(x, np.ndarray) else x for k, x in values.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # a nan is reported as a wrong value
            warnings.simplefilter("ignore")
            out = fn(*(args[k] for k in ex.args), **{k: args[k] for k in ex.kwargs})
    except Exception as exc:  # reported to the learner, not raised
        return exc, []
    changed = [k for k, x in values.items() if isinstance(x, np.ndarray) and not np.array_equal(x, args[k], True)]
    return out, changed


def _values(ex: _Exercise, out, shapes=None):
    """``out`` as a tuple of float64 arrays of the right shapes; else the exception, or a sentence on what is wrong."""
    if isinstance(out, Exception):
        return out
    k = len(ex.outputs)
    if k > 1 and not (isinstance(out, (tuple, list)) and len(out) == k):
        n = len(out) if isinstance(out, (tuple, list)) else 1
        return f"returned {n} value{'s' * (n != 1)}; it should return {k}: {', '.join(ex.outputs)}"
    values = []
    for name, x, shape in zip(ex.outputs, out if k > 1 else (out,), shapes or (None,) * k):
        try:
            if x is None or isinstance(x, (str, bytes)):
                raise TypeError
            a = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError, OverflowError, RuntimeError):  # a huge int, a tensor that requires grad
            return f"returned a {type(x).__name__} as {name}; it should be a number or a numpy array"
        if shape is not None and a.shape != shape:
            return f"returned {name} with shape {a.shape}; it should have shape {shape}"
        values.append(a)
    return tuple(values)


def _same(a, b) -> bool:
    """Two outcomes agree: the same exception type, or every value within RTOL/ATOL (nan matches nan)."""
    if isinstance(a, (Exception, str)) or isinstance(b, (Exception, str)):
        return isinstance(a, Exception) and type(a) is type(b)
    return all(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True) for x, y in zip(a, b))


def _unanswered(out) -> bool:
    if out is None or out is ... or isinstance(out, NotImplementedError):
        return True
    if isinstance(out, TypeError) and "ellipsis" in str(out):  # arithmetic on a line that is still ...
        return True
    return isinstance(out, (tuple, list)) and any(x is ... for x in out)


def _show(x) -> str:
    a = np.asarray(x)
    if a.ndim == 0:
        return f"{float(a):.10g}" if np.issubdtype(a.dtype, np.floating) else repr(x)
    return np.array2string(a, precision=10, separator=", ", max_line_width=10**6)


def _in_place(names: list[str]) -> str:
    n = names[0]
    return (
        f"it changed its input{'s' * (len(names) > 1)} {', '.join(names)} in place (as {n} += ... "
        f"or {n}[...] = ... do): compute new values and return them; "
        "the caller still holds the inputs and expects them unchanged."
    )


def _reorderings(ex: _Exercise):
    """The right values, returned in another order."""
    message = f"your values are right but in the wrong order: return {', '.join(ex.outputs)}."
    for p in itertools.permutations(range(len(ex.outputs))):
        if p != tuple(range(len(p))):
            yield (lambda *a, p=p, **h: tuple(ex.reference(*a, **h)[i] for i in p)), message


def _check(ex: _Exercise, fn) -> Result:
    if fn is ... or fn is None:
        return unanswered(ex.name)
    if not callable(fn):
        return Result(False, f"✗ {ex.name}: expected your function {ex.signature}, got {type(fn).__name__} {fn!r}.")
    cases = _cases(ex)
    runs = [_call(fn, ex, values) for _, values in cases]
    if any(_unanswered(out) for out, _ in runs):
        none = " (It returned None: is the return line missing?)" if any(out is None for out, _ in runs) else ""
        return Result(None, unanswered(ex.name).message + none)
    want = [_values(ex, _call(ex.reference, ex, values)[0]) for _, values in cases]
    shapes = [tuple(w.shape for w in values) for values in want]
    got = [_values(ex, out, s) for (out, _), s in zip(runs, shapes)]
    changed = next((names for _, names in runs if names), [])
    if all(map(_same, got, want)):
        if changed:
            return Result(False, f"✗ {ex.name}: right values, but {_in_place(changed)}")
        return Result(True, f"✓ {ex.name} agrees with lessonlib on the worked example and {N_RANDOM} random cases.")
    for slip, message in itertools.chain(ex.slips, _reorderings(ex)):
        if all(_same(g, _values(ex, _call(slip, ex, v)[0], s)) for g, (_, v), s in zip(got, cases, shapes)):
            return Result(False, f"✗ {ex.name}: {message}")
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if not _same(g, w))
    (label, values), g = cases[i], got[i]
    where = f"on {label} ({', '.join(f'{k}={_show(x)}' for k, x in values.items())})"
    if isinstance(g, Exception):
        text = f"it raised {type(g).__name__}: {g} {where}."
        if isinstance(g, TypeError) and "argument" in str(g):
            text += f" Its signature should be {ex.signature}."
        elif isinstance(g, TypeError) and "scalar" in str(g):
            text += " The math module takes single numbers only; numpy's functions (np.sqrt) take arrays too."
    elif isinstance(g, str):
        what, fix = g.split("; ", 1)
        text = f"it {what} {where}; {fix}."
    else:
        j = next(j for j, (x, y) in enumerate(zip(g, want[i])) if not _same((x,), (y,)))
        text = f"{ex.outputs[j]} is wrong {where}: expected {_show(want[i][j])}, got {_show(g[j])}."
    return Result(False, f"✗ {ex.name}: {text}" + (f" Also, {_in_place(changed)}" if changed else ""))


# ---- lesson 01: the EMA ----------------------------------------------------------------------------------------

_EMA = _Exercise(
    "ema_update", ("avg", "x", "beta"), (), ("avg",), ll.ema_update,
    slips=(
        (lambda avg, x, beta: ll.ema_update(avg, x, 1 - beta),
         "your average matches (1 - beta) * avg + beta * x: the weights are swapped; "
         "beta belongs to the old average, 1 - beta to the new value."),
        (lambda avg, x, beta: beta * avg + x,
         "your average matches beta * avg + x: x lost its weight 1 - beta "
         "(that running sum is momentum's buffer, not an average)."),
        (lambda avg, x, beta: avg + (1 - beta) * x,
         "your average matches avg + (1 - beta) * x: the old average must shrink too, by the factor beta."),
        (lambda avg, x, beta: ll.debias(ll.ema_update(avg, x, beta), beta, 1),
         "your average is bias-corrected (divided by 1 - beta, the correction at t = 1): this function returns "
         "the raw average; the correction is applied outside it, when the average is read, with that step's t."),
    ),
    hyper={"beta": HYPER["beta1"]}, body=("avg = ...  # a_t, from a_{t-1} = avg and x_t = x",),
)  # fmt: skip


# ---- lesson 02: momentum ---------------------------------------------------------------------------------------


def _momentum(theta, g, buf, *, lr, momentum):
    """The heavy ball as torch writes it: lessonlib's SGD step past t = 1.

    Its first step, b = g, is the same from buf = 0.
    """
    return ll.sgd_step(theta, g, buf, 2, lr=lr, momentum=momentum)


def _descent(theta, direction, lr):
    """Plain gradient descent along ``direction``: theta - lr * direction."""
    return ll.sgd_step(theta, direction, None, 1, lr=lr)[1]


_MOMENTUM = _Exercise(
    "momentum_step", ("theta", "g", "buf"), ("lr", "momentum"), ("buf", "theta"), _momentum,
    slips=(
        (lambda theta, g, buf, *, lr, momentum: _momentum(theta, (1 - momentum) * g, buf, lr=lr, momentum=momentum),
         "your buffer matches momentum * buf + (1 - momentum) * g, Adam's EMA; "
         "torch's heavy ball adds the whole gradient, without the factor 1 - momentum."),
        (lambda theta, g, buf, *, lr, momentum: (_momentum(theta, g, buf, lr=lr, momentum=momentum)[0],
                                                 _descent(theta, g, lr)),
         "your theta moved by lr * g: the heavy ball moves theta by the new buffer, not by the gradient."),
        (lambda theta, g, buf, *, lr, momentum: _momentum(theta, momentum * g, buf, lr=lr, momentum=1.0),
         "your buffer matches buf + momentum * g: momentum multiplies the old buffer, not the gradient."),
        (lambda theta, g, buf, *, lr, momentum: (buf, _momentum(theta, g, buf, lr=lr, momentum=momentum)[1]),
         "you returned the buffer as it came in: return the updated buffer."),
        (lambda theta, g, buf, *, lr, momentum: (_momentum(theta, g, buf, lr=lr, momentum=momentum)[0],
                                                 _descent(theta, buf, lr)),
         "your theta moved by the old buffer: update buf first, then step theta with the new one."),
    ),
    hyper={"lr": HYPER["lr"], "momentum": 0.9}, body=("buf = ...  # b_t", "theta = ...  # theta_t"),
)  # fmt: skip


# ---- lesson 03: RMSprop ----------------------------------------------------------------------------------------


def _rmsprop(theta, g, v, *, lr, alpha, eps, sqrt=np.sqrt):
    s = ll.rmsprop_step(theta, g, v, 1, lr=lr, alpha=alpha, eps=eps, sqrt=sqrt)  # RMSprop has no t in its math
    return s.v, s.theta


def _rmsprop_g_not_squared(theta, g, v, *, lr, alpha, eps):
    v = ll.ema_update(v, g, alpha)
    return v, theta - lr * g / (np.sqrt(v) + eps)


_RMSPROP = _Exercise(
    "rmsprop_step", ("theta", "g", "v"), ("lr", "alpha", "eps"), ("v", "theta"), _rmsprop,
    slips=(
        (lambda theta, g, v, *, eps, **h: _rmsprop(theta, g, v, eps=0.0, sqrt=lambda v: np.sqrt(v + eps), **h),
         "your theta matches g / sqrt(v + eps): eps went inside the root; torch adds it after the root."),
        (lambda theta, g, v, *, alpha, **h: _rmsprop(theta, g, v, alpha=1 - alpha, **h),
         "your v matches (1 - alpha) * v + alpha * g**2: alpha and 1 - alpha are swapped; alpha keeps the old v."),
        (_rmsprop_g_not_squared,
         "your v matches alpha * v + (1 - alpha) * g: v averages the squared gradient, not the gradient."),
        (lambda theta, g, v, **h: _rmsprop(theta, g, v, sqrt=lambda v: v, **h),
         "your theta matches g / (v + eps): the square root is missing; the step divides by the root of v."),
        (lambda theta, g, v, *, lr, alpha, eps: _rmsprop(theta, g, v, lr=alpha, alpha=lr, eps=eps),
         "your function uses lr as the decay of v and alpha as the step size: the two are swapped. torch's RMSprop "
         "calls the decay rho `alpha`; `lr` is the learning rate (the symbol alpha of the lessons)."),
        (lambda theta, g, v, *, lr, alpha, eps: _rmsprop(theta, g, v, lr=alpha, alpha=alpha, eps=eps),
         "your step size is alpha, not lr: in torch's RMSprop `alpha` is the decay rho of v, and `lr` is the "
         "learning rate (the symbol alpha of the lessons)."),
    ),
    hyper={"lr": HYPER["lr"], "alpha": 0.99, "eps": HYPER["eps"]}, body=("v = ...  # v_t", "theta = ...  # theta_t"),
)  # fmt: skip


# ---- lesson 04: Adam -------------------------------------------------------------------------------------------


def _adam(theta, g, m, v, t, **h):
    s = ll.adam_step(theta, g, m, v, t, **h)
    return s.theta, s.m, s.v


def _adam_with(theta, g, m, v, t, *, lr, beta1, beta2, eps, m_t=None, v_t=None, bc1=None, bc2=None):
    """Adam with m_t, v_t or a correction replaced (the slips lessonlib's adam_step has no switch for)."""
    s = ll.adam_step(theta, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    m_t, v_t = s.m if m_t is None else m_t, s.v if v_t is None else v_t
    bc1, bc2 = s.bc1 if bc1 is None else bc1, s.bc2 if bc2 is None else bc2
    return theta - lr * (m_t / bc1) / (np.sqrt(v_t / bc2) + eps), m_t, v_t  # Adam's last line, on those


def _adam_update_added(theta, g, m, v, t, **h):
    s = ll.adam_step(theta, g, m, v, t, **h)
    return theta + s.update, s.m, s.v


def _adam_corrections_swapped(theta, g, m, v, t, *, beta1, beta2, **h):
    bc1, bc2 = ll.ema_weight_sum(beta2, t), ll.ema_weight_sum(beta1, t)
    return _adam_with(theta, g, m, v, t, beta1=beta1, beta2=beta2, bc1=bc1, bc2=bc2, **h)


def _adam_t_minus_1(theta, g, m, v, t, *, beta1, beta2, **h):
    bc1, bc2 = ll.ema_weight_sum(beta1, t - 1), ll.ema_weight_sum(beta2, t - 1)  # 0 at t = 1
    return _adam_with(theta, g, m, v, t, beta1=beta1, beta2=beta2, bc1=bc1, bc2=bc2, **h)


def _adam_m_swapped(theta, g, m, v, t, *, beta1, **h):
    return _adam_with(theta, g, m, v, t, beta1=beta1, m_t=ll.ema_update(m, g, 1 - beta1), **h)


def _adam_v_swapped(theta, g, m, v, t, *, beta2, **h):
    return _adam_with(theta, g, m, v, t, beta2=beta2, v_t=ll.ema_update(v, g * g, 1 - beta2), **h)


def _adam_g_not_squared(theta, g, m, v, t, *, beta2, **h):
    return _adam_with(theta, g, m, v, t, beta2=beta2, v_t=ll.ema_update(v, g, beta2), **h)


def _adam_abs_g(theta, g, m, v, t, *, beta2, **h):
    return _adam_with(theta, g, m, v, t, beta2=beta2, v_t=ll.ema_update(v, np.abs(g), beta2), **h)


_ADAM_SLIPS = (
    (lambda theta, g, m, v, t, *, eps, **h: _adam(theta, g, m, v, t, eps=0.0, sqrt=lambda x: np.sqrt(x + eps), **h),
     "your step matches sqrt(v_hat + eps): eps went inside the root; torch adds it after the root."),
    (lambda *a, **h: _adam(*a, correct="v", **h),
     "your step uses m itself: m's bias correction is missing."),
    (lambda *a, **h: _adam(*a, correct="m", **h),
     "your step uses v itself: v's bias correction is missing."),
    (lambda *a, **h: _adam(*a, correct="none", **h),
     "your step uses m and v as they are: both corrections are missing."),
    (_adam_corrections_swapped,
     "your corrections are swapped: m's uses beta2 and v's beta1; each moment is corrected with its own beta."),
    (_adam_t_minus_1,
     "your corrections use beta**(t - 1): t counts from 1, so the first step divides by 1 - beta**1 "
     "(with t - 1 it divides by zero)."),
    (lambda theta, g, m, v, t, **h: _adam(theta, g, m, v, t + 1, **h),
     "your corrections use beta**(t + 1): use beta**t, with t this step's number (1 on the first step)."),
    (_adam_m_swapped,
     "your m matches (1 - beta1) * m + beta1 * g: beta1 and 1 - beta1 are swapped; beta1 keeps the old m."),
    (_adam_v_swapped,
     "your v matches (1 - beta2) * v + beta2 * g**2: beta2 and 1 - beta2 are swapped; beta2 keeps the old v."),
    (_adam_g_not_squared,
     "your v matches beta2 * v + (1 - beta2) * g: v averages the squared gradient, not the gradient."),
    (_adam_abs_g,
     "your v matches beta2 * v + (1 - beta2) * |g|: v averages the squared gradient, not its size."),
    (lambda theta, g, m, v, t, *, eps, **h: _adam(theta, g, m, v, t, eps=0.0, **h),
     "your step matches the one without eps: eps is part of the step, added to the root of v_hat."),
    (lambda *a, **h: _adam(*a, sqrt=lambda x: x, **h),
     "your step divides by v_hat + eps: the square root is missing; the step divides by the root of v_hat."),
    (_adam_update_added,
     "your theta moved uphill, theta + update: Adam subtracts the update."),
)  # fmt: skip
_ADAM = _Exercise(
    "adam_step", ("theta", "g", "m", "v", "t"), ("lr", "beta1", "beta2", "eps"), ("theta", "m", "v"), _adam,
    slips=_ADAM_SLIPS, hyper=HYPER,
    body=("m = ...  # m_t", "v = ...  # v_t", "m_hat = ...", "v_hat = ...", "theta = ...  # theta_t"),
)  # fmt: skip


# ---- lesson 06: AdamW ------------------------------------------------------------------------------------------


def _adamw(theta, g, m, v, t, **h):
    s = ll.adamw_step(theta, g, m, v, t, **h)
    return s.theta, s.m, s.v


def _after_decay(adam_slip):
    """An Adam slip, taken after torch's decay: AdamW with that slip."""
    return lambda theta, g, m, v, t, *, lr, weight_decay, **h: adam_slip(
        ll.decay(theta, lr, weight_decay), g, m, v, t, lr=lr, **h
    )


def _decay_after_step(theta, g, m, v, t, *, lr, weight_decay, **h):
    theta, m, v = _adam(theta, g, m, v, t, lr=lr, **h)
    return ll.decay(theta, lr, weight_decay), m, v


_ADAMW = _Exercise(
    "adamw_step", ("theta", "g", "m", "v", "t"), ("lr", "beta1", "beta2", "eps", "weight_decay"), ("theta", "m", "v"),
    _adamw,
    slips=(
        (_decay_after_step,
         "your decay came after the Adam step: torch's AdamW shrinks theta by (1 - lr * weight_decay) first, "
         "then takes the step from the shrunk theta."),
        (lambda *a, weight_decay, **h: _adam(*a, weight_decay=weight_decay, **h),  # adam_step's own L2
         "your step matches Adam with L2, weight_decay * theta added to g: the decay then goes through m, v and "
         "the division by sqrt(v_hat); AdamW leaves g alone and shrinks theta itself."),
        (lambda theta, g, m, v, t, *, weight_decay, **h: _adam(ll.decay(theta, 1.0, weight_decay), g, m, v, t, **h),
         "your decay matches theta * (1 - weight_decay): torch multiplies the decay by lr."),
        (lambda *a, weight_decay, **h: _adam(*a, **h),
         "your step is plain Adam: the decoupled decay of theta, before the step, is missing."),
        *((_after_decay(slip), message) for slip, message in _ADAM_SLIPS),
    ),
    hyper={**HYPER, "weight_decay": 0.1},
    body=("theta = ...  # the decoupled decay, first", *_ADAM.body),
)  # fmt: skip


# ---- lesson 07: AMSGrad ----------------------------------------------------------------------------------------


def _amsgrad(theta, g, m, v, v_max, t, **h):
    s = ll.adam_step(theta, g, m, v, t, v_max=v_max, **h)
    return s.theta, s.m, s.v, s.v_max


def _amsgrad_step_uses_v(theta, g, m, v, v_max, t, **h):
    return (_adam(theta, g, m, v, t, **h)[0], *_amsgrad(theta, g, m, v, v_max, t, **h)[1:])


def _amsgrad_max_of_v_hat(theta, g, m, v, v_max, t, **h):
    s = ll.adam_step(theta, g, m, v, t, **h)
    v_max = np.maximum(v_max, s.v_hat)
    return _adam_with(theta, g, m, v, t, v_t=v_max, bc2=1.0, **h)[0], s.m, s.v, v_max


def _amsgrad_v_max_uncorrected(theta, g, m, v, v_max, t, **h):
    """Reddi et al.'s form (v_max used as it is) with Adam's correction of m kept: v's correction is missing."""
    s = ll.adam_step(theta, g, m, v, t, **h)
    v_max = np.maximum(v_max, s.v)
    return _adam_with(theta, g, m, v, t, v_t=v_max, bc2=1.0, **h)[0], s.m, s.v, v_max


def _amsgrad_paper(theta, g, m, v, v_max, t, **h):
    """Reddi et al.'s AMSGrad as the paper writes it: no bias correction at all."""
    s = ll.adam_step(theta, g, m, v, t, **h)
    v_max = np.maximum(v_max, s.v)
    return _adam_with(theta, g, m, v, t, v_t=v_max, bc1=1.0, bc2=1.0, **h)[0], s.m, s.v, v_max


def _amsgrad_max_before_ema(theta, g, m, v, v_max, t, **h):
    """The maximum taken with the old v, before the EMA has taken g in: v_max lags one step behind."""
    s = ll.adam_step(theta, g, m, v, t, **h)
    v_max = np.maximum(v_max, v)
    return _adam_with(theta, g, m, v, t, v_t=v_max, **h)[0], s.m, s.v, v_max


def _amsgrad_min(theta, g, m, v, v_max, t, **h):
    s = ll.adam_step(theta, g, m, v, t, **h)
    v_min = np.minimum(v_max, s.v)
    return _adam_with(theta, g, m, v, t, v_t=v_min, **h)[0], s.m, s.v, v_min


_AMSGRAD = _Exercise(
    "amsgrad_step", ("theta", "g", "m", "v", "v_max", "t"), ("lr", "beta1", "beta2", "eps"),
    ("theta", "m", "v", "v_max"), _amsgrad,
    slips=(
        (_amsgrad_step_uses_v,
         "your v_max is right but the step still uses v: AMSGrad builds v_hat from v_max."),
        (_amsgrad_max_of_v_hat,
         "your v_max holds the corrected v_hat: torch keeps the largest raw v and corrects it afterwards."),
        (lambda theta, g, m, v, v_max, t, **h: _amsgrad(theta, g, m, v_max, v_max, t, **h),
         "your v continued from v_max: the EMA goes on from v; v_max only remembers the largest v."),
        (_amsgrad_min,
         "your v_max is a minimum: AMSGrad keeps the largest v so far."),
        (_amsgrad_v_max_uncorrected,
         "your step divides by the root of v_max as it is, as Reddi et al.'s paper writes it; torch's "
         "amsgrad=True bias-corrects v_max the way Adam corrects v (you kept m's correction but not v's)."),
        (_amsgrad_paper,
         "your step is Reddi et al.'s AMSGrad as the paper writes it, with no bias correction; torch's "
         "amsgrad=True keeps both of Adam's corrections, of m and of v_max."),
        (_amsgrad_max_before_ema,
         "your maximum was taken before the EMA: it compares v_max with the old v, so the newest gradient reaches "
         "v_max a step late (and on step 1 the step divides by eps alone). Update v first, then take the maximum."),
    ),
    hyper=HYPER, grads=(*GRADS, 0.01, 0.01),  # two small gradients after the example's four: v falls
    body=("m = ...  # m_t", "v = ...  # v_t", "v_max = ...", "m_hat = ...", "v_hat = ...", "theta = ...  # theta_t"),
)  # fmt: skip

_EXERCISES = {ex.name: ex for ex in (_EMA, _MOMENTUM, _RMSPROP, _ADAM, _ADAMW, _AMSGRAD)}
#: The starter code of each exercise cell, by function name; its ``...`` lines give "not answered yet".
TEMPLATE = {name: ex.template for name, ex in _EXERCISES.items()}


def check_ema_update(fn) -> Result:
    """Lesson 01: your ``ema_update(avg, x, beta) -> avg``, one step of the EMA, a_t from a_{t-1} and x_t.

    Args:
        fn: your function; it returns the new raw average (no bias correction) and changes no input.
    """
    return _check(_EMA, fn)


def check_momentum_step(fn) -> Result:
    """Lesson 02: your ``momentum_step(theta, g, buf, *, lr, momentum) -> (buf, theta)``, torch's heavy ball.

    Args:
        fn: your function; it returns the new buffer b_t and the new theta_t (buf starts at zeros).
    """
    return _check(_MOMENTUM, fn)


def check_rmsprop_step(fn) -> Result:
    """Lesson 03: your ``rmsprop_step(theta, g, v, *, lr, alpha, eps) -> (v, theta)``, torch's RMSprop.

    Args:
        fn: your function; it returns the new v_t and theta_t (alpha is the decay of v, lr the step size).
    """
    return _check(_RMSPROP, fn)


def check_adam_step(fn) -> Result:
    """Lesson 04: your ``adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps) -> (theta, m, v)``: all five lines.

    Args:
        fn: your function; t is the step number, 1 on the first step. It returns theta_t, m_t, v_t.
    """
    return _check(_ADAM, fn)


def check_adamw_step(fn) -> Result:
    """Lesson 06: your ``adamw_step(theta, g, m, v, t, *, lr, beta1, beta2, eps, weight_decay) -> (theta, m, v)``.

    Args:
        fn: your function, torch's AdamW: the decoupled decay of theta first, then the Adam step with g as it is.
    """
    return _check(_ADAMW, fn)


def check_amsgrad_step(fn) -> Result:
    """Lesson 07: your ``amsgrad_step(theta, g, m, v, v_max, t, *, lr, beta1, beta2, eps) -> (theta, m, v, v_max)``.

    Args:
        fn: your function, torch's ``amsgrad=True``: v_max keeps the largest raw v, and v_hat is built from it.

    Here the worked example goes on for two more steps with small gradients (0.01), so that v falls.
    """
    return _check(_AMSGRAD, fn)
