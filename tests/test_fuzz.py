"""Fuzzing the public API of lessonlib.optim: bad input of every kind is refused with a ValueError or TypeError.

The contract (lessonlib/optim/_checks.py and the docstrings): a public function or class either works
correctly or raises ``ValueError`` / ``TypeError``, never another exception; an optimizer method that
refuses a call leaves the parameters, every state array and ``t`` exactly as they were; valid input
never raises, float32 stays float32, and ``state_dict()`` / ``load_state_dict()`` round-trip the
optimizer's own state. The pure step functions check nothing, so they are fuzzed with valid input only.
"""

from __future__ import annotations

import copy
import math
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

import lessonlib as ll

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

REFUSED = (ValueError, TypeError)
NAN, INF = float("nan"), float("inf")
OPTIMIZERS = {
    "SGD": (ll.SGD, {}),
    "RMSprop": (ll.RMSprop, {}),
    "Adam": (ll.Adam, {}),
    "Adam-amsgrad": (ll.Adam, {"amsgrad": True}),
    "Adam-decoupled": (ll.Adam, {"decoupled_weight_decay": True}),
    "AdamW": (ll.AdamW, {}),
    "AdamW-amsgrad": (ll.AdamW, {"amsgrad": True}),
}
optimizer_names = st.sampled_from(sorted(OPTIMIZERS))


# ----------------------------------------------------------------------------------------- helpers


def refused_or_ok(f, *args, **kwargs):
    """Call f; return (True, result) if it worked, (False, exc) if it raised ValueError/TypeError.

    Any other exception propagates and fails the test."""
    try:
        return True, f(*args, **kwargs)
    except REFUSED as e:
        return False, e


