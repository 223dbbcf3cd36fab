"""The in-place, chunked step (lessonlib.efficient) against the textbook form, and its memory use.

Speed is measured by benchmarks/adam_step.py, never asserted here.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import lessonlib as ll
from lessonlib.efficient import CHUNK, Scratch, adam_inplace

TOL = {np.float64: 1e-12, np.float32: 5e-6}
# Sizes around the chunk boundary, a 0-d array, a matrix, and a view that is not contiguous.
SHAPES = {"0-d": (), "one chunk": (CHUNK,), "chunks and a tail": (2 * CHUNK + 17,), "matrix": (40, 30)}


def textbook_run(kind, theta0, grads, hyper):
    """The reference: the pure textbook functions, one step after another."""
    theta, m, v = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
    for t, g in enumerate(grads, start=1):
        if kind == "rmsprop":
            s = ll.rmsprop_step(theta, g, v, t, **hyper)
        else:
            step = ll.adamw_step if kind == "adamw" else ll.adam_step
            s = step(theta, g, m, v, t, **hyper)
            m = s.m
        theta, v = s.theta, s.v
    return theta


KINDS = {
    "adam": (ll.Adam, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8}),
    "adam-l2": (ll.Adam, {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.3}),
    "adamw": (ll.AdamW, {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.5}),
    "rmsprop": (ll.RMSprop, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.1}),
}


def step_hyper(kind, hyper):
    h = dict(hyper)
    if "betas" in h:
        h["beta1"], h["beta2"] = h.pop("betas")
    return h


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_in_place_step_equals_textbook_form(kind, shape, dtype):
    cls, hyper = KINDS[kind]
    rng = np.random.default_rng(len(kind) * 100 + list(SHAPES).index(shape))
    steps = 200 if SHAPES[shape] and np.prod(SHAPES[shape]) > CHUNK else 1000
    theta0 = np.asarray(rng.normal(size=SHAPES[shape]), dtype=dtype)
    grads = [np.asarray(rng.normal(size=SHAPES[shape]), dtype=dtype) for _ in range(steps)]
    theta = theta0.copy()
    opt = cls([theta], **hyper)
    for g in grads:
        opt.step([g])
    ref = textbook_run(kind.split("-")[0], theta0, grads, step_hyper(kind, hyper))
    assert ref.dtype == theta.dtype == dtype
    rel = float(np.max(np.abs(theta.astype(np.float64) - ref)) / np.max(np.abs(ref)))
    assert rel <= TOL[dtype]


@pytest.mark.parametrize("cls", [ll.Adam, ll.AdamW, ll.RMSprop])
def test_non_contiguous_params_and_grads_are_updated_in_place(cls):
    base = np.random.default_rng(0).normal(size=(6, 8))
    view = base[:, ::2]  # every other column: not contiguous
    twin = view.copy()
    opt_view, opt_twin = cls([view]), cls([twin])
    g = np.random.default_rng(1).normal(size=(4, 6)).T  # a transposed gradient
    for _ in range(5):
        opt_view.step([g])
        opt_twin.step([np.ascontiguousarray(g)])
    assert np.array_equal(base[:, ::2], twin)  # the update landed in the caller's array
    assert np.array_equal(base[:, 1::2], np.random.default_rng(0).normal(size=(6, 8))[:, 1::2])


def test_the_worked_example_through_the_efficient_form():
    theta, m, v = np.array(1.0), np.array(0.0), np.array(0.0)
    steps = ll.adam_trace(1.0, [0.5, 0.3, 0.8, 0.6])
    for t, (g, ref) in enumerate(zip([0.5, 0.3, 0.8, 0.6], steps), start=1):
        adam_inplace(theta, np.array(g), m, v, t)
        assert float(m) == pytest.approx(ref.m, rel=1e-15)
        assert float(v) == pytest.approx(ref.v, rel=1e-15)
        assert float(theta) == pytest.approx(ref.theta, rel=1e-15)


@pytest.mark.parametrize("cls", [ll.Adam, ll.AdamW, ll.RMSprop])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_a_step_allocates_at_most_one_chunk_sized_scratch(cls, dtype):
    n = 10**6
    rng = np.random.default_rng(0)
    theta = rng.normal(size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(3)]
    opt = cls([theta], weight_decay=0.1)
    scratch_bytes = Scratch.ROWS * CHUNK * np.dtype(dtype).itemsize
    tracemalloc.start()
    try:
        opt.step([grads[0]])  # the first step allocates the scratch
        first = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        opt.step([grads[1]])
        opt.step([grads[2]])
        later = tracemalloc.get_traced_memory()[1] - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert first <= scratch_bytes + 64 * 1024, f"first step peaked at {first} bytes"
    assert later <= 64 * 1024, f"later steps allocated {later} bytes; the parameter alone is {n * theta.itemsize}"


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


def many_params(rng):
    """Small arrays of both dtypes, interleaved, with one large array and a non-contiguous view among them."""
    shapes = [(), (3,), (50, 40), (2 * CHUNK + 5,), (7, 3), (1,), (300,)] * 3
    params = [rng.normal(size=s).astype(np.float32 if i % 3 == 1 else np.float64) for i, s in enumerate(shapes)]
    params[4] = rng.normal(size=(7, 6))[:, ::2]  # a (7, 3) view that is not contiguous
    return params


@pytest.mark.parametrize("kind", list(KINDS))
def test_grouped_small_params_equal_the_textbook_form(kind):
    cls, hyper = KINDS[kind]
    rng = np.random.default_rng(7)
    params = many_params(rng)
    start = [p.copy() for p in params]
    grads = [[rng.normal(size=p.shape).astype(p.dtype) for p in params] for _ in range(30)]
    opt = cls(params, **hyper)
    assert any(not isinstance(item, int) for item in opt._flat.plan), "the small params should be grouped"
    for g in grads:
        opt.step(g)
    for i, (p, p0) in enumerate(zip(params, start)):
        ref = textbook_run(kind.split("-")[0], p0, [g[i] for g in grads], step_hyper(kind, hyper))
        rel = float(np.max(np.abs(p.astype(np.float64) - ref)) / np.max(np.abs(ref)))
        assert rel <= TOL[p.dtype.type], f"params[{i}] {p.shape} {p.dtype}: {rel:.2e}"


def test_state_replaced_by_hand_falls_back_and_stays_correct():
    rng = np.random.default_rng(8)
    a, b = [rng.normal(size=(5,)) for _ in range(2)]
    a2, b2 = a.copy(), b.copy()
    grouped, reference = ll.Adam([a, b]), ll.Adam([a2, b2])
    g = [rng.normal(size=5), rng.normal(size=5)]
    grouped.step(g)
    reference.step(g)
    grouped.state[1]["m"] = grouped.state[1]["m"].copy()  # no longer a view of the flat buffer
    for _ in range(3):
        grouped.step(g)
        reference.step(g)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)


def test_loading_a_state_dict_keeps_the_flat_layout():
    rng = np.random.default_rng(9)
    params = [rng.normal(size=(4,)) for _ in range(3)]
    opt = ll.Adam(params)
    opt.step([np.ones(4)] * 3)
    views = [s["m"] for s in opt.state]
    opt.load_state_dict(opt.state_dict())
    assert all(s["m"] is v for s, v in zip(opt.state, views))


@pytest.mark.parametrize("cls", [ll.Adam, ll.AdamW, ll.RMSprop])
def test_large_non_contiguous_params_are_stepped_without_full_size_temporaries(cls):
    rng = np.random.default_rng(4)
    shapes = {"transposed": lambda: np.asfortranarray(rng.normal(size=(700, 400))),
              "every other element": lambda: rng.normal(size=4 * CHUNK)[::2]}  # fmt: skip
    for name, make_param in shapes.items():
        theta = make_param()
        twin = np.ascontiguousarray(theta)
        opt, ref = cls([theta], weight_decay=0.1), cls([twin], weight_decay=0.1)
        grads = [rng.normal(size=theta.shape) for _ in range(3)]
        opt.step([grads[0]])
        ref.step([grads[0]])
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            for g in grads[1:]:
                opt.step([g])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        for g in grads[1:]:
            ref.step([g])
        assert np.array_equal(theta, twin), name
        # numpy's ufuncs buffer mixed memory layouts in blocks of 8192 elements: a fixed cost, not one per element
        assert peak <= 256 * 1024, f"{name}: a step allocated {peak} bytes; theta is {theta.nbytes}"
