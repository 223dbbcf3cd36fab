"""Layer 3: lessonlib against torch.optim, 1000 steps of random gradients.

Deviation = the largest |theta - theta_torch| over the whole run, divided by
the largest |theta_torch|; float64 must stay within 1e-12, float32 within 5e-6.
Each case runs in the parameter's own dtype on both sides.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lessonlib as ll

# Long enough that a kernel's loop runs over many SIMD blocks (8 or 16 lanes) and a tail; no longer (the kernels
# have no size-dependent path, and torch's own steps on strided tensors are what a larger array would time).
LONG = 8 * 1024 + 17

STEPS = 1000
TOL = {np.float64: 1e-12, np.float32: 5e-6}
# Several parameters of every rank at once, in one optimizer: a 0-d, a vector longer than a SIMD block (with a tail),
# a matrix, a 3-d array (each of those alone adds no case: tests/test_kernels.py runs the kernels on each shape, and
# a run costs the same with one parameter as with four: torch's step is mostly its own per-call work).
SEVERAL = [(), (17,), (4, 2), (2, 3, 2)]
# Long arrays: a kernel's loop runs over many SIMD blocks and a tail, contiguous and transposed (strided views).
LARGE = {"long": [(LONG,)], "long, transposed": [(97, 130)]}

# name -> (lessonlib class, torch class, hyperparameters, gradient scale)
CASES = {
    "adam-default": (ll.Adam, torch.optim.Adam, {}, 1.0),
    "adam-tiny-grads": (ll.Adam, torch.optim.Adam, {"lr": 1e-2}, 1e-7),  # eps comparable to sqrt(v)
    "adam-large-eps": (ll.Adam, torch.optim.Adam, {"eps": 0.1, "betas": (0.8, 0.99)}, 1.0),
    "adam-l2": (ll.Adam, torch.optim.Adam, {"lr": 1e-2, "weight_decay": 0.5}, 1.0),
    "adamw-default": (ll.AdamW, torch.optim.AdamW, {}, 1.0),
    "adamw-large-wd": (ll.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 5.0}, 1.0),
    "adamw-slow-betas": (ll.AdamW, torch.optim.AdamW, {"betas": (0.0, 0.5), "eps": 1e-3}, 1e-3),
    "adam-amsgrad": (ll.Adam, torch.optim.Adam, {"amsgrad": True, "betas": (0.9, 0.99)}, 1.0),
    "adamw-amsgrad": (ll.AdamW, torch.optim.AdamW, {"amsgrad": True, "lr": 1e-2, "weight_decay": 0.5}, 1.0),
    "adam-decoupled": (ll.Adam, torch.optim.Adam, {"decoupled_weight_decay": True, "weight_decay": 0.1}, 1.0),
    "sgd-momentum": (ll.SGD, torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.1}, 1.0),
    "rmsprop-default": (ll.RMSprop, torch.optim.RMSprop, {}, 1.0),
    "rmsprop-tiny-grads": (ll.RMSprop, torch.optim.RMSprop, {"lr": 1e-3, "alpha": 0.9}, 1e-7),
    "rmsprop-l2": (ll.RMSprop, torch.optim.RMSprop, {"weight_decay": 0.1, "eps": 0.01}, 1.0),
}


def run_both(ll_cls, torch_cls, hyper, scale, shapes, dtype, seed, steps=STEPS, transpose=False):
    rng = np.random.default_rng(seed)
    init = [np.asarray(rng.normal(size=s)) for s in shapes]
    if transpose:  # Fortran-ordered parameters, as a transposed weight matrix is
        init = [np.asfortranarray(x) for x in init]
    ours = [x.astype(dtype, order="K") for x in init]
    theirs = [torch.tensor(x.astype(dtype)) for x in init]
    opt_ours, opt_theirs = ll_cls(ours, **hyper), torch_cls(theirs, **hyper)
    # Every step's gradients drawn at once; torch's .grad is set once, to a buffer (shared with numpy) refilled
    # each step with the very arrays lessonlib was given.
    grads = [(scale * rng.normal(size=(steps, *s))).astype(dtype) for s in shapes]
    buffers = [np.empty(s, dtype=dtype) for s in shapes]
    for p, buf in zip(theirs, buffers):
        p.grad = torch.from_numpy(buf)
    theirs_np = [p.numpy() for p in theirs]  # views: torch.optim updates its parameters in place
    # Both trajectories, every step, flattened (C order) into one row per step; compared at the end.
    size = sum(int(np.prod(s)) for s in shapes)
    traj_ours, traj_theirs = np.empty((steps, size), dtype=dtype), np.empty((steps, size), dtype=dtype)
    for i in range(steps):
        g = [gs[i, ...] for gs in grads]  # a 0-d array for a 0-d parameter, as a user passes it
        opt_ours.step(g)
        for buf, gi in zip(buffers, g):
            np.copyto(buf, gi)
        opt_theirs.step()
        np.concatenate(ours, axis=None, out=traj_ours[i])
        np.concatenate(theirs_np, axis=None, out=traj_theirs[i])
    worst = float(np.max(np.abs(traj_ours.astype(np.float64) - traj_theirs), initial=0.0))
    top = float(np.max(np.abs(traj_theirs), initial=0.0))
    return worst / top


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_agrees_with_torch(case, dtype, record_property):
    ll_cls, torch_cls, hyper, scale = CASES[case]
    dev = run_both(ll_cls, torch_cls, hyper, scale, SEVERAL, dtype, 10 * list(CASES).index(case))
    record_property("torch_deviation", (ll_cls.__name__, np.dtype(dtype).name, dev))
    assert dev <= TOL[dtype], f"{case} {np.dtype(dtype).name}: deviation {dev:.3e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", ["adam-default", "adam-l2", "adam-amsgrad", "adamw-amsgrad", "sgd-momentum",
                                  "rmsprop-l2"])  # fmt: skip
def test_the_numpy_fallback_agrees_with_torch(case, dtype, monkeypatch, record_property):
    """Where numba cannot import, the classes run the textbook numpy form in place: the same bars hold."""
    from tests.conftest import use_kernel

    use_kernel(monkeypatch, "numpy")
    ll_cls, torch_cls, hyper, scale = CASES[case]
    dev = run_both(ll_cls, torch_cls, hyper, scale, SEVERAL, dtype, 900 + list(CASES).index(case))
    record_property("torch_deviation", (ll_cls.__name__ + " (numpy)", np.dtype(dtype).name, dev))
    assert dev <= TOL[dtype], f"{case} on the numpy fallback, {np.dtype(dtype).name}: deviation {dev:.3e}"


def test_deviation_measure_detects_a_real_difference():
    # The comparison is not vacuous: a 1% different learning rate is caught.
    dev = run_both(ll.Adam, lambda p, **h: torch.optim.Adam(p, lr=1.01e-3), {}, 1.0, [(5,)], np.float64, 0)
    assert dev > 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape_name", list(LARGE))
@pytest.mark.parametrize("case", ["adam-default", "adam-l2", "adamw-large-wd", "adam-amsgrad", "rmsprop-l2"])
def test_large_parameters_agree_with_torch(case, shape_name, dtype, record_property):
    ll_cls, torch_cls, hyper, scale = CASES[case]
    seed = 500 + list(CASES).index(case)
    dev = run_both(ll_cls, torch_cls, hyper, scale, LARGE[shape_name], dtype, seed, steps=60,
                   transpose="transposed" in shape_name)  # fmt: skip
    record_property("torch_deviation", (ll_cls.__name__, np.dtype(dtype).name, dev))
    assert dev <= TOL[dtype], f"{case} {shape_name} {np.dtype(dtype).name}: deviation {dev:.3e}"


@pytest.mark.parametrize("cls, torch_cls", [(ll.Adam, torch.optim.Adam), (ll.RMSprop, torch.optim.RMSprop)])
def test_a_gradient_whose_square_overflows_float32_is_handled_as_torch_does(cls, torch_cls):
    """(1 - beta2) g g in torch's order keeps v finite for g = 3e19, where g * g alone is inf."""
    ours, theirs = np.zeros(2, dtype=np.float32), torch.zeros(2)
    a, b = cls([ours]), torch_cls([theirs])
    for g in [np.array([3e19, 1.0], dtype=np.float32)] + [np.ones(2, dtype=np.float32)] * 20:
        a.step([g])
        theirs.grad = torch.from_numpy(g)
        b.step()
    assert np.all(np.isfinite(a.state[0]["v"]))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("hyper", [{}, {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.1}], ids=["default", "l2"])