def same(a, b) -> bool:
    """Bit-for-bit equality of two values as a snapshot holds them (arrays, numbers, lists, dicts)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if type(a) is not type(b) or a.dtype != b.dtype or a.shape != b.shape:
            return False
        a, b = np.asarray(a), np.asarray(b)  # a masked array: its data
        if a.dtype.kind in "fc":
            return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a.real), np.signbit(b.real))
        return a.tolist() == b.tolist()
    if isinstance(a, dict) or isinstance(b, dict):
        return type(a) is type(b) and set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def snapshot(opt):
    return [p.copy() for p in opt.params], copy.deepcopy(opt.state), dict(opt.hyperparameters)


def assert_unchanged(opt, snap, what):
    params, state, hyper = snap
    for i, (p, q) in enumerate(zip(opt.params, params)):
        assert same(np.array(p), q), f"{what}: params[{i}] changed although the call was refused"
    assert len(opt.state) == len(state)
    for i, (s, r) in enumerate(zip(opt.state, state)):
        assert same(s, r), f"{what}: state[{i}] changed although the call was refused: {s} != {r}"
    assert same(dict(opt.hyperparameters), hyper), f"{what}: hyperparameters changed although refused"


def make(name, params, **hyper):
    cls, extra = OPTIMIZERS[name]
    return cls(params, **{**extra, **hyper})


# ------------------------------------------------------------------------------------- strategies

dtypes = st.sampled_from([np.float32, np.float64])
moderate = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)
shapes = st.sampled_from([(), (1,), (3,), (2, 3), (3, 2), (2, 2, 2)])
LAYOUTS = ("plain", "reversed", "every-other", "transposed", "column")


@st.composite
def param_arrays(draw, shape=None, dtype=None):
    """A writeable float32/float64 array, possibly a non-contiguous view of a bigger buffer."""
    shape = draw(shapes) if shape is None else shape
    dtype = draw(dtypes) if dtype is None else dtype
    layout = draw(st.sampled_from(LAYOUTS)) if shape else "plain"
    n = int(np.prod(shape))
    values = np.array(draw(st.lists(moderate, min_size=2 * n, max_size=2 * n)), dtype=dtype)
    if layout == "reversed":
        return values[:n][::-1].reshape(shape)[...]  # a view with negative strides where 1-D
    if layout == "every-other":
        return values[::2].reshape(shape) if len(shape) == 1 else values[:n].reshape(shape)
    if layout == "transposed":
        return values[:n].reshape(shape[::-1]).T
    if layout == "column":
        return values.reshape((*shape[:-1], 2 * shape[-1]))[..., ::2]
    return values[:n].reshape(shape)


@st.composite
def param_lists(draw):
    """1-3 arrays from separate buffers, plus sometimes two disjoint views of one buffer."""
    params = draw(st.lists(param_arrays(), min_size=1, max_size=3))
    if draw(st.booleans()):
        dtype = draw(dtypes)
        buf = np.arange(8, dtype=dtype) / 8
        params += [buf[:3], buf[3:]]
    return params


def grads_for(params, draw, elements=moderate):
    """One valid gradient per parameter, in a dtype that casts safely, sometimes as a nested list."""
    grads = []
    for p in params:
        g = np.array(draw(st.lists(elements, min_size=p.size, max_size=p.size)), dtype=np.float64).reshape(p.shape)
        kind = draw(st.sampled_from(["same", "float64", "int", "list"]))
        if kind == "same":
            g = g.astype(p.dtype)
        elif kind == "int":
            g = np.round(g).astype(np.int64)
        elif kind == "list":
            g = g.tolist()
        grads.append(g)
    return grads


def numeric(value, draw):
    """The same hyperparameter as a Python float or a numpy scalar (both must be accepted)."""
    kind = draw(st.sampled_from(["float", "np.float64", "np.float32"]))
    if kind == "np.float32" and abs(value) > 1e38:
        kind = "float"  # would round to inf: not a valid hyperparameter any more
    return float(value) if kind == "float" else getattr(np, kind[3:])(value)


def beta_values(high=0.999):
    return st.floats(0.0, high)


@st.composite
def valid_hyper(draw, name, lr=None):
    lr = st.floats(0.0, 10.0) if lr is None else lr
    h = {"lr": numeric(draw(lr), draw), "weight_decay": numeric(draw(st.floats(0.0, 1.0)), draw)}
    if name == "SGD":
        h["momentum"] = numeric(draw(st.floats(0.0, 1.5)), draw)
    elif name == "RMSprop":
        h["alpha"], h["eps"] = numeric(draw(beta_values()), draw), numeric(draw(st.floats(0.0, 1.0)), draw)
    else:
        h["betas"] = (numeric(draw(beta_values()), draw), numeric(draw(beta_values()), draw))
        h["eps"] = numeric(draw(st.floats(0.0, 1.0)), draw)
    return h


# Values no real-number hyperparameter may take, and values no flag may take.
NOT_REAL = [None, "0.1", b"0.1", [0.1], (0.1,), {}, 1j, complex(0.1, 0), True, False, np.True_, object()]
with warnings.catch_warnings():  # np.matrix is on its way out, which is why a learner may still hand one in
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    NOT_REAL += [np.array(0.1), np.array([0.1]), np.matrix([[0.1]]), np.ma.masked_array([0.1], mask=[True])]
NONFINITE = [NAN, INF, -INF, np.float64(NAN), np.float32(INF), 10**400, -(10**400), Fraction(10**400)]
NEGATIVE = [-1.0, -1e-300, -5e-324, np.float64(-0.5), np.float32(-1), -1, np.int64(-3), Fraction(-1, 3)]
AT_LEAST_ONE = [1.0, 1, np.float64(1.0), np.float32(1.0), 1.5, 1e300, 1 - 1e-17, np.float32(0.99999999)]
NOT_BOOL = [None, 1, 0, 1.0, "True", "False", [True], np.array(True), np.array([True])]
invalid_real = st.sampled_from(NOT_REAL + NONFINITE + NEGATIVE) | st.floats(max_value=-1e-300)
invalid_beta = invalid_real | st.sampled_from(AT_LEAST_ONE) | st.floats(min_value=1.0)
invalid_betas = st.one_of(
    st.tuples(invalid_beta, beta_values()),
    st.tuples(beta_values(), invalid_beta),
    st.sampled_from([None, 0.9, "ab", (0.9,), (0.9, 0.999, 0.5), [], np.array([0.9, 0.999]), {0.9: 0.999}]),
)


def invalid_hyper(name):
    """(hyperparameter name, a value it must refuse) for the optimizer ``name``."""
    options = [st.tuples(st.just(k), invalid_real) for k in ("lr", "weight_decay")]
    if name == "SGD":
        options.append(st.tuples(st.just("momentum"), invalid_real))
    elif name == "RMSprop":
        options += [st.tuples(st.just("alpha"), invalid_beta), st.tuples(st.just("eps"), invalid_real)]
    else:
        options += [st.tuples(st.just("betas"), invalid_betas), st.tuples(st.just("eps"), invalid_real)]
        options.append(st.tuples(st.just("amsgrad"), st.sampled_from(NOT_BOOL)))
        if OPTIMIZERS[name][0] is ll.Adam:
            options.append(st.tuples(st.just("decoupled_weight_decay"), st.sampled_from(NOT_BOOL)))
    return st.one_of(options)


# --------------------------------------------------------------------------------- the optimizers


@given(name=optimizer_names, data=st.data())
def test_valid_input_never_raises_and_keeps_the_dtype(name, data):
    params = data.draw(param_lists())
    dtypes_before = [p.dtype for p in params]
    opt = make(name, params, **data.draw(valid_hyper(name)))
    steps = data.draw(st.integers(1, 4))
    for _ in range(steps):
        opt.step(grads_for(params, data.draw))
    for p, dtype, state in zip(params, dtypes_before, opt.state):
        assert p.dtype == dtype
        assert state["t"] == steps
        for key, arr in state.items():
            if key != "t":
                assert type(arr) is np.ndarray and arr.dtype == dtype and arr.shape == p.shape, key


@given(name=optimizer_names, data=st.data())
def test_numpy_scalar_hyperparameters_are_accepted_and_act_as_the_same_float(name, data):
    hyper = data.draw(valid_hyper(name))
    as_float = {k: tuple(map(float, v)) if isinstance(v, tuple) else float(v) for k, v in hyper.items()}
    params = [data.draw(param_arrays(dtype=np.float32))]
    twin = [p.copy() for p in params]
    opt, ref = make(name, params, **hyper), make(name, twin, **as_float)
    assert opt.hyperparameters == ref.hyperparameters
    for _ in range(3):
        grads = grads_for(params, data.draw)
        opt.step(grads)
        ref.step(grads)
    assert params[0].dtype == np.float32 and same(np.array(params[0]), np.array(twin[0]))


@given(name=optimizer_names, data=st.data())
def test_a_bad_hyperparameter_is_refused_by_the_constructor_and_by_assignment(name, data):
    key, value = data.draw(invalid_hyper(name))
    params = [np.ones(3)]
    ok, _ = refused_or_ok(make, name, params, **{key: value})
    assert not ok, f"{OPTIMIZERS[name][0].__name__}({key}={value!r}) was accepted"
    assert same(params[0], np.ones(3))
    opt = make(name, params)
    opt.step([np.full(3, 0.5)])
    snap = snapshot(opt)
    ok, _ = refused_or_ok(setattr, opt, key, value)
    assert not ok, f"opt.{key} = {value!r} was accepted"
    assert_unchanged(opt, snap, f"opt.{key} = {value!r}")


def _readonly(a):
    a.flags.writeable = False
    return a


def _overlapping_pair():
    x = np.zeros(4)
    return [x, as_strided(x, shape=(4,), strides=(8,), writeable=True)]  # the same memory, another root


def _same_buffer_twice():
    raw = bytearray(32)
    return [np.frombuffer(raw), np.frombuffer(raw)]  # writeable, both over one bytearray


BAD_PARAMS = {
    "None": lambda: None,
    "a bare array": lambda: np.ones(3),
    "a string": lambda: "theta",
    "a list of strings": lambda: ["a", "b"],
    "a list of floats": lambda: [1.0, 2.0],
    "a list of bools": lambda: [True],
    "a dict": lambda: {"w": np.ones(3)},
    "a set": lambda: {1.0},
    "empty": lambda: [],
    "complex array": lambda: [np.ones(3, dtype=complex)],
    "integer array": lambda: [np.arange(3)],
    "integer 0-d array": lambda: [np.array(3)],
    "bool array": lambda: [np.ones(3, dtype=bool)],
    "float16 array": lambda: [np.ones(3, dtype=np.float16)],
    "longdouble array": lambda: [np.ones(3, dtype=np.longdouble)],
    "big-endian array": lambda: [np.ones(3, dtype=">f8")],
    "object array": lambda: [np.ones(3, dtype=object)],
    "string array": lambda: [np.array(["1.0"])],
    "np.matrix": lambda: [np.matrix([[1.0, 2.0]])],
    "masked array": lambda: [np.ma.masked_array([1.0, NAN], mask=[False, True])],
    "read-only array": lambda: [_readonly(np.ones(3))],
    "broadcast_to": lambda: [np.broadcast_to(np.ones(1), (3,))],
    "zero stride, writeable": lambda: [as_strided(np.ones(1), shape=(3,), strides=(0,), writeable=True)],
    "interleaved strides": lambda: [as_strided(np.ones(6), shape=(3, 3), strides=(8, 8), writeable=True)],
    "the same array twice": lambda: (lambda x: [x, x])(np.ones(3)),
    "overlapping views": lambda: (lambda x: [x[:3], x[1:]])(np.ones(4)),
    "a view and its base": lambda: (lambda x: [x, x[1:]])(np.ones(4)),
    "as_strided alias of a param": _overlapping_pair,
    "two arrays over one bytearray": _same_buffer_twice,
}


@given(case=st.sampled_from(sorted(BAD_PARAMS)), name=optimizer_names)
def test_bad_params_are_refused(case, name):
    ok, _ = refused_or_ok(make, name, BAD_PARAMS[case]())
    assert not ok, f"{name} accepted params that are {case}"


TOO_LARGE = {np.float32: 1e300, np.float64: np.longdouble("1e400")}  # each becomes inf in the cast
BAD_GRADS = {
    "None": lambda ps: None,
    "a bare array": lambda ps: ps[0].copy(),
    "a string": lambda ps: "g",
    "a dict": lambda ps: {i: p for i, p in enumerate(ps)},
    "too few": lambda ps: [np.zeros_like(p) for p in ps[:-1]],
    "too many": lambda ps: [np.zeros_like(p) for p in ps] + [np.zeros(1)],
    "None entry": lambda ps: [None for _ in ps],
    "string entry": lambda ps: ["0.5" for _ in ps],
    "list of strings": lambda ps: [np.full(p.shape, "x").tolist() for p in ps],
    "ragged list": lambda ps: [[[1.0], [1.0, 2.0]] for _ in ps],
    "bool entry": lambda ps: [np.ones(p.shape, dtype=bool) for p in ps],
    "complex entry": lambda ps: [np.ones(p.shape, dtype=complex) for p in ps],
    "object entry": lambda ps: [np.ones(p.shape, dtype=object) for p in ps],
    "datetime entry": lambda ps: [np.zeros(p.shape, dtype="datetime64[s]") for p in ps],
    "np.matrix entry": lambda ps: [np.matrix(np.ones(p.shape[:2])) for p in ps],
    "masked entry": lambda ps: [np.ma.masked_array(np.full(p.shape, NAN), mask=True) for p in ps],
    "wrong shape": lambda ps: [np.zeros((*p.shape, 2)) for p in ps],
    "broadcastable shape": lambda ps: [np.zeros((1, *p.shape)) for p in ps],
    "scalar for an array": lambda ps: [0.5 for _ in ps],
    "nan": lambda ps: [np.full(p.shape, NAN, dtype=p.dtype) for p in ps],
    "inf": lambda ps: [np.full(p.shape, -INF) for p in ps],
    "too large for the dtype": lambda ps: [np.full(p.shape, TOO_LARGE[p.dtype.type]) for p in ps],
    "huge int": lambda ps: [np.full(p.shape, 10**400, dtype=object).tolist() for p in ps],
}


@given(name=optimizer_names, case=st.sampled_from(sorted(BAD_GRADS)), data=st.data())
def test_bad_grads_are_refused_and_change_nothing(name, case, data):
    params = data.draw(param_lists())
    opt = make(name, params, **data.draw(valid_hyper(name)))
    opt.step(grads_for(params, data.draw))
    good = grads_for(params, data.draw)
    bad = BAD_GRADS[case](params)
    if isinstance(bad, list) and len(bad) == len(params):  # spoil one gradient, keep the others valid
        k = data.draw(st.integers(0, len(params) - 1))
        bad = good[:k] + [bad[k]] + good[k + 1 :]
        if case == "scalar for an array" and params[k].ndim == 0:
            return  # a scalar is a valid gradient of a 0-d parameter
    snap = snapshot(opt)
    ok, _ = refused_or_ok(opt.step, bad)
    assert not ok, f"step accepted grads that are {case}"
    assert_unchanged(opt, snap, f"step with {case}")


def _edits(opt):
    """Ways to edit a parameter's state by hand: (description, state index, function state -> None)."""
    edits = []
    for i, (p, state) in enumerate(zip(opt.params, opt.state)):
        for t in [-1, 1.0, True, None, "1", np.int8(127), np.int64(2**63 - 1), 10**400, np.int64(3), 2**70]:
            edits.append((f"t = {t!r}", i, lambda s, t=t: s.__setitem__("t", t)))
        edits.append(("t deleted", i, lambda s: s.pop("t")))
        edits.append(("extra key", i, lambda s: s.__setitem__("extra", 0)))
        moments = [k for k in state if k != "t"]
        for key in moments:
            for label, f in _array_edits(p, key, moments, opt.params, i).items():
                edits.append((f"{key}: {label}", i, lambda s, key=key, f=f: s.__setitem__(key, f(s, s[key]))))
            edits.append((f"{key} deleted", i, lambda s, key=key: s.pop(key)))
    return edits


