"""The slide structure comes from the notebooks: a slide per ``#``/``##`` section, so every such heading begins
its cell; the lecture material (notebooks/_site.py) keeps that structure and gives every figure its alt text."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import _build  # noqa: E402
import _site  # noqa: E402

PATHS = _site.lesson_paths()


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
    assert _site.is_section is _build.is_section  # one rule: the build writes it, the decks and tests read it
    for i, cell in enumerate(cells_of(path)):
        kind = cell.metadata.get("slideshow", {}).get("slide_type")
        assert (kind == "slide") == _site.is_section(cell), f"{path.name} cell {i}: slide_type {kind!r}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    for i, cell in enumerate(cells_of(path)):
        for alt in _site.alt_texts(cell):
            assert len(alt.strip()) >= 40, f"{path.name} cell {i}: no alt text that says what the figure shows"


def test_alt_check_finds_nothing_missing():
    assert _site.missing_alt() == []


def test_the_widget_cells_are_the_three_panels():
    found = {p.stem: [c.source.splitlines()[-1] for c in cells_of(p) if _site.is_widget_cell(c)] for p in PATHS}
    assert {k: v for k, v in found.items() if v} == {
        "01-ema": ["widgets.ema_widget()"],
        "02-momentum": ["momentum.damping_widget()"],
        "04-adam": ["widgets.optimizer_widget()"],
    }


def test_links_between_notebooks_become_links_between_pages():
    src = "see [02](02-momentum.ipynb), [a section](01-ema.ipynb#The-recursion) and [web](https://example.org/x.ipynb)"
    assert _site.rewrite_links(src) == (
        "see [02](02-momentum.html), [a section](01-ema.html#The-recursion) and [web](https://example.org/x.ipynb)"
    )


def test_a_long_section_is_cut_into_subslides_and_a_short_one_is_not():
    nb = nbformat.v4.new_notebook()
    head = nbformat.v4.new_markdown_cell("## A section")
    head.metadata["slideshow"] = {"slide_type": "slide"}
    short = nbformat.v4.new_markdown_cell("One line.")
    long_code = nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(20)))
    nb.cells = [head, short, long_code, long_code, long_code]
    _site.paginate(nb)
    kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    assert kinds.count("slide") == 1 and kinds.count("subslide") == 2
    assert "A section (continued)" in nb.cells[3].source
    nb.cells = [head, short]
    _site.paginate(nb)
    assert len(nb.cells) == 2


def pieces(source: str) -> list[str]:
    lines = source.split("\n")
    return ["\n".join(lines[a:b]) for a, b in _site.md_pieces(source)]


def test_a_markdown_cell_is_cut_between_paragraphs_only():
    source = "\n".join(
        [
            "### A heading",
            "",
            "stays with this paragraph.",
            "",
            "A lead-in to the formula:",
            "",
            "$$",
            "a = b",
            "",
            "c = d",
            "$$",
            "",
            "where the formula's blank line is not a paragraph's end.",
            "",
            "```python",
            "x = 1",
            "",
            "y = 2",
            "```",
            "",
            '<div class="box">',
            "",
            "inside a block",
            "",
            "</div>",
            "",
            "| a | b |",
            "|---|---|",
            "| 1 | 2 |",
            "",
            "- an item",
            "",
            "  its second paragraph",
            "- another item",
        ]
    )
    got = pieces(source)
    assert got[0] == "### A heading\n\nstays with this paragraph."
    assert got[1].startswith("A lead-in to the formula:\n\n$$\na = b\n\nc = d\n$$")
    assert got[1].endswith("where the formula's blank line is not a paragraph's end.")
    assert got[2] == "```python\nx = 1\n\ny = 2\n```"
    assert got[3] == '<div class="box">\n\ninside a block\n\n</div>'
    assert got[4] == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert got[5] == "- an item\n\n  its second paragraph\n- another item"
    assert len(got) == 6
    assert pieces("One paragraph.") == ["One paragraph."]


def test_a_code_cell_is_cut_between_top_level_statements_only():
    source = "import math\n\n\ndef f(x):\n    y = x\n\n    return y\n\n# the answer\nf(42)"
    lines = source.split("\n")
    got = ["\n".join(lines[a:b]) for a, b in _site.code_pieces(source)]
    assert got == ["import math\n", "def f(x):\n    y = x\n\n    return y", "# the answer\nf(42)"]
    assert _site.code_pieces("%time f(\n\n1)") == [(0, 3)]  # not Python: one piece


def section(*cells):
    nb = nbformat.v4.new_notebook()
    head = nbformat.v4.new_markdown_cell("## A section")
    head.metadata["slideshow"] = {"slide_type": "slide"}
    nb.cells = [head, *cells]
    return nb


def test_a_code_cell_too_tall_with_its_output_has_the_output_on_the_next_subslide():
    code = nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(20)))
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(20)))]
    code.metadata["alt"] = []
    nb = section(code)
    _site.paginate(nb)
    assert [_site.kind_of(c) for c in nb.cells] == ["slide", "-", "subslide", "-"]
    source, note, output = nb.cells[1:]
    assert source.source == code.source and source.outputs == []
    assert "A section (continued)" in note.source
    assert output.outputs == code.outputs and output.metadata["transient"] == {"remove_source": True}


def test_a_long_derivation_is_cut_between_its_paragraphs_and_a_short_section_is_left_as_it_is():
    long = nbformat.v4.new_markdown_cell("\n\n".join(f"Paragraph {i}: " + "words " * 90 for i in range(10)))
    nb = section(long)
    _site.paginate(nb)
    kinds = [_site.kind_of(c) for c in nb.cells]
    assert kinds[0] == "slide" and kinds.count("subslide") >= 2
    text = [c.source for c in nb.cells if "continued" not in c.source]
    assert "\n\n".join(text[1:]) == long.source  # every paragraph, once, in order
    nb = section(nbformat.v4.new_markdown_cell("Short.\n\nTwo paragraphs."))
    before = [c.source for c in nb.cells]
    _site.paginate(nb)
    assert [c.source for c in nb.cells] == before


def test_measured_spans_decide_the_cuts():
    nb = section(nbformat.v4.new_markdown_cell("One.\n\nTwo."))
    groups = _site.groups_of(nb)
    head, one, two = _site.leaves(groups[0][1])
    spans = {head.key: (14, 60), one.key: (60, 600), two.key: (600, 700), "note-0": (0, 30)}
    _site.paginate(nb, spans)
    assert [c.source for c in nb.cells if "continued" not in c.source] == ["## A section", "One.", "Two."]
    assert [_site.kind_of(c) for c in nb.cells] == ["slide", "-", "subslide", "-"]


def test_the_deck_has_a_slide_per_section(tmp_path):
    why = _site.assets_missing()
    if why:
        pytest.skip(why)
    path = next(p for p in PATHS if p.name.startswith("01"))
    nb = _site.prepared(path)
    _site.paginate(nb)
    body, _ = _site.exporter("deck", reveal_url_prefix="assets/reveal.js").from_notebook_node(
        nb, resources={"site": _site.site_resources()}
    )
    sections = sum(_site.is_section(c) for c in cells_of(path))
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


def test_a_section_as_tall_as_the_slide_less_its_padding_is_not_cut():
    nb = section(nbformat.v4.new_markdown_cell("One.\n\nTwo."))
    head, one, two = _site.leaves(_site.groups_of(nb)[0][1])
    room = _site.FIT - _site.PAD  # 720 px less the padding and 8 px to spare
    spans = {head.key: (14, 60), one.key: (60, 400), two.key: (400, 14 + room), "note-0": (0, 30)}
    _site.paginate(nb, spans)
    assert [_site.kind_of(c) for c in nb.cells] == ["slide", "-"]
    spans[two.key] = (400, 14 + room + 1)
    nb = section(nbformat.v4.new_markdown_cell("One.\n\nTwo."))
    _site.paginate(nb, spans)
    assert [_site.kind_of(c) for c in nb.cells] == ["slide", "-", "subslide", "-"]


def test_a_failed_print_leaves_no_old_pdf(tmp_path, monkeypatch):
    page, pdf = tmp_path / "01-ema.html", tmp_path / "01-ema.pdf"
    page.write_text("<p>a page</p>")
    pdf.write_bytes(b"%PDF- an old handout")
    monkeypatch.setattr(_site, "CHROMIUM", shutil.which("true") or "/bin/true")  # exits 0, prints nothing
    with pytest.raises(SystemExit, match="could not print"):
        _site.print_pdf(page, pdf)
    assert not pdf.exists()


def test_measuring_drafts_are_removed_when_a_deck_fails_to_render(tmp_path, monkeypatch):
    why = _site.assets_missing()
    if why:
        pytest.skip(why)
    monkeypatch.setattr(_site, "lesson_paths", lambda: [p for p in PATHS if p.name.startswith(("03", "05"))])
    monkeypatch.setattr(_site, "browser_missing", lambda: None)
    calls = []

    def failing(nb, groups):
        calls.append(nb)
        if len(calls) == 2:
            raise RuntimeError("an export error")
        return real(nb, groups)

    real = _site.measuring_deck
    monkeypatch.setattr(_site, "measuring_deck", failing)
    with pytest.raises(RuntimeError, match="an export error"):
        _site.build_slides(tmp_path)
    assert len(calls) == 2 and list(tmp_path.glob(".measuring-*")) == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_the_slides_leave_the_worked_solutions_out_and_the_site_keeps_them(path):
    solutions = sum(1 for c in cells_of(path) if _build.tagged(c, _build.SOLUTION_TAG))
    site = _site.prepared(path)
    deck = _site.prepared(path, solutions=False)
    assert sum(1 for c in site.cells if _build.tagged(c, _build.SOLUTION_TAG)) == solutions
    assert not [c for c in deck.cells if _build.tagged(c, _build.SOLUTION_TAG) or "Worked solution" in c.source]
    assert len(site.cells) - len(deck.cells) == solutions
