"""Layer 4: checkpoints resume exactly; bad input is refused with a clear message and loses nothing."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

import lessonlib as ll

OPTIMIZERS = [ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW]


def make(cls, seed=0, **hyper):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 2)), np.array(0.5), rng.normal(size=4).astype(np.float32)]
    return params, cls(params, **hyper)


def grads_for(params, rng):
    return [rng.normal(size=p.shape).astype(p.dtype) for p in params]


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_state_dict_round_trip_resumes_bit_identically(cls):
    rng = np.random.default_rng(1)
    params, opt = make(cls)
    for _ in range(50):
        opt.step(grads_for(params, rng))
    saved_params, saved = [p.copy() for p in params], opt.state_dict()
    later = [grads_for(params, rng) for _ in range(50)]
    for g in later:
        opt.step(g)

    resumed = [p.copy() for p in saved_params]
    opt2 = cls(resumed)
    opt2.load_state_dict(saved)
    for g in later:
        opt2.step(g)
    for a, b in zip(params, resumed):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert opt2.hyperparameters == opt.hyperparameters


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_state_dict_is_a_deep_copy(cls):
    params, opt = make(cls)
    opt.step(grads_for(params, np.random.default_rng(2)))
    saved = opt.state_dict()
    before = copy.deepcopy(saved)
    opt.step(grads_for(params, np.random.default_rng(3)))
    for a, b in zip(saved["state"], before["state"]):
        for key in a:
            assert np.array_equal(a[key], b[key])
    opt.load_state_dict(saved)
    opt.step(grads_for(params, np.random.default_rng(3)))  # stepping must not write into `saved`
    for a, b in zip(saved["state"], before["state"]):
        for key in a:
            assert np.array_equal(a[key], b[key])


def test_hyperparameters_come_back_from_a_state_dict():
    params, opt = make(ll.Adam, lr=0.05, betas=(0.5, 0.75))
    saved = opt.state_dict()
    _, opt2 = make(ll.Adam)
    opt2.load_state_dict(saved)
    assert (opt2.lr, opt2.betas) == (0.05, (0.5, 0.75))


def test_defaults_are_torch_defaults():
    p = [np.zeros(2)]
    adam = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False}
    assert ll.Adam(p).hyperparameters == {**adam, "weight_decay": 0.0, "decoupled_weight_decay": False}
    assert ll.AdamW(p).hyperparameters == {**adam, "weight_decay": 1e-2}
    assert ll.RMSprop(p).hyperparameters == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}
    assert ll.SGD(p).hyperparameters == {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0}


# -- bad hyperparameters ---------------------------------------------------------------------

BAD_HYPER = [
    (ll.Adam, {"lr": -1e-3}, ValueError, r"Invalid lr: -0\.001 \(allowed: 0\.0 <= lr\)"),
    (ll.Adam, {"eps": -1.0}, ValueError, "Invalid eps"),
    (
        ll.Adam,
        {"betas": (1.0, 0.999)},
        ValueError,
        r"Invalid beta1 \(betas\[0\]\): 1\.0 \(allowed: 0\.0 <= .* < 1\.0\)",
    ),
    (ll.Adam, {"betas": (0.9, -0.1)}, ValueError, r"beta2 \(betas\[1\]\)"),
    (ll.Adam, {"betas": 0.9}, TypeError, "betas must be a pair"),
    (ll.Adam, {"weight_decay": -0.1}, ValueError, "Invalid weight_decay"),
    (ll.Adam, {"lr": float("nan")}, ValueError, "lr.*finite"),
    (ll.Adam, {"lr": "0.001"}, TypeError, "lr must be a real number, got str"),
    (ll.AdamW, {"weight_decay": -1}, ValueError, "Invalid weight_decay"),
    (ll.RMSprop, {"alpha": 1.5}, ValueError, r"Invalid alpha: 1\.5"),
    (ll.SGD, {"lr": True}, TypeError, "lr must be a real number"),
]


@pytest.mark.parametrize("cls, hyper, exc, match", BAD_HYPER)
def test_bad_hyperparameters_are_named(cls, hyper, exc, match):
    with pytest.raises(exc, match=match):
        cls([np.zeros(2)], **hyper)


def test_setting_a_bad_lr_later_is_refused_and_keeps_the_old_one():
    _, opt = make(ll.Adam, lr=0.01)
    with pytest.raises(ValueError, match="Invalid lr"):
        opt.lr = -1
    assert opt.lr == 0.01


# -- bad params ------------------------------------------------------------------------------

BAD_PARAMS = [
    (np.zeros(3), TypeError, "params must be a list of numpy arrays"),
    ([], ValueError, "params is empty"),
    ([[1.0, 2.0]], TypeError, r"params\[0\] must be a numpy array"),
    ([np.zeros(2), np.arange(3)], TypeError, r"params\[1\] has dtype int64; allowed: float32 or float64"),
    ([np.zeros(2, dtype=np.float16)], TypeError, r"params\[0\] has dtype float16"),
    ([np.array(1.0)] * 2, ValueError, r"params\[1\] appears twice"),
]


@pytest.mark.parametrize("params, exc, match", BAD_PARAMS)
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_bad_params_are_named(cls, params, exc, match):
    with pytest.raises(exc, match=match):
        cls(params)


def test_read_only_params_are_refused():
    p = np.zeros(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\] is read-only"):
        ll.Adam([p])


# -- bad gradients: refused, and nothing changes ------------------------------------------------


def bad_grads(params):
    ok = [np.ones(p.shape, dtype=p.dtype) for p in params]
    nan_last = ok[:2] + [np.array([1.0, np.nan, np.inf, 1.0], dtype=np.float32)]
    return [
        (ok[:2], ValueError, "grads has 2 entries but there are 3 params"),
        (ok + ok[:1], ValueError, "grads has 4 entries"),
        (ok[0], TypeError, "grads must be a list"),
        ([ok[0], np.ones(3), ok[2]], ValueError, r"grads\[1\] has shape \(3,\) but params\[1\] has shape \(\)"),
        ([ok[0].T, ok[1], ok[2]], ValueError, r"grads\[0\] has shape \(2, 3\)"),
        (nan_last, ValueError, r"grads\[2\] has 2 non-finite value\(s\)"),
        ([ok[0], np.array(np.inf), ok[2]], ValueError, r"grads\[1\] has 1 non-finite"),
        ([ok[0], np.array(1e100), ok[2]], None, None),  # large but finite for a float64 param: taken
        ([ok[0], ok[1], np.full(4, 1e300)], ValueError, r"grads\[2\] has 4 non-finite"),  # overflows float32
        ([ok[0], np.array(True), ok[2]], TypeError, r"grads\[1\] has dtype bool"),
        ([ok[0], np.array("a"), ok[2]], TypeError, r"grads\[1\] has dtype <U1"),
    ]


@pytest.mark.parametrize("case", range(len(bad_grads([np.zeros((3, 2)), np.array(0.5), np.zeros(4, np.float32)]))))
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_rejected_step_changes_nothing(cls, case):
    rng = np.random.default_rng(5)
    params, opt = make(cls)
    for _ in range(3):
        opt.step(grads_for(params, rng))
    grads, exc, match = bad_grads(params)[case]
    if exc is None:
        before = params[1].copy()
        opt.step(grads)
        assert params[1] != before and np.isfinite(params[1])
        return
    params_before, state_before = [p.copy() for p in params], copy.deepcopy(opt.state)
    with pytest.raises(exc, match=match):
        opt.step(grads)
    for a, b in zip(params, params_before):
        assert np.array_equal(a, b)
    for s, s0 in zip(opt.state, state_before):
        assert s.keys() == s0.keys()
        for key in s:
            assert np.array_equal(s[key], s0[key])


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["state"].pop(), r"must be a list of 3 dicts, one per parameter"),
        (lambda d: d["state"][0].pop("m"), r"state_dict\['state'\]\[0\] must be a dict with the keys"),
        (lambda d: d["state"][1].__setitem__("v", np.zeros(3)), r"\['v'\] must be a numpy array of shape \(\)"),
        (lambda d: d["hyperparameters"].__setitem__("lr", -1.0), "Invalid lr"),
        (lambda d: d["hyperparameters"].pop("eps"), "hyperparameters"),
    ],
)
def test_bad_state_dict_is_refused_and_changes_nothing(mutate, match):
    rng = np.random.default_rng(6)
    params, opt = make(ll.Adam, lr=0.01)
    opt.step(grads_for(params, rng))
    bad = opt.state_dict()
    mutate(bad)
    state_before, hyper_before = copy.deepcopy(opt.state), opt.hyperparameters
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(bad)
    assert opt.hyperparameters == hyper_before
    for s, s0 in zip(opt.state, state_before):
        for key in s:
            assert np.array_equal(s[key], s0[key])


def test_gradients_as_python_numbers_are_accepted_for_0d_params():
    theta = np.array(1.0)
    opt = ll.Adam([theta])
    opt.step([0.5])
    assert 0.998 < float(theta) < 0.9991


def test_float32_stays_float32():
    theta = np.ones(3, dtype=np.float32)
    opt = ll.AdamW([theta], weight_decay=0.1)
    opt.step([np.ones(3, dtype=np.float64)])
    assert theta.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.state[0].items() if k != "t")


def test_finite_gradients_whose_sum_overflows_are_accepted():
    # The finiteness check sums first; finite values that overflow the sum must still pass.
    theta = np.zeros(4, dtype=np.float32)
    opt = ll.Adam([theta])
    with np.errstate(over="ignore"):  # g**2 overflows float32 here, as it does in torch
        opt.step([np.full(4, 3e38, dtype=np.float32)])
    assert opt.state[0]["t"] == 1 and np.all(np.isfinite(theta))
    with pytest.raises(ValueError, match="1 non-finite"):
        opt.step([np.array([3e38, -3e38, np.nan, 1.0], dtype=np.float32)])


UNCHECKED_CASES = {  # lessonlib class, torch class, hyperparameters, lessonlib state key -> torch's
    "SGD": (ll.SGD, torch.optim.SGD, {"momentum": 0.9}, {"momentum_buffer": "momentum_buffer"}),
    "RMSprop": (ll.RMSprop, torch.optim.RMSprop, {}, {"v": "square_avg"}),
    "Adam": (ll.Adam, torch.optim.Adam, {}, {"m": "exp_avg", "v": "exp_avg_sq"}),
    "AMSGrad": (
        ll.Adam, torch.optim.Adam, {"amsgrad": True}, {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}
    ),
    "AdamW": (ll.AdamW, torch.optim.AdamW, {}, {"m": "exp_avg", "v": "exp_avg_sq"}),
}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(UNCHECKED_CASES))
def test_check_finite_false_applies_nan_and_inf_as_torch_does(case, kernel, dtype):
    """step(grads, check_finite=False) skips only the nan/inf look: the bad elements spread exactly as in torch."""
    cls, torch_cls, extra, keys = UNCHECKED_CASES[case]
    rng = np.random.default_rng(11)
    theta = rng.normal(size=6).astype(dtype)
    grads = [rng.normal(size=6).astype(dtype) for _ in range(3)]
    grads[1][[1, 4]] = [np.nan, np.inf]
    hyper = {"lr": 0.01, "weight_decay": 0.1, **extra}
    mine = theta.copy()
    opt = cls([mine], **hyper)
    ref = torch.tensor(theta, requires_grad=True)
    topt = torch_cls([ref], **hyper)
    for g in grads:
        opt.step([g], check_finite=False)  # no errstate here: a step must not warn or raise half-way
        ref.grad = torch.tensor(g)
        topt.step()
    bad, rtol = [1, 4], 1e-12 if dtype == np.float64 else 5e-6
    assert not np.isfinite(mine[bad]).any() and np.isfinite(np.delete(mine, bad)).all()
    np.testing.assert_allclose(mine, ref.detach().numpy(), rtol=rtol, atol=0, equal_nan=True)
    for key, torch_key in keys.items():
        # the same elements are lost; torch's EMA is a lerp, inf + w (g - inf), so where m is inf here it may be nan
        got, want = opt.state[0][key], topt.state[ref][torch_key].numpy()
        assert not np.isfinite(got[bad]).any(), key
        assert np.array_equal(np.isfinite(got), np.isfinite(want)), key
        np.testing.assert_allclose(got[np.isfinite(got)], want[np.isfinite(got)], rtol=rtol, err_msg=key)
    assert opt.state[0]["t"] == 3


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_check_finite_false_keeps_every_other_check_and_a_bad_flag_changes_nothing(cls):
    rng = np.random.default_rng(12)
    params, opt = make(cls)
    opt.step(grads_for(params, rng))
    params_before, state_before = [p.copy() for p in params], copy.deepcopy(opt.state)
    good = grads_for(params, rng)
    refused = [
        ((good[:2],), {"check_finite": False}, ValueError, "grads has 2 entries"),
        (([good[0], np.ones(3), good[2]],), {"check_finite": False}, ValueError, r"grads\[1\] has shape"),
        (([good[0], np.array(True), good[2]],), {"check_finite": False}, TypeError, r"grads\[1\] has dtype bool"),
        ((good,), {"check_finite": "no"}, TypeError, "check_finite must be True or False"),
        ((good,), {"check_finite": None}, TypeError, "check_finite must be True or False"),
        ((good, False), {}, TypeError, "positional"),  # keyword-only: a stray positional argument is refused
    ]
    for args, kwargs, exc, match in refused:
        with pytest.raises(exc, match=match):
            opt.step(*args, **kwargs)
        for a, b in zip(params, params_before):
            assert np.array_equal(a, b)
        for st, st0 in zip(opt.state, state_before):
            assert st.keys() == st0.keys() and all(np.array_equal(st[k], st0[k]) for k in st)
    # finite gradients: both paths take the identical step
    twin_params, twin = make(cls)
    twin.load_state_dict(opt.state_dict())
    for p, q in zip(twin_params, params):
        p[...] = q
    opt.step(good, check_finite=False)
    twin.step(good)
    for a, b in zip(params, twin_params):
        assert np.array_equal(a, b)
    assert all(np.array_equal(st[k], tw[k]) for st, tw in zip(opt.state, twin.state) for k in st)


# -- inputs that pass every check must not fail half-way or alias -----------------------------------


@pytest.mark.parametrize("size", [(), (5,), (3 * 2**16 + 1,)])
@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_gradient_that_is_the_parameter_itself(cls, size):
    """f = theta**2 / 2 has gradient theta: opt.step([theta]) must read g before theta changes."""
    torch = pytest.importorskip("torch")
    torch_cls = {ll.SGD: torch.optim.SGD, ll.RMSprop: torch.optim.RMSprop}.get(cls, getattr(torch.optim, cls.__name__))
    hyper = {"lr": 0.1, "momentum": 0.9} if cls is ll.SGD else {"lr": 0.1}
    theta = np.asarray(np.random.default_rng(0).normal(size=size))
    reference = torch.tensor(theta.copy(), requires_grad=True)
    opt, ref_opt = cls([theta], **hyper), torch_cls([reference], **hyper)
    for _ in range(5):
        opt.step([theta])
        reference.grad = reference.detach().clone()
        ref_opt.step()
    np.testing.assert_allclose(theta, reference.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_swapped_gradients_of_a_product_are_read_before_either_parameter_moves():
    x, y = np.full(3, 2.0), np.full(3, 3.0)
    x2, y2 = x.copy(), y.copy()
    opt, ref = ll.Adam([x, y]), ll.Adam([x2, y2])
    opt.step([y, x])  # f = sum(x * y): df/dx = y, df/dy = x
    ref.step([np.full(3, 3.0), np.full(3, 2.0)])
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_overlapping_params_are_refused():
    base = np.zeros(6)
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] share memory"):
        ll.Adam([base[:4], base[2:]])
    ll.Adam([base[:3], base[3:]])  # views of one buffer that do not overlap are fine


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_param_made_read_only_later_is_refused_and_nothing_changes(cls):
    params, opt = make(cls)
    rng = np.random.default_rng(3)
    opt.step(grads_for(params, rng))
    params[2].flags.writeable = False
    before, state_before = [p.copy() for p in params], copy.deepcopy(opt.state)
    with pytest.raises(ValueError, match=r"params\[2\] has become read-only"):
        opt.step(grads_for(params, rng))
    assert all(np.array_equal(a, b) for a, b in zip(params, before))
    assert all(np.array_equal(s[k], s0[k]) for s, s0 in zip(opt.state, state_before) for k in s)


def test_floating_point_errors_raised_by_numpy_settings_cannot_interrupt_a_step():
    params, opt = make(ll.Adam)
    old = np.seterr(all="raise")
    try:
        opt.step([np.full((3, 2), 1e-170), np.array(1e-170), np.full(4, 1e20, dtype=np.float32)])
    finally:
        np.seterr(**old)
    assert all(s["t"] == 1 for s in opt.state)
    assert all(np.all(np.isfinite(p)) for p in params)


def test_params_cannot_be_swapped_under_the_optimizer():
    params, opt = make(ll.Adam)
    with pytest.raises((TypeError, AttributeError)):
        opt.params.append(np.zeros(2))


def test_state_dict_t_may_be_a_numpy_integer_and_bad_moments_are_refused():
    params, opt = make(ll.Adam)
    opt.step([np.ones_like(p) for p in params])
    saved = opt.state_dict()
    saved["state"][0]["t"] = np.int64(1)  # what an np.savez round trip gives back
    opt.load_state_dict(saved)
    assert opt.state[0]["t"] == 1 and type(opt.state[0]["t"]) is int
    bad = opt.state_dict()
    bad["state"][0]["v"][...] = -1.0
    with pytest.raises(ValueError, match=r"\['v'\] must be >= 0"):
        opt.load_state_dict(bad)
    # nan is what a run with valid hyperparameters can leave (lr = 1e300 sends theta to inf): it loads back
    odd = opt.state_dict()
    odd["state"][0]["m"][...] = np.nan
    opt.load_state_dict(odd)
    assert np.isnan(opt.state[0]["m"]).all()


def test_a_gradient_that_is_a_view_of_the_state_is_read_before_it_is_written():
    """SGD's buffer passed back as the gradient (reversed): the step must see the values from before it."""
    p, twin = np.ones(4), np.ones(4)
    opt, ref = ll.SGD([p], lr=1.0, momentum=0.5), ll.SGD([twin], lr=1.0, momentum=0.5)
    opt.step([np.arange(4.0)])
    ref.step([np.arange(4.0)])
    opt.step([opt.state[0]["momentum_buffer"][::-1]])
    ref.step([ref.state[0]["momentum_buffer"][::-1].copy()])
    np.testing.assert_array_equal(p, twin)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("view", ["param", "state"])
