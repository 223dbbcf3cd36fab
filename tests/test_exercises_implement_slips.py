"""The six write-a-step exercises (lessonlib.exercises.implement_slips): each known slip is named, and no two agree.

Every learner function here is written out independently, in textbook form (numpy only, no lessonlib),
so that a check that names them agrees with the math, not only with itself. The right forms are used by
tests/test_exercises_implement.py and tests/test_exercises_implement_harness.py too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lessonlib.exercises import implement as im
from lessonlib.exercises import implement_slips as slips
from lessonlib.exercises.implement_harness import Failure, as_values, cases, run, same

# ---- the learner's functions, right and with each slip -----------------------------------------------------------


def ema(kind="right"):
    def ema_update(avg, x, beta):
        if kind == "swapped":
            return (1 - beta) * avg + beta * x
        if kind == "sum":
            return beta * avg + x
        if kind == "no_decay":
            return avg + (1 - beta) * x
        if kind == "corrected":  # the bias-corrected average, with the only t the function can know, 1
            return (beta * avg + (1 - beta) * x) / (1 - beta)
        if kind == "in_place":
            avg *= beta
            avg += (1 - beta) * x
            return avg
        return beta * avg + (1 - beta) * x

    return ema_update


def momentum(kind="right"):
    def momentum_step(theta, g, buf, *, lr, momentum):
        if kind == "ema":
            new = momentum * buf + (1 - momentum) * g
        elif kind == "swapped":
            new = buf + momentum * g
        else:
            new = momentum * buf + g
        step = {"by_g": g, "old_buf": buf}.get(kind, new)
        return (buf if kind == "returns_old" else new), theta - lr * step

    return momentum_step


def rmsprop(kind="right"):
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        if kind == "lr_alpha_swapped":  # alpha read as the learning rate, lr as the decay
            lr, alpha = alpha, lr
        elif kind == "alpha_as_lr":
            lr = alpha
        a = 1 - alpha if kind == "swapped" else alpha
        v = a * v + (1 - a) * (g if kind == "g" else g**2)
        if kind == "eps_inside":
            denom = np.sqrt(v + eps)
        else:
            denom = (v if kind == "no_root" else np.sqrt(v)) + eps
        return v, theta - lr * g / denom

    return rmsprop_step


def adam(*, eps_inside=False, correct="mv", corrections_swapped=False, t_shift=0, swap1=False, swap2=False,
         g_squared=True, root=True, sign=-1.0, abs_g=False, no_eps=False):  # fmt: skip
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        m = (1 - beta1) * m + beta1 * g if swap1 else beta1 * m + (1 - beta1) * g
        g2 = np.abs(g) if abs_g else g**2 if g_squared else g
        v = (1 - beta2) * v + beta2 * g2 if swap2 else beta2 * v + (1 - beta2) * g2
        b1, b2 = (beta2, beta1) if corrections_swapped else (beta1, beta2)
        m_hat = m / (1 - b1 ** (t + t_shift)) if "m" in correct else m
        v_hat = v / (1 - b2 ** (t + t_shift)) if "v" in correct else v
        if eps_inside:
            denom = np.sqrt(v_hat + eps)
        else:
            denom = (np.sqrt(v_hat) if root else v_hat) + (0.0 if no_eps else eps)
        return theta + sign * lr * m_hat / denom, m, v

    return adam_step


def adamw(kind="right", **adam_slip):
    inner = adam(**adam_slip)

    def adamw_step(theta, g, m, v, t, *, lr, beta1, beta2, eps, weight_decay):
        h = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps}
        if kind == "after":
            theta, m, v = inner(theta, g, m, v, t, **h)
            return theta * (1 - lr * weight_decay), m, v
        if kind == "l2":
            return inner(theta, g + weight_decay * theta, m, v, t, **h)
        if kind == "no_lr":
            return inner(theta * (1 - weight_decay), g, m, v, t, **h)
        if kind == "forgotten":
            return inner(theta, g, m, v, t, **h)
        return inner(theta * (1 - lr * weight_decay), g, m, v, t, **h)

    return adamw_step


def amsgrad(kind="right"):
    def amsgrad_step(theta, g, m, v, v_max, t, *, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * g
        if kind == "max_before_ema":
            v_max = np.maximum(v_max, v)  # the old v: the maximum is taken before the EMA
        v = beta2 * (v_max if kind == "from_v_max" else v) + (1 - beta2) * g**2
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        if kind in ("paper", "paper_m_corrected"):  # Reddi et al.'s form: v_max as it is
            v_max = np.maximum(v_max, v)
            m_hat = m if kind == "paper" else m / bc1
            return theta - lr * m_hat / (np.sqrt(v_max) + eps), m, v, v_max
        if kind == "max_before_ema":
            return theta - lr * (m / bc1) / (np.sqrt(v_max / bc2) + eps), m, v, v_max
        if kind == "max_of_v_hat":
            v_max = np.maximum(v_max, v / bc2)
            v_hat = v_max
        else:
            v_max = np.minimum(v_max, v) if kind == "min" else np.maximum(v_max, v)
            v_hat = (v if kind == "uses_v" else v_max) / bc2
        return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v_hat) + eps), m, v, v_max

    return amsgrad_step


ADAM_SLIPS = [
    ({"eps_inside": True}, "inside the root"),
    ({"correct": "v"}, "uses m itself"),
    ({"correct": "m"}, "uses v itself"),
    ({"correct": ""}, "both corrections"),
    ({"corrections_swapped": True}, "corrections are swapped"),
    ({"t_shift": -1}, "beta**(t - 1)"),
    ({"t_shift": 1}, "beta**(t + 1)"),
    ({"swap1": True}, "beta1 and 1 - beta1 are swapped"),
    ({"swap2": True}, "beta2 and 1 - beta2 are swapped"),
    ({"g_squared": False}, "squared gradient"),
    ({"root": False}, "square root is missing"),
    ({"sign": 1.0}, "uphill"),
    ({"abs_g": True}, "not its size"),
    ({"no_eps": True}, "without eps"),
]

SLIPS = [
    (im.check_ema_update, ema("swapped"), "weights are swapped"),
    (im.check_ema_update, ema("sum"), "lost its weight"),
    (im.check_ema_update, ema("no_decay"), "must shrink"),
    (im.check_ema_update, ema("corrected"), "bias-corrected"),
    (im.check_momentum_step, momentum("ema"), "Adam's EMA"),
    (im.check_momentum_step, momentum("by_g"), "moved by lr * g"),
    (im.check_momentum_step, momentum("swapped"), "multiplies the old buffer"),
    (im.check_momentum_step, momentum("returns_old"), "as it came in"),
    (im.check_momentum_step, momentum("old_buf"), "moved by the old buffer"),
    (im.check_rmsprop_step, rmsprop("eps_inside"), "inside the root"),
    (im.check_rmsprop_step, rmsprop("swapped"), "alpha and 1 - alpha are swapped"),
    (im.check_rmsprop_step, rmsprop("g"), "squared gradient"),
    (im.check_rmsprop_step, rmsprop("no_root"), "square root is missing"),
    (im.check_rmsprop_step, rmsprop("lr_alpha_swapped"), "the two are swapped"),
    (im.check_rmsprop_step, rmsprop("alpha_as_lr"), "your step size is alpha"),
    *((im.check_adam_step, adam(**slip), word) for slip, word in ADAM_SLIPS),
    (im.check_adamw_step, adamw("after"), "after the Adam step"),
    (im.check_adamw_step, adamw("l2"), "Adam with L2"),
    (im.check_adamw_step, adamw("no_lr"), "multiplies the decay by lr"),
    (im.check_adamw_step, adamw("forgotten"), "plain Adam"),
    *((im.check_adamw_step, adamw(**slip), word) for slip, word in ADAM_SLIPS),  # Adam's slips, after the decay
    (im.check_amsgrad_step, amsgrad("uses_v"), "still uses v"),
    (im.check_amsgrad_step, amsgrad("max_of_v_hat"), "corrected v_hat"),
    (im.check_amsgrad_step, amsgrad("from_v_max"), "continued from v_max"),
    (im.check_amsgrad_step, amsgrad("min"), "a minimum"),
    (im.check_amsgrad_step, amsgrad("paper_m_corrected"), "kept m's correction but not v's"),
    (im.check_amsgrad_step, amsgrad("paper"), "with no bias correction"),
    (im.check_amsgrad_step, amsgrad("max_before_ema"), "maximum was taken before the EMA"),
]


@pytest.mark.parametrize("check, learner, word", SLIPS, ids=[f"{c.__name__[6:]}: {w}" for c, _, w in SLIPS])
def test_each_slip_is_named(check, learner, word):
    result = check(learner)
    assert result.ok is False and result.message.startswith("✗"), result.message
    assert result.failed is Failure.SLIP and word in result.slip, result.message
    assert result.message == f"✗ {check.__name__[6:]}: {result.slip}"  # the hint, as the exercise states it
    name = check.__name__[6:]
    assert result.slip in [hint for _, hint in slips.EXERCISES[name].slips]


def test_every_slip_has_a_learner_function_here():
    named = {(c.__name__[6:], c(fn).slip) for c, fn, _ in SLIPS}
    hints = {(name, hint) for name, ex in slips.EXERCISES.items() for _, hint in ex.slips}
    assert named == hints


def test_the_slips_all_give_distinct_results_on_the_chosen_cases():
    for name, ex in slips.EXERCISES.items():
        found = cases(ex)
        fns = [("lessonlib", ex.reference)] + [(message, slip) for slip, message in ex.slips]
        outcomes = {label: [as_values(ex, run(fn, ex, inputs)[0]) for _, inputs in found] for label, fn in fns}
        assert len(outcomes) == len(fns), f"{name}: two slips share a message"
        for (a, out_a), (b, out_b) in itertools.combinations(outcomes.items(), 2):
            assert not all(map(same, out_a, out_b)), f"{name}: {a!r} and {b!r} agree on every case"


def test_the_exercises_are_the_six_lessons_functions():
    assert list(slips.EXERCISES) == [
        "ema_update", "momentum_step", "rmsprop_step", "adam_step", "adamw_step", "amsgrad_step",
    ]  # fmt: skip
    assert slips.ADAM.signature == "adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps)"
    assert (
        slips.EMA.template
        == "def ema_update(avg, x, beta):\n    avg = ...  # a_t, from a_{t-1} = avg and x_t = x\n    return avg\n"
    )


def test_amsgrad_worked_example_has_a_falling_v():
    # 0.999 * v_4 + 0.001 * 0.01**2 < v_4: after the example's four gradients, v falls, and v_max stays
    found = cases(slips.AMSGRAD)
    step6 = found[5][1]
    assert found[5][0] == "the worked example, step 6" and step6["v_max"] > step6["v"] > 0


def test_the_amsgrad_slip_without_v_correction_is_the_reviews_case():
    # the worked example's first step: theta_1 = 0.999 is right; Reddi et al.'s v_max, uncorrected, gives 0.968
    step1 = cases(slips.AMSGRAD)[0][1]
    inputs = {k: step1[k] for k in ("theta", "g", "m", "v", "v_max", "t")}
    right = amsgrad()(**inputs, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)[0]
    slip = amsgrad("paper_m_corrected")(**inputs, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)[0]
    assert round(right, 3) == 0.999 and round(slip, 3) == 0.968