def _array_edits(p, key, moments, params, i):
    """Replacements for the state array ``key`` of ``params[i]``: label -> function (state, array) -> new."""
    edits = {
        "a list": lambda s, a: a.tolist(),
        "None": lambda s, a: None,
        "wrong shape": lambda s, a: np.zeros((*a.shape, 2), a.dtype),
        "other dtype": lambda s, a: a.astype(np.float64 if a.dtype == np.float32 else np.float32),
        "object array": lambda s, a: a.astype(object),
        "read-only": lambda s, a: _readonly(a.copy()),
        "the parameter itself": lambda s, a: p,
        "nan": lambda s, a: np.full_like(a, NAN),
        "inf": lambda s, a: np.full_like(a, INF),
        "negative": lambda s, a: np.full_like(a, -1.0),
        "masked": lambda s, a: np.ma.masked_array(a.copy(), mask=True),
        "zero strides": lambda s, a: as_strided(np.zeros(1, a.dtype), a.shape, (0,) * a.ndim, writeable=True),
    }
    if p.ndim == 2:
        edits["np.matrix"] = lambda s, a: np.matrix(a)
    for other in moments:
        if other != key:
            edits[f"the same array as {other}"] = lambda s, a, other=other: s[other]
    for j, q in enumerate(params):
        if j != i and q.shape == p.shape and q.dtype == p.dtype:
            edits[f"params[{j}]"] = lambda s, a, q=q: q
    return edits


