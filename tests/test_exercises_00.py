"""The checks behind notebook 00's exercises: right, wrong (with the hint), and unanswered."""

from __future__ import annotations

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


def test_the_symbol_tables_fit_a_slide_and_name_torch_s_arguments():
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "00-start-here.ipynb", as_version=4)
    tables = [c.source for c in nb.cells if c.cell_type == "markdown" and "| symbol |" in c.source]
    assert len(tables) >= 2
    for source in tables:
        rows = [line for line in source.splitlines() if line.startswith("| ")]
        assert len(rows) < 25, source[:60]
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "uses the same names" not in text  # lessonlib takes torch's argument names, not the symbols
    assert "`alpha` of RMSprop" in text and "t - 1" in text  # the alpha clash; Keras's iterations during a step
    # 02's effective step and its noise variance per direction have one row each; a normal distribution is not N
    assert r"| $\alpha_{\mathrm{eff}}$ | the heavy ball's effective step $\alpha/(1-\mu)$" in text
    assert r"| $\sigma_k^2$ | the variance of the mini-batch noise" in text
    # one meaning per symbol: s_t is AdaGrad's sum (03); 02's eigen-coordinate is theta-tilde, not x (x is data)
    assert "| $s_t$ | AdaGrad's running sum of $g^2$" in text and r"| $\tilde\theta_k$ | the $k$-th coordinate" in text
    assert "$s_k^2$" not in text and r"| $\gamma_t$ |" in text and r"| $\delta$ | the spacing" in text
    assert r"a normal distribution is $\mathcal N$" in text
