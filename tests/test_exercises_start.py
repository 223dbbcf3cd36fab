"""lessonlib.exercises.start (lesson 00): each check passes the right answer, hints at a wrong one, waits for `...`."""

from __future__ import annotations

import pytest

from lessonlib.exercises import start as ex


def test_torch_key_for_v():
    assert ex.check_torch_key_for_v("exp_avg_sq").ok is True
    assert ex.check_torch_key_for_v(" 'EXP_AVG_SQ' ").ok is True  # quotes, case and spaces do not matter
    wrong = ex.check_torch_key_for_v("exp_avg")
    assert wrong.ok is False and "squared gradients" in wrong.message
    assert ex.check_torch_key_for_v(...).ok is None


def test_keras_eps_ratio():
    assert ex.check_keras_eps_ratio(10).ok is True
    wrong = ex.check_keras_eps_ratio(0.1)
    assert wrong.ok is False and "the other way round" in wrong.message
    wrong = ex.check_keras_eps_ratio(100)
    assert wrong.ok is False and "Read both eps defaults" in wrong.message
    assert ex.check_keras_eps_ratio(...).ok is None
    assert ex.check_keras_eps_ratio("ten").ok is False


def test_rmsprop_alpha_symbol():
    for right in ("rho", " 'RHO' ", "ρ", "\\rho", "$\\rho$"):
        assert ex.check_rmsprop_alpha_symbol(right).ok is True, right
    for wrong, hint in (("alpha", "learning rate"), ("α", "learning rate"), ("beta2", "role β2 plays"), ("mu", "row")):
        result = ex.check_rmsprop_alpha_symbol(wrong)
        assert result.ok is False and hint in result.message
    assert ex.check_rmsprop_alpha_symbol(...).ok is None
    assert ex.check_rmsprop_alpha_symbol(0.99).ok is False  # a number is not a symbol: wrong, and no exception


def test_check_choice_checks_its_authors_arguments_and_never_the_learners():
    assert ex.check_choice("q", "a", "b", also=["A"]).ok  # also: other right spellings, any case
    for call, name in (
        (lambda: ex.check_choice("q", "a", "a", also=None), "also"),
        (lambda: ex.check_choice("q", "a", "b", slips=[0.9]), "slips"),
    ):
        with pytest.raises(TypeError, match=name):
            call()
    assert ex.check_choice("q", 0.9, "b").ok is False  # a number is not a choice: wrong, and no exception