def _clean_copy(state, p):
    """What a hand-edited state means, as a fresh state of its own; None where it means nothing."""
    t = state.get("t")
    if isinstance(t, bool) or not isinstance(t, int | np.integer) or t < 0:
        return None
    clean = {"t": int(t)}
    for key, arr in state.items():
        if key == "t":
            continue
        if type(arr) is not np.ndarray or arr.shape != p.shape or arr.dtype != p.dtype:
            return None
        clean[key] = arr.copy()
    return clean


@given(name=optimizer_names, data=st.data())
def test_hand_edited_state_is_refused_untouched_or_stepped_correctly(name, data):
    params = data.draw(param_lists())
    if data.draw(st.booleans()):
        params.append(params[0].copy())  # a parameter of the same shape and dtype, to alias
    hyper = data.draw(valid_hyper(name))
    opt = make(name, params, **hyper)
    opt.step(grads_for(params, data.draw))
    description, i, edit = data.draw(st.sampled_from(_edits(opt)), label="edit")
    state = opt.state[i]
    edit(state)
    grads = grads_for(params, data.draw)

    # What the step should do, on copies: a fresh optimizer holding the edited state's meaning.
    clean = [_clean_copy(s, p) for s, p in zip(opt.state, opt.params)]
    ref = make(name, [p.copy() for p in opt.params], **hyper) if None not in clean else None
    if ref is not None and set(clean[i]) == set(ref.state[i]):
        ref.state = clean
    else:
        ref = None

    snap = snapshot(opt)
    ok, _ = refused_or_ok(opt.step, grads)
    if not ok:
        assert_unchanged(opt, snap, f"step after editing state[{i}] ({description})")
        return
    assert ref is not None, f"step accepted a state edited to hold {description}"
    ref.step(grads)
    for j, (p, q) in enumerate(zip(opt.params, ref.params)):
        assert same(np.array(p), np.array(q)), f"{description}: params[{j}] differs from a clean step"
    for j, (s, r) in enumerate(zip(opt.state, ref.state)):
        assert s["t"] == r["t"], f"{description}: state[{j}]['t'] is {s['t']!r}, should be {r['t']!r}"
        for key in r:
            if key != "t":
                assert same(np.array(s[key]), r[key]), f"{description}: state[{j}][{key!r}] differs from a clean step"


