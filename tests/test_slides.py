"""The slide structure comes from the notebooks: a slide per ``#``/``##`` section, so every such heading begins
its cell; the lecture material (notebooks/_site) keeps that structure and gives every figure its alt text."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import _build
import nbformat
import pytest
from _site import assets, handouts, prepare

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

PATHS = _build.lesson_paths()


def cells_of(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_section_heading_begins_its_cell(path):
    inside = []
    for i, cell in enumerate(cells_of(path)):
        if cell.cell_type != "markdown":
            continue
        in_code = False
        for n, line in enumerate(cell.source.splitlines()):
            in_code ^= line.lstrip().startswith("```")
            if n and not in_code and _build.SECTION_HEADING.match(line):
                inside.append(f"cell {i}: {line!r}")
    assert not inside, f"{path.name}: a # or ## heading inside a cell (start a new cell there): {inside}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_a_slide_starts_at_each_section_and_nowhere_else(path):
    for i, cell in enumerate(cells_of(path)):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        assert (kind == "slide") == _build.is_section(cell), f"{path.name} cell {i}: slide_type {kind!r}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    for i, cell in enumerate(cells_of(path)):
        for alt in prepare.alt_texts(cell):
            assert len(alt.strip()) >= 40, f"{path.name} cell {i}: no alt text that says what the figure shows"


def test_alt_check_finds_nothing_missing():
    assert prepare.missing_alt() == []


def test_the_widget_cells_are_the_three_panels():
    found = {p.stem: [c.source.splitlines()[-1] for c in cells_of(p) if prepare.is_widget_cell(c)] for p in PATHS}
    assert {k: v for k, v in found.items() if v} == {
        "01-ema": ["widgets.ema_widget()"],
        "02-momentum": ["heavy_ball_figures.damping_widget()"],
        "04-adam": ["widgets.optimizer_widget()"],
    }


def test_links_between_notebooks_become_links_between_pages():
    src = "see [02](02-momentum.ipynb), [a section](01-ema.ipynb#The-recursion) and [web](https://example.org/x.ipynb)"
    assert prepare.rewrite_links(src) == (
        "see [02](02-momentum.html), [a section](01-ema.html#The-recursion) and [web](https://example.org/x.ipynb)"
    )


def test_the_deck_has_a_slide_per_section(tmp_path):
    why = assets.assets_missing()
    if why:  # under CI the assets must be there (make test installs them where npm is)
        (pytest.fail if os.environ.get("CI") in ("true", "1") else pytest.skip)(why)
    path = next(p for p in PATHS if p.name.startswith("01"))
    nb = prepare.prepared(path, solutions=False)
    body, _ = assets.exporter("deck", reveal_url_prefix="assets/reveal.js").from_notebook_node(
        nb, resources={"site": assets.site_resources()}
    )
    sections = sum(_build.is_section(c) for c in cells_of(path))
    inner = body.split('<div class="slides">', 1)[1]
    depth, top = 0, 0
    for tag in re.findall(r"<(/?)section\b", inner):
        if tag == "":
            top += depth == 0
            depth += 1
        else:
            depth -= 1
    assert top == sections
    assert "ema_widget" in body and "runs in JupyterLab" in body  # the panel's still, not nothing
    assert body.count("<img ") == len(re.findall(r'<img [^>]*alt="[^"]{40,}"', body)) == 4
    assert not re.search(r'(src|href)="(https?:)?//', body), "the deck loads something from the network"


def test_a_failed_print_leaves_no_old_pdf(tmp_path, monkeypatch):
    page, pdf = tmp_path / "01-ema.html", tmp_path / "01-ema.pdf"
    page.write_text("<p>a page</p>")
    pdf.write_bytes(b"%PDF- an old handout")
    monkeypatch.setattr(assets, "CHROMIUM", shutil.which("true") or "/bin/true")  # exits 0, prints nothing
    with pytest.raises(SystemExit, match="could not print"):
        handouts.print_pdf(page, pdf)
    assert not pdf.exists()


def test_exercises_third_level_headings_and_tagged_cells_begin_sub_slides():
    md = nbformat.v4.new_markdown_cell
    tagged = md("A cell the author wants on a slide of its own.")
    tagged.metadata["tags"] = [_build.SUBSLIDE_TAG]
    cells = [md("## A section"), md("Text."), md("### A part"), md("**Exercise 1.** Do it."), tagged]
    assert [_build.slide_type(c) for c in cells] == ["slide", None, "subslide", "subslide", "subslide"]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_the_slides_leave_the_worked_solutions_out_and_the_site_keeps_them(path):
    solutions = sum(1 for c in cells_of(path) if _build.tagged(c, _build.SOLUTION_TAG))
    site = prepare.prepared(path)
    deck = prepare.prepared(path, solutions=False)
    assert sum(1 for c in site.cells if _build.tagged(c, _build.SOLUTION_TAG)) == solutions
    assert not [c for c in deck.cells if _build.tagged(c, _build.SOLUTION_TAG) or "Worked solution" in c.source]
    assert len(site.cells) - len(deck.cells) == solutions
