"""The notebooks' own text, no exercises module: the course notation, the symbol tables, each exercise's precision."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from tests.test_exercises_adamw import PRECISION

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


# ---- notebook 00


def test_the_symbol_tables_fit_a_slide_and_name_torch_s_arguments():
    nb = nbformat.read(NOTEBOOKS / "00-start-here.ipynb", as_version=4)
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


# ---- notebook 01


def test_notebook_01_holds_to_the_course_notation():
    # a mean is x-bar (never mu, which is momentum); the window is w (never N, which counts parameters)
    nb = nbformat.read(NOTEBOOKS / "01-ema.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "\\mu" not in text and "\\bar x" in text
    assert "N = \\frac" not in text and "w = \\frac{1}{1-\\beta}" in text


# ---- notebook 06: the precision each exercise states (tests/test_exercises_adamw.py checks the checks accept it)

NOTEBOOK_06 = NOTEBOOKS / "06-adamw.ipynb"


def _exercise_texts() -> dict[int, str]:
    cells = json.loads(NOTEBOOK_06.read_text(encoding="utf-8"))["cells"]
    texts = {}
    for cell in cells:
        source = "".join(cell["source"])
        match = re.search(r"\*\*Exercise (\d+)\.\*\*(.*)", source, re.S)
        if cell["cell_type"] == "markdown" and match:
            texts[int(match.group(1))] = " ".join(match.group(2).split())
    return texts


def test_every_exercise_of_notebook_06_states_its_precision():
    texts = _exercise_texts()
    assert sorted(texts) == sorted(PRECISION)
    for number, (words, _, _) in PRECISION.items():
        assert words in texts[number], (number, texts[number])


def test_notebook_06_holds_to_the_course_notation():
    """00's symbol tables: n counts examples, Delta_t is the update, N the parameters, sigma a gradient's spread."""
    cells = json.loads(NOTEBOOK_06.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    for wrong in ("u_t", "$n$ steps", "n_{1/2}", "$+s, -s"):
        assert wrong not in text, wrong
    assert not re.search(r"(?<!\\mathcal )N\(0", text + code)  # N is the number of parameters
    assert r"\mathcal N(0, I)" in text and r"\theta_{t-1} - \Delta_t" in text and "$k$ steps" in text


# ---- notebook 08


def test_every_exercise_of_notebook_08_states_its_precision():
    cells = json.loads((NOTEBOOKS / "08-cost.ipynb").read_text(encoding="utf-8"))["cells"]
    texts = [" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown"]
    exercises = [t for t in texts if re.match(r"\*\*Exercise \d+\.\*\*", t)]
    assert len(exercises) == 3
    for text in exercises:
        assert "three significant digits" in text or "A whole number" in text, text
