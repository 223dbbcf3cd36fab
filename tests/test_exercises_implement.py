"""The checks of the "write it yourself" exercises: the right function passes, each slip is named, ... is unanswered.

Every learner function here is written out independently, in textbook form (numpy only, no lessonlib),
so that a check that passes them agrees with the math, not only with itself.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lessonlib.exercises import implement as im

UNANSWERED = "not answered yet"

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


CHECKS = [
    (im.check_ema_update, ema(), "ema_update"),
    (im.check_momentum_step, momentum(), "momentum_step"),
    (im.check_rmsprop_step, rmsprop(), "rmsprop_step"),
    (im.check_adam_step, adam(), "adam_step"),
    (im.check_adamw_step, adamw(), "adamw_step"),
    (im.check_amsgrad_step, amsgrad(), "amsgrad_step"),
]

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
    (im.check_ema_update, ema("in_place"), "in place"),
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


# ---- right, unanswered, each slip ------------------------------------------------------------------------------


@pytest.mark.parametrize("check, right, name", CHECKS, ids=[name for *_, name in CHECKS])
def test_the_right_function_passes(check, right, name):
    result = check(right)
    assert result.ok is True, result.message
    assert result.message == f"✓ {name} agrees with lessonlib on the worked example and {im.N_RANDOM} random cases."


@pytest.mark.parametrize("check, right, name", CHECKS, ids=[name for *_, name in CHECKS])
def test_the_template_is_unanswered(check, right, name):
    namespace = {}
    exec(im.TEMPLATE[name], namespace)  # the starter code a notebook cell shows
    result = check(namespace[name])
    assert result.ok is None and UNANSWERED in result.message and name in result.message
    assert im.TEMPLATE[name].startswith(f"def {name}(") and "..." in im.TEMPLATE[name]
    assert check(...).ok is None


@pytest.mark.parametrize("check, learner, word", SLIPS, ids=[f"{c.__name__[6:]}: {w}" for c, _, w in SLIPS])
def test_each_slip_is_named(check, learner, word):
    result = check(learner)
    assert result.ok is False and result.message.startswith("✗"), result.message
    assert word in result.message, result.message


def test_the_slips_all_give_distinct_results_on_the_chosen_cases():
    for name, ex in im._EXERCISES.items():
        cases = im._cases(ex)
        fns = [("lessonlib", ex.reference)] + [(message, slip) for slip, message in ex.slips]
        outcomes = {label: [im._values(ex, im._call(fn, ex, values)[0]) for _, values in cases] for label, fn in fns}
        assert len(outcomes) == len(fns), f"{name}: two slips share a message"
        for (a, out_a), (b, out_b) in itertools.combinations(outcomes.items(), 2):
            assert not all(map(im._same, out_a, out_b)), f"{name}: {a!r} and {b!r} agree on every case"


# ---- what the checks run on ------------------------------------------------------------------------------------


def test_the_cases_are_the_worked_example_then_seeded_random_ones():
    cases = im._cases(im._EXERCISES["adam_step"])
    assert len(cases) == 4 + im.N_RANDOM
    (label1, c1), (label2, c2) = cases[:2]
    assert label1 == "the worked example, step 1" and c1 == {
        "theta": 1.0, "g": 0.5, "m": 0.0, "v": 0.0, "t": 1, "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
    }  # fmt: skip
    # the lesson's step 1: m_1 = 0.05, v_1 = 0.00025, theta_1 = 1 - 0.001 * 0.5 / (0.5 + 1e-8)
    assert c2["m"] == pytest.approx(0.05, rel=1e-12) and c2["v"] == pytest.approx(0.00025, rel=1e-12)
    assert c2["theta"] == pytest.approx(1 - 0.001 * 0.5 / (0.5 + 1e-8), rel=1e-14) and c2["g"] == 0.3
    shapes = {np.shape(values["theta"]) for _, values in cases[4:]}
    assert shapes == {(), (3,), (2, 3)}
    assert all(type(values["m"]) is float for _, values in cases[:4])  # Python floats, as in the lesson
    assert im._cases(im._EXERCISES["adam_step"])[-1][1]["m"].tolist() == cases[-1][1]["m"].tolist()  # seeded


def test_amsgrad_worked_example_has_a_falling_v():
    # 0.999 * v_4 + 0.001 * 0.01**2 < v_4: after the example's four gradients, v falls, and v_max stays
    cases = im._cases(im._EXERCISES["amsgrad_step"])
    step6 = cases[5][1]
    assert cases[5][0] == "the worked example, step 6" and step6["v_max"] > step6["v"] > 0


def test_a_wrong_value_no_slip_explains_is_shown_with_its_inputs():
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        theta, m, v = adam()(theta, g, m, v, t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        return theta, 1.01 * m, v

    result = im.check_adam_step(adam_step)
    assert result.ok is False
    assert "m is wrong on the worked example, step 1 (theta=1, g=0.5, m=0, v=0, t=1" in result.message
    assert "expected 0.05, got 0.0505" in result.message


def test_a_float32_answer_is_not_close_enough():
    # float32 rounds at about 6e-8, far above the checks' 1e-9: the same formula in float32 is reported wrong
    result = im.check_ema_update(lambda avg, x, beta: np.float32(beta) * np.float32(avg) + np.float32(1 - beta) * x)
    assert result.ok is False and "avg is wrong on the worked example, step 1" in result.message


def test_an_equivalent_rearrangement_passes():
    # torch's form: lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps), and m as a lerp
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        step = lr / (1 - beta1**t)
        return theta - step * m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps), m, v

    assert im.check_adam_step(adam_step).ok is True


# ---- what else the learner can get wrong -----------------------------------------------------------------------


def test_an_input_changed_in_place_is_named():
    def adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps):
        m *= beta1  # on an array this changes the caller's m
        m += (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v

    result = im.check_adam_step(adam_step)
    assert result.ok is False and "right values" in result.message and "input m in place" in result.message


def test_an_input_changed_in_place_is_also_named_after_a_wrong_value():
    def momentum_step(theta, g, buf, *, lr, momentum):
        buf *= momentum
        buf += g
        return buf, theta - 2 * lr * buf

    result = im.check_momentum_step(momentum_step)
    assert result.ok is False and "theta is wrong" in result.message and "input buf in place" in result.message


def test_values_in_the_wrong_order_are_named():
    def adam_step(theta, g, m, v, t, **h):
        theta, m, v = adam()(theta, g, m, v, t, **h)
        return m, v, theta

    result = im.check_adam_step(adam_step)
    assert result.ok is False and "wrong order: return theta, m, v" in result.message


def test_an_exception_is_reported_not_raised():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        raise ValueError("oops")

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is False and "raised ValueError: oops on the worked example, step 1" in result.message


def test_a_wrong_signature_is_named():
    result = im.check_adam_step(lambda theta, g, m, v, t, *, lr, beta1, beta2, epsilon: (theta, m, v))
    assert result.ok is False and "unexpected keyword argument 'eps'" in result.message
    assert "signature should be adam_step(theta, g, m, v, t, *, lr, beta1, beta2, eps)" in result.message


def test_math_sqrt_on_arrays_gets_a_hint():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * g**2
        return v, theta - lr * g / (math.sqrt(v) + eps)

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is False and "random case 2" in result.message and "np.sqrt" in result.message


@pytest.mark.parametrize(
    "returned, words",
    [
        (lambda theta, m, v: (theta, m), "returned 2 values on the worked example, step 1"),
        (lambda theta, m, v: theta, "returned 1 value on"),
        (lambda theta, m, v: (theta, "m", v), "returned a str as m"),
        (lambda theta, m, v: (theta, np.atleast_1d(m), v), "returned m with shape (1,)"),
    ],
)
def test_the_wrong_number_type_or_shape_of_values_is_named(returned, words):
    result = im.check_adam_step(lambda theta, g, m, v, t, **h: returned(*adam()(theta, g, m, v, t, **h)))
    assert result.ok is False and words in result.message, result.message
    assert "it should" in result.message


@pytest.mark.parametrize(
    "fn",
    [
        lambda theta, g, m, v, t, **h: None,  # a body with no return
        lambda theta, g, m, v, t, **h: (..., m, v),  # a line still ...
    ],
)
def test_none_or_a_line_still_ellipsis_is_unanswered(fn):
    result = im.check_adam_step(fn)
    assert result.ok is None and UNANSWERED in result.message


def test_not_implemented_is_unanswered_and_none_gets_a_hint():
    def ema_update(avg, x, beta):
        raise NotImplementedError

    assert im.check_ema_update(ema_update).ok is None
    assert "return line" in im.check_ema_update(lambda avg, x, beta: None).message


def test_arithmetic_on_a_line_still_ellipsis_is_unanswered():
    def rmsprop_step(theta, g, v, *, lr, alpha, eps):
        v = ...
        theta = theta - lr * g / (np.sqrt(v) + eps)
        return v, theta

    result = im.check_rmsprop_step(rmsprop_step)
    assert result.ok is None and UNANSWERED in result.message


def test_something_not_a_function_is_wrong_not_an_exception():
    result = im.check_adam_step(0.5)
    assert result.ok is False and "expected your function adam_step(theta, g, m, v, t" in result.message


def test_the_amsgrad_slip_without_v_correction_is_the_reviews_case():
    # the worked example's first step: theta_1 = 0.999 is right; Reddi et al.'s v_max, uncorrected, gives 0.968
    step1 = im._cases(im._EXERCISES["amsgrad_step"])[0][1]
    right = amsgrad()(
        **{k: step1[k] for k in ("theta", "g", "m", "v", "v_max", "t")}, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8
    )[0]
    slip = amsgrad("paper_m_corrected")(
        **{k: step1[k] for k in ("theta", "g", "m", "v", "v_max", "t")}, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8
    )[0]
    assert round(right, 3) == 0.999 and round(slip, 3) == 0.968
