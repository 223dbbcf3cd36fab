"""A learner may type anything: every check answers right, wrong (with a reason) or "not answered yet", and never
raises. Each public ``check_*`` of ``lessonlib.exercises`` gets numbers out of range, strings, ragged lists,
tensors that require grad and objects of no use, in every argument; each check of a function to write gets
things that are not functions and functions that return such things."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from fractions import Fraction

import numpy as np
import pytest
import torch

import lessonlib.exercises as exercises
from lessonlib.exercises import Result, implement
from tests.checks import BadRepr, raises_bad_str

# numpy casting a complex answer to float drops its imaginary part with only this warning: here it is an error
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

MODULES = [importlib.import_module(f"lessonlib.exercises.{m.name}") for m in pkgutil.iter_modules(exercises.__path__)]
CHECKS = sorted(
    {
        (module.__name__.rsplit(".", 1)[1], name): fn
        for module in MODULES
        for name, fn in vars(module).items()
        if name.startswith("check_")
        and inspect.isfunction(fn)
        and fn.__module__ == module.__name__
        and "expected" not in inspect.signature(fn).parameters  # a generic helper (check_choice), not an exercise
    }.items()
)
FUNCTION_CHECKS = {name for (_, name), check in CHECKS if list(inspect.signature(check).parameters) == ["fn"]}


class Unreadable:
    """An object numpy cannot read: its __array__ raises something else than a TypeError."""

    def __array__(self, *args, **kwargs):
        raise ZeroDivisionError("no values")


ODD = {
    "huge int": 10**400,
    "minus huge float": -1e308 * 10,
    "nan": float("nan"),
    "complex": 1j,
    "bool": True,
    "string": "0.05",
    "ragged list": [[1, 2], [3]],
    "three Nones": (None,) * 3,
    "dict": {"answer": 1},
    "tensor with grad": torch.tensor([0.5, 0.25], requires_grad=True),
    "scalar tensor with grad": torch.tensor(0.5, requires_grad=True),
    "object": object(),
    "empty array": np.array([]),
    "negative": -3,
    "zero": 0,
    "int past str's limit": 10**5000,  # str() and repr() of it raise ValueError
    "numpy complex": np.complex64(3.6 + 5j),  # numpy reads it as 3.6, dropping the imaginary part
    "string array": np.array("3.6"),
    "bools in a list": [True, False],
    "a bool among numbers": [True, 0.5],  # numpy reads it as [1.0, 0.5]
    "masked array": np.ma.masked_array([0.5, 1e9], mask=[False, True]),
    "list holding a tensor with grad": [torch.tensor(0.5, requires_grad=True)],
    "unprintable object": BadRepr(),
    "unreadable object": Unreadable(),
}
RETURNS = {
    "returns a huge int": lambda *a, **k: 10**400,
    "returns a tensor": lambda *a, **k: torch.tensor(1.0, requires_grad=True),
    "returns three Nones": lambda *a, **k: (None,) * 3,
    "returns a string": lambda *a, **k: "theta",
    "returns nothing": lambda *a, **k: None,
    "raises": lambda *a, **k: 1 / 0,
    "raises what cannot be printed": raises_bad_str,
    "returns an int past str's limit": lambda *a, **k: 10**5000,
    "returns three huge ints": lambda *a, **k: (10**400, 0, 0),
    "returns what cannot be printed": lambda *a, **k: BadRepr(),
    "takes no arguments": lambda: 0.0,
}


def test_every_check_is_found():
    assert len(CHECKS) >= 40 and len(FUNCTION_CHECKS) >= 7  # implement's six and scale's zero_bytes_per_rank


@pytest.mark.parametrize(("key", "check"), CHECKS, ids=[f"{m}.{n}" for (m, n), _ in CHECKS])
def test_a_check_answers_whatever_it_is_given(key, check):
    params = list(inspect.signature(check).parameters.values())
    cases = dict(ODD)
    if key[1] in FUNCTION_CHECKS:
        cases = {"not a function: " + k: v for k, v in ODD.items()} | RETURNS
    raised = []
    for what, value in cases.items():
        args = [value for p in params if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
        try:
            result = check(*args)
        except Exception as exc:  # noqa: BLE001 - the failure this test looks for
            raised.append(f"{what}: {type(exc).__name__}: {exc}"[:200])
            continue
        if not isinstance(result, Result) or result.ok is True:
            raised.append(f"{what}: answered {result!r}")
        elif what.startswith("not a function") and "function" not in result.message:
            raised.append(f"{what}: {result.message!r} does not say a function was expected")
    assert not raised, f"{key[0]}.{key[1]}:\n" + "\n".join(raised)


def test_a_function_check_names_what_it_expected():
    result = implement.check_ema_update(0.5)
    assert result.ok is False and "function" in result.message


def test_what_numpy_would_misread_is_never_right():
    """numpy reads a complex number without its imaginary part, a string as the number it spells, a bool as 1: none
    of them is a right answer, typed or returned by a function."""
    from lessonlib.course import memory
    from lessonlib.exercises import ema, scale, start

    for almost in (np.complex64(3.6 + 5j), torch.tensor(3.6 + 5j), np.array("3.6"), ["3.6"]):
        assert ema.check_raw_average(almost).ok is False, almost
    assert ema.check_raw_average(3.6).ok is True
    assert exercises.check_value("x", [True], [1.0]).ok is False
    assert exercises.check_value("x", [True, 0.5], [1.0, 0.5]).ok is False
    assert start.check_keras_eps_ratio(np.array(10 + 7j)).ok is False
    right = lambda a, x, b: b * a + (1 - b) * x  # noqa: E731
    assert implement.check_ema_update(right).ok is True
    assert implement.check_ema_update(lambda a, x, b: np.asarray(right(a, x, b)) + 1j).ok is False
    assert implement.check_ema_update(lambda a, x, b: np.asarray(right(a, x, b)).astype(str)).ok is False
    parts = lambda n, r, s: tuple(memory.zero_parts_per_rank(n, r, s, "mixed").values())  # noqa: E731
    assert scale.check_zero_bytes_per_rank(parts).ok is True
    assert scale.check_zero_bytes_per_rank(lambda n, r, s: tuple(str(v) for v in parts(n, r, s))).ok is False
    # each value read on its own: a Fraction, an int and a tensor are three numbers
    mixed = lambda n, r, s: (
        Fraction(parts(n, r, s)[0]),
        parts(n, r, s)[1],
        torch.tensor(float(parts(n, r, s)[2]), dtype=torch.float64),
    )  # noqa: E731
    assert scale.check_zero_bytes_per_rank(mixed).ok is True
