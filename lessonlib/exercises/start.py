"""Checks for notebook 00 (start here): reading the symbol table and the defaults table."""

from __future__ import annotations

from lessonlib.exercises import Result, check_value, shown, unanswered
from lessonlib.optim._checks import brief


def _normal(text) -> str:
    return text.strip().strip("'\"").strip().lower()


def check_choice(
    name: str, answer, expected: str, *, hint: str = "", also: tuple[str, ...] = (), slips: dict | None = None
) -> Result:
    """Compare a short text answer (case and surrounding quotes/spaces ignored).

    ``also`` lists other spellings of the right answer; ``slips`` maps a known wrong answer to what to tell the
    learner who gives it (matched the same way).
    """
    for arg, value in (("name", name), ("expected", expected), ("hint", hint)):
        if not isinstance(value, str):
            raise TypeError(f"{arg} must be a string, got {type(value).__name__}")
    if not isinstance(also, (tuple, list)) or not all(isinstance(a, str) for a in also):
        raise TypeError(f"also must be a tuple of strings (other spellings of the answer), got {brief(also, 60)}")
    if slips is not None and (
        not isinstance(slips, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in slips.items())
    ):
        raise TypeError(f"slips must be a dict {{wrong answer: hint}} of strings, or None; got {brief(slips, 60)}")
    if answer is ... or answer is None:
        return unanswered(name)
    if not isinstance(answer, str):  # a number, a list...: wrong, whatever its str would say
        return Result(False, f"✗ {name}: expected a word or a symbol (a string), got {shown(answer)}. {hint}".rstrip())
    given = _normal(answer)
    if given in {_normal(a) for a in (expected, *also)}:
        return Result(True, f"✓ {name}: {expected!r} is right.")
    for slip, slip_hint in (slips or {}).items():
        if given == _normal(slip):
            hint = slip_hint
            break
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
    """Exercise 2: Keras's default epsilon divided by PyTorch's (a whole number, exactly)."""
    return check_value(
        "Keras eps / PyTorch eps",
        answer,
        expected=1e-7 / 1e-8,
        rtol=1e-9,
        hint="Read both eps defaults from the table; the ratio of two powers of ten is a plain number.",
        slips={1e-8 / 1e-7: "That is the ratio the other way round: PyTorch's eps over Keras's."},
    )


def check_rmsprop_alpha_symbol(answer) -> Result:
    """Exercise 3: the lessons' symbol for the number passed as ``alpha`` to ``torch.optim.RMSprop``."""
    return check_choice(
        "the symbol for RMSprop's alpha",
        answer,
        "rho",
        also=("ρ", "\\rho", "$\\rho$"),
        slips={
            "alpha": "In the lessons α is the learning rate, the argument lr; this alpha is a different number.",
            "α": "In the lessons α is the learning rate, the argument lr; this alpha is a different number.",
            "lr": "lr is the learning rate; this alpha is a different number.",
            "beta2": "It plays the role β2 plays in Adam, but RMSprop's decay has its own symbol in the table.",
            "beta": "β is 01's EMA decay; RMSprop's decay has its own symbol in the table.",
        },
        hint="Look for the row whose torch name is alpha in the symbol table.",
    )
