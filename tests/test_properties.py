"""Layer 2: equivalences and properties that must hold for any input (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lessonlib as ll

betas = st.floats(0.0, 0.9999)
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
grad_seqs = st.lists(arrays(np.float64, 3, elements=finite), min_size=1, max_size=30)
# Magnitudes whose squares neither underflow nor overflow: for tests that divide by sqrt(v).
moderate = st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3)
moderate_seqs = st.lists(arrays(np.float64, 3, elements=moderate), min_size=1, max_size=30)


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@given(beta=betas, c=finite, t=st.integers(1, 300))
def test_debiased_ema_of_a_constant_is_the_constant(beta, c, t):
    avg = ll.EMA(beta)
    for _ in range(t):
        avg.update(c)
    assert avg.corrected == pytest.approx(c, rel=1e-9, abs=1e-12)


@given(beta=betas, t=st.integers(1, 500))
def test_ema_weights_sum_to_one_minus_beta_to_the_t(beta, t):
    # Feeding the EMA a constant 1 gives the sum of its weights.
    avg = ll.EMA(beta)
    for _ in range(t):
        avg.update(1.0)
    assert avg.value == pytest.approx(ll.ema_weight_sum(beta, t), rel=1e-9)


@given(grads=moderate_seqs, beta2=st.floats(0.5, 0.9999), eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_adam_with_beta1_zero_is_rmsprop_with_bias_correction(grads, beta2, eps):
    """beta1 = 0 makes m_hat = g; folding sqrt(1 - beta2**t) into lr and eps gives RMSprop's step."""
    a, r = np.ones(3), np.ones(3)
    adam = ll.Adam([a], lr=1e-2, betas=(0.0, beta2), eps=eps)
    rms = ll.RMSprop([r], lr=1e-2, alpha=beta2, eps=eps)
    for t, g in enumerate(grads, start=1):
        root_bc2 = math.sqrt(ll.ema_weight_sum(beta2, t))
        rms.lr, rms.eps = 1e-2 * root_bc2, eps * root_bc2
        adam.step([g])
        rms.step([g])
        assert np.allclose(a, r, rtol=1e-12, atol=1e-14)


@given(grads=moderate_seqs, c=st.floats(1e-3, 1e3), b1=betas, b2=betas)
def test_adam_with_eps_zero_is_invariant_to_gradient_scale(grads, c, b1, b2):
    x, y = np.zeros(3), np.zeros(3)
    ox, oy = ll.Adam([x], betas=(b1, b2), eps=0.0), ll.Adam([y], betas=(b1, b2), eps=0.0)
    for g in grads:
        ox.step([g])
        oy.step([c * g])
    assert np.allclose(x, y, rtol=1e-9, atol=1e-12)


def cauchy_schwarz_bound(lr, b1, b2, t):
    """A true bound on |update|: |m_hat| / sqrt(v_hat) <= (1-b1)/sqrt(1-b2) * sqrt(1-b2**t)/(1-b1**t)
    * sqrt(sum_k<t (b1**2/b2)**k), by Cauchy-Schwarz on the unrolled sums."""
    s = sum((b1 * b1 / b2) ** k for k in range(t))
    return lr * (1 - b1) / math.sqrt(1 - b2) * math.sqrt(1 - b2**t) / (1 - b1**t) * math.sqrt(s)


# Gradients whose squares are normal floats (or 0): the bound holds for real numbers, and a square below 1e-308 is a
# subnormal with few digits left (hypothesis found g = 3.9e-159, b1 = 0, b2 = 0.5: |update| = lr (1 + 2.4e-7) > lr).
normal_squares = st.lists(
    arrays(np.float64, 3, elements=finite.filter(lambda x: x == 0 or abs(x) >= 1e-150)), min_size=1, max_size=30
)


@given(grads=normal_squares, b1=st.floats(0.0, 0.99), b2=st.floats(0.01, 0.9999), eps=st.sampled_from([0.0, 1e-8]))
def test_update_never_exceeds_the_cauchy_schwarz_bound(grads, b1, b2, eps):
    theta, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        with np.errstate(divide="ignore", invalid="ignore"):
            s = ll.adam_step(theta, g, m, v, t, lr=1e-3, beta1=b1, beta2=b2, eps=eps)
        theta, m, v = s.theta, s.m, s.v
        ok = np.isfinite(s.update)  # 0/0 when every gradient so far is zero and eps = 0
        assert np.all(np.abs(s.update[ok]) <= cauchy_schwarz_bound(1e-3, b1, b2, t) * (1 + 1e-9))


def test_paper_step_bound_holds_for_a_single_spike_and_fails_for_a_crafted_sequence():
    """The paper's |update| <= lr (1-b1)/sqrt(1-b2) is the worst case of one large gradient,
    not a bound for every sequence: gradients growing like (b1/b2)**-k exceed it."""
    lr, b1, b2, t = 1e-3, 0.9, 0.999, 2000
    paper = lr * (1 - b1) / math.sqrt(1 - b2)
    spike = [1e-30] * (t - 1) + [1.0]  # not exactly zero, so that eps = 0 never divides 0 by 0
    crafted = [(b1 / b2) ** (t - i) for i in range(1, t + 1)]
    for grads, exceeds in ((spike, False), (crafted, True)):
        update = ll.adam_trace(0.0, grads, lr=lr, beta1=b1, beta2=b2, eps=0.0)[-1].update
        assert bool(abs(update) > paper) is exceeds
        assert abs(update) <= cauchy_schwarz_bound(lr, b1, b2, t) * (1 + 1e-12)
    # The spike reaches the paper's bound once bias correction has faded.
    spike_update = ll.adam_trace(0.0, spike, lr=lr, beta1=b1, beta2=b2, eps=0.0)[-1].update
    assert spike_update == pytest.approx(paper * math.sqrt(1 - b2**t) / (1 - b1**t), rel=1e-9)


@given(grads=grad_seqs, b1=betas, b2=betas, lr=st.floats(1e-5, 1e-1))
def test_adamw_with_zero_weight_decay_is_adam(grads, b1, b2, lr):
    x, y = np.ones(3), np.ones(3)
    ox, oy = ll.Adam([x], lr=lr, betas=(b1, b2)), ll.AdamW([y], lr=lr, betas=(b1, b2), weight_decay=0.0)
    for g in grads:
        ox.step([g])
        oy.step([g])
    assert np.array_equal(x, y)


@given(grads=grad_seqs, lam=st.floats(0.0, 10.0), lr=st.floats(1e-4, 1e-1))
def test_l2_and_decoupled_weight_decay_coincide_for_plain_sgd(grads, lam, lr):
    x, y = np.ones(3), np.ones(3)
    l2 = ll.SGD([x], lr=lr, weight_decay=lam)
    plain = ll.SGD([y], lr=lr)
    for g in grads:
        l2.step([g])
        y[...] = ll.decay(y, lr, lam)  # theta (1 - lr lambda), then the plain gradient step
        plain.step([g])
    assert np.allclose(x, y, rtol=1e-10, atol=1e-10)


def test_l2_and_decoupled_weight_decay_differ_for_adam():
    """What lesson 06 is about: under Adam the L2 term is divided by sqrt(v_hat)."""
    x, y = np.ones(2), np.ones(2)
    l2, w = ll.Adam([x], lr=1e-2, weight_decay=0.1), ll.AdamW([y], lr=1e-2, weight_decay=0.1)
    for _ in range(100):
        g = np.array([0.0, 100.0])
        l2.step([g])
        w.step([g])
    assert abs(x[0] - y[0]) > 1e-2  # a parameter with no gradient: L2 decays it much faster