def _tamperings(sd, hyper_values):
    """Ways to spoil a state_dict: (description, function sd -> spoilt sd). Each works on a deep copy."""
    out = {
        "not a dict": lambda d: [d],
        "None": lambda d: None,
        "no state": lambda d: {"hyperparameters": d["hyperparameters"]},
        "extra top key": lambda d: {**d, "x": 1},
        "hyperparameters not a dict": lambda d: {**d, "hyperparameters": list(d["hyperparameters"].items())},
        "hyperparameter missing": lambda d: {**d, "hyperparameters": dict(list(d["hyperparameters"].items())[1:])},
        "hyperparameter extra": lambda d: {**d, "hyperparameters": {**d["hyperparameters"], "x": 1}},
        "state not a list": lambda d: {**d, "state": {0: d["state"][0]}},
        "state too short": lambda d: {**d, "state": d["state"][:-1]},
        "state too long": lambda d: {**d, "state": d["state"] + d["state"][:1]},
        "state entry not a dict": lambda d: {**d, "state": [list(s.items()) for s in d["state"]]},
    }
    for key, value in hyper_values:
        out[f"hyperparameter {key} = {value!r}"] = lambda d, key=key, value=value: _set_hyper(d, key, value)
    if "amsgrad" in sd["hyperparameters"]:
        out["amsgrad flipped"] = lambda d: _set_hyper(d, "amsgrad", not d["hyperparameters"]["amsgrad"])
    for i, state in enumerate(sd["state"]):
        for t in [-1, 1.5, True, None, "3", np.float64(2.0), 10**400, np.int8(127), np.uint64(7)]:
            out[f"state[{i}] t = {t!r}"] = lambda d, i=i, t=t: _set_state(d, i, "t", t)
        for key, arr in state.items():
            if key == "t":
                continue
            for label, value in {
                "a list": arr.tolist(),
                "None": None,
                "wrong shape": np.zeros((*arr.shape, 1), arr.dtype),
                "0-d": np.zeros((), arr.dtype),
                "other dtype": arr.astype(np.float64 if arr.dtype == np.float32 else np.float32),
                "int": arr.astype(np.int64),
                "object": arr.astype(object),
                "nan": np.full_like(arr, NAN),
                "inf": np.full_like(arr, INF),
                "-inf": np.full_like(arr, -INF),
                "negative": np.full_like(arr, -1.0),
                "masked nan": np.ma.masked_array(np.full_like(arr, NAN), mask=True),
                "zero strides": np.broadcast_to(np.zeros((), arr.dtype), arr.shape),
            }.items():
                out[f"state[{i}][{key!r}] {label}"] = lambda d, i=i, key=key, value=value: _set_state(d, i, key, value)
            out[f"state[{i}][{key!r}] missing"] = lambda d, i=i, key=key: _drop_state(d, i, key)
    return out


