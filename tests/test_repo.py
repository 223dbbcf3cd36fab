"""Layer 5 (the repository itself): pins in step, notebooks stored executed, navigation generated."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    """requirements.lock as {package: version}, for the Python versions conda gets (3.11+)."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req, _, marker = line.partition(";")
        if "< '3.11'" in marker:
            continue
        name, version = req.strip().split("==")
        pins[norm(name)] = version
    return pins


def environment_pins() -> tuple[dict[str, str], list[str]]:
    """environment.yml's conda and pip pins as {package: version}, and its other pip lines."""
    pins, other = {}, []
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.-]+)\s*(==|=)\s*([^\s#]+)", line)
        if m:
            pins[norm(m.group(1))] = m.group(3)
        elif re.match(r"^\s+- ", line):
            other.append(line.strip()[2:])
    return pins, other


def test_environment_yml_pins_what_the_lock_pins():
    lock, (env, _) = lock_pins(), environment_pins()
    env.pop("python")
    assert env, "environment.yml names no pinned packages"
    for name, version in env.items():
        assert name in lock, f"environment.yml pins {name}, which requirements.lock does not have"
        assert lock[name] == version, f"{name}: environment.yml has {version}, requirements.lock has {lock[name]}"


def test_environment_yml_names_every_direct_dependency():
    """Every package pyproject.toml asks for (library, course and test extras) is in environment.yml."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    env, other = environment_pins()
    for requirement in wanted:
        name = norm(re.split(r"[<>=!~ ]", requirement)[0])
        assert name in env, f"{name} (from pyproject.toml) is missing from environment.yml"
    assert "-e ." in other, "environment.yml must install lessonlib itself (pip: -e .)"
    assert env["torch"] == "2.13.0"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.find("\n## ", readme.find("make test"))]
    assert "make lab" in head and "make test" in head, "the two commands must come first in the README"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M), ".ci/run must call the README's test command"


def test_navigation_and_index_are_generated_and_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "notebooks" / "_build.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_executed_and_clean(path):
    nb = json.loads(path.read_text())
    assert "widgets" not in nb["metadata"], "widget state holds random ids: strip it (make notebooks does)"
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert code, "a notebook without code tests nothing"
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "every code cell must be stored executed (run `make notebooks`)"
    assert counts == list(range(1, len(code) + 1)), "outputs must come from one top-to-bottom run in a fresh kernel"
    for c in code:
        if "".join(c["source"]).lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            assert c["outputs"] == [], "a cell whose output varies is stored without it (make notebooks)"
        text = json.dumps(c["outputs"])
        assert '"output_type": "error"' not in text, "a stored output is an error"
        assert not re.search(r"/(tmp|work|root|home)/", text), "an output shows a path of this machine"
    tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
    assert tags[1] == ["navigation"] and tags[-1] == ["navigation"], "navigation at top and bottom"


def test_slides_start_at_every_section_and_render():
    """`make slides`: the build marks a new slide at the title and each section; nbconvert renders them."""
    nbconvert = pytest.importorskip("nbconvert")
    nb = json.loads((ROOT / "notebooks" / "00-start-here.ipynb").read_text())
    types = [c["metadata"].get("slideshow", {}).get("slide_type") for c in nb["cells"]]
    # a cell that continues its slide has no slide type: JupyterLab's slideshow never shows a "-" cell
    assert set(types) <= {"slide", "subslide", "skip", None}, f"slide types {sorted(set(types) - {None})}"
    assert types[0] == "slide" and types.count("skip") == 2, "a slide at the title; the two navigation cells skipped"
    headings = [c for c in nb["cells"] if c["cell_type"] == "markdown" and re.match(r"#{1,2} ", "".join(c["source"]))]
    assert all(c["metadata"]["slideshow"]["slide_type"] == "slide" for c in headings)
    html, _ = nbconvert.SlidesExporter().from_filename(str(ROOT / "notebooks" / "00-start-here.ipynb"))
    assert html.count("<section") >= len(headings) + 1


def test_nothing_refers_to_a_file_outside_the_repository():
    """The maintainers' guide is CONTRIBUTING.md, in the repository; no source, test or page cites another."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert "CONTRIBUTING.md" in tracked
    texts = [f for f in tracked if f.endswith((".py", ".md", ".toml", ".cfg", ".yml", ".j2", ".css", "Makefile"))]
    outside = "design" + ".md"  # spelt in two parts, so this file does not cite it
    citing = [f for f in texts if outside in (ROOT / f).read_text(encoding="utf-8")]
    assert citing == [], f"these cite {outside}, which is not in the repository: {citing}"


def test_the_lecture_targets_run_the_builders_the_tests_run():
    """make site/slides/handouts/assignments call the commands the browser and assignment tests call (CI runs the
    tests, not the targets): a dry run shows each command, naming a file that exists."""
    if not shutil.which("make"):
        pytest.skip("no make here")
    env = {**os.environ, "MAKEFLAGS": ""}
    for target, builder in [
        ("site", "notebooks/_site site"),
        ("slides", "notebooks/_site slides"),
        ("handouts", "notebooks/_site handouts"),
        ("assignments", "notebooks/_assignments.py"),
    ]:
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        assert builder in done.stdout, f"make {target} does not run {builder}: {done.stdout}"
        assert (ROOT / builder.split()[0]).exists()
