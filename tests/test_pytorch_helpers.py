"""The course helpers of lessons 08 to 10: parity runs, training helpers, memory arithmetic and timing."""

from __future__ import annotations

import inspect
import itertools
import json
import math
import re
import warnings

import numpy as np
import pytest
import torch

import lessonlib as ll
from lessonlib.course import digits, memory, parity, precision, timing, training, zero_demo
from lessonlib.optim._arrays import _finite_loop

with warnings.catch_warnings():  # np.matrix is on its way out; a learner may still pass one
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX_SEED = np.matrix([[0]])  # numpy 2.4's default_rng(MATRIX_SEED) kills the interpreter

TOL = {np.float64: 1e-12, np.float32: 5e-6}


# ----------------------------------------------------------------------------- parity


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(
    "ll_opt, torch_opt, hyper",
    [(ll.Adam, torch.optim.Adam, {"lr": 1e-2}), (ll.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1})],
    ids=["Adam", "AdamW"],
)
def test_parity_within_the_course_tolerance_for_every_implementation(ll_opt, torch_opt, hyper, dtype):
    result = parity.parity(ll_opt, torch_opt, dtype=dtype, steps=100, **hyper)
    for impl in parity.IMPLEMENTATIONS:
        assert len(result.deviation[impl]) == 100
        assert result.relative(impl) <= TOL[dtype], impl
        assert result.relative_disagreement(impl) <= TOL[dtype], impl
    assert result.disagreement["for-loop"].max() == 0.0  # the reference against itself
    assert result.scale > 1.0  # normal(0, 1) starting points: the largest |theta| is above 1


def test_parity_detects_a_different_learning_rate():
    wrong = lambda params, lr, **kw: torch.optim.Adam(params, lr=1.01 * lr, **kw)
    result = parity.parity(ll.Adam, wrong, steps=20, lr=1e-2, implementations=("for-loop",))
    assert result.relative("for-loop") > 1e-5


def test_parity_without_the_for_loop_has_no_disagreement_and_unknown_names_are_refused():
    result = parity.parity(ll.Adam, torch.optim.Adam, steps=3, implementations=("fused",))
    assert result.disagreement == {} and set(result.deviation) == {"fused"}
    with pytest.raises(ValueError, match="Invalid implementations: unknown"):
        parity.parity(ll.Adam, torch.optim.Adam, steps=3, implementations=("vectorised",))
    with pytest.raises(TypeError, match="seed must be an int"):
        parity.parity(ll.Adam, torch.optim.Adam, steps=3, seed=MATRIX_SEED)  # default_rng would crash
    with pytest.raises(ValueError, match="1 <= steps"):
        parity.parity(ll.Adam, torch.optim.Adam, steps=0)


def test_implementations_select_what_they_say():
    p = torch.zeros(3, requires_grad=True)
    for impl, kwargs in parity.IMPLEMENTATIONS.items():
        group = torch.optim.Adam([p], **kwargs).param_groups[0]
        assert bool(group["foreach"]) == (impl == "foreach") and bool(group["fused"]) == (impl == "fused")


# ----------------------------------------------------------------------------- training


def test_param_groups_decay_matrices_only_and_torch_applies_it():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Embedding(5, 4), torch.nn.Linear(4, 4), torch.nn.LayerNorm(4), torch.nn.Conv1d(4, 2, 3)
    )
    model[2].bias.requires_grad_(False)  # frozen: in no group
    groups = training.param_groups(model, weight_decay=0.5)
    assert groups[0]["param_names"] == ["0.weight", "1.weight", "3.weight"]
    assert groups[1]["param_names"] == ["1.bias", "2.weight", "3.bias"]
    assert [g["weight_decay"] for g in groups] == [0.5, 0.0]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(groups, lr=0.1)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()  # zero gradients: only the decay moves anything
    for name, p in model.named_parameters():
        factor = 1 - 0.1 * 0.5 if name in groups[0]["param_names"] else 1.0
        torch.testing.assert_close(p.detach(), before[name] * factor, rtol=0, atol=0)