def _set_hyper(d, key, value):
    d["hyperparameters"][key] = value
    return d


def _set_state(d, i, key, value):
    d["state"][i][key] = value
    return d


def _drop_state(d, i, key):
    del d["state"][i][key]
    return d


@given(name=optimizer_names, data=st.data())
def test_load_state_dict_refuses_tampering_untouched_or_loads_it_faithfully(name, data):
    params = data.draw(param_lists())
    opt = make(name, params, **data.draw(valid_hyper(name)))
    opt.step(grads_for(params, data.draw))
    sd = opt.state_dict()
    hyper_values = [data.draw(invalid_hyper(name))]
    description = data.draw(st.sampled_from(sorted(_tamperings(sd, hyper_values))), label="tampering")
    spoilt = _tamperings(sd, hyper_values)[description](copy.deepcopy(sd))
    source = copy.deepcopy(spoilt)
    opt.step(grads_for(params, data.draw))  # so that a refused load is seen to change nothing
    snap = snapshot(opt)
    ok, _ = refused_or_ok(opt.load_state_dict, spoilt)
    assert same(spoilt, source), f"load_state_dict modified its argument ({description})"
    if not ok:
        assert_unchanged(opt, snap, f"load_state_dict with {description}")
        return
    # Accepted: the optimizer now holds exactly what was loaded, and can step on from it.
    for s, r, p in zip(opt.state, spoilt["state"], params):
        assert type(s["t"]) is int and s["t"] == r["t"], description
        for key in s:
            if key != "t":
                assert same(s[key], np.asarray(r[key], dtype=p.dtype)), f"{description}: {key} not loaded as given"
    ok, e = refused_or_ok(opt.step, grads_for(params, data.draw))
    assert ok, f"load_state_dict accepted {description}, after which step raised {e!r}"


