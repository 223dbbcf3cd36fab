"""lessonlib.course.precision: bfloat16 spacing and stochastic rounding, GradScaler and clipping, 8-bit blocks."""

from __future__ import annotations

import math
import struct
import warnings

import numpy as np
import pytest
import torch

from lessonlib.course import precision as pr

with warnings.catch_warnings():  # np.matrix is on its way out; a learner may still pass one
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX_SEED = np.matrix([[0]])  # numpy 2.4's default_rng(MATRIX_SEED) kills the interpreter


def bfloat16_neighbours(x: float) -> tuple[float, float]:
    """The two bfloat16 numbers around a positive float32 x, from its bits (independent of the module)."""
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    low = bits & 0xFFFF0000
    as_float = lambda b: struct.unpack("<f", struct.pack("<I", b))[0]
    return as_float(low), as_float(low + 0x10000)


# ----------------------------------------------------------------------------- spacing


def test_spacing_is_the_gap_of_each_format():
    # bfloat16 keeps 8 significant bits, float16 11, float32 24, float64 53: the gap at 1 is 2**-(bits - 1)
    for dtype, bits in [(torch.bfloat16, 8), (torch.float16, 11), (torch.float32, 24), (torch.float64, 53)]:
        assert float(pr.spacing(1.0, dtype)) == 2.0 ** -(bits - 1)
        assert float(pr.spacing(3.0, dtype)) == 2 * 2.0 ** -(bits - 1)  # twice as wide in [2, 4)
    gaps = pr.spacing(torch.tensor([0.3, 1.5, 100.0]), torch.bfloat16)
    assert gaps.tolist() == [2.0**-9, 2.0**-7, 2.0**-1]
    with pytest.raises(ValueError, match="dtype"):
        pr.spacing(1.0, torch.int32)


def test_an_update_below_half_the_spacing_is_lost_in_bfloat16():
    theta = torch.tensor(1.5, dtype=torch.bfloat16)
    half = float(pr.spacing(1.5, torch.bfloat16)) / 2
    assert float(theta - 0.9 * half) == 1.5  # lost
    assert float(theta - 1.1 * half) == 1.5 - 2 * half  # rounds to the next number down


# ----------------------------------------------------------------------------- stochastic rounding


@pytest.mark.parametrize("x", [1.001, 1.0029, 0.3337, 123.4567, 3e-20])
def test_stochastic_round_gives_the_two_neighbours_with_the_right_probabilities(x):
    low, high = bfloat16_neighbours(np.float32(x))
    p_high = (float(np.float32(x)) - low) / (high - low)
    n = 200_000
    out = pr.stochastic_round(torch.full((n,), x), generator=torch.Generator().manual_seed(1)).double()
    assert out.dtype == torch.float64 and set(out.unique().tolist()) <= {low, high}
    frac_high = float((out == high).double().mean())
    assert abs(frac_high - p_high) < 5 * math.sqrt(p_high * (1 - p_high) / n) + 1e-9
    assert float(out.mean()) == pytest.approx(float(np.float32(x)), abs=5 * (high - low) / math.sqrt(n))


def test_stochastic_round_handles_signs_exact_values_and_checks_its_input():
    out = pr.stochastic_round(torch.full((50_000,), -1.001), generator=torch.Generator().manual_seed(2))
    assert out.dtype == torch.bfloat16 and float(out.float().mean()) == pytest.approx(-1.001, abs=1e-4)
    exact = torch.tensor([0.0, 1.0, -2.0, 0.5])  # already bfloat16 numbers: no noise can move them
    assert torch.equal(pr.stochastic_round(exact).float(), exact)
    with pytest.raises(TypeError, match="float32"):
        pr.stochastic_round(torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="float32"):
        pr.stochastic_round(np.ones(3, dtype=np.float32))