@pytest.mark.parametrize("scale", [0.01, 1.0, 30.0])
def test_clip_coefficient_is_the_factor_clip_grad_norm_applies(scale):
    torch.manual_seed(1)
    params = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
    for p in params:
        p.grad = scale * torch.randn_like(p, dtype=torch.float64).float()
    grads = [p.grad.clone() for p in params]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0).item()
    assert norm == pytest.approx(math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads)), rel=1e-6)
    c = training.clip_coefficient(norm, 1.0)
    assert (c < 1.0) == (norm > 1.0)
    for p, g in zip(params, grads):
        torch.testing.assert_close(p.grad, g * c, rtol=1e-6, atol=0)


def test_recovery_steps_solves_its_equation():
    for ratio, beta2 in [(1e4, 0.999), (50.0, 0.99), (1e3, 0.9999)]:
        k = training.recovery_steps(ratio, beta2)
        assert beta2**k * (1 - beta2) * ratio**2 == pytest.approx(1.0, rel=1e-9)
    assert training.recovery_steps(10.0, 0.999) == 0.0  # (1 - beta2) * 100 < 1: the spike never dominates v
    with pytest.raises(ValueError, match="beta2"):
        training.recovery_steps(1e4, 1.0)
    with pytest.raises(ValueError, match="beta2"):
        training.recovery_steps(1e4, 0.0)
    with pytest.raises(TypeError, match="spike_ratio must be a real number"):
        training.recovery_steps("1e4")
    with pytest.raises(ValueError, match="spike_ratio"):
        training.recovery_steps(-1.0)


# ----------------------------------------------------------------------------- memory


def test_bytes_per_parameter_adds_up_its_parts():
    # 8-bit states (Dettmers et al. 2022): 2 + 2 + 4 (master) + 1 (m) + 1 (v) + two float32 scales per 2048 numbers
    assert {s: memory.bytes_per_parameter(s) for s in memory.BYTES_PER_PARAMETER} == {
        "float32": 16,
        "autocast": 16,
        "mixed": 16,
        "bf16, fp32 gradients": 18,  # Megatron-Core's distributed optimizer guide
        "fp16, fp16 gradients": 20,
        "8-bit states": 10 + 8 / 2048,
    }
    assert memory.BYTES_PER_PARAMETER["mixed"]["master weights"] == 4
    assert memory.QUANT_BLOCK == 2048  # the paper's block size
    with pytest.raises(ValueError, match="unknown scheme"):
        memory.bytes_per_parameter("int8")


@pytest.mark.parametrize("scheme, fixed, sharded", [("bf16, fp32 gradients", 6, 12), ("fp16, fp16 gradients", 4, 16)])
def test_megatron_recipes_under_zero_1_give_its_distributed_optimizer_numbers(scheme, fixed, sharded):
    # Megatron-Core's guide: "6 + 12/d" (bf16 parameters, fp32 gradients) and "4 + 16/d" (fp16, fp16)
    for d in (1, 2, 8, 64):
        assert memory.zero_bytes_per_rank(1, d, 1, scheme) == pytest.approx(fixed + sharded / d, rel=1e-15)


def test_traced_bytes_sees_numpy_buffers_and_the_peak_of_temporaries():
    n = 2**18
    kept, peak = memory.traced_bytes(lambda: np.ones(n))  # held until measured: 8 bytes per float64
    assert 8 * n <= kept < 8 * n + 4096 and peak >= kept

    def temporary():
        a = np.ones(n)
        del a

    kept, peak = memory.traced_bytes(temporary)
    assert kept < 4096 and 8 * n <= peak < 8 * n + 4096
    theta = np.zeros(n, dtype=np.float32)
    kept, _ = memory.traced_bytes(lambda: ll.Adam([theta]))  # m and v, float32: 8 bytes per parameter
    assert 8 * n <= kept < 8 * n + 8192