@given(name=st.sampled_from(["RMSprop", "Adam", "Adam-amsgrad", "AdamW"]), dtype=dtypes, data=st.data())
def test_state_dict_round_trips_after_v_overflowed_to_inf(name, dtype, data):
    big = 1e200 if dtype == np.float64 else 1e30  # g**2 overflows: v becomes inf
    params = [np.ones(3, dtype), np.full((2, 2), 0.5, dtype)]
    hyper = data.draw(valid_hyper(name))
    opt = make(name, params, **hyper)
    opt.step([np.full(p.shape, big, dtype) for p in params])
    assert any(np.isinf(s["v"]).any() for s in opt.state)
    saved_params, sd = [p.copy() for p in params], opt.state_dict()
    twin = make(name, saved_params, **hyper)
    twin.load_state_dict(sd)
    opt.load_state_dict(opt.state_dict())  # its own state, into itself
    for _ in range(2):
        grads = grads_for(params, data.draw)
        opt.step(grads)
        twin.step(grads)
    for p, q in zip(params, saved_params):
        assert same(p, q)
    for s, r in zip(opt.state, twin.state):
        assert same(s, r)


@given(name=optimizer_names, data=st.data())
@settings(max_examples=20)
def test_state_dict_round_trips_after_any_valid_run(name, data):
    # Extreme but valid: a huge lr or momentum drives theta to inf and the state to inf or nan.
    params = [data.draw(param_arrays())]
    hyper = data.draw(valid_hyper(name, lr=st.floats(0.0, 1e300)))
    if name == "SGD":
        hyper["momentum"] = data.draw(st.floats(0.0, 1e300))
    opt = make(name, params, **hyper)
    for _ in range(data.draw(st.integers(1, 6))):
        opt.step(grads_for(params, data.draw))
    twin = make(name, [p.copy() for p in params], **hyper)
    ok, e = refused_or_ok(twin.load_state_dict, opt.state_dict())
    assert ok, f"the optimizer's own state_dict() was refused: {e}"


# ------------------------------------------------------------------------------ the pure functions

scalars = st.floats(-1e3, 1e3)


@given(data=st.data(), dtype=dtypes, t=st.integers(1, 10_000))
def test_pure_step_functions_on_valid_input_keep_the_dtype(data, dtype, t):
    shape = data.draw(shapes)
    arr = lambda elements=moderate: np.array(  # noqa: E731
        data.draw(st.lists(elements, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))), dtype=dtype
    ).reshape(shape)
    theta, g, m = arr(), arr(), arr()
    v = arr(st.floats(0.0, 1e3, width=32))
    lr, wd, eps = data.draw(st.floats(0.0, 10.0)), data.draw(st.floats(0.0, 1.0)), data.draw(st.floats(1e-8, 1.0))
    b1, b2 = data.draw(beta_values()), data.draw(beta_values())
    with np.errstate(all="ignore"):  # the formulas may overflow to inf, as documented
        results = [
            *ll.adam_step(theta, g, m, v, t, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, v_max=v)[1:],
            *ll.adamw_step(theta, g, m, v, t, lr=lr, weight_decay=wd, beta1=b1, beta2=b2, eps=eps)[1:10],
            *ll.rmsprop_step(theta, g, v, t, lr=lr, alpha=b2, eps=eps, weight_decay=wd)[1:],
            *ll.sgd_step(theta, g, m, t, lr=lr, momentum=b1, weight_decay=wd),
            ll.ema_update(m, g, b1),
            ll.debias(m, b1, t),
            ll.l2_gradient(g, theta, wd),
            ll.decay(theta, lr, wd),
        ]
    for r in results:
        if isinstance(r, np.ndarray) and r.shape == shape:
            assert r.dtype == dtype
    assert 0 < ll.ema_weight_sum(b1, t) <= 1


# ------------------------------------------------------------------------ the checked functions