def test_repeated_updates_bfloat16_stays_master_and_stochastic_rounding_move():
    runs = pr.repeated_updates(1.5, 1e-3, 1000, copies=200, seed=0)
    assert set(runs) == set(pr.UPDATE_MODES)
    assert runs["bfloat16"].shape == (1001,) and np.all(runs["bfloat16"] == 1.5)  # 1e-3 < half of 2**-7: lost
    # the master copy: 1.5 - t * 1e-3 in float32, seen through bfloat16 rounding (within half a gap there)
    exact = 1.5 - 1e-3 * np.arange(1001)
    assert np.all(np.abs(runs["float32 master"] - exact) <= 2.0**-8 + 1e-6)
    sr = runs["stochastic rounding"]
    assert sr.shape == (1001, 200) and np.all(sr[0] == 1.5)
    # each run is a random walk around the exact line; the mean of 200 runs is within a few standard errors
    assert abs(sr[-1].mean() - 0.5) < 5 * sr[-1].std() / math.sqrt(200)
    assert sr[-1].std() > 0.01  # the noise is real
    with pytest.raises(ValueError, match="steps"):
        pr.repeated_updates(1.0, 1e-3, 0)
    with pytest.raises(ValueError, match="update"):
        pr.repeated_updates(1.0, float("nan"), 10)
    with pytest.raises(TypeError, match="seed must be an int"):
        pr.repeated_updates(1.0, 1e-3, 10, seed=MATRIX_SEED)  # numpy 2.4's default_rng would crash on it
    with pytest.raises(ValueError, match="0 <= seed"):
        pr.repeated_updates(1.0, 1e-3, 10, seed=-1)


# ----------------------------------------------------------------------------- GradScaler and clipping


def test_unscaling_before_clipping_clips_the_true_gradient():
    right = pr.clip_with_scaler(True, max_norm=1.0)
    assert right.true > 1.0  # the example needs clipping
    assert right.seen == pytest.approx(right.true, rel=1e-5)
    assert right.stepped == pytest.approx(1.0, rel=1e-5)
    wrong = pr.clip_with_scaler(False, max_norm=1.0)
    assert wrong.true == right.true
    assert wrong.seen == pytest.approx(right.true * 2.0**16, rel=1e-5)  # the scaled gradient's norm
    assert wrong.stepped == pytest.approx(1.0 / 2.0**16, rel=1e-5)  # clipped to 1 in scaled units, then unscaled


