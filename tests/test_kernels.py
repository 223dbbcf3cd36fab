"""The kernels the optimizer classes run, against the textbook pure functions, on both paths.

Every optimizer's class runs a compiled loop (numba) or, where numba is missing, the textbook
function on whole arrays written back in place. Both are checked here against the textbook
functions run step after step, and the numba path for what it must not do: promote float32 to
float64, or allocate arrays the size of the parameters. Speed is measured by
benchmarks/adam_step.py, never asserted here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.optim import adam, rmsprop, sgd

TOL = {np.float64: 1e-12, np.float32: 5e-6}
SHAPES = {"0-d": (), "vector": (1000,), "odd tail": (4099,), "matrix": (40, 30)}

# name -> (class, hyperparameters, textbook step on (theta, g, state, t) returning (theta, state))
KINDS = {
    "sgd-momentum": (ll.SGD, {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.1}),
    "rmsprop": (ll.RMSprop, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.1}),
    "adam": (ll.Adam, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8}),
    "adam-l2": (ll.Adam, {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.3}),
    "adam-amsgrad": (ll.Adam, {"lr": 1e-2, "betas": (0.9, 0.99), "amsgrad": True}),
    "adamw": (ll.AdamW, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.5}),
    "adamw-amsgrad": (ll.AdamW, {"lr": 1e-2, "weight_decay": 0.5, "amsgrad": True}),
}


def textbook_run(kind, theta0, grads, hyper):
    """The reference: the pure textbook functions, one step after another, in the parameter's dtype."""
    h = dict(hyper)
    if "betas" in h:
        h["beta1"], h["beta2"] = h.pop("betas")
    amsgrad = h.pop("amsgrad", False)
    theta, m, v = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
    v_max = np.zeros_like(theta0) if amsgrad else None
    for t, g in enumerate(grads, start=1):
        if kind.startswith("sgd"):
            m, theta = ll.sgd_step(theta, g, m, t, **h)
            continue
        if kind.startswith("rmsprop"):
            s = ll.rmsprop_step(theta, g, v, t, **h)
        else:
            step = ll.adamw_step if kind.startswith("adamw") else ll.adam_step
            s = step(theta, g, m, v, t, v_max=v_max, **h)
            m, v_max = s.m, s.v_max
        theta, v = s.theta, s.v
    return theta


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_class_equals_the_textbook_form(kind, shape, dtype, kernel):
    cls, hyper = KINDS[kind]
    rng = np.random.default_rng(len(kind) * 100 + list(SHAPES).index(shape))
    theta0 = np.asarray(rng.normal(size=SHAPES[shape]), dtype=dtype)
    grads = [np.asarray(rng.normal(size=SHAPES[shape]), dtype=dtype) for _ in range(300)]
    theta = theta0.copy()
    opt = cls([theta], **hyper)
    for g in grads:
        opt.step([g])
    ref = textbook_run(kind, theta0, grads, hyper)
    assert ref.dtype == theta.dtype == dtype
    rel = float(np.max(np.abs(theta.astype(np.float64) - ref)) / np.max(np.abs(ref)))
    assert rel <= TOL[dtype], f"{kind} {shape} {np.dtype(dtype).name} on {kernel}: {rel:.2e}"


def test_the_comparison_can_fail():
    """A 1% different learning rate is far outside the bars above."""
    rng = np.random.default_rng(0)
    theta0, grads = rng.normal(size=50), [rng.normal(size=50) for _ in range(300)]
    theta = theta0.copy()
    opt = ll.Adam([theta], lr=1.01e-2)
    for g in grads:
        opt.step([g])
    ref = textbook_run("adam", theta0, grads, {"lr": 1e-2})
    assert np.max(np.abs(theta - ref)) / np.max(np.abs(ref)) > 1e-6


def test_the_worked_example_step_by_step(kernel):
    grads = [0.5, 0.3, 0.8, 0.6]
    theta = np.array(1.0)
    opt = ll.Adam([theta])
    for g, ref in zip(grads, ll.adam_trace(1.0, grads)):
        opt.step([g])
        assert float(opt.state[0]["m"]) == pytest.approx(ref.m, rel=1e-15)
        assert float(opt.state[0]["v"]) == pytest.approx(ref.v, rel=1e-15)
        assert float(theta) == pytest.approx(ref.theta, rel=1e-15)


@pytest.mark.parametrize("cls", [ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW])
def test_strided_params_and_grads_are_updated_in_place(cls, kernel):
    rng = np.random.default_rng(4)
    for name, theta in {
        "transposed": np.asfortranarray(rng.normal(size=(70, 40))),
        "every other column": rng.normal(size=(6, 8))[:, ::2],
        "every other element": rng.normal(size=4000)[::2],
    }.items():
        base = theta.base
        twin = np.ascontiguousarray(theta)
        opt, ref = cls([theta], lr=1e-2, weight_decay=0.1), cls([twin], lr=1e-2, weight_decay=0.1)
        for _ in range(5):
            g = rng.normal(size=theta.shape[::-1]).T  # a transposed gradient
            opt.step([g])
            ref.step([np.ascontiguousarray(g)])
        assert np.array_equal(theta, twin), f"{cls.__name__} {name}"
        assert theta.base is base  # still the caller's array