def test_a_copied_optimizer_reads_a_view_of_its_own_arrays_before_it_writes(how, view):
    """What the original remembered about its arrays' memory does not carry over to a copy: a gradient that is a view
    of the copy's own parameter (or state) is read before the step writes it, as in the original."""
    p = np.array([1.0, 2.0, 3.0])
    opt = ll.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    copied = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    ref = copy.deepcopy(opt)
    mine, theirs = ((o.params[0] if view == "param" else o.state[0]["m"]) for o in (copied, ref))
    copied.step([mine[::-1]])
    ref.step([theirs[::-1].copy()])
    np.testing.assert_array_equal(copied.params[0], ref.params[0])
    np.testing.assert_array_equal(copied.state[0]["v"], ref.state[0]["v"])


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda opt, params: opt.state[0].__setitem__("v", opt.state[0]["m"]), r"state\[0\]\['v'\] shares memory"),
        (lambda opt, params: opt.state[0].__setitem__("m", params[1]), r"shares memory with params\[1\]"),
        (
            lambda opt, params: opt.state[0].__setitem__(
                "m", np.lib.stride_tricks.as_strided(np.zeros(1), (3,), (0,), writeable=True)
            ),
            r"state\[0\]\['m'\] must be a writeable array of its own",
        ),
        (lambda opt, params: opt.state[0].__setitem__("t", np.int8(127)), None),
    ],
    ids=["v is m", "m is another parameter", "m with a zero stride", "t a narrow numpy int"],
)
def test_hand_edited_state_is_refused_or_stepped_correctly(edit, match):
    params = [np.ones(3), np.ones(3)]
    opt = ll.Adam(params)
    opt.step([np.ones(3), np.ones(3)])
    edit(opt, params)
    before = [p.copy() for p in params], [dict(s) for s in opt.state]
    if match is None:  # accepted: t becomes a Python int and counts on (an int8 would wrap to -128)
        opt.step([np.ones(3), np.ones(3)])
        assert opt.state[0]["t"] == 128 and type(opt.state[0]["t"]) is int
        return
    with pytest.raises(ValueError, match=match):
        opt.step([np.ones(3), np.ones(3)])
    assert all(np.array_equal(a, b) for a, b in zip(params, before[0]))
    assert [s["t"] for s in opt.state] == [s["t"] for s in before[1]]