# ZeRO per rank, mixed precision (16-bit weights and gradients, K = 12 bytes of optimizer state), worked by hand
# from the ZeRO paper's formulas (N parameters; the paper writes Psi): stage 0: 16 N; stage 1: (4 + 12 / N_d) N;
# stage 2: (2 + 14 / N_d) N; stage 3: 16 N / N_d.
@pytest.mark.parametrize(
    "stage, parts",
    [(0, (2.0, 2.0, 12.0)), (1, (2.0, 2.0, 1.5)), (2, (2.0, 0.25, 1.5)), (3, (0.25, 0.25, 1.5))],
)
def test_zero_parts_per_rank_shards_one_more_kind_per_stage(stage, parts):
    got = memory.zero_parts_per_rank(1, 8, stage)
    assert tuple(got.values()) == parts and list(got) == ["weights", "gradients", "optimizer"]
    assert memory.zero_bytes_per_rank(7e9, 8, stage) == pytest.approx(7e9 * sum(parts), rel=1e-15)


def test_zero_bytes_per_rank_other_recipes_and_one_rank():
    one_rank = memory.zero_bytes_per_rank(1e9, 1, 3)
    assert one_rank == memory.zero_bytes_per_rank(1e9, 1, 0) == 16e9  # one rank: nothing to share
    # float32: the master copy is the weights; the optimizer's kind is m and v (8 bytes)
    assert memory.zero_parts_per_rank(1, 4, 1, "float32") == {"weights": 4.0, "gradients": 4.0, "optimizer": 2.0}
    # 8-bit states: master (4) + m, v (1 + 1) + scales (8 / 2048) are the optimizer's
    assert memory.zero_parts_per_rank(1, 2, 1, "8-bit states")["optimizer"] == pytest.approx((6 + 8 / 2048) / 2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: memory.zero_bytes_per_rank(1e9, 0, 1), "n_ranks"),
        (lambda: memory.zero_bytes_per_rank(-1, 8, 1), "n_params"),
        (lambda: memory.zero_bytes_per_rank(1e9, 8, 4), "stage"),
        (lambda: memory.zero_bytes_per_rank(1e9, 8, True), "stage"),
        (lambda: memory.zero_bytes_per_rank(1e9, 8, 1, "int4"), "unknown scheme"),
        (lambda: memory.comm_bytes_per_rank(1e9, 8, -1), "stage"),
        (lambda: memory.comm_bytes_per_rank(1e9, 0.5, 1), "n_ranks"),
        (lambda: memory.comm_bytes_per_rank(1e9, 8.0, 1), "n_ranks must be an int"),
        (lambda: memory.comm_bytes_per_rank(1e9, 8, 1.0), "stage must be an int"),
        (lambda: memory.comm_bytes_per_rank(float("nan"), 8, 1), "n_params"),
        (lambda: memory.comm_bytes_per_rank(1e9, 8, 1, itemsize=0), "itemsize"),
    ],
)
def test_zero_helpers_refuse_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_zero_helpers_refuse_a_string_for_a_number():
    with pytest.raises(TypeError, match="n_params"):
        memory.zero_bytes_per_rank("7e9", 8, 1)


def test_comm_bytes_per_rank_counts_ring_passes():
    # a ring all-reduce of N numbers: reduce-scatter + all-gather, each (N_d - 1) / N_d of N from every rank
    psi, nd = 7e9, 8
    all_reduce = 2 * (nd - 1) / nd * psi * 2  # 16-bit numbers
    for stage in (0, 1, 2):
        assert memory.comm_bytes_per_rank(psi, nd, stage) == pytest.approx(all_reduce, rel=1e-15)
    assert memory.comm_bytes_per_rank(psi, nd, 3) == pytest.approx(1.5 * all_reduce, rel=1e-15)
    assert memory.comm_bytes_per_rank(psi, 1, 3) == 0.0  # nothing to send to nobody
    assert memory.comm_bytes_per_rank(1, 2, 0, itemsize=4) == 4.0


@pytest.mark.parametrize("dtype, itemsize", [(torch.float32, 4), (torch.float64, 8), (torch.bfloat16, 2)])
def test_adam_state_bytes_matches_a_real_optimizer(dtype, itemsize):
    params = [torch.zeros(7, 3, dtype=dtype, requires_grad=True), torch.zeros(11, dtype=dtype, requires_grad=True)]
    opt = torch.optim.Adam(params)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    measured = sum(s["exp_avg"].nbytes + s["exp_avg_sq"].nbytes for s in opt.state.values())
    assert measured == memory.adam_state_bytes(32, itemsize=itemsize) == 2 * itemsize * 32