ANY = st.one_of(
    st.floats(),
    st.sampled_from([10**400, -(10**400), Decimal("nan"), Decimal("1e1000000")]),  # past float's range
    st.integers(-(10**20), 10**20),
    st.sampled_from(NOT_REAL + NONFINITE + NEGATIVE + AT_LEAST_ONE + NOT_BOOL),
    st.sampled_from([0, 0.0, -0.0, 0.5, np.float64(0.5), np.float32(0.5), np.int64(2), Fraction(1, 3), 5e-324]),
    st.sampled_from([Decimal("0.5"), Decimal("nan"), Decimal("sNaN"), Decimal("inf"), Decimal("1e1000000")]),
    st.sampled_from([Decimal("1e-1000000"), "0.5", "1/3", "1/0", "nan", "-1", "", "1e400"]),
    st.sampled_from([np.arange(1, 4), np.array([1.5, -1.0]), np.array(2), np.array([NAN]), np.uint64(2**63)]),
)
CHECKED = {
    "effective_window": (ll.effective_window, 1),
    "step_bound": (ll.step_bound, 2),
    "decay_rates": (ll.decay_rates, 4),
    "half_life": (ll.half_life, 2),
    "torch_weight_decay": (ll.torch_weight_decay, 2),
    "exact.sqrt": (ll.exact.sqrt, 1),
    "exact.sqrt(digits)": (lambda x, d: ll.exact.sqrt(x, digits=d if not isinstance(d, int) or d < 100 else 60), 2),
    "exact.fraction": (ll.exact.fraction, 1),
    "schedules.constant": (ll.schedules.constant, 2),
    "schedules.warmup_cosine": (
        lambda t, w, n, f: ll.schedules.warmup_cosine(t, warmup_steps=w, total_steps=n, final=f),
        4,
    ),
}


@given(name=st.sampled_from(sorted(CHECKED)), data=st.data())
@settings(max_examples=200)  # cheap calls, many kinds of argument
def test_checked_functions_work_or_refuse_any_input(name, data):
    f, arity = CHECKED[name]
    args = [data.draw(ANY, label=f"arg{i}") for i in range(arity)]
    refused_or_ok(f, *args)


@given(
    beta=ANY,
    xs=st.lists(ANY, max_size=4),
    t=st.sampled_from([None, -1, 1.0, True, "1", 10**400, np.int8(-1)]) | st.integers(0, 5),
)
def test_ema_works_or_refuses_and_a_refused_update_changes_nothing(beta, xs, t):
    ok, avg = refused_or_ok(ll.EMA, beta)
    if not ok:
        return
    for x in xs:
        before = copy.deepcopy((avg.value, avg.t))
        ok, _ = refused_or_ok(avg.update, x)
        if not ok:
            assert same((avg.value, avg.t), before), f"a refused EMA.update({x!r}) changed the average"
        refused_or_ok(lambda: avg.corrected)
    avg.t = t  # a hand-edited count
    refused_or_ok(avg.update, 0.5)
    refused_or_ok(lambda: avg.corrected)


reals = st.floats(0.0, 1e6) | st.integers(0, 10**6) | st.fractions(0, 10**6, max_denominator=1000)


@given(x=reals, digits=st.integers(1, 80), kind=st.sampled_from(["plain", "np.float64", "np.int64"]))
def test_exact_functions_accept_every_documented_number(x, digits, kind):
    # np.float64 is a float and np.int64 a numbers.Integral: each is the number it holds.
    if kind == "np.float64":
        x = np.float64(float(x))
    elif kind == "np.int64":
        x = np.int64(int(x))
    plain = float(x) if isinstance(x, float) else int(x) if isinstance(x, np.integer) else x
    assert ll.exact.fraction(x) == ll.exact.fraction(plain)
    root = ll.exact.sqrt(x, digits=digits)
    assert root == ll.exact.sqrt(plain, digits=digits)
    assert abs(root * root - Fraction(plain)) <= Fraction(plain) * Fraction(10) ** (2 - digits)


@given(t=st.integers(1, 10**6), w=st.integers(0, 10**5), extra=st.integers(1, 10**5), final=st.floats(0.0, 1.0))
@settings(max_examples=30)
def test_schedules_on_valid_input_stay_in_range(t, w, extra, final):
    eta = ll.schedules.warmup_cosine(t, warmup_steps=w, total_steps=w + extra, final=final)
    assert isinstance(eta, float) and 0.0 <= eta <= 1.0
    steps = ll.schedules.warmup_cosine(np.array([t, t + 1]), warmup_steps=np.int64(w), total_steps=w + extra)
    assert steps.dtype == np.float64
    assert ll.schedules.constant(t, final) == final