@pytest.mark.parametrize(
    "edit",
    [
        lambda opt: setattr(opt.state[0]["v"], "dtype", np.float64),  # same object, half as many elements
        lambda opt: setattr(opt.state[1]["v"], "shape", (5, 2)),  # same object, another shape
    ],
    ids=["v's dtype changed in place", "v's shape changed in place"],
)
def test_a_state_array_changed_in_place_is_refused_before_anything_moves(edit):
    """The quick check of known state arrays looks at shape and dtype too (a numba kernel has no bounds checks)."""
    params = [np.ones(10, np.float32), np.ones(10, np.float32)]
    opt = ll.Adam(params)
    opt.step([np.ones(10, np.float32)] * 2)
    edit(opt)
    with pytest.raises(ValueError, match=r"state\[[01]\]\['v'\] must be a numpy array of shape \(10,\)"):
        opt.step([np.ones(10, np.float32)] * 2)
    assert all(np.array_equal(p, params[0]) for p in params) and [s["t"] for s in opt.state] == [1, 1]


def test_params_cannot_be_replaced():
    opt = ll.Adam([np.ones(3)])
    with pytest.raises(AttributeError):
        opt.params = (np.ones(10**6),)


def test_adamw_stays_decoupled():
    opt = ll.AdamW([np.ones(3)])
    with pytest.raises(ValueError, match="decoupled_weight_decay is fixed"):
        opt.decoupled_weight_decay = False
    assert opt.decoupled_weight_decay is True