def test_adam_step_traffic_reads_four_arrays_and_writes_three():
    assert memory.adam_step_traffic(1000) == 28_000
    assert memory.adam_step_traffic(1000, itemsize=8) == 56_000
    assert memory.adam_step_traffic(1000, check_finite=True) == 32_000  # ll.Adam.step's default reads g once more


def test_adam_step_flops_count_the_kernel_lines():
    # m: 2 multiplications + 1 addition; v: 3 + 1; m-hat: a division; sqrt(v-hat): a root and a division;
    # theta: + eps, x alpha, a division, a subtraction
    assert list(memory.ADAM_FLOPS.values()) == [3, 4, 1, 2, 4]
    assert memory.adam_step_flops(1) == 14 and memory.adam_step_flops(10, check_finite=True) == 160
    assert memory.adam_step_flops(1) / memory.adam_step_traffic(1) == 0.5  # the arithmetic intensity in float32
    assert memory.adam_step_flops(1, check_finite=True) / memory.adam_step_traffic(1, check_finite=True) == 0.5


def test_check_flops_count_the_check_loop():
    # ll.Adam.step's check adds g * 0 to a running sum: a multiplication and an addition per element
    source = inspect.getsource(_finite_loop)
    assert "acc0 += a[i] * 0" in source and memory.CHECK_FLOPS == 2


def test_last_level_cache_bytes_reads_the_highest_level(tmp_path):
    for index, level, size in (("index0", "1", "32K"), ("index2", "2", "512K"), ("index3", "3", "32768K")):
        (tmp_path / index).mkdir()
        (tmp_path / index / "level").write_text(level + "\n")
        (tmp_path / index / "size").write_text(size + "\n")
    assert timing.last_level_cache_bytes(tmp_path) == 32 * 2**20
    (tmp_path / "index4").mkdir()
    (tmp_path / "index4" / "level").write_text("4")
    (tmp_path / "index4" / "size").write_text("1M")
    assert timing.last_level_cache_bytes(str(tmp_path)) == 2**20
    assert timing.last_level_cache_bytes(tmp_path / "missing") is None
    with pytest.raises(TypeError, match="root"):
        timing.last_level_cache_bytes(3)


# ----------------------------------------------------------------------------- timing


def fake_clock(times):
    it = iter(times)
    return lambda: next(it)


def test_call_seconds_times_one_call_from_cold_caches(monkeypatch):
    flushed, calls = [], []
    monkeypatch.setattr(timing, "flush_caches", lambda device="cpu": flushed.append(device))
    clock = fake_clock([10.0, 13.0, 20.0, 21.5])
    assert timing.call_seconds(lambda: calls.append(1), clock=clock) == 3.0
    assert flushed == ["cpu"] and len(calls) == 1  # the flush comes first, outside the time
    assert timing.call_seconds(lambda: calls.append(1), cold=False, clock=clock) == 1.5
    assert flushed == ["cpu"] and len(calls) == 2


def test_call_seconds_measures_real_time_on_the_cpu():
    import time

    assert 0.009 <= timing.call_seconds(lambda: time.sleep(0.01), cold=False) < 5  # loose: CI is loaded
    timing.synchronize("cpu")  # a no-op on the CPU, but it must accept it


def test_flush_caches_reads_more_than_twice_the_last_level_cache():
    assert timing.FLUSH_BYTES >= 2 * 480 * 2**20
    assert timing.flush_caches("cpu") == timing.FLUSH_BYTES
    buffer = timing._FLUSH_BUFFERS["cpu"]
    assert timing.flush_caches("cpu") == timing.FLUSH_BYTES and timing._FLUSH_BUFFERS["cpu"] is buffer  # made once