def test_adagrad_step_agrees_with_torch_adagrad(hyper, dtype, record_property):
    """AdaGrad is taught as a pure step (lesson 03); over 1000 steps it follows torch.optim.Adagrad."""
    rng = np.random.default_rng(3)
    theta0 = rng.standard_normal(17).astype(dtype)
    grads = (rng.standard_normal((STEPS, 17)) * np.array([1e-3] * 5 + [1.0] * 6 + [1e3] * 6)).astype(dtype)
    p = torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    buffer = np.empty_like(theta0)
    p.grad = torch.from_numpy(buffer)  # set once; refilled with each step's gradient
    theirs = p.detach().numpy()  # a view: torch.optim updates p in place
    opt = torch.optim.Adagrad([p], **hyper)
    traj_ours, traj_theirs = np.empty_like(grads), np.empty_like(grads)  # one row per step, compared at the end
    theta, s = theta0.copy(), np.zeros_like(theta0)
    for t, g in enumerate(grads, start=1):
        step = ll.adagrad_step(theta, g, s, t, **hyper)
        theta, s = step.theta, step.s
        np.copyto(buffer, g)
        opt.step()
        assert theta.dtype == dtype
        traj_ours[t - 1], traj_theirs[t - 1] = theta, theirs
    worst = float(np.max(np.abs(traj_ours - traj_theirs).max(axis=1) / np.abs(traj_theirs).max(axis=1)))
    np.testing.assert_allclose(s, opt.state[p]["sum"].numpy(), rtol=TOL[dtype])
    record_property("torch_deviation", ("Adagrad", np.dtype(dtype).name, worst))
    assert worst <= TOL[dtype]
