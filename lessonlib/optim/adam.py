r"""Lesson 04: Adam = momentum (an EMA of g) + RMSprop (an EMA of g squared) + bias correction.

The five steps, in the lessons' symbols (:math:`\lambda` is optional L2 weight
decay, added to the gradient as ``torch.optim.Adam`` does):

.. math::

    g_t &= \nabla f(\theta_{t-1}) \;(+\, \lambda\,\theta_{t-1}) \\
    m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
    v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
    \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t} \\
    \theta_t &= \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

:math:`\epsilon` sits outside the bias-corrected root, as in the paper's
Algorithm 1 and in PyTorch. The same math lives here twice, side by side: the
pure :func:`adam_step` (every intermediate, for the lessons) and
:func:`adam_kernel` (the same lines over the elements, in place, compiled),
which :class:`Adam` runs.

>>> import numpy as np
>>> theta = np.array(1.0)
>>> opt = Adam([theta], lr=0.001)
>>> opt.step([0.5])
>>> print(f"{theta:.12f}")    # not exactly 0.999: eps makes the first step a hair under lr
0.999000000020
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from lessonlib.optim._checks import (
    FLOAT_DTYPES,
    brief,
    check_betas,
    check_bool,
    check_coefficient,
    check_operand,
    check_real,
    check_step,
    checked_root,
    hyperparameter,
)
from lessonlib.optim._compile import FAST, KERNEL, kernel
from lessonlib.optim.ema import _update, _weight_sum
from lessonlib.optim.optimizer import Optimizer, flat_views, in_dtype
from lessonlib.optim.weight_decay import _l2, decay

#: What ``correct=`` of :func:`adam_step` accepts: which moments are bias-corrected.
CORRECTIONS = ("both", "m", "v", "none")


class AdamStep(NamedTuple):
    """Every intermediate of one Adam step, named as in the lessons."""

    t: int
    g: object  # the gradient used (with the L2 term, if any)
    m: object  # first moment, the EMA of g
    v: object  # second moment, the EMA of g**2
    bc1: object  # 1 - beta1**t (1 where m is not corrected)
    bc2: object  # 1 - beta2**t (1 where v is not corrected)
    m_hat: object
    v_hat: object
    update: object  # alpha * m_hat / (sqrt(v_hat) + eps)
    theta: object  # the parameter after the step
    v_max: object = None  # AMSGrad: the largest v so far (None without it)


#: The Args the textbook step functions share (``adam_step``, ``adamw_step``, ``adamw_paper_step``), written once and
#: spliced into each docstring where it says ``{name}``, as torch.optim does with its ``_params_doc``.
_STEP_DOCS = {
    "state_args": r"""theta: :math:`\theta_{t-1}`.
        g: :math:`g_t`.
        m: :math:`m_{t-1}`.
        v: :math:`v_{t-1}`.
        t: the step number, 1-based.""",
    "moment_args": r"""beta1: :math:`\beta_1`.
        beta2: :math:`\beta_2`.
        eps: :math:`\epsilon`.""",
    "sqrt_arg": "sqrt: the square root to use (``lessonlib.optim.exact.sqrt`` for Fractions).",
}


def _step_docs(fn):
    """``fn`` with each ``{name}`` of :data:`_STEP_DOCS` in its docstring replaced by that fragment."""
    for name, text in _STEP_DOCS.items():
        if fn.__doc__:  # None under python -OO
            fn.__doc__ = fn.__doc__.replace("{" + name + "}", text)
    return fn


@_step_docs
def adam_step(  # noqa: D417 - the shared Args come from _STEP_DOCS
    theta,
    g,
    m,
    v,
    t,
    *,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.0,
    v_max=None,
    correct="both",
    sqrt=np.sqrt,
):
    r"""One textbook Adam step from :math:`(\theta_{t-1}, m_{t-1}, v_{t-1})` at step ``t``.

    Pure: returns an :class:`AdamStep` and modifies nothing. Works on floats,
    numpy arrays, and (with an exact ``sqrt``) on ``fractions.Fraction``. The
    formulas come from :mod:`lessonlib.optim.ema`. The kind of every argument and the range of every
    hyperparameter are checked, not the values inside an array (that would cost a pass over it: the
    classes check those).

    Args:
        {state_args}
        lr: :math:`\alpha`.
        {moment_args}
        weight_decay: :math:`\lambda`, the L2 term added to :math:`g_t`.
        v_max: AMSGrad's :math:`v^{\max}_{t-1}`: given, :math:`\hat v_t` is built from
            :math:`v^{\max}_t = \max(v^{\max}_{t-1}, v_t)` instead of :math:`v_t` (as torch's ``amsgrad=True``).
        correct: which moments are bias-corrected: ``"both"`` (Adam), ``"m"``, ``"v"`` or ``"none"``.
        {sqrt_arg}

    >>> s = adam_step(1.0, 0.5, 0.0, 0.0, 1, correct="none", eps=0.0)
    >>> print(f"{s.update / 1e-3:.6f}")   # uncorrected, the first step is (1 - beta1) / sqrt(1 - beta2) lr
    3.162278
    """
    _check_correct(correct)
    t = check_step(t, low=1)  # at t = 0 nothing has been averaged: the corrections would divide by zero
    hyper = _checked_hyper(
        lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, correct=correct, sqrt=sqrt
    )
    theta, g, m, v = check_operand("theta", theta), check_operand("g", g), check_operand("m", m), check_operand("v", v)
    if v_max is not None:
        v_max = check_operand("v_max", v_max)
    return _adam_step(theta, g, m, v, t, v_max, **hyper)


def _checked_hyper(*, lr, beta1, beta2, eps, weight_decay, correct, sqrt) -> dict:
    """:func:`adam_step`'s keyword arguments checked, but ``correct``: the callers check it first.

    Numpy scalars are made Python numbers, so a float32 step stays float32.
    """
    lr, eps = check_coefficient("lr", lr), check_coefficient("eps", eps)
    beta1, beta2 = check_coefficient("beta1", beta1, high=1.0), check_coefficient("beta2", beta2, high=1.0)
    weight_decay, sqrt = check_coefficient("weight_decay", weight_decay), checked_root(sqrt)
    return dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, correct=correct, sqrt=sqrt)


def _check_correct(correct) -> None:
    if not isinstance(correct, str) or correct not in CORRECTIONS:
        raise ValueError(f"Invalid correct: {brief(correct, 60)} (allowed: one of {CORRECTIONS})")


def _float_like(x) -> bool:
    """A Python float, a numpy float or a plain float array: what float arithmetic on checked operands gives.

    Anything else (an int or a Fraction, which can leave float's range; an object array) is checked again as
    :func:`~lessonlib.ema_update` checks what it averages.
    """
    return type(x) is float or isinstance(x, np.floating) or (type(x) is np.ndarray and x.dtype.kind == "f")


def _square(g):
    """:math:`g^2`, refused by name where it leaves float's range (10**200 passes as ``g``, its square does not)."""
    g2 = g * g
    return g2 if _float_like(g2) else check_operand("x", g2)


def _adam_step(theta, g, m, v, t, v_max, *, lr, beta1, beta2, eps, weight_decay, correct, sqrt):
    """:func:`adam_step` on arguments already checked: the five lines, with the ema and weight_decay formulas."""
    if weight_decay:
        g = _l2(g, theta, weight_decay)
    if not _float_like(g):  # an int, Fraction or object array is checked as ema_update checks what it averages
        g = check_operand("x", g)
    m = _update(m, g, beta1)
    v = _update(v, _square(g), beta2)  # g * g lives only through this line (notebook 08 counts the arrays at once)
    if v_max is not None:  # np.maximum, as torch.maximum, carries a nan; Fractions take Python's max
        v_max = max(v_max, v) if isinstance(v, Fraction) else np.maximum(v_max, v)
    bc1 = _weight_sum(beta1, t) if correct in ("both", "m") else 1
    bc2 = _weight_sum(beta2, t) if correct in ("both", "v") else 1
    m_hat, v_hat = m / bc1, (v if v_max is None else v_max) / bc2
    update = lr * m_hat / (sqrt(v_hat) + eps)
    return AdamStep(t, g, m, v, bc1, bc2, m_hat, v_hat, update, theta - update, v_max)


def adam_trace(theta0, grads, **hyper):
    r"""Run :func:`adam_step` over a sequence of gradients; return the list of steps.

    Args:
        theta0: :math:`\theta_0`.
        grads: :math:`g_1, g_2, \dots`.
        **hyper: the keyword arguments of :func:`adam_step`; ``v_max=0`` turns on AMSGrad.

    >>> steps = adam_trace(1.0, [0.5, 0.3])
    >>> [round(s.m, 12) for s in steps]
    [0.05, 0.075]
    """
    theta0 = check_operand("theta0", theta0)
    unordered = isinstance(grads, (set, frozenset, dict))  # a set's order is not the order of the steps
    if unordered or isinstance(grads, (str, bytes, np.ndarray)) and not (type(grads) is np.ndarray and grads.ndim):
        raise TypeError(f"grads must be a sequence of gradients, got {type(grads).__name__}: {brief(grads, 60)}")
    try:
        grads = list(grads)
    except TypeError:
        raise TypeError(
            f"grads must be a sequence of gradients, got {type(grads).__name__}: {brief(grads, 60)}"
        ) from None
    grads = [check_operand(f"grads[{i}]", g) for i, g in enumerate(grads)]
    v_max = hyper.pop("v_max", None)
    if v_max is not None:
        v_max = check_operand("v_max", v_max)
    defaults = {k: d for k, d in adam_step.__kwdefaults__.items() if k != "v_max"}  # adam_step's own defaults
    unknown = sorted(set(hyper) - set(defaults))
    if unknown:
        raise TypeError(f"adam_trace got unknown keyword arguments {unknown} (allowed: {sorted(defaults)}, v_max)")
    hyper = {**defaults, **hyper}
    _check_correct(hyper["correct"])
    hyper = _checked_hyper(**hyper)  # checked once, not at every step
    theta, m, v, steps = theta0, 0 * theta0, 0 * theta0, []
    for t, g in enumerate(grads, start=1):
        if not _float_like(theta):  # exact or odd values are checked at every step, as adam_step checks them
            theta, m, v = check_operand("theta", theta), check_operand("m", m), check_operand("v", v)
        s = _adam_step(theta, g, m, v, t, v_max, **hyper)
        theta, m, v, v_max = s.theta, s.m, s.v, s.v_max
        steps.append(s)
    return steps


def step_bound(beta1, beta2):
    r"""The paper's bound on one step in units of :math:`\alpha`, :math:`(1-\beta_1)/\sqrt{1-\beta_2}` (eps = 0).

    It is the worst case of a single spike at :math:`t = 1` uncorrected, or after a long calm; when
    :math:`(1-\beta_1) > \sqrt{1-\beta_2}` it exceeds 1 (3.16 at the defaults: with
    :math:`\beta_2 = 0.999` a lone large gradient moves :math:`\theta` by up to :math:`3.16\alpha`).

    Args:
        beta1: :math:`\beta_1`, in :math:`[0, 1)`.
        beta2: :math:`\beta_2`, in :math:`[0, 1)`.

    >>> round(step_bound(0.9, 0.999), 4)
    3.1623
    """
    beta1, beta2 = check_betas((beta1, beta2))
    return (1 - beta1) / math.sqrt(1 - beta2)


class AdamScalars(NamedTuple):
    r"""What :func:`adam_kernel` needs besides the arrays, by name: the same for every element of a step.

    The numbers are scalars of :math:`\theta`'s dtype (so float32 stays float32), computed in float64 and
    rounded once, as torch does. :meth:`Adam.kernel_scalars` makes them.
    """

    lr: float  #: :math:`\alpha`
    beta1: float  #: :math:`\beta_1`
    beta2: float  #: :math:`\beta_2`
    eps: float  #: :math:`\epsilon`
    weight_decay: float  #: :math:`\lambda`
    decoupled: bool  #: AdamW's decay of :math:`\theta` (True) or the L2 term added to :math:`g` (False)
    amsgrad: bool  #: normalise by :math:`v^{\max}`
    c1: float  #: :math:`1 - \beta_1`
    c2: float  #: :math:`1 - \beta_2`
    shrink: float  #: :math:`1 - \alpha\lambda`
    bc1: float  #: :math:`1 - \beta_1^t`
    sqrt_bc2: float  #: :math:`\sqrt{1 - \beta_2^t}` (05's ``bc2`` is :math:`1 - \beta_2^t`, without the root)


def adam_kernel(
    theta, g, m, v, v_max, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, c1, c2, shrink, bc1, sqrt_bc2
):
    r"""The loop :class:`Adam` and :class:`~lessonlib.AdamW` run: :func:`adam_step`, element by element, in place.

    One pass over memory: each element of :math:`\theta, g, m, v` is read once and
    :math:`\theta, m, v` written once. The arrays are 1-D (views of the parameter and its state); the
    scalars after them are the fields of an :class:`AdamScalars`, in order (``adam_kernel(*arrays,
    *scalars)``: numba dispatches a call with plain scalars in about half the time of one with a named
    tuple, 4.6 against 9.0 microseconds measured here, which counts at the notebooks' sizes). Their
    numbers are of :math:`\theta`'s dtype, so float32 stays float32, computed in float64 and rounded
    once, as torch does: ``c1`` :math:`= 1 - \beta_1`,
    ``c2`` :math:`= 1 - \beta_2`, ``shrink`` :math:`= 1 - \alpha\lambda` (:func:`~lessonlib.decay`),
    ``bc1`` :math:`= 1 - \beta_1^t` and ``sqrt_bc2`` :math:`= \sqrt{1 - \beta_2^t}` (:func:`~lessonlib.ema_weight_sum`;
    the root of what notebook 05 calls ``bc2``).
    :math:`\sqrt{\hat v}` is taken as :math:`\sqrt{v}/\sqrt{1-\beta_2^t}`, the same number, so that a
    float32 :math:`v` near its largest value does not overflow on the way.
    Compiled by numba where it imports (as plain Python it would be far too slow:
    :class:`Adam` then runs :func:`adam_step` on whole arrays instead).

    .. math::

        &\textbf{for each element:} \\
        &\quad \theta \leftarrow (1 - \alpha\lambda)\,\theta \;\text{ (decoupled)} \quad\text{or}\quad
               g \leftarrow g + \lambda\theta \;\text{ (L2)} \\
        &\quad m \leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        &\quad v^{\max} \leftarrow \max(v^{\max}, v) \;\text{ (amsgrad)} \\
        &\quad \theta \leftarrow \theta - \alpha\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
    """
    for i in range(theta.size):
        g_i = g[i]
        if decoupled:
            theta[i] = shrink * theta[i]  # theta <- (1 - alpha lambda) theta           (decay)
        elif weight_decay != 0:
            g_i = g_i + weight_decay * theta[i]  # g <- g + lambda theta                (l2_gradient)
        m[i] = beta1 * m[i] + c1 * g_i  # m_t = beta1 m + (1 - beta1) g         (ema_update)
        v[i] = beta2 * v[i] + c2 * g_i * g_i  # v_t = beta2 v + (1 - beta2) g^2 (ema_update)
        if amsgrad:
            v_max[i] = np.maximum(v_max[i], v[i])  # v_max = max(v_max, v_t), a nan carried (torch.maximum)
        m_hat = m[i] / bc1  # m-hat = m_t / (1 - beta1^t)                               (debias)
        root_v_hat = np.sqrt(v_max[i] if amsgrad else v[i]) / sqrt_bc2  # sqrt(v-hat) = sqrt(v_t / (1 - beta2^t))
        theta[i] = theta[i] - lr * m_hat / (root_v_hat + eps)  # theta_t = theta - alpha m-hat / (sqrt(v-hat) + eps)


_adam_kernel = kernel(adam_kernel, fastmath=FAST)


class Adam(Optimizer):
    r"""Adam on numpy arrays; defaults, names and semantics as ``torch.optim.Adam``.

    ``state[i]`` holds ``t`` (steps taken), ``m`` and ``v`` (the two moments) and,
    with ``amsgrad=True``, ``v_max``. Each step runs :func:`adam_kernel` on every
    parameter, or, where numba is missing, :func:`adam_step` on whole arrays
    written back in place (:data:`lessonlib.KERNEL` says which).

    Args:
        params: a list of float32/float64 numpy arrays, updated in place.
        lr: :math:`\alpha \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon \ge 0`.
        weight_decay: :math:`\lambda \ge 0`: the L2 term added to :math:`g` or, with
            ``decoupled_weight_decay=True``, the decoupled decay of :class:`~lessonlib.AdamW`.
        amsgrad: AMSGrad (Reddi et al. 2018): normalise by the largest :math:`v` so far.
        decoupled_weight_decay: shrink :math:`\theta` by :math:`1 - \alpha\lambda` instead of adding
            :math:`\lambda\theta` to :math:`g` (torch's argument of the same name; ``AdamW`` sets it).
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad", "decoupled_weight_decay")
    _nonnegative = ("v", "v_max")
    lr = hyperparameter(check_real)
    betas = hyperparameter(lambda name, value: check_betas(value))
    eps = hyperparameter(check_real)
    weight_decay = hyperparameter(check_real)
    amsgrad = hyperparameter(check_bool, fixed=True)  # it decides which state arrays exist
    decoupled_weight_decay = hyperparameter(check_bool)

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
        *, decoupled_weight_decay=False,
    ):  # fmt: skip
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.amsgrad, self.decoupled_weight_decay = amsgrad, decoupled_weight_decay
        self._moments = ("m", "v", "v_max") if self.amsgrad else ("m", "v")
        self._hyper_cache = {}
        super().__init__(params)

    def _update_compiled(self, p, g, state):
        t = state["t"]
        scalars = self._step_cache.get((p.dtype, t)) or self._kernel_scalars(p.dtype, t)
        m, v = state["m"], state["v"]
        v_max = state["v_max"] if self._amsgrad else v
        if p.ndim == 1 and g.ndim == 1:  # most parameters: no views to make
            _adam_kernel(p, g, m, v, v_max, *scalars)
        else:
            for views in flat_views(p, g, m, v, v_max):
                _adam_kernel(*views, *scalars)

    def _update_numpy(self, p, g, state):
        t = state["t"]
        decoupled = self.decoupled_weight_decay
        beta1, beta2 = self.betas
        with np.errstate(all="ignore"):  # the numpy form: overflow to inf, quietly, as in torch
            theta = decay(p, self.lr, self.weight_decay) if decoupled else p
            s = adam_step(
                theta, g, state["m"], state["v"], t, lr=self.lr, beta1=beta1, beta2=beta2, eps=self.eps,
                weight_decay=0.0 if decoupled else self.weight_decay, v_max=state.get("v_max"),
            )  # fmt: skip
        p[...], state["m"][...], state["v"][...] = s.theta, s.m, s.v
        if self.amsgrad:
            state["v_max"][...] = s.v_max

    _update = _update_compiled if KERNEL == "numba" else _update_numpy  # chosen once, at import

    def kernel_scalars(self, dtype, t) -> AdamScalars:
        """What :func:`adam_kernel` takes besides the arrays at step ``t``, in ``dtype``; once per step and dtype.

        The part that depends only on the hyperparameters is kept between steps (a schedule that
        changes ``lr`` every step makes a new one each time; the cache then stays small).
        """
        if not isinstance(dtype, np.dtype) or dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"dtype must be np.dtype('float32') or np.dtype('float64') (a parameter's), got {brief(dtype, 60)}"
            )
        t = check_step(t, low=1)
        return self._kernel_scalars(dtype, t)

    def _kernel_scalars(self, dtype, t) -> AdamScalars:
        """:meth:`kernel_scalars` unchecked: a step passes its parameter's dtype and its own ``t``."""
        (beta1, beta2), lr, wd = self._betas, self._lr, self._weight_decay
        key = (dtype, lr, beta1, beta2, self._eps, wd, self._decoupled_weight_decay, self._amsgrad)
        f = dtype.type  # both corrections lie in (0, 1]: no cast can overflow
        fixed = self._hyper_cache.get(key)  # the scalars of step 1, whose fields but the last two hold for every step
        if fixed is None:
            if len(self._hyper_cache) > 16:
                self._hyper_cache.clear()
            lr_, beta1_, beta2_, eps, wd_, c1, c2, shrink = in_dtype(
                dtype, lr, beta1, beta2, self._eps, wd, 1 - beta1, 1 - beta2, decay(1.0, lr, wd)
            )
            fixed = self._hyper_cache[key] = AdamScalars(
                lr=lr_,
                beta1=beta1_,
                beta2=beta2_,
                eps=eps,
                weight_decay=wd_,
                decoupled=self._decoupled_weight_decay,
                amsgrad=self._amsgrad,
                c1=c1,
                c2=c2,
                shrink=shrink,
                bc1=f(_weight_sum(beta1, 1)),
                sqrt_bc2=f(math.sqrt(_weight_sum(beta2, 1))),
            )
        scalars = AdamScalars(*fixed[:-2], bc1=f(_weight_sum(beta1, t)), sqrt_bc2=f(math.sqrt(_weight_sum(beta2, t))))
        self._step_cache[dtype, t] = scalars
        return scalars