def test_memory_bandwidth_counts_the_bytes_each_kernel_must_move(monkeypatch):
    monkeypatch.setattr(timing, "flush_caches", lambda device="cpu": None)
    nbytes = 4096
    clock = fake_clock([0.0, 0.5] * 30)  # every timed call takes 0.5 s
    bw = timing.memory_bandwidth("cpu", nbytes=nbytes, repeat=3, clock=clock)
    moved = {"x.sum() (read 1)": 1, "y.copy_(x) (read 1, write 1)": 2, "x += y (read 2, write 1)": 3}
    moved |= {"x += y * z (read 3, write 1)": 4}
    if ll.KERNEL == "numba":
        moved["x, y, z += w (read 4, write 3)"] = 7
    assert bw.kernels == {name: k * nbytes / 0.5 for name, k in moved.items()}
    assert bw.best == max(bw.kernels.values()) and bw.device == "cpu"
    with pytest.raises(ValueError, match="nbytes"):
        timing.memory_bandwidth("cpu", nbytes=2)


def test_the_adam_traffic_loop_really_adds():
    a, b, c, d = (np.full(5, float(k), dtype=np.float32) for k in (1, 2, 3, 10))
    (timing._adam_traffic or timing._adam_traffic_loop)(a, b, c, d)
    assert a.tolist() == [11] * 5 and b.tolist() == [12] * 5 and c.tolist() == [13] * 5 and d.tolist() == [10] * 5


def test_matmul_flops_counts_two_n_cubed():
    ticks = itertools.count(0.0, 0.25)  # every reading of the clock 0.25 s after the last: one product per block
    assert timing.matmul_flops("cpu", n=8, min_run_time=0.2, clock=lambda: next(ticks)) == 2 * 8**3 / 0.25
    assert 1e6 < timing.matmul_flops("cpu", n=64, min_run_time=0.01) < 1e15  # torch's Timer, the real clock
    with pytest.raises(ValueError, match="n"):
        timing.matmul_flops("cpu", n=0)
    with pytest.raises(TypeError, match="n must be an int"):
        timing.matmul_flops("cpu", n=64.0)


def test_bandwidth_fastest_of_keeps_each_kernels_best_rate():
    a = timing.Bandwidth({"sum": 1.0, "copy": 4.0}, "cpu")
    b = timing.Bandwidth({"sum": 3.0, "copy": 2.0}, "cpu")
    best = timing.Bandwidth.fastest_of([a, b])
    assert best.kernels == {"sum": 3.0, "copy": 4.0} and best.best == 4.0 and best.device == "cpu"


# ----------------------------------------------------------------------------- the implementations, timed


@pytest.mark.parametrize("tensors", [1, 3])
def test_adam_steppers_start_from_the_same_arrays_and_take_the_same_step(tensors):
    n = 1000
    steppers = timing.adam_steppers(n, seed=3, tensors=tensors)
    assert list(steppers) == list(timing.STEP_IMPLEMENTATIONS)
    start = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    g = np.random.default_rng(3).standard_normal(2 * n).astype(np.float32)[n:]  # the second draw is the gradient
    for s in steppers.values():
        assert s.read().dtype == np.float32 and np.array_equal(s.read(), start)
    for s in steppers.values():
        for _ in range(5):
            s.step()
    # five steps of a constant gradient: m_hat = g and v_hat = g^2 exactly, so each step is lr * g / (|g| + eps)
    expected = start.astype(np.float64) - 5 * 1e-3 * g / (np.abs(g) + 1e-8)
    for name, s in steppers.items():
        assert np.max(np.abs(s.read() - expected)) < 1e-5, name


def test_adam_steppers_refuse_unknown_names_bad_sizes_and_numpy_on_a_gpu():
    with pytest.raises(ValueError, match="Invalid implementations: unknown"):
        timing.adam_steppers(10, implementations=("numpy",))
    with pytest.raises(ValueError, match="n"):
        timing.adam_steppers(0)
    with pytest.raises(ValueError, match="tensors"):
        timing.adam_steppers(10, tensors=11)
    with pytest.raises(ValueError, match="CPU only"):
        timing.adam_steppers(10, device="meta", implementations=("lessonlib kernel",))
    with pytest.raises(TypeError, match="seed must be an int"):
        timing.adam_steppers(10, seed=MATRIX_SEED)  # numpy 2.4's default_rng would crash on it
    with pytest.raises(TypeError, match="tensors must be an int"):
        timing.adam_steppers(10, tensors=2.0)


