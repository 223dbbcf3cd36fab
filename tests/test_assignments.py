"""The exercises as nbgrader assignments (``make assignments``, notebooks/_assignments.py).

Built from the lessons: every answer cell an autograded answer cell whose solution region holds the lesson's
worked solution, every check a locked test cell with its points, the worked solutions' cells left out. Then, as a
lecturer would: ``nbgrader generate_assignment`` (the student versions hold no solution), and ``nbgrader
autograde`` over a ``submitted/`` folder written here, with a gradebook of its own in a temporary folder: the
source version scores full marks; the student version, untouched but for one answer given with a known slip, scores
only that answer cell's other check (every untouched check zero, the slipped check's feedback carrying the course's
hint); and another lesson's student version runs top to bottom in a fresh kernel with every check saying "not
answered yet". ``make assignments-check`` grades every lesson; this grades one (autograding runs the whole lesson
once per submission).

Without nbgrader (``make assignments`` installs it) the tests that need it skip, saying so; under ``CI=true``
(``.ci/run`` installs it) they fail instead.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from pathlib import Path

import _assignments as asg
import _build
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

UNDER_CI = os.environ.get("CI", "").lower() in ("true", "1")
#: The lesson graded here (the others in `make assignments-check`), and one slip in it: a line appended to the
#: answer cell that assigns m_3 (after the worked solution, so it wins): g_3 entering whole, not weighted by 1 - beta1.
#: That cell has a second check (PARTNER), which the slip leaves right.
GRADED = "05-worked-example"
#: The lesson whose student version is run as a learner runs it: its three answers and its function to write
#: each "not answered yet" (and it imports no torch: the quickest to run).
RUN = "01-ema"
SLIP = ("m_3", "m_3 = ex.BETA1 * ex.M2 + ex.G3  # the slip", "check_m3")
PARTNER = "check_v3"


def slip_verdict() -> str:
    """What the course's check says to that slip (its hint included): the feedback must show it."""
    from lessonlib.exercises import worked_example as ex

    verdict = ex.check_m3(ex.BETA1 * ex.M2 + ex.G3)
    assert verdict.ok is False and "not right" in verdict.message
    return verdict.message


def need_nbgrader():
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        why = "nbgrader is not installed: `make assignments` installs it (requirements-assignments.lock)"
        if UNDER_CI:
            pytest.fail(f"under CI the assignments must be tested: {why}")
        pytest.skip(why)


def solved(path: Path) -> bool:
    return all(e.solution_code is not None for e in _build.exercises(nbformat.read(path, as_version=4)))


def solution_cell(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


LESSONS = [p for p in _build.lesson_paths() if _build.exercises(nbformat.read(p, as_version=4))]


# --- the source versions, built in memory (no nbgrader needed) ----------------------------------------------------


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_each_exercise_becomes_an_answer_cell_and_a_test_cell_per_check(path):
    nb = nbformat.read(path, as_version=4)
    found = _build.exercises(nb)
    a = asg.assignment(nb, path.stem)
    meta = [c.metadata.get("nbgrader") for c in a.nb.cells]
    answers = [c for c, m in zip(a.nb.cells, meta) if m and m["solution"]]
    tests = [c for c, m in zip(a.nb.cells, meta) if m and m["grade"]]
    assert len(answers) == len(found) and len(tests) == sum(len(e.checks) for e in found)
    for cell, e in zip(answers, found):
        assert cell.source.startswith(e.answer_source.rstrip()), "the lesson's template lines come first"
        region = cell.source.split(asg.BEGIN + "\n", 1)[1].split(asg.END)[0]
        assert region.strip() == (e.solution_code or "").strip(), "the solution region holds the worked solution"
    checks = [c for e in found for c in e.checks]
    for cell, check in zip(tests, checks):
        m = cell.metadata["nbgrader"]
        assert m["locked"] and not m["solution"] and m["points"] == asg.points(check)
        assert cell.source.startswith(f"verdict = {check}  #") and "\nassert verdict or" in cell.source
    assert a.total == sum(asg.points(c) for c in checks)
    assert not any(_build.tagged(c, _build.SOLUTION_TAG) for c in a.nb.cells), "no worked solution's cell is kept"
    assert not any(_build.tagged(c, _build.NAV_TAG) for c in a.nb.cells)
    grading = [c for c in a.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "grading"]
    assert len(grading) == 1 and "import os" in grading[0].source, "the cell the tests need, after the setup cell"
    ids = [c.id for c in a.nb.cells]
    assert len(set(ids)) == len(ids)
    kept = [c for c in nb.cells if c.cell_type == "markdown" and not _build.tagged(c, _build.SOLUTION_TAG)]
    sources = {c.source for c in a.nb.cells}
    assert all(c.source in sources for c in kept if not _build.tagged(c, _build.NAV_TAG)), "the narrative is kept"


def test_an_exercise_without_a_worked_solution_is_reported():
    nb = nbformat.read(ROOT / "notebooks" / "01-ema.ipynb", as_version=4)
    e = _build.exercises(nb)[0]
    if e.solution is not None:
        del nb.cells[e.solution]
    a = asg.assignment(nb, "01-ema")
    assert any(f"cell {e.answer}" in m and "no worked solution" in m for m in a.missing), a.missing


def test_points_are_set_in_one_place():
    assert asg.points("ex.check_window(answer)") == asg.POINTS["ex"]
    assert asg.points("implement.check_adam_step(adam_step)") == asg.POINTS["implement"]
    asg.POINTS_BY_CHECK["check_window"] = 7
    try:
        assert asg.points("ex.check_window(answer)") == 7
    finally:
        del asg.POINTS_BY_CHECK["check_window"]


def pins(path: Path) -> dict[str, str]:
    lines = [line.split(";")[0].strip() for line in path.read_text().splitlines() if line and line[0] != "#"]
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in (line.split("==") for line in lines)}