def test_a_gradient_sharing_a_buffer_with_a_parameter_is_copied_first():
    buf = bytearray(88)
    p = np.frombuffer(buf, np.float64, 10, 8)
    p[:] = np.arange(10.0)
    g = np.frombuffer(buf, np.float64, 10, 0)  # g[i] is p[i - 1]
    expected = p - 0.5 * g.copy()
    ll.SGD([p], lr=0.5).step([g])
    np.testing.assert_array_equal(p, expected)


def test_sgd_momentum_switched_on_midway_matches_torch():
    theta, p = np.zeros(1), torch.zeros(1, dtype=torch.float64, requires_grad=True)
    ours, theirs = ll.SGD([theta], lr=0.1), torch.optim.SGD([p], lr=0.1)
    for g, mu in ((1.0, 0.0), (2.0, 0.0), (3.0, 0.9), (1.0, 0.9), (2.0, 0.0), (1.0, 0.9)):
        ours.momentum = theirs.param_groups[0]["momentum"] = mu
        ours.step([np.array([g])])
        p.grad = torch.tensor([g], dtype=torch.float64)
        theirs.step()
    np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-15)


def test_adam_trace_runs_amsgrad_on_arrays():
    steps = ll.adam_trace(np.array([1.0, 2.0]), [np.array([0.5, 0.1]), np.array([0.1, 0.5])], v_max=0)
    np.testing.assert_array_equal(steps[-1].v_max, np.maximum(steps[0].v, steps[1].v))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ll.adam_step(1.0, 0.5, 0.0, 0.0, 0), r"Invalid t: 0 \(allowed: 1 <= t"),
        (lambda: ll.debias(0.05, 0.9, 0), r"Invalid t: 0"),
        (lambda: ll.adam_step(1.0, 0.5, 0.0, 0.0, 1, correct="bogus"), r"Invalid correct: 'bogus'"),
        (lambda: ll.torch_weight_decay(1.0, 1e-320), r"Invalid paper_weight_decay, alpha: 1.0, 1e-320"),
        (lambda: ll.adam_step(1.0, 0.5, 0.0, 0.0, 1, beta1=1.0), r"Invalid beta1: 1.0 \(allowed: 0.0 <= beta1 < 1"),
        (lambda: ll.ema_update(0.0, 10**400, 0.9), r"Invalid x: .*too large for a float"),
        (lambda: ll.sgd_step(1.0, 0.5, 0.0, 1, lr=-0.1), r"Invalid lr: -0.1"),
        (lambda: ll.rmsprop_step(1.0, 0.5, 0.0, 1, lr=0.1, alpha=1.0), r"Invalid alpha: 1.0"),
        (lambda: ll.adam_trace(1.0, [0.5, "0.3"]), r"grads\[1\] must be a real number"),
        (lambda: ll.exact.sqrt(Decimal("1e1000000")), r"Invalid x: beyond 10\*\*\+-30000"),
        (lambda: ll.adam_step(1.0, 10**200, 0.0, 0.0, 1), r"Invalid x: .*too large for a float"),
        (lambda: ll.adam_step(10**308, 10**308, 0, 0, 1, weight_decay=1), r"Invalid x: .*too large"),
        (lambda: ll.adam_trace(1.0, [0.5, 10**200]), r"Invalid x: .*too large for a float"),
        (lambda: ll.adam_trace(np.zeros(2), [np.ones(2)] * 2, lr=Fraction(1, 10)), r"theta has dtype object"),
    ],
    ids=[
        "adam_step at t = 0",
        "debias at t = 0",
        "an unknown correction",
        "a decay that overflows",
        "beta1 = 1 divides by zero",
        "an int beyond float",
        "a negative lr",
        "rho = 1",
        "a string gradient",
        "a root that took 20 s",
        "a gradient whose square is beyond float",
        "an L2 gradient beyond float",
        "a trace's gradient whose square is beyond float",
        "a Fraction lr on a float array",
    ],
)
def test_edge_values_of_the_pure_functions_are_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("cls", [ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW])
def test_numpy_raising_on_every_float_error_cannot_interrupt_a_step(cls, kernel):
    """np.seterr(all="raise"): a float32 lr of 1e300 (inf once cast), overflowing casts and sums change nothing."""
    params = [np.ones(4, np.float32), np.ones((2, 3)).T]  # a float32 one, and a strided float64 one
    opt = cls(params, lr=1e300, weight_decay=1e300)
    old = np.seterr(all="raise")
    try:
        with pytest.raises(ValueError, match=r"grads\[0\] has 4 non-finite"):  # 1e39 is inf in float32
            opt.step([np.full(4, 1e39), np.full((3, 2), 1e300)])
    finally:
        np.seterr(**old)
    assert all(s["t"] == 0 for s in opt.state)
    old = np.seterr(all="raise")
    try:
        opt.step([np.full(4, 1e20, np.float32), np.full((3, 2), 1e300)])
    finally:
        np.seterr(**old)
    assert all(s["t"] == 1 for s in opt.state)


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_read_only_copy_of_the_own_state_dict_loads(cls):
    """A state_dict whose arrays are read-only (one read from a memory map, say) loads: what is loaded is a copy."""
    params, opt = make(cls)
    opt.step(grads_for(params, np.random.default_rng(0)))
    sd = opt.state_dict()
    for state in sd["state"]:
        for a in state.values():
            if isinstance(a, np.ndarray):
                a.flags.writeable = False
    opt.load_state_dict(sd)
    assert all(a.flags.writeable for s in opt.state for a in s.values() if isinstance(a, np.ndarray))
    loaded = [a for s in opt.state for a in s.values() if isinstance(a, np.ndarray)]
    assert not any(a is b for a in loaded for r in sd["state"] for b in r.values())
    opt.step(grads_for(params, np.random.default_rng(1)))


def test_the_pure_functions_keep_fractions_exact_and_refuse_tensors():
    from fractions import Fraction

    exact = {"lr": Fraction(1, 1000), "beta1": Fraction(9, 10), "beta2": Fraction(999, 1000), "eps": 0}
    s = ll.adam_step(Fraction(1), Fraction(1, 2), 0, 0, 1, **exact, sqrt=ll.exact.sqrt)
    assert s.m == Fraction(1, 20) and isinstance(s.theta, Fraction)
    with pytest.raises(TypeError, match=r"^g must be a real number or a numpy array"):
        ll.adam_step(1.0, torch.tensor([0.5], requires_grad=True), 0.0, 0.0, 1)
    with pytest.raises(TypeError, match=r"^theta is a numpy.matrix"):
        ll.decay(np.matrix([[1.0, 2.0]]), 0.1, 0.1)