def test_textbook_stepper_is_adam_step_written_back_with_the_hyperparameters_given():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    step = timing.textbook_stepper([theta], [g], lr=0.1, beta1=0.5)
    step()
    step()
    s1 = ll.adam_step(np.array([1.0, -2.0]), g, np.zeros(2), np.zeros(2), 1, lr=0.1, beta1=0.5)
    s2 = ll.adam_step(s1.theta, g, s1.m, s1.v, 2, lr=0.1, beta1=0.5)
    np.testing.assert_array_equal(theta, s2.theta)


def test_time_adam_steps_times_every_implementation_at_every_size():
    result = timing.time_adam_steps([256, 1024], repeat=2, warmup=1, bandwidth=1e9, cold=False)
    assert result.ns == (256, 1024) and set(result.seconds) == set(timing.STEP_IMPLEMENTATIONS)
    for impl, seconds in result.seconds.items():
        assert seconds.shape == (2,) and np.all(seconds > 0)
        share = result.share(impl)
        np.testing.assert_allclose(share, 28 * np.array([256, 1024]) / seconds / 1e9, rtol=1e-12)
    np.testing.assert_allclose(result.floor(), 28 * np.array([256, 1024]) / 1e9, rtol=1e-12)
    np.testing.assert_allclose(result.floor(check_finite=True), 32 * np.array([256, 1024]) / 1e9, rtol=1e-12)
    with pytest.raises(ValueError, match="empty"):
        timing.time_adam_steps([])


def test_time_adam_steps_on_many_tensors_from_cold_caches_and_its_record_round_trips(monkeypatch):
    flushed = []
    monkeypatch.setattr(timing, "flush_caches", lambda device="cpu": flushed.append(device))
    impls = timing.TORCH_STEP_IMPLEMENTATIONS
    assert impls == ("torch for-loop", "torch foreach", "torch fused")
    result = timing.time_adam_steps([600], implementations=impls, tensors=200, repeat=3, warmup=0, bandwidth=2e9)
    assert len(flushed) == 3 * 3 and result.tensors == 200 and result.device == "cpu"
    back = timing.StepTimes.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.ns == result.ns and back.bandwidth == result.bandwidth and back.tensors == 200
    for impl in impls:
        np.testing.assert_array_equal(back.seconds[impl], result.seconds[impl])


# ----------------------------------------------------------------------------- odd input, refused by name

_HUGE = 10**400


def _parity_result():
    return parity.parity(ll.Adam, torch.optim.Adam, steps=2, implementations=("for-loop", "fused"))