def test_nbgrader_has_a_lock_of_its_own_that_adds_to_the_learners():
    """requirements-assignments.lock (make lock): nbgrader as pyproject.toml's group pins it, nothing twice."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    group = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["assignments"]
    extra, lock = pins(ROOT / "requirements-assignments.lock"), pins(ROOT / "requirements.lock")
    assert any(g.startswith(f"nbgrader=={extra['nbgrader']}") for g in group)
    assert not set(extra) & set(lock), "a package pinned in both locks"
    assert "nbgrader" not in (ROOT / "environment.yml").read_text().split("name:")[1], "not in the learner's env"


# --- the course folder: generate_assignment, deterministic, no solution in the student versions --------------------


def files(folder: Path) -> dict[str, bytes]:
    """Every file the build writes (nbgrader's gradebook and log aside: they hold times)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("gradebook.db", ".nbgrader.log")
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    need_nbgrader()
    root = tmp_path_factory.mktemp("assignments") / "course"
    built = asg.assignments()
    asg.write_source(root, built)
    asg.release(root, built)
    return root, built


def test_every_lesson_with_exercises_is_released(course):
    root, built = course
    assert [a.name for a in built] == [p.stem for p in LESSONS]
    for a in built:
        assert (root / "source" / a.name / f"{a.name}.ipynb").is_file()
        assert (root / "release" / a.name / f"{a.name}.ipynb").is_file()
        for rel in a.files:  # what a code cell reads, beside the notebook (08's recorded benchmark)
            assert (root / "release" / a.name / rel).is_file()


def test_generation_is_deterministic(course, tmp_path):
    """The same bytes twice: every source notebook written again, two assignments released again (a release is an
    nbgrader run of a few seconds, the same code for every lesson)."""
    root, built = course
    again = tmp_path / "course"
    asg.write_source(again, built)
    twice = {built[0].name, GRADED}
    asg.release(again, [a for a in built if a.name in twice])
    second = files(again)
    first = {k: v for k, v in files(root).items() if not k.startswith("release/") or k.split("/")[1] in twice}
    assert first.keys() == second.keys()
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"not the same bytes twice: {differ}"


def test_new_gradebooks_ask_alembic_once_per_process(course, tmp_path, monkeypatch):
    """nbgrader writes its migrations' head into each new gradebook, from the ``alembic heads`` command (4-5 s);
    after ``on_path`` a process asks once: the release's gradebook holds that head, and two more new gradebooks get
    it with no command run."""
    import sqlite3

    import nbgrader.api

    root, _ = course
    asg.on_path()
    head = nbgrader.api.get_alembic_version()  # asked here if no gradebook was made since on_path
    assert re.fullmatch(r"[0-9a-f]{12}", head), head
    commands = []
    real = nbgrader.api.sp.check_output
    monkeypatch.setattr(nbgrader.api.sp, "check_output", lambda args, **kw: commands.append(args) or real(args, **kw))
    for name in ("first.db", "second.db"):
        with nbgrader.api.Gradebook(f"sqlite:///{tmp_path / name}", asg.COURSE_ID):
            pass
    assert commands == [], "a new gradebook ran alembic again"
    for db_path in (root / "gradebook.db", tmp_path / "first.db", tmp_path / "second.db"):
        with sqlite3.connect(db_path) as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)], db_path


def solution_lines(a: asg.Assignment, source_nb) -> set[str]:
    """The lines of the worked solutions that nothing else in the lesson holds (what must not be released)."""
    regions, rest = [], []
    for cell in source_nb.cells:
        if asg.BEGIN in cell.source:
            before, region = cell.source.split(asg.BEGIN, 1)
            regions.append(region.split(asg.END)[0])
            rest.append(before)
        else:
            rest.append(cell.source)
    others = "\n".join(rest)
    return {
        line.strip()
        for region in regions
        for line in region.splitlines()
        if len(line.strip()) > 8 and not line.strip().startswith("#") and line.strip() not in others
    }