def test_clip_with_scaler_leaves_a_small_gradient_alone_and_checks_input():
    c = pr.clip_with_scaler(True, max_norm=1e6)
    assert c.stepped == pytest.approx(c.true, rel=1e-5)
    with pytest.raises(TypeError, match="unscale_first"):
        pr.clip_with_scaler(1)
    with pytest.raises(ValueError, match="max_norm"):
        pr.clip_with_scaler(True, max_norm=0.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        pr.clip_with_scaler(True, seed=1.5)


# ----------------------------------------------------------------------------- 8-bit blocks


@pytest.mark.parametrize("n, block", [(2**20, 2048), (5000, 2048), (10, 4), (7, 1)])
def test_blockwise_quantize_takes_one_byte_per_number_and_four_per_block(n, block):
    x = torch.randn(n, generator=torch.Generator().manual_seed(n))
    codes, scales = pr.blockwise_quantize(x, block)
    assert codes.dtype == torch.int8 and scales.dtype == torch.float32
    assert codes.nbytes + scales.nbytes == n + 4 * math.ceil(n / block)
    back = pr.blockwise_dequantize(codes, scales, block)
    # each number is within half a level (scale / 254) of its value; each block's largest is kept exactly
    per_element_scale = scales[torch.arange(n) // block]
    assert torch.all((back - x).abs() <= per_element_scale / 254 * (1 + 1e-6))
    first = x[:block]
    assert float(back[:block][first.abs().argmax()]) == pytest.approx(float(first[first.abs().argmax()]), rel=1e-6)


def test_blockwise_quantize_an_outlier_spoils_only_its_block():
    x = torch.full((4096,), 0.01)
    x[0] = 1000.0  # an outlier in the first block
    back = pr.blockwise_dequantize(*pr.blockwise_quantize(x))
    assert torch.all(back[1:2048] == 0.0)  # 0.01 / 1000 rounds to code 0 in the outlier's block
    assert torch.allclose(back[2048:], x[2048:])  # the second block keeps its 0.01 exactly (its own scale)


def test_blockwise_helpers_check_their_input():
    with pytest.raises(TypeError, match="float32"):
        pr.blockwise_quantize(torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="block_size"):
        pr.blockwise_quantize(torch.ones(3), 0)
    codes, scales = pr.blockwise_quantize(torch.ones(10), 4)
    with pytest.raises(ValueError, match="blocks"):
        pr.blockwise_dequantize(codes, scales[:2], 4)
    with pytest.raises(TypeError, match="int8"):
        pr.blockwise_dequantize(codes.float(), scales, 4)


# ----------------------------------------------------------------------------- torch's three implementations in 16 bits

G = [1.0, 1e-3, 1e-4, 0.0]  # a large, two small and a zero gradient


def test_one_float16_step_gives_inf_and_nan_in_the_for_loop_and_foreach_and_not_in_fused():
    # 1e-8 is 0 in float16 and (1 - beta2) g^2 underflows for |g| below about 0.005: m / (0 + 0)
    assert torch.tensor(1e-8, dtype=torch.float16).item() == 0.0
    for impl in ("for-loop", "foreach"):
        r = pr.torch_adam(G, dtype=torch.float16, implementation=impl, theta0=1.0)
        assert r.theta[0] == pytest.approx(1 - 1e-3, abs=2**-10) and r.theta[1] == r.theta[2] == -math.inf
        assert math.isnan(r.theta[3]) and r.v[1:].tolist() == [0.0, 0.0, 0.0]
    fused = pr.torch_adam(G, dtype=torch.float16, implementation="fused", theta0=1.0)
    assert fused.theta.tolist() == [0.9990234375] * 3 + [1.0]  # computed in float32, rounded back to float16
    assert fused.v[1:].tolist() == [0.0, 0.0, 0.0]  # but v is stored in float16: zero


def test_fused_float16_runs_far_ahead_where_v_underflows_as_its_closed_form_says():
    # v stays 0 in float16; fused recomputes v_t = (1 - beta2) g^2 in float32 each step, so
    # v-hat = (1 - beta2) g^2 / (1 - beta2^t) and the step is lr sqrt((1 - beta2^t) / (1 - beta2))
    steps, lr, beta2 = 200, 1e-3, 0.999
    t = np.arange(1, steps + 1)
    predicted = -lr * np.sum(np.sqrt((1 - beta2**t) / (1 - beta2)))
    fused = pr.torch_adam([1e-3, 1e-4, 1e-1], dtype=torch.float16, implementation="fused", steps=steps)
    assert fused.theta[:2] == pytest.approx([predicted] * 2, rel=5e-3)  # theta itself rounds to float16 each step
    reference = pr.torch_adam([1e-3, 1e-4, 1e-1], dtype=torch.float64, implementation="for-loop", steps=steps)
    assert reference.theta == pytest.approx([-0.2] * 3, rel=1e-4) and predicted < -1.8


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize(
    "grad, steps, lr", [(G, 1, 1e-3), ([1e-3, 1e-4, 1e-1], 200, 1e-3), ([0.3, -2.0, 1e-2], 50, 1e-2)]
)
def test_the_three_implementations_agree_to_rounding_where_16_bits_do_not_underflow(dtype, grad, steps, lr):
    runs = {impl: pr.torch_adam(grad, dtype=dtype, implementation=impl, steps=steps, lr=lr, theta0=1.0)
            for impl in ("for-loop", "foreach", "fused")}  # fmt: skip
    for impl in ("foreach", "fused"):
        assert pr.relative_disagreement(runs[impl].theta, runs["for-loop"].theta, dtype) <= 10


def test_relative_disagreement_in_machine_epsilons():
    eps = torch.finfo(torch.float32).eps
    assert pr.relative_disagreement(np.array([2.0 + 4 * eps]), np.array([2.0]), torch.float32) == pytest.approx(2.0)
    assert pr.relative_disagreement(np.array([np.nan, -np.inf]), np.array([np.nan, -np.inf]), torch.float16) == 0.0
    assert pr.relative_disagreement(np.array([np.inf]), np.array([-np.inf]), torch.float16) == math.inf
    assert pr.relative_disagreement(np.array([np.nan]), np.array([1.0]), torch.float16) == math.inf
    with pytest.raises(ValueError, match="shape"):
        pr.relative_disagreement(np.zeros(2), np.zeros(3), torch.float32)
    with pytest.raises(ValueError, match="dtype"):
        pr.relative_disagreement(np.zeros(2), np.zeros(2), torch.int8)


def test_torch_adam_checks_its_input():
    with pytest.raises(ValueError, match="implementation"):
        pr.torch_adam(G, dtype=torch.float32, implementation="vectorised")
    with pytest.raises(ValueError, match="dtype"):
        pr.torch_adam(G, dtype=torch.int32, implementation="fused")
    with pytest.raises(ValueError, match="steps"):
        pr.torch_adam(G, dtype=torch.float32, implementation="fused", steps=0)
    with pytest.raises(ValueError, match="lr"):
        pr.torch_adam(G, dtype=torch.float32, implementation="fused", lr=math.nan)
    with pytest.raises(ValueError, match="0.0 <= lr"):
        pr.torch_adam(G, dtype=torch.float32, implementation="fused", lr=-1e-3)
    with pytest.raises(TypeError, match="steps must be an int"):
        pr.torch_adam(G, dtype=torch.float32, implementation="fused", steps=2.0)
    with pytest.raises(ValueError, match="grad"):
        pr.torch_adam([], dtype=torch.float32, implementation="fused")
