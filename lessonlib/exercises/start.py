"""Checks for notebook 00 (start here): reading the symbol table and the defaults table."""

from __future__ import annotations

from lessonlib.exercises import Result, check_value, unanswered


def check_choice(name: str, answer, expected: str, *, hint: str = "") -> Result:
    """Compare a short text answer (case and surrounding quotes/spaces ignored)."""
    if answer is ... or answer is None:
        return unanswered(name)
    given = str(answer).strip().strip("'\"").lower()
    if given == expected.lower():
        return Result(True, f"✓ {name}: {expected!r} is right.")
    return Result(False, f"✗ {name}: {answer!r} is not right. {hint}".rstrip())


def check_torch_key_for_v(answer) -> Result:
    """Exercise 1: the key of ``torch.optim.Adam``'s per-parameter state that holds v."""
    return check_choice(
        "torch's name for v",
        answer,
        "exp_avg_sq",
        hint="v is the average of squared gradients; look at the state keys printed above.",
    )


def check_keras_eps_ratio(answer) -> Result:
    """Exercise 2: Keras's default epsilon divided by PyTorch's."""
    return check_value(
        "Keras eps / PyTorch eps",
        answer,
        expected=1e-7 / 1e-8,
        rtol=1e-9,
        hint="Read both eps defaults from the table; a ratio of 1e-7 to 1e-8 is a plain number.",
    )