REFUSED_BY_NAME = [
    # memory: counts, itemsizes, flags, schemes and functions, checked before any arithmetic
    (lambda: memory.adam_state_bytes(None), TypeError, "n_params"),
    (lambda: memory.adam_state_bytes(object()), TypeError, "n_params"),
    (lambda: memory.adam_state_bytes(_HUGE), ValueError, "n_params"),
    (lambda: memory.adam_state_bytes(-1), ValueError, "n_params"),
    (lambda: memory.adam_state_bytes(10, itemsize=_HUGE), ValueError, "itemsize"),
    (lambda: memory.adam_state_bytes(10, itemsize="4"), TypeError, "itemsize"),
    (lambda: memory.adam_step_traffic(10, itemsize=[4]), TypeError, "itemsize"),
    (lambda: memory.adam_step_traffic(None), TypeError, "n_params"),
    (lambda: memory.adam_step_traffic(10, check_finite=np.array([True, False])), TypeError, "check_finite"),
    (lambda: memory.adam_step_flops(10, check_finite=torch.ones(2, requires_grad=True)), TypeError, "check_finite"),
    (lambda: memory.adam_step_flops(torch.ones(2, requires_grad=True)), TypeError, "n_params"),
    (lambda: memory.bytes_per_parameter([]), TypeError, "scheme"),
    (lambda: memory.zero_bytes_per_rank(1, 2, 1, np.array("mixed")), TypeError, "scheme"),
    (lambda: memory.zero_parts_per_rank(1, 2, 1, ["mixed"]), TypeError, "scheme"),
    (lambda: memory.comm_bytes_per_rank(1, 2, 0, itemsize=_HUGE), ValueError, "itemsize"),
    (lambda: memory.traced_bytes(None), TypeError, "fn"),
    # training: the model and the norms
    (lambda: training.param_groups(None, 0.1), TypeError, "model"),
    (lambda: training.param_groups(torch.ones(2), 0.1), TypeError, "model"),
    (lambda: training.param_groups(torch.nn.Linear(2, 1), -0.1), ValueError, "weight_decay"),
    (lambda: training.clip_coefficient(None, 1.0), TypeError, "total_norm"),
    (lambda: training.clip_coefficient(_HUGE, 1.0), ValueError, "total_norm"),
    (lambda: training.clip_coefficient(torch.ones(2, requires_grad=True), 1.0), TypeError, "total_norm"),
    (lambda: training.clip_coefficient(2.0, "1"), TypeError, "max_norm"),
    (lambda: training.clip_coefficient(2.0, math.nan), ValueError, "max_norm"),
    # parity: every argument, before anything runs
    (lambda: parity.parity(None, torch.optim.Adam, steps=2), TypeError, "ll_optimizer"),
    (lambda: parity.parity(ll.Adam, "Adam", steps=2), TypeError, "torch_optimizer"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, dtype="abc", steps=2), TypeError, "dtype"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, dtype=np.int64, steps=2), ValueError, "dtype"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, device="abc", steps=2), ValueError, "device"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, device=-1, steps=2), TypeError, "device"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=_HUGE), ValueError, "steps"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, shapes=None), TypeError, "shapes"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, shapes=[]), ValueError, "shapes"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, shapes=[(2.5,)]), TypeError, "shapes"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, shapes=[(2**30, 2**30)]), ValueError, "shapes"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, implementations="fused"), TypeError, "implementations"),
    (lambda: parity.parity(ll.Adam, torch.optim.Adam, steps=2, implementations=[0]), TypeError, "implementations"),
    (lambda: _parity_result().relative(None), TypeError, "impl"),
    (lambda: _parity_result().relative("foreach"), ValueError, "impl"),
    (lambda: _parity_result().relative_disagreement([]), TypeError, "impl"),
    # timing: devices and implementations are named, not left to torch's RuntimeError
    (lambda: timing.synchronize("abc"), ValueError, "device"),
    (lambda: timing.synchronize(0), TypeError, "device"),
    (lambda: timing.synchronize(np.int64(0)), TypeError, "device"),
    (lambda: timing.adam_steppers(_HUGE), ValueError, "n"),
    (lambda: timing.adam_steppers(4, device="abc"), ValueError, "device"),
    (lambda: timing.adam_steppers(4, implementations=None), TypeError, "implementations"),
    (lambda: timing.textbook_stepper(None, [np.ones(3)]), TypeError, "params"),
    (lambda: timing.textbook_stepper([torch.ones(3, requires_grad=True)], [np.ones(3)]), TypeError, "params"),
    (lambda: timing.textbook_stepper([np.ones(3)], [np.ones(2)]), ValueError, "grads"),
    (lambda: timing.textbook_stepper([np.ones(3)], None), TypeError, "grads"),
    # precision: dtypes, tensors and sizes, before torch sees them
    (lambda: precision.spacing(None, torch.float32), TypeError, "x"),
    (lambda: precision.spacing(_HUGE, torch.float32), ValueError, "x"),
    (lambda: precision.spacing(1.0, np.array([0.5, 0.25])), TypeError, "dtype"),
    (lambda: precision.spacing(1.0, torch.int8), ValueError, "dtype"),
    (lambda: precision.torch_adam("abc", dtype=torch.float32, implementation="fused"), TypeError, "grad"),
    (lambda: precision.torch_adam([_HUGE], dtype=torch.float32, implementation="fused"), ValueError, "grad"),
    (lambda: precision.torch_adam(torch.ones(2, requires_grad=True), dtype=torch.float32, implementation="fused"),
     TypeError, "grad"),
    (lambda: precision.torch_adam([1.0], dtype=torch.float32, implementation=["fused"]), TypeError, "implementation"),
    (lambda: precision.torch_adam([1.0], dtype=torch.float32, implementation="fused", steps=_HUGE), ValueError,
     "steps"),
    (lambda: precision.relative_disagreement("abc", np.ones(2), torch.float32), TypeError, "a"),
    (lambda: precision.relative_disagreement(np.ones(2), [_HUGE], torch.float32), ValueError, "b"),
    (lambda: precision.relative_disagreement(np.ones(2), torch.ones(2, requires_grad=True), torch.float32),
     TypeError, "b"),
    (lambda: precision.repeated_updates(1.0, 1e-3, _HUGE), ValueError, "steps"),
    (lambda: precision.repeated_updates(1.0, 1e-3, 5, copies=_HUGE), ValueError, "copies"),
    (lambda: precision.blockwise_quantize(torch.ones(8), _HUGE), ValueError, "block_size"),
    (lambda: precision.blockwise_dequantize(None, torch.ones(1)), TypeError, "codes"),
    (lambda: precision.blockwise_dequantize(torch.zeros(8, dtype=torch.int8), [1.0]), TypeError, "scales"),
    (lambda: precision.blockwise_dequantize(*precision.blockwise_quantize(torch.ones(8), 4), 3), ValueError,
     "block_size"),
    # zero_demo and digits: counts with an upper bound, sizes and optimizers by kind
    (lambda: zero_demo.make_data(steps=_HUGE), ValueError, "steps"),
    (lambda: zero_demo.make_data(batch=_HUGE), ValueError, "batch"),
    (lambda: zero_demo.make_data(steps=2**20, batch=2**20), ValueError, "batch"),
    (lambda: zero_demo.expected_shares(None, 2), TypeError, "sizes"),
    (lambda: zero_demo.expected_shares([1, "2"], 2), TypeError, "sizes"),
    (lambda: zero_demo.expected_shares([1, -2], 2), ValueError, "sizes"),
    (lambda: zero_demo.expected_shares([1], _HUGE), ValueError, "world_size"),
    (lambda: zero_demo.state_bytes(None), TypeError, "optimizer"),
    (lambda: zero_demo.state_bytes(ll.Adam([np.ones(2)])), TypeError, "optimizer"),
    (lambda: digits.timescale(1e-3, 0.1, steps_per_epoch=_HUGE), ValueError, "steps_per_epoch"),
]  # fmt: skip