@pytest.mark.skipif(ll.KERNEL != "numba", reason="numba is not installed here")
@pytest.mark.parametrize("module, name, cls", [(adam, "adam_kernel", ll.Adam), (rmsprop, "rmsprop_kernel", ll.RMSprop),
                                               (sgd, "sgd_kernel", ll.SGD)])  # fmt: skip
def test_float32_stays_float32_inside_the_compiled_loop(module, name, cls, monkeypatch):
    """No float64 arithmetic for float32 parameters: an fpext in the compiled code would mean promotion.

    (A bare ``1 - beta`` in a kernel promotes under numba's typing; the kernels use the dtype's own 1.)
    The kernel is compiled afresh without the cache, since numba cannot show cached code.
    """
    import numba

    loop = numba.njit(error_model="numpy")(getattr(module, name))
    monkeypatch.setattr(module, "_" + name, loop)
    theta = np.ones(8, np.float32)
    opt = cls([theta], weight_decay=0.1, **({"momentum": 0.9} if cls is ll.SGD else {}))
    opt.step([np.ones(8, np.float32)])
    (sig,) = loop.signatures
    assert sig[0].dtype.name == "float32"
    ir = loop.inspect_llvm(sig)
    assert "fpext" not in ir and "fadd double" not in ir and "fmul double" not in ir


@pytest.mark.skipif(ll.KERNEL != "numba", reason="numba is not installed here")
@pytest.mark.parametrize("cls", [ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_a_step_allocates_nothing_the_size_of_the_parameters(cls, dtype):
    n = 10**6
    rng = np.random.default_rng(0)
    theta = rng.normal(size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(3)]
    opt = cls([theta], weight_decay=0.1)
    opt.step([grads[0]])  # compiles, if it must
    tracemalloc.start()
    try:
        for g in grads[1:]:
            opt.step([g])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 64 * 1024, f"a step allocated {peak} bytes; the parameter alone is {theta.nbytes}"


def test_the_textbook_form_does_allocate_full_size_temporaries():
    """The measurement above can fail: the textbook form allocates arrays the size of theta."""
    n = 10**6
    theta, g = np.ones(n), np.ones(n)
    tracemalloc.start()
    try:
        ll.adam_step(theta, g, np.zeros(n), np.zeros(n), 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= 2 * n * theta.itemsize


def test_lessonlib_without_numba_runs_the_numpy_form():
    """LESSONLIB_KERNEL=numpy stands in for a Python without numba: nothing imports it, the steps still agree."""
    code = (
        "import sys, numpy as np, lessonlib as ll\n"
        "assert ll.KERNEL == 'numpy' and 'numba' not in sys.modules, (ll.KERNEL, 'numba' in sys.modules)\n"
        "assert all(c._update is c._update_numpy for c in (ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW))\n"
        "theta = np.array([1.0, -2.0]); opt = ll.AdamW([theta], amsgrad=True)\n"
        "for g in ([0.5, 0.1], [0.3, -0.2]): opt.step([np.array(g)])\n"
        "print(repr(theta.tolist()))\n"
    )
    env = {**os.environ, "LESSONLIB_KERNEL": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    theta, m, v, v_max = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2), np.zeros(2)
    for t, g in enumerate(([0.5, 0.1], [0.3, -0.2]), start=1):
        s = ll.adamw_step(theta, np.array(g), m, v, t, v_max=v_max)
        theta, m, v, v_max = s.theta, s.m, s.v, s.v_max
    np.testing.assert_allclose(eval(out.stdout), theta, rtol=1e-15)


def test_kernel_names_the_path_every_optimizer_takes():
    """With numba importable (as in the lock) the classes run the compiled loops; the subprocess test above checks
    the numpy path. (tests/conftest.py's ``use_kernel`` patches the classes per test; this test does not use it.)"""
    numpy_asked = os.environ.get("LESSONLIB_KERNEL") == "numpy"
    assert ll.KERNEL == ("numba" if importlib.util.find_spec("numba") and not numpy_asked else "numpy")
    for cls in (ll.SGD, ll.RMSprop, ll.Adam, ll.AdamW):
        chosen = cls._update_compiled if ll.KERNEL == "numba" else cls._update_numpy
        assert cls._update is chosen, cls.__name__


def test_the_kernels_root_of_the_correction_is_not_called_bc2():
    """05's ``bc2`` is 1 - beta2^t; the kernel divides by its square root, so that scalar has a name of its own."""
    import inspect

    names = list(inspect.signature(ll.adam_kernel).parameters)
    assert names[:5] == ["theta", "g", "m", "v", "v_max"]
    assert tuple(names[5:]) == ll.optim.adam.AdamScalars._fields  # the scalars go in by position, in this order
    assert names[-2:] == ["bc1", "sqrt_bc2"]
    assert ll.adam_step(1.0, 0.5, 0.0, 0.0, 2).bc2 == ll.ema_weight_sum(0.999, 2)  # 05's bc2: no root
