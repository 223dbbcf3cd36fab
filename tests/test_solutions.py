"""Every exercise has a worked solution, and the solution is right by the exercise's own check.

An exercise is a code cell that calls ``ex.check_...`` or ``implement.check_...`` (see ``notebooks/_build.py``);
the markdown cell after it, tagged ``solution``, holds a collapsed ``<details class="solution">`` block with the
reasoning and one ```python fence. Here each notebook's setup cell runs once, then every solution's code in
place of its answer, then the answer cell's checks: each must say "right". The same checks on the answer cell
as the learner gets it must say "not answered yet", never "wrong" and never raise.
"""

from __future__ import annotations

from pathlib import Path

import _build
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

PATHS = [p for p in _build.lesson_paths() if _build.exercises(nbformat.read(p, as_version=4))]


def notebook(path: Path):
    return nbformat.read(path, as_version=4)


def namespace(nb) -> dict:
    """What a notebook's cells see after its setup cell ran (``display`` as in IPython: it shows, we drop)."""
    ns: dict = {"display": lambda *objs, **kwargs: None, "__name__": "__main__"}
    exec(compile(_build.setup_cell(nb), "<setup cell>", "exec"), ns)  # noqa: S102 - the course's own notebook
    return ns


def test_the_lessons_have_exercises():
    assert len(PATHS) >= 10
    assert sum(len(_build.exercises(notebook(p))) for p in PATHS) >= 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_exercise_has_one_worked_solution_right_after_it(path):
    nb = notebook(path)
    missing = [f"cell {e.answer}" for e in _build.exercises(nb) if e.solution is None]
    assert not missing, f"{path.name}: no solution cell (markdown tagged 'solution') after {missing}"
    for e in _build.exercises(nb):
        source = nb.cells[e.solution].source
        assert source.startswith('<details class="solution">\n<summary>Worked solution</summary>'), (
            f'{path.name} cell {e.solution}: a solution is a collapsed <details class="solution"> block'
        )
        assert source.rstrip().endswith("</details>"), f"{path.name} cell {e.solution}: close the <details>"
        assert e.solution_code is not None, f"{path.name} cell {e.solution}: exactly one ```python fence"
        prose = _build._FENCE.sub("", source).split("</summary>", 1)[1].replace("</details>", "").strip()
        assert len(prose.split()) >= 8, f"{path.name} cell {e.solution}: the reasoning, not only the code"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_solution_is_right_by_its_own_check(path):
    nb = notebook(path)
    ns = namespace(nb)
    wrong = []
    for e in _build.exercises(nb):
        if e.solution_code is None:
            continue  # reported by the test above
        exec(compile(e.solution_code, f"<solution of cell {e.answer}>", "exec"), ns)  # noqa: S102
        for call in e.checks:
            result = eval(call, ns)  # noqa: S307 - a check call of the course's own notebook
            if result.ok is not True:
                wrong.append(f"cell {e.answer}: {call} -> {result}")
    assert not wrong, f"{path.name}: solutions that their check does not accept:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_an_unanswered_exercise_says_so(path):
    nb = notebook(path)
    ns = namespace(nb)
    said = []
    for e in _build.exercises(nb):
        exec(compile(e.answer_source, f"<answer cell {e.answer}>", "exec"), ns)  # noqa: S102
        for call in e.checks:
            result = eval(call, ns)  # noqa: S307
            if result.ok is not None or "not answered yet" not in result.message:
                said.append(f"cell {e.answer}: {call} -> {result}")
    assert not said, f"{path.name}: the unanswered exercise should say 'not answered yet':\n" + "\n".join(said)