def test_the_student_versions_hold_no_solution_and_lock_every_check(course):
    root, built = course
    for a in built:
        text = (root / "release" / a.name / f"{a.name}.ipynb").read_text()
        for needle in (asg.BEGIN, asg.END, 'class="solution"', "Worked solution"):
            assert needle not in text, f"{a.name}: the student version holds {needle!r}"
        leaked = [line for line in solution_lines(a, a.nb) if line in text or json.dumps(line)[1:-1] in text]
        assert not leaked, f"{a.name}: solution lines in the student version: {leaked}"
        nb = nbformat.reads(text, as_version=4)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(tests) == len(a.points)
        assert all(c.metadata["editable"] is False and c.metadata["deletable"] is False for c in tests)
        answers = [c for c in nb.cells if solution_cell(c)]
        assert all(asg.CODE_STUB in c.source and "..." in c.source for c in answers)


# --- grading, as a lecturer would ---------------------------------------------------------------------------------


def one_answer_with_slip(student, source, variable: str, line: str):
    """The untouched student version with one answer cell filled in: that of the source version's answer cells which
    assigns ``variable`` (its worked solution, without nbgrader's markers), then ``line`` (after it, so it wins)."""
    nb = nbformat.reads(nbformat.writes(student), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if solution_cell(c)}
    grade_id, answer = next((k, a) for k, a in answers.items() if re.search(rf"^{variable} = ", a, re.M))
    cell = next(c for c in nb.cells if solution_cell(c) and c.metadata["nbgrader"]["grade_id"] == grade_id)
    kept = [x for x in answer.splitlines() if x.strip() not in (asg.BEGIN, asg.END)]
    cell.source = "\n".join([*kept, line])
    return nb


def test_autograde_full_marks_zero_and_one_slip(course, tmp_path):
    """Two submissions, autograded as a lecturer would: the source version (full marks, nothing raises), and the
    student version as released, untouched but for one answer cell, answered with one slip (only the partner check in
    that cell scores; the slipped check fails with the course's hint, which the feedback shows; every untouched
    check scores zero, failing only as "not answered yet"). Each submission runs the whole lesson: two, not three
    (an untouched version of its own would run it again to check what the untouched cells already do)."""
    root, built = course
    a = next(a for a in built if a.name == GRADED)
    if not solved(ROOT / "notebooks" / f"{GRADED}.ipynb"):
        pytest.fail(f"{GRADED} has an exercise without a worked solution (tests/test_solutions.py says which)")
    work = asg.grading_copy(root, tmp_path)
    source = nbformat.read(work / "source" / GRADED / f"{GRADED}.ipynb", as_version=4)
    student = nbformat.read(work / "release" / GRADED / f"{GRADED}.ipynb", as_version=4)
    variable, line, slipped = SLIP
    hint = slip_verdict()
    start = time.perf_counter()
    grades = asg.autograde(
        work, GRADED, {"solutions": source, "slip": one_answer_with_slip(student, source, variable, line)}
    )
    took = time.perf_counter() - start
    print(f"autograde of {GRADED}, 2 submissions: {took:.1f} s")
    most = dict(a.points)
    assert {k: m for k, (_, m) in grades["solutions"].items()} == most
    assert {k: s for k, (s, _) in grades["solutions"].items()} == most, "the source version scores full marks"
    assert not asg.errors_in(work, "solutions", GRADED), "no cell of the source version raises"
    slip_id, partner_id = (next(k for k in most if k.endswith(name)) for name in (slipped, PARTNER))
    scored = {k: s for k, (s, _) in grades["slip"].items() if s}
    assert scored == {partner_id: most[partner_id]}, f"the answered cell's right check alone scores: {scored}"
    graded = nbformat.read(work / "autograded" / "slip" / GRADED / f"{GRADED}.ipynb", as_version=4)
    index, cell = next(
        (i, c) for i, c in enumerate(graded.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == slip_id
    )
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "AssertionError" and hint in errors[0].evalue, cell.outputs
    # every other error is an untouched check's, as not answered yet
    assert [where for where, _ in asg.errors_in(work, "slip", GRADED, "not answered yet")] == [f"cell {index}"]
    asg.run_nbgrader("generate_feedback", work, GRADED, force=True)  # what the student reads: the hint is there
    page = (work / "feedback" / "slip" / GRADED / f"{GRADED}.html").read_text()
    assert hint in html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_student_version_runs_top_to_bottom(course):
    """In a fresh kernel as a learner runs it (no NBGRADER_EXECUTION): no error; each check not answered yet. On
    another lesson than the one autograded (RUN): two lessons' student versions run, not one twice."""
    from nbclient import NotebookClient

    root, built = course
    nb = nbformat.read(root / "release" / RUN / f"{RUN}.ipynb", as_version=4)
    assert "NBGRADER_EXECUTION" not in os.environ
    resources = {"metadata": {"path": str(root / "release" / RUN)}}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources=resources).execute()
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(next(a for a in built if a.name == RUN).points) > 0
    for cell in tests:
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert "not answered yet" in text, cell.outputs
