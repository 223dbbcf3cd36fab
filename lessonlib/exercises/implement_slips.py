r"""The six write-a-step exercises: for each, lessonlib's answer and the known slips, each next to its hint.

Lessons 01, 02, 03, 04, 06 and 07 each end with an exercise in which the learner writes one step of an
optimizer as a function: ``ema_update``, ``momentum_step``, ``rmsprop_step``, ``adam_step``, ``adamw_step``
and ``amsgrad_step``. Each is a :class:`~lessonlib.exercises.implement_harness.FunctionExercise` here: its
signature, lessonlib's answer with that signature (``reference``), the worked example's hyperparameters, the
template's lines, and the slips a learner is likely to make, each a small function with the same signature
that recomputes the slip, next to the hint that names it without handing over the formula. A slip's hint is
given when the learner's values match it on every case (``tests/test_exercises_implement_slips.py`` checks
that no two slips agree on all the cases). The checks the notebooks call are in
:mod:`lessonlib.exercises.implement`.
"""

from __future__ import annotations

import numpy as np

from lessonlib import optim as ll
from lessonlib.course.worked_example import GRADS, HYPER
from lessonlib.exercises.implement_harness import FunctionExercise

# ---- lesson 01: the EMA ----------------------------------------------------------------------------------------

EMA = FunctionExercise(
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
    """Plain gradient descent along ``direction``: theta - lr * direction (SGD without momentum keeps no buffer)."""
    return ll.sgd_step(theta, direction, np.zeros_like(direction), 1, lr=lr)[1]


MOMENTUM = FunctionExercise(
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


RMSPROP = FunctionExercise(
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


ADAM_SLIPS = (
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
ADAM = FunctionExercise(
    "adam_step", ("theta", "g", "m", "v", "t"), ("lr", "beta1", "beta2", "eps"), ("theta", "m", "v"), _adam,
    slips=ADAM_SLIPS, hyper=HYPER,
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


ADAMW = FunctionExercise(
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
        *((_after_decay(slip), message) for slip, message in ADAM_SLIPS),
    ),
    hyper={**HYPER, "weight_decay": 0.1},
    body=("theta = ...  # the decoupled decay, first", *ADAM.body),
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


AMSGRAD = FunctionExercise(
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

#: The exercises by function name.
EXERCISES = {ex.name: ex for ex in (EMA, MOMENTUM, RMSPROP, ADAM, ADAMW, AMSGRAD)}
