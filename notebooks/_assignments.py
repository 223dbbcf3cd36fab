"""The course's exercises as nbgrader assignments, generated from the lessons (never kept by hand beside them).

    python notebooks/_assignments.py build/assignments            # source/ from every lesson, then release/
    python notebooks/_assignments.py build/assignments 04-adam    # only these lessons
    python notebooks/_assignments.py build/assignments --check    # autograde them as a lecturer would (below)

The folder it writes is an nbgrader course folder (``make assignments``):

    nbgrader_config.py          the course's settings for nbgrader (written here, regenerated every time)
    source/NN-name/NN-name.ipynb    the lesson with every worked solution filled in (the lecturer's version)
    release/NN-name/NN-name.ipynb   the student version, written by ``nbgrader generate_assignment``
    gradebook.db                nbgrader's gradebook (SQLite); kept across runs, never deleted here

A lesson becomes an assignment like this (the exercise model is ``notebooks/_build.py``'s):

- each exercise's answer cell becomes an autograded answer cell: the lesson's template lines (``answer = ...``,
  or the function to write) and after them, between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, the code of
  the lesson's worked solution, which ``nbgrader generate_assignment`` removes from the student version;
- each check of the answer cell (``ex.check_window(answer)``) becomes a locked autograder test cell of its own,
  with its points: it shows the course's verdict and, while nbgrader grades or validates the notebook (nbgrader
  sets ``NBGRADER_EXECUTION``), asserts it, so a verdict other than "right" fails the cell and its message (the
  course's hint for the slip) is the feedback; run by hand in the lab, the cell shows the verdict and goes on,
  so the student version runs top to bottom without an error;
- the worked solution's markdown cell (tagged ``solution``) is left out of both versions (its code is the
  solution region; its prose is in the lessons and in ``make handouts SOLUTIONS=1``); the navigation cells are
  left out (their links point at the other lessons' files); the setup cell is locked (the autograder restores
  it) and followed by a locked cell that says what the test cells do (and imports ``os`` for them); everything
  else (narrative, figures, widgets, stored outputs) is the lesson's, after a first cell that says how to answer;
- a file a code cell reads by a relative path into the repository (08's ``../benchmarks/results/...``) is copied
  into the assignment's folder and the path in the cell shortened to match.

Points: ``POINTS`` below, in one place: per check, by the module it comes from, with ``POINTS_BY_CHECK`` to
override one check. An exercise whose answer cell has two checks (05's m_3 and v_3) gets a test cell for each,
so a learner who gets one of two quantities right keeps that one's points. An exercise without a worked solution
is written without a solution region and reported (exit status 1): its source version cannot score full marks.

``--check`` grades every lesson (or the named ones) as a lecturer would, in a temporary copy of the course with a
gradebook of its own: ``nbgrader autograde`` over a ``submitted/`` folder holding the source version (must score
full marks) and the untouched student version (must score zero, each test failing with "not answered yet"), and
prints the time it took. Neither may raise anywhere else: every other cell of the lesson runs as in the lesson.
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _build import NAV_TAG, SOLUTION_TAG, exercises, lesson_paths, tagged, title_of  # noqa: E402

COURSE_ID = "adam-lessons"

#: Points per check, by the module it comes from: ``ex`` (a number, a name or a ranking) or ``implement`` (a
#: function the learner writes, checked on the worked example and on random cases).
POINTS = {"ex": 1, "implement": 2}
#: ... and for a check named here, its own (e.g. ``{"check_adam_step": 3}``).
POINTS_BY_CHECK: dict[str, int] = {}

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
#: What the student version has where the solution region was (nbgrader's ClearSolutions.code_stub).
CODE_STUB = "# your answer: replace each ... above"

#: nbgrader's settings for this course, written as the course folder's nbgrader_config.py.
CONFIG = f'''\
# Written by notebooks/_assignments.py (make assignments): edit that script, not this file.
c = get_config()  # noqa: F821 - nbgrader's config loader defines it

c.CourseDirectory.course_id = "{COURSE_ID}"
# The student version keeps the lesson's template lines above each solution region; the region becomes this line.
c.ClearSolutions.code_stub = {{"python": "{CODE_STUB}"}}
# The student version keeps the lesson's stored outputs (figures, printed numbers): none of them holds a solution.
c.ClearOutput.enabled = False
# The lessons' experiments run for up to a few minutes (tuned sweeps, training on the digits).
c.Execute.timeout = 600
c.ExecutePreprocessor.timeout = 600
# Kernels get CurveZMQ keys, as in make lab (no "running over TCP without encryption" at every start).
c.KernelManager.transport_encryption = "auto"
'''


def points(check: str) -> int:
    """The points of one check call (``ex.check_window(answer)`` -> 1)."""
    module, name = check.split("(", 1)[0].split(".")
    return POINTS_BY_CHECK.get(name, POINTS[module])


def check_name(check: str) -> str:
    return check.split("(", 1)[0].split(".")[1]


def nbgrader_meta(grade_id: str, *, solution=False, grade=False, locked=False, pts: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = pts
    meta["task"] = False
    return meta


def test_source(check: str) -> str:
    """The autograder test cell of one check: it shows the verdict, and asserts it while nbgrader runs it."""
    return (
        f"verdict = {check}  # autograder test (locked): the course's check of your answer\n"
        "display(verdict)\n"
        'assert verdict or "NBGRADER_EXECUTION" not in os.environ, verdict  # fails only while nbgrader grades'
    )


#: A locked cell after the setup cell: what the test cells need, and what they do.
GRADING_SOURCE = """\
# The test cells after each answer are locked: they show the course's verdict on your answer. While nbgrader grades
# (or validates) this notebook, it sets NBGRADER_EXECUTION, and a test whose verdict is not "right" fails: its
# message is the check's hint, and the test's points are lost.
import os"""


@dataclass
class Assignment:
    """One lesson as an nbgrader source notebook, the files it reads, and what is missing from it."""

    name: str  # NN-name, the assignment's and its notebook's name
    nb: nbformat.NotebookNode
    files: dict[str, Path] = field(default_factory=dict)  # path inside the assignment's folder -> file to copy
    points: list[tuple[str, int]] = field(default_factory=list)  # (grade_id, points) of every test cell
    missing: list[str] = field(default_factory=list)  # exercises without a worked solution

    @property
    def total(self) -> int:
        return sum(p for _, p in self.points)


_RELATIVE = re.compile(r"""(["'])\.\./([A-Za-z0-9_./-]+)\1""")


def _localise_paths(source: str, files: dict[str, Path]) -> str:
    """``"../benchmarks/x.json"`` -> ``"benchmarks/x.json"``, where the file exists in the repository."""

    def local(m: re.Match) -> str:
        target = ROOT / m.group(2)
        if not target.is_file():
            return m.group(0)
        files[m.group(2)] = target
        return f"{m.group(1)}{m.group(2)}{m.group(1)}"

    return _RELATIVE.sub(local, source)


def _code_cell(source: str, cell_id: str, meta: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.id = cell_id
    cell.metadata = {"nbgrader": meta}
    return cell


def assignment(nb, name: str) -> Assignment:
    """The nbgrader source version of one lesson (its exercises' solutions filled in, its checks as tests)."""
    nb = copy.deepcopy(nb)
    out = Assignment(name, nb)
    found = {e.answer: e for e in exercises(nb)}
    solutions = {e.solution for e in found.values() if e.solution is not None}
    setup = next(
        (i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "lessonlib.exercises" in c.source), None
    )
    if found and setup is None:
        raise SystemExit(f"{name}: no setup cell (the first code cell that imports lessonlib.exercises)")
    cells = []
    for i, cell in enumerate(nb.cells):
        if i in solutions or tagged(cell, SOLUTION_TAG) or tagged(cell, NAV_TAG):  # every solution cell goes
            continue
        if cell.cell_type == "code":
            cell.source = _localise_paths(cell.source, out.files)
        if i == setup:
            cell.metadata["nbgrader"] = nbgrader_meta("setup", locked=True)
        if i not in found:
            cells.append(cell)
            if i == setup:
                cells.append(_code_cell(GRADING_SOURCE, "grading", nbgrader_meta("grading", locked=True)))
            continue
        e = found[i]
        k = list(found).index(i) + 1
        template = e.answer_source.rstrip()
        if e.solution_code is None:
            out.missing.append(f"{name}: the exercise in cell {i} ({', '.join(e.checks)}) has no worked solution")
            body = f"{template}\n{BEGIN}\n{END}"
        else:
            body = f"{template}\n{BEGIN}\n{e.solution_code.rstrip()}\n{END}"
        answer = _code_cell(body, cell.get("id", f"ex{k}-answer"), nbgrader_meta(f"ex{k}-answer", solution=True))
        answer.metadata = {**cell.metadata, "nbgrader": answer.metadata["nbgrader"]}
        cells.append(answer)
        for check in e.checks:
            grade_id, pts = f"ex{k}-{check_name(check)}", points(check)
            cells.append(
                _code_cell(test_source(check), grade_id, nbgrader_meta(grade_id, grade=True, locked=True, pts=pts))
            )
            out.points.append((grade_id, pts))
    title = title_of(nb)
    intro = nbformat.v4.new_markdown_cell(
        f"**Assignment: {title}.** Answer each exercise in its answer cell (replace each `...`), then run the cell "
        "after it: it shows the course's verdict, as in the lesson. Those test cells are locked; the autograder runs "
        f"them and gives each its points ({out.total} in all, {len(out.points)} checks). Run the whole notebook once "
        "before you submit it."
    )
    intro.id = "assignment-intro"
    cells.insert(1, intro)
    nb.cells = cells
    return out


def assignments(names: list[str] | None = None) -> list[Assignment]:
    """Every lesson that has exercises (or the named ones) as an assignment."""
    paths = [p for p in lesson_paths() if not names or p.stem in names or p.name in names]
    if names and len(paths) != len(names):
        raise SystemExit(f"no such lesson among {', '.join(names)}")
    built = [assignment(nbformat.read(p, as_version=4), p.stem) for p in paths]
    return [a for a in built if a.points]


def write_source(root: Path, built: list[Assignment]) -> None:
    """nbgrader_config.py and source/ (each assignment's folder rewritten whole)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    for a in built:
        folder = root / "source" / a.name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        nbformat.write(a.nb, folder / f"{a.name}.ipynb")
        for rel, src in sorted(a.files.items()):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, folder / rel)


def quiet() -> None:
    """nbgrader 0.9.6 with SQLAlchemy 2.1 warns of its own session use at every autograde (harmless)."""
    import warnings

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)


def on_path() -> None:
    """nbgrader runs ``alembic heads`` by name for every new gradebook (the head of its migrations, written into it):
    this environment's bin/ goes first on PATH, and the answer is kept for the rest of the process.

    (make does not activate the virtual environment, and a test may run without it.) The command takes 4-5 s (its
    migrations import nbgrader), and the installed migrations' head does not change while a process runs: the tests
    make three gradebooks (release, a second release, a grading copy) and ask once.
    """
    import nbgrader.api

    bin_dir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.cache(nbgrader.api.get_alembic_version)


def run_nbgrader(step: str, root: Path, assignment: str, **flags) -> None:
    """Run one of nbgrader's steps (``generate_assignment``, ``autograde``, ``generate_feedback``) on ``root``.

    In this process, through nbgrader's own converters (what its command line and formgrader run), with the
    course's nbgrader_config.py: nbgrader takes seconds to import, and a command per lesson paid that each time.
    """
    on_path()
    quiet()
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.Application.log_level = "WARN"
    steps = {"generate_assignment": GenerateAssignment, "autograde": Autograde, "generate_feedback": GenerateFeedback}
    coursedir = CourseDirectory(config=config, root=str(root), assignment_id=assignment)
    app = steps[step](coursedir=coursedir, config=config)
    for name, value in flags.items():
        setattr(app, name, value)
    app.start()


def release(root: Path, built: list[Assignment]) -> None:
    """``nbgrader generate_assignment`` for each assignment: the student versions in release/."""
    for a in built:
        run_nbgrader("generate_assignment", root, a.name, force=True, create_assignment=True)


# --- grading, as a lecturer would: submitted/ -> nbgrader autograde -> the gradebook -----------------------------


def grading_copy(root: Path, work: Path) -> Path:
    """A copy of the course folder (config, source, release) with an empty gradebook, to grade in."""
    course = work / "course"
    course.mkdir(parents=True)
    shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
    for part in ("source", "release"):
        shutil.copytree(root / part, course / part)
    return course


def autograde(course: Path, name: str, submissions: dict[str, nbformat.NotebookNode]) -> dict[str, dict]:
    """Submit each notebook as a student's ``name`` (with the release's other files), autograde, read the grades.

    Returns ``{student: {grade_id: (score, max_score)}}``. The assignment must be in the course's gradebook
    (``nbgrader generate_assignment`` puts it there; it is run here if not).
    """
    from nbgrader.api import Gradebook, MissingEntry

    on_path()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        try:
            gb.find_assignment(name)
        except MissingEntry:
            run_nbgrader("generate_assignment", course, name, force=True, create_assignment=True)
    for student, nb in submissions.items():
        folder = course / "submitted" / student / name
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(course / "release" / name, folder)
        nbformat.write(nb, folder / f"{name}.ipynb")
    run_nbgrader("autograde", course, name, force=True, create_student=True)
    grades = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        for student in submissions:
            notebook = gb.find_submission_notebook(name, name, student)
            grades[student] = {g.name: (g.score, g.max_score) for g in notebook.grades}
    return grades


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def errors_in(course: Path, student: str, name: str, verdict: str | None = None) -> list[tuple[str, str]]:
    """The errors in a student's graded notebook, but for test cells failing with ``verdict`` in their message
    (an AssertionError: the check's own verdict, e.g. "not answered yet")."""
    nb = read(course / "autograded" / student / name / f"{name}.ipynb")
    found = []
    for i, cell in enumerate(nb.cells):
        test = cell.metadata.get("nbgrader", {}).get("grade", False)
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            if test and verdict and out.ename == "AssertionError" and verdict in out.evalue:
                continue
            found.append((f"cell {i}", f"{out.ename}: {out.evalue}"[:300]))
    return found


def check(root: Path, names: list[str]) -> int:
    """Grade the source version (full marks) and the untouched student version (zero) of every named lesson."""
    failures, total_time = [], 0.0
    with tempfile.TemporaryDirectory(prefix="assignments-check-") as tmp:
        course = grading_copy(root, Path(tmp))
        for name in names:
            start = time.perf_counter()
            source = read(course / "source" / name / f"{name}.ipynb")
            student = read(course / "release" / name / f"{name}.ipynb")
            grades = autograde(course, name, {"solutions": source, "untouched": student})
            took = time.perf_counter() - start
            total_time += took
            full = sum(s for s, _ in grades["solutions"].values())
            most = sum(m for _, m in grades["solutions"].values())
            zero = sum(s for s, _ in grades["untouched"].values())
            errors = {
                "solutions": errors_in(course, "solutions", name),
                "untouched": errors_in(course, "untouched", name, verdict="not answered yet"),
            }
            print(f"{name}: source {full:g}/{most:g}, student version untouched {zero:g}/{most:g} ({took:.1f} s)")
            for who, found in errors.items():
                for where, error in found:
                    print(f"  {who}, {where}: {error}", file=sys.stderr)
            if full != most or zero != 0 or not most or any(errors.values()):
                failures.append(name)
    print(f"autograded {len(names)} lessons (2 submissions each) in {total_time:.0f} s")
    if failures:
        print("not as expected:", ", ".join(failures), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="the nbgrader course folder to write (build/assignments)")
    parser.add_argument("lessons", nargs="*", help="lessons to build (default: every lesson with exercises)")
    parser.add_argument("--check", action="store_true", help="autograde the built course instead of building it")
    args = parser.parse_intermixed_args(argv)
    names = [Path(n).stem for n in args.lessons] or None
    if args.check:
        return check(args.root, names or sorted(p.name for p in (args.root / "source").iterdir() if p.is_dir()))
    built = assignments(names)
    write_source(args.root, built)
    release(args.root, built)
    for a in built:
        print(f"{a.name}: {len(a.points)} checks, {a.total} points")
    missing = [m for a in built for m in a.missing]
    for m in missing:
        print(m, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