@pytest.mark.parametrize("i", range(len(REFUSED_BY_NAME)))
def test_odd_input_is_refused_with_a_message_that_names_the_argument(i):
    call, error, name = REFUSED_BY_NAME[i]
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", str(info.value)), str(info.value)


def test_the_checks_keep_what_valid_input_gave():
    assert memory.adam_step_traffic(1, itemsize=4) == 28 and isinstance(memory.adam_step_traffic(1), int)
    assert memory.adam_state_bytes(np.int64(3)) == 24 and type(memory.adam_state_bytes(np.int64(3))) is int
    ns = np.array([1.0, 2.0])
    assert memory.adam_step_traffic(ns).tolist() == [28.0, 56.0]  # StepTimes.floor passes an array
    assert memory.adam_state_bytes(10, itemsize=memory.MAX_ITEMSIZE) == 2 * memory.MAX_ITEMSIZE * 10
    assert timing.synchronize(torch.device("cpu")) is None
    assert [g["weight_decay"] for g in training.param_groups(torch.nn.Linear(2, 1), np.float32(0.5))] == [0.5, 0.0]
    assert zero_demo.expected_shares((3, 0, 2), np.int64(2)) == [3, 2]
    codes, scales = precision.blockwise_quantize(torch.linspace(-1, 1, 5), 2**20)  # one block, padded no further
    assert scales.tolist() == [1.0] and precision.blockwise_dequantize(codes, scales, 2**20).tolist() == [
        -1.0, -0.5039370059967041, 0.0, 0.5039370059967041, 1.0
    ]  # fmt: skip
    assert precision.relative_disagreement([1.0, 2.0], np.array([1.0, 2.0]), torch.float32) == 0.0


def test_a_refused_textbook_stepper_or_parity_changes_nothing():
    theta = np.ones(3)
    with pytest.raises(ValueError, match="grads"):
        timing.textbook_stepper([theta], [np.array([1.0, math.nan, 1.0])])
    assert theta.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="steps"):
        parity.parity(ll.Adam, torch.optim.Adam, steps=0)
