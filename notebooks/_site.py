"""Build the lecture material from the stored notebooks: an offline site, reveal.js slides, A4 handouts.

    python notebooks/_site.py site build/site           # index.html + a page per lesson, opens from file://
    python notebooks/_site.py slides build/slides       # a reveal.js deck per lesson, presents from disk
    python notebooks/_site.py handouts build/handouts --site build/site  # a PDF per lesson: chromium prints the
                                                        # site's pages (A4); without --site it builds one to print
    python notebooks/_site.py alt-check                 # exit 1 if an image output (or a widget cell) has no alt

Everything works on in-memory copies: the notebooks are never rewritten. On those copies:
- links between notebooks (``02-momentum.ipynb``, ``01-ema.ipynb#Some-heading``) point at the pages/decks;
- the generated navigation cells are dropped (the pages carry their own previous/next and table of contents);
- a widget cell (``widgets.ema_widget()``, stored without output) gets a still of its initial state, drawn by
  running the notebook's setup cell and the widget cell under matplotlib's Agg backend inside
  ``lessonlib.course.widgets.static_panels()``, and a line saying the live version runs in JupyterLab;
- every figure gets the alt text stored in its cell's metadata (``"alt"``: a string, or a list, one per image);
- a slide starts at each ``#``/``##`` heading (the ``slideshow`` metadata ``_build.py`` writes), and a section
  too tall for one 1280x720 slide is cut into sub-slides between paragraphs, between a code cell's source and its
  output, or between statements of a long source, where chromium measures it overflowing (estimated where there
  is no chromium, or with ``SLIDES_LAYOUT=estimate``); only an output taller than 600 px scrolls, in its own box.

Web assets come from ``node_modules/`` (``package.json``, pinned by ``package-lock.json``, ``npm ci``): MathJax 3
(``tex-svg-full.js``: one file, math drawn as SVG, no font files) and reveal.js 5 (its script, its CSS, the
``white`` theme without the ``@import`` of the Source Sans Pro files reveal.js ships, the notes plugin); they are
copied next to the pages, so a built folder works on its own, from disk, with no network.
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import html
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _build import (  # noqa: E402
    INDEX,
    INDEX_TAG,
    NAV_TAG,
    SOLUTION_TAG,
    index_markdown,
    is_section,  # noqa: F401 - the section (= slide) rule, one copy: the tests ask _site.is_section
    lesson_paths,
    solution_code,  # noqa: F401 - the tests read a solution's code through _site
    tagged,
    title_of,
    varies,
)

TEMPLATES = HERE / "_templates"
NODE = ROOT / "node_modules"
ASSETS = "assets"
MATHJAX = "mathjax/es5/tex-svg-full.js"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "plugin/notes/notes.js")  # what decks link
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
LIVE_NOTE = (
    "A still of this panel at its starting values. The live version, with controls to move, runs in JupyterLab "
    "(<code>make lab</code>)."
)
LINK = re.compile(r"\]\((\d\d-[\w-]+)\.ipynb(#[^)\s]*)?\)")


class MissingAssets(SystemExit):
    pass


# --- the notebooks, prepared in memory -------------------------------------------------------------------------------


def page_name(path: Path) -> str:
    return path.stem + ".html"


def rewrite_links(source: str) -> str:
    """``[..](02-momentum.ipynb#Some-heading)`` -> ``[..](02-momentum.html#Some-heading)`` (pages and decks alike)."""
    return LINK.sub(lambda m: f"]({m.group(1)}.html{m.group(2) or ''})", source)


def image_count(cell) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def is_widget_cell(cell) -> bool:
    """A live panel: an ``# NBVAL_IGNORE_OUTPUT`` cell whose last line calls a ``*_widget()``."""
    if cell.cell_type != "code" or not varies(cell):
        return False
    last = cell.source.strip().splitlines()[-1]
    return bool(re.fullmatch(r"[\w.]+_widget\(\)", last.strip()))


def alt_texts(cell) -> list[str]:
    """The alt text of each image the cell makes (a string in the metadata applies to all of them)."""
    alt = cell.metadata.get("alt")
    n = max(image_count(cell), 1 if is_widget_cell(cell) else 0)
    if isinstance(alt, str):
        return [alt] * n
    if isinstance(alt, list):
        return [str(a) for a in alt] + [""] * (n - len(alt))
    return [""] * n


def missing_alt() -> list[str]:
    """``'NN-name.ipynb cell-07'`` for every image output and widget cell without (non-blank) alt text."""
    missing = []
    for path in lesson_paths():
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if any(not a.strip() for a in alt_texts(cell)):
                missing.append(f"{path.name} {cell.get('id', i)}")
    return missing


def setup_source(nb) -> str:
    """The notebook's setup cell: its first code cell (imports lessonlib, seeds, applies the course style)."""
    return next(c.source for c in nb.cells if c.cell_type == "code")


def static_panel(nb, cell):
    """Run the setup cell and the widget cell with matplotlib's Agg backend, the panels static: the still."""
    import matplotlib

    matplotlib.use("Agg")
    from lessonlib.course import widgets

    namespace: dict = {"__name__": "__lesson__"}
    cwd = os.getcwd()
    os.chdir(HERE)  # as the notebook runs
    try:
        exec(compile(setup_source(nb), "<setup cell>", "exec"), namespace)  # noqa: S102 - our own notebooks
        tree = ast.parse(cell.source)
        last = tree.body.pop()
        if not isinstance(last, ast.Expr):
            raise SystemExit(f"a widget cell must end with the widget call, found: {cell.source!r}")
        with widgets.static_panels():
            exec(compile(tree, "<widget cell>", "exec"), namespace)  # noqa: S102
            still = eval(compile(ast.Expression(last.value), "<widget cell>", "eval"), namespace)  # noqa: S307
    finally:
        os.chdir(cwd)
    if not isinstance(still, widgets.StaticPanel):
        raise SystemExit(f"{cell.source!r} did not build a panel through widgets.panel")
    return still


def still_outputs(still) -> list:
    image = nbformat.v4.new_output(
        "display_data",
        data={"image/png": base64.b64encode(still.png).decode(), "text/plain": "<the panel's initial figure>"},
        metadata={"image/png": {"width": still.width}},
    )
    note = nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": f'<p class="static-widget-text">{html.escape(still.text)}</p>\n'
            f'<p class="static-widget-note">{LIVE_NOTE}</p>',
            "text/plain": still.text,
        },
    )
    return [image, note]


def prepared(path: Path, *, solutions: bool = True):
    """An in-memory copy of a notebook, ready to render (see the module's docstring).

    ``solutions``: keep the worked solutions (collapsed ``<details>`` blocks: the site shows each behind a click);
    the slides leave them out.
    """
    nb = nbformat.read(path, as_version=4)
    setup = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if tagged(cell, NAV_TAG) or (not solutions and tagged(cell, SOLUTION_TAG)):
            continue
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source)
        if is_widget_cell(cell):
            cell.outputs = still_outputs(static_panel(setup, cell))
        if cell.cell_type == "code" and varies(cell):
            cell.source = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""  # nbval's marker, not a lesson
        cells.append(cell)
    nb.cells = cells
    nb.metadata["title"] = title_of(nb)
    return nb


# --- slides: cut a section that does not fit into sub-slides ---------------------------------------------------------
#
# A deck's cells are first cut into pieces (in memory): a markdown cell into its paragraphs, a code cell into its
# source (in runs of top-level statements) and each of its outputs. Every piece has a top and a bottom on its slide:
# measured in chromium where there is one (the deck is rendered once with every piece a cell of its own, and laid
# out at 1280x720), estimated from deck.css's fonts where there is not. A section then fills sub-slides greedily,
# keeping together what belongs together where it fits: a cell, then a code cell's source or outputs, then a
# paragraph or a statement; a heading or a lead-in ending in ":" moves on with what follows it. Pieces of one cell
# that land on the same sub-slide are joined again, so a section that fits looks as its notebook does.

PAD = 28  # the slide's padding, top and bottom together (deck.css: 14px each)
FIT = 720 - 8  # a sub-slide's content plus PAD (and a continuation note) may take this: 8 px to spare
NOTE_H = 34  # the "Section (continued)" line above a sub-slide's content
OUTPUT_MAX_H = 600  # deck.css: an output taller than this scrolls inside its own box
PROSE_LINE, PROSE_CHARS = 27, 100  # 19 px text
CODE_LINE, CODE_CHARS = 19, 125  # 15 px code
IMG_MAX_H, IMG_MAX_W = 560, 1232
HTML_BLOCKS = ("div", "details", "table", "figure", "section", "blockquote", "pre", "aside", "center")
LAYOUT = os.environ.get("SLIDES_LAYOUT", "measure")  # "estimate": never start chromium to lay the slides out


def md_blocks(source: str) -> list[tuple[int, int]]:
    """The paragraphs of a markdown cell as line ranges ``(start, end)``: cut at blank lines, except those inside
    display math (``$$ ... $$``, ``\\begin ... \\end``), fenced code and HTML blocks (a table has no blank line)."""
    lines = source.split("\n")
    blocks, start = [], None
    fence, dollars, env, tag = "", False, 0, ""
    for i, line in enumerate(lines):
        s = line.strip()
        if not s and not (fence or dollars or env > 0 or tag):
            if start is not None:
                blocks.append((start, i))
                start = None
            continue
        if start is None:
            start = i
        if fence:
            fence = "" if s.startswith(fence) else fence
            continue
        if s.startswith(("```", "~~~")):
            fence = s[:3]
            continue
        if tag:
            tag = "" if tag in s else tag
            continue
        opened = re.match(r"<(\w+)[\s>]", s)
        if s.startswith("<!--") and "-->" not in s:
            tag = "-->"
        elif opened and opened.group(1).lower() in HTML_BLOCKS and f"</{opened.group(1)}" not in s:
            tag = f"</{opened.group(1)}"
        dollars ^= line.count("$$") % 2 == 1
        env += len(re.findall(r"\\begin\{", line)) - len(re.findall(r"\\end\{", line))
    if start is not None:
        blocks.append((start, len(lines)))
    return blocks


def is_heading_only(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(re.match(r"#{1,6} ", line) or 'class="continued"' in line for line in lines)


def is_lead_in(text: str) -> bool:
    """A heading, or a paragraph that ends in ":" (it introduces what follows it)."""
    return is_heading_only(text) or text.rstrip().endswith(":")


def md_pieces(source: str) -> list[tuple[int, int]]:
    """The paragraphs a markdown cell may be cut between: a heading stays with what follows it, so does a lead-in
    ending in ":"; an indented block (a list item's continuation) or one that starts in lower case (``where ...``
    after a formula) stays with what precedes it."""
    lines = source.split("\n")
    pieces: list[list[int]] = []
    glue = False
    for a, b in md_blocks(source):
        first = lines[a]
        if pieces and (glue or first[:1].isspace() or first[:1].islower()):
            pieces[-1][1] = b
        else:
            pieces.append([a, b])
        glue = is_lead_in("\n".join(lines[a:b]))
    return [(a, b) for a, b in pieces] or [(0, len(lines))]


def code_pieces(source: str) -> list[tuple[int, int]]:
    """The runs of top-level statements a code cell's source may be cut between: at blank lines, where what
    comes before and after each parse on their own; a comment stays with the code under it."""
    lines = source.split("\n")
    try:
        ast.parse(source)
    except SyntaxError:
        return [(0, len(lines))]
    cuts = [i for i, line in enumerate(lines) if not line.strip() and i + 1 < len(lines) and lines[i + 1][:1].strip()]
    pieces, start = [], 0
    for cut in [*cuts, len(lines)]:
        text = "\n".join(lines[start:cut])
        if not text.strip():
            continue
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        if cut < len(lines) and all(line.lstrip().startswith("#") for line in lines[start:cut] if line.strip()):
            continue  # a comment: with the code below it
        pieces.append((start, cut))
        start = cut + 1
    if start < len(lines) and pieces:
        pieces[-1] = (pieces[-1][0], len(lines))
    return pieces or [(0, len(lines))]


class Piece:
    """A paragraph of a markdown cell (``md``), a run of a code cell's source (``src``) or one of its outputs
    (``out``): lines or outputs ``lo:hi`` of cell ``index`` of the deck's notebook."""

    def __init__(self, cell, index: int, part: str, lo: int, hi: int):
        self.cell, self.index, self.part, self.lo, self.hi = cell, index, part, lo, hi
        self.key = f"piece-{index}-{part}{lo}"
        text = "\n".join(cell.source.split("\n")[lo:hi]) if part == "md" else ""
        self.heading_only, self.lead_in = is_heading_only(text), part == "md" and is_lead_in(text)


def cell_unit(index: int, cell) -> list:
    """A cell as a tree of what to keep together: ``[pieces]`` for markdown, ``[[source], [outputs]]`` for code."""
    if cell.cell_type == "markdown":
        return [Piece(cell, index, "md", a, b) for a, b in md_pieces(cell.source)]
    if cell.cell_type != "code":
        return [Piece(cell, index, "md", 0, len(cell.source.split("\n")))]
    unit = [[Piece(cell, index, "src", a, b) for a, b in code_pieces(cell.source)]] if cell.source.strip() else []
    if cell.outputs:
        unit.append([Piece(cell, index, "out", k, k + 1) for k in range(len(cell.outputs))])
    return unit or [[Piece(cell, index, "src", 0, 1)]]


def leaves(unit) -> list[Piece]:
    return [unit] if isinstance(unit, Piece) else [p for u in unit for p in leaves(u)]


def piece_cell(pieces: list[Piece], cell_id: str | None = None):
    """One cell of the deck: pieces of one notebook cell, in order (the whole cell if they are all of it)."""
    first, orig = pieces[0], pieces[0].cell
    cell = copy.deepcopy(orig)
    lines = orig.source.split("\n")
    if orig.cell_type == "code":
        src = [p for p in pieces if p.part == "src"]
        out = [p for p in pieces if p.part == "out"]
        whole_src = not orig.source.strip() or bool(src and src[0].lo == 0 and src[-1].hi == len(lines))
        whole_out = not orig.outputs or bool(out and out[0].lo == 0 and out[-1].hi == len(orig.outputs))
        whole = whole_src and whole_out
        if not whole:
            cell.source = "\n".join(lines[src[0].lo : src[-1].hi]) if src else ""
            if not src:
                cell.metadata["transient"] = {"remove_source": True}
            lo, hi = (out[0].lo, out[-1].hi) if out else (0, 0)
            alts = iter(alt_texts(orig))
            images = [next(alts, "") if "image/png" in o.get("data", {}) else None for o in orig.outputs]
            cell.outputs = orig.outputs[lo:hi]
            if "alt" in cell.metadata:
                cell.metadata["alt"] = [a for a in images[lo:hi] if a is not None]
    else:
        whole = first.lo == 0 and pieces[-1].hi == len(lines)
        cell.source = "\n".join(lines[first.lo : pieces[-1].hi])
    if first.lo > 0 or first.part == "out":
        cell.metadata["slideshow"] = {"slide_type": "-"}
    if cell_id or not whole:
        cell.id = cell_id or f"{orig.get('id', 'cell')}-{first.part}{first.lo}"
    return cell


def joined(pieces: list[Piece]) -> list:
    """The deck cells of a sub-slide's pieces: consecutive pieces of one notebook cell joined again."""
    runs: list[list[Piece]] = []
    for p in pieces:
        if runs and runs[-1][-1].index == p.index:
            runs[-1].append(p)
        else:
            runs.append([p])
    return [piece_cell(run) for run in runs]


def continued(section: str, cell_id: str):
    note = nbformat.v4.new_markdown_cell(f'<p class="continued">{html.escape(section)} (continued)</p>')
    note.id = cell_id
    return note


def kind_of(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def groups_of(nb) -> list[tuple[str, list]]:
    """The deck's runs of cells that begin a slide or a sub-slide of their own: ``(section title, [cell units])``."""
    groups: list[tuple[str, list]] = []
    section = ""
    for i, cell in enumerate(nb.cells):
        kind = kind_of(cell)
        if kind == "skip":
            continue
        if kind == "slide":
            section = re.sub(r"^#+\s*", "", cell.source.splitlines()[0])
        if kind in ("slide", "subslide") or not groups:
            groups.append((section, []))
        groups[-1][1].append(cell_unit(i, cell))
    return groups


def estimated(piece: Piece) -> int:
    """A rough height in pixels of a piece on a 1280x720 slide (deck.css's fonts)."""
    cell = piece_cell([piece])
    h = height_of(cell)
    return min(h, OUTPUT_MAX_H + 16) if piece.part == "out" else h


def estimated_spans(groups) -> dict[str, tuple[float, float]]:
    """Tops and bottoms of the pieces, each group's stacked from the top of its slide; and each note's height."""
    spans = {}
    for g, (_, units) in enumerate(groups):
        y = PAD / 2
        for p in leaves(units):
            h = estimated(p)
            spans[p.key] = (y, y + h)
            y += h
        spans[f"note-{g}"] = (0, NOTE_H)
    return spans


def cut_group(units: list, spans: dict, note_h: float) -> list[list[Piece]]:
    """The sub-slides of one group: the pieces, in order, cut where the next unit does not fit."""
    slides: list[list[Piece]] = [[]]

    def fits(first: Piece, last: Piece, more: bool) -> bool:
        return spans[last.key][1] - spans[first.key][0] + PAD + (note_h if more else 0) <= FIT

    def substantive(pieces: list[Piece]) -> bool:
        return any(not p.heading_only for p in pieces)

    def new_slide(last: Piece) -> None:
        cur = slides[-1]
        carry = []
        if cur and cur[-1].lead_in and substantive(cur[:-1]) and fits(cur[-1], last, True):
            carry = [cur.pop()]  # a heading or a lead-in moves on with what it introduces
        slides.append(carry)

    def place(unit) -> None:
        ls, cur, more = leaves(unit), slides[-1], len(slides) > 1
        # a lead-in that cannot move on with all of the unit moves on with its first part (a code cell's source)
        orphan = bool(cur) and cur[-1].lead_in and substantive(cur[:-1]) and not fits(cur[-1], ls[-1], True)
        split = (
            orphan
            and not isinstance(unit, Piece)
            and len(unit) > 1
            and not all(p.part == "src" for p in ls)  # not in the middle of a source
            and fits(cur[-1], leaves(unit[0])[-1], True)
        )
        if fits(cur[0] if cur else ls[0], ls[-1], more):
            cur.extend(ls)
        elif substantive(cur) and fits(ls[0], ls[-1], True) and not split:
            new_slide(ls[-1])
            slides[-1].extend(ls)
        elif isinstance(unit, Piece) or len(unit) == 1 and isinstance(unit[0], Piece):
            if substantive(cur):
                new_slide(ls[-1])
            slides[-1].extend(ls)
        else:
            for child in unit:
                place(child)

    for unit in units:
        place(unit)
    return [s for s in slides if s]


def measuring_deck(nb, groups) -> object:
    """The deck laid out to be measured: every piece a cell of its own, each group's note at its end."""
    out = copy.copy(nb)
    cells = []
    for g, (section, units) in enumerate(groups):
        cells.extend(piece_cell([p], p.key) for p in leaves(units))
        cells.append(continued(section, f"note-{g}"))
    out.cells = cells
    return out


def paginate(nb, spans: dict | None = None) -> None:
    """Cut each section into sub-slides that fit 1280x720, at the tops and bottoms of ``spans`` (from
    :func:`measure`; estimated if not given); each continuation starts with the section's name."""
    groups = groups_of(nb)
    if spans is None or not all(p.key in spans for _, units in groups for p in leaves(units)):
        spans = estimated_spans(groups)
    cells = []
    for g, (section, units) in enumerate(groups):
        note_h = spans.get(f"note-{g}", (0, NOTE_H))
        for n, pieces in enumerate(cut_group(units, spans, note_h[1] - note_h[0])):
            if n:
                note = continued(section, f"continued-{g}-{n}")
                note.metadata["slideshow"] = {"slide_type": "subslide"}
                cells.append(note)
            cells.extend(joined(pieces))
    nb.cells = cells


CHROMIUM_FLAGS = [  # design.md section 3: without the background-networking flags chromium dials out
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DECK_READY = (
    "document.documentElement.dataset.math === 'typeset' && window.Reveal && Reveal.isReady()"
    " && Array.from(document.images).every(i => i.complete)"
)
MEASURE_JS = r"""() => {
  const out = {};
  document.querySelectorAll('.reveal .slides > section').forEach((top, h) => {
    top.querySelectorAll(':scope > section').forEach((leaf, v) => {
      Reveal.slide(h, v);
      const base = leaf.getBoundingClientRect().top - leaf.scrollTop;
      for (const cell of leaf.querySelectorAll(':scope > .jp-Cell')) {
        const r = cell.getBoundingClientRect();
        out[cell.id.replace(/^cell-id=/, '')] = [r.top - base, r.bottom - base];
      }
    });
  });
  return out;
}"""


def chromium_missing() -> str | None:
    """Why playwright cannot drive chromium here (None if it can): what the browser tests need too."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make .venv/.installed installs it)"
    return None if Path(CHROMIUM).is_file() else f"no chromium at {CHROMIUM}"


def browser_missing() -> str | None:
    """Why the slides cannot be measured in chromium (None if they can)."""
    return "SLIDES_LAYOUT=estimate" if LAYOUT == "estimate" else chromium_missing()


def measure(pages: dict[str, Path]) -> dict[str, dict]:
    """Open each deck in chromium at 1280x720 (all at once, from disk) and return, per deck, each cell's top and
    bottom on its slide."""
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            opened = {}
            for name, path in pages.items():
                opened[name] = context.new_page()
                opened[name].goto(path.resolve().as_uri(), wait_until="commit")
            for name, page in opened.items():
                page.wait_for_function(DECK_READY, timeout=120_000)
                page.add_style_tag(content=".reveal .slides > section > section { overflow-y: hidden !important; }")
                found[name] = page.evaluate(MEASURE_JS)
        finally:
            browser.close()
    return found


def height_of(cell) -> int:
    """A rough height in pixels of a cell on a 1280x720 slide (deck.css's fonts)."""
    if cell.cell_type == "markdown":
        h, in_math = 12, False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith("$$") or stripped.startswith("\\begin"):
                in_math = not (stripped.count("$$") == 2 or stripped.endswith("$$") and len(stripped) > 2)
                h += 40
            elif in_math:
                h += 34
                in_math = not stripped.endswith("$$")
            elif stripped.startswith("#"):
                h += 64
            elif not stripped:
                h += 8
            else:
                h += PROSE_LINE * wrapped(line, PROSE_CHARS)
        return h
    if cell.cell_type != "code":
        return 0
    h = 16 + CODE_LINE * wrapped(cell.source, CODE_CHARS) if cell.source.strip() else 8
    for out in cell.outputs:
        data = out.get("data", {})
        if out.output_type == "stream":
            h += 8 + CODE_LINE * wrapped(out.text, CODE_CHARS)
        elif "image/png" in data:
            w, ih = png_size(data["image/png"])
            width = out.get("metadata", {}).get("image/png", {}).get("width", w)
            scale = min(1.0, IMG_MAX_W / width, IMG_MAX_H / (ih * width / w))
            h += 10 + round(ih * width / w * scale)
        elif "text/html" in data:
            rows = data["text/html"].count("<tr")
            h += 16 + (32 * rows if rows else PROSE_LINE * wrapped(re.sub(r"<[^>]+>", "", data["text/html"]), 100))
        elif "text/plain" in data:
            h += 8 + CODE_LINE * wrapped(data["text/plain"], CODE_CHARS)
        elif out.output_type == "error":
            h += CODE_LINE * len(out.get("traceback", []))
    return h


def wrapped(text: str, chars: int) -> int:
    return sum(max(1, math.ceil(len(line) / chars)) for line in text.splitlines()) if text else 0


def png_size(b64: str) -> tuple[int, int]:
    head = base64.b64decode(b64[:64])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# --- rendering -------------------------------------------------------------------------------------------------------


NODE_PACKAGES = ("mathjax", "reveal.js")


def assets_missing() -> str | None:
    """Why the web assets cannot be copied (``node_modules/`` lacks MathJax or reveal.js), or None."""
    gone = [n for n in NODE_PACKAGES if not (NODE / n / "package.json").is_file()]
    if gone:
        return f"node_modules/ lacks {', '.join(gone)}: run `npm ci` (make site/slides/handouts does) first"
    return None


def require_assets() -> None:
    """Stop (:class:`MissingAssets`) unless ``node_modules/`` holds MathJax and reveal.js."""
    why = assets_missing()
    if why:
        raise MissingAssets(why)


def node_package(name: str) -> Path:
    require_assets()
    return NODE / name


def copy_assets(out: Path, *, deck: bool) -> None:
    assets = out / ASSETS
    target = assets / MATHJAX
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(node_package("mathjax") / "es5" / Path(MATHJAX).name, target)
    shutil.copy2(TEMPLATES / "course" / ("deck.css" if deck else "site.css"), assets)
    if deck:
        for rel in REVEAL_FILES:
            dest = assets / "reveal.js" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            # white.css's one @import loads the Source Sans Pro files reveal.js ships (dist/theme/fonts/); they are
            # not copied and the @import goes: deck.css sets a system sans-serif (Helvetica, Arial) instead
            if rel.endswith("theme/white.css"):
                text = (node_package("reveal.js") / rel).read_text(encoding="utf-8")
                dest.write_text(re.sub(r"@import url\([^)]*\);\n?", "", text), encoding="utf-8")
            else:
                shutil.copy2(node_package("reveal.js") / rel, dest)


def site_resources() -> dict:
    return {"mathjax": f"{ASSETS}/{MATHJAX}", "assets": ASSETS, "reveal": f"{ASSETS}/reveal.js"}


def exporter(kind: str, **kwargs):
    from nbconvert import HTMLExporter, SlidesExporter

    cls = SlidesExporter if kind == "deck" else HTMLExporter
    return cls(
        template_name=kind, extra_template_basedirs=[str(TEMPLATES)], extra_template_paths=[str(TEMPLATES)], **kwargs
    )


def headings(body: str) -> list[tuple[int, str, str]]:
    """``(level, id, text)`` of every h1/h2 of a rendered page."""
    found = []
    for m in re.finditer(r'<h([12]) id="([^"]+)">(.*?)</h\1>', body, flags=re.S):
        text = re.sub(r'<a class="anchor-link".*?</a>', "", m.group(3), flags=re.S)
        found.append((int(m.group(1)), m.group(2), re.sub(r"<[^>]+>", "", text).strip()))
    return found


def toc_html(pages: list[tuple[str, str]], current: str | None, sections: dict[str, list]) -> str:
    items = []
    for name, title in pages:
        here = name == current
        sub = ""
        if here:
            sub = "<ul>" + "".join(
                f'<li><a href="#{html.escape(i)}">{html.escape(t)}</a></li>' for lvl, i, t in sections[name] if lvl == 2
            )
            sub += "</ul>"
        cls = ' class="current"' if here else ""
        items.append(f'<li{cls}><a href="{name}">{html.escape(title)}</a>{sub}</li>')
    return '<a class="home" href="index.html">The Adam lessons: index</a>\n<ol start="0">' + "".join(items) + "</ol>"


def pager_html(pages: list[tuple[str, str]], i: int | None) -> str:
    prev = f'<a rel="prev" href="{pages[i - 1][0]}">← {html.escape(pages[i - 1][1])}</a>' if i else "<span></span>"
    nxt_i = 0 if i is None else i + 1
    nxt = (
        f'<a rel="next" href="{pages[nxt_i][0]}">{html.escape(pages[nxt_i][1])} →</a>'
        if nxt_i < len(pages)
        else "<span></span>"
    )
    return f'<nav class="course-pager" aria-label="Previous and next">{prev}<a href="index.html">Index</a>{nxt}</nav>'


def index_notebook(books: dict):
    """The site's index: the course map (figure and list of lessons), from 00's course map, as a notebook."""
    paths = lesson_paths()
    titles = {p.name: title_of(books[p.name]) for p in paths}
    start = books[INDEX]
    figure = next(c for c in start.cells if image_count(c))
    intro = nbformat.v4.new_markdown_cell(
        "# The Adam lessons\n\nA course that derives the Adam optimizer from its parents, one lesson at a time. "
        "Each lesson below is a notebook of the course, shown here with its stored outputs; open the notebooks in "
        "JupyterLab (`make lab`) to run them."
    )
    listing = nbformat.v4.new_markdown_cell(rewrite_links(index_markdown(paths, titles)))
    listing.metadata["tags"] = [INDEX_TAG]
    nb = nbformat.v4.new_notebook(cells=[intro, listing, copy.deepcopy(figure)], metadata=start.metadata)
    nb.metadata["title"] = "The Adam lessons"
    return nb


def build_site(out: Path) -> dict:
    """index.html and a page per lesson in ``out``, with the assets they load; returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    require_assets()
    copy_assets(out, deck=False)
    paths = lesson_paths()
    books = {p.name: prepared(p) for p in paths}
    pages = [(page_name(p), books[p.name].metadata["title"]) for p in paths]
    placeholder = "<!--course-toc-->"
    bodies, sections = {}, {}
    page = exporter("page")
    for i, p in enumerate(paths):
        name = page_name(p)
        res = {"site": {**site_resources(), "toc": placeholder, "pager": pager_html(pages, i)}}
        bodies[name], _ = page.from_notebook_node(books[p.name], resources=res)
        sections[name] = headings(bodies[name])
    index_page = exporter("page", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    res = {"site": {**site_resources(), "toc": placeholder, "pager": pager_html(pages, None)}}
    bodies["index.html"], _ = index_page.from_notebook_node(
        index_notebook({p.name: nbformat.read(p, as_version=4) for p in paths}), resources=res
    )
    for name, body in bodies.items():
        (out / name).write_text(body.replace(placeholder, toc_html(pages, name, sections)), encoding="utf-8")
    return {"pages": len(bodies)}


def build_slides(out: Path) -> dict:
    """A deck per lesson in ``out`` (and an index.html listing them), with the assets they load; returns counts.

    Each deck is rendered twice where chromium runs: every piece a cell of its own, to measure them, then cut
    into sub-slides at what was measured (see :func:`paginate`); else once, cut at estimated heights."""
    out.mkdir(parents=True, exist_ok=True)
    require_assets()
    copy_assets(out, deck=True)
    # white: the theme whose only font is an @import copy_assets drops (the fonts are deck.css's system ones)
    deck = exporter("deck", reveal_url_prefix=f"{ASSETS}/reveal.js", reveal_theme="white")
    resources = {"site": site_resources()}
    books = {p: prepared(p, solutions=False) for p in lesson_paths()}
    why = browser_missing()
    spans: dict[Path, dict] = {}
    if why is None:
        drafts: dict[Path, Path] = {}
        try:
            for p, nb in books.items():
                drafts[p] = out / f".measuring-{page_name(p)}"
                body = deck.from_notebook_node(measuring_deck(nb, groups_of(nb)), resources=resources)[0]
                drafts[p].write_text(body, encoding="utf-8")
            try:
                spans = measure(drafts)
            except Exception as exc:  # noqa: BLE001 - a browser that fails to lay them out: the estimate instead
                why = f"chromium failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                print(f"slides: {why}; cutting at estimated heights", file=sys.stderr)
        finally:
            for draft in drafts.values():
                draft.unlink(missing_ok=True)
    links, slides, subslides = [], 0, 0
    for p, nb in books.items():
        paginate(nb, spans.get(p))
        body, _ = deck.from_notebook_node(nb, resources=resources)
        (out / page_name(p)).write_text(body, encoding="utf-8")
        n = sum(1 for c in nb.cells if kind_of(c) == "slide")
        k = sum(1 for c in nb.cells if kind_of(c) == "subslide")
        slides, subslides = slides + n, subslides + k
        links.append(f'<li><a href="{page_name(p)}">{html.escape(nb.metadata["title"])}</a> ({n} slides)</li>')
    (out / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>The Adam lessons: slides</title>'
        "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.5}</style></head>\n"
        "<body><h1>The Adam lessons: slides</h1><p>One deck per lesson; arrow keys move between slides (right/left: "
        "sections, down/up: the parts of a long section), <kbd>s</kbd> opens the speaker view, <kbd>Esc</kbd> the "
        'overview.</p>\n<ol start="0">' + "\n".join(links) + "</ol></body></html>\n",
        encoding="utf-8",
    )
    layout = "measured in chromium" if why is None else f"estimated ({why})"
    return {"decks": len(links), "slides": slides, "with_subslides": slides + subslides, "layout": layout}


def print_pdf(page: Path, pdf: Path, *, solutions: bool = False) -> None:
    """Chromium prints one page of the site (A4 from the page's @page rule), after MathJax has typeset it.

    The worked solutions are left out of print unless ``solutions`` (the page opens them when its address ends in
    ``?solutions``: a lecturer's answer key)."""
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"no chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM=...)")
    pdf.unlink(missing_ok=True)  # a chromium that exits 0 without printing must not leave an old PDF passing
    with tempfile.TemporaryDirectory(prefix="handout-profile-") as profile:
        cmd = [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=30000",
            f"--print-to-pdf={pdf}",
            page.resolve().as_uri() + ("?solutions" if solutions else ""),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise SystemExit(f"chromium could not print {page.name}: {done.stderr[-2000:]}")


def build_handouts(
    out: Path, site: Path | None = None, only: list[str] | None = None, *, solutions: bool = False
) -> dict:
    """A PDF per lesson in ``out``: the site's pages (built into a temporary folder unless ``site`` is given);
    ``only``: the lessons whose names start with one of these (``["01"]``), else all; ``solutions``: print the
    worked solutions too (``NN-name-solutions.pdf``), else they are left out."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in lesson_paths() if not only or p.name.startswith(tuple(only))]
    with tempfile.TemporaryDirectory(prefix="site-") as tmp:
        if site is None:
            site = Path(tmp)
            build_site(site)
        for p in paths:
            name = p.stem + ("-solutions" if solutions else "") + ".pdf"
            print_pdf(site / page_name(p), out / name, solutions=solutions)
    return {"handouts": len(paths)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("site", "slides", "handouts"):
        one = sub.add_parser(name)
        one.add_argument("out", type=Path)
        if name == "handouts":
            one.add_argument("--site", type=Path, help="print this built site instead of building one")
            one.add_argument("--only", nargs="+", metavar="NN", help="only these lessons (file name prefixes)")
            one.add_argument("--solutions", action="store_true", help="print the worked solutions too (answer keys)")
    sub.add_parser("alt-check", help="exit 1 if an image output or widget cell has no alt text")
    args = parser.parse_args(argv)

    if args.command == "alt-check":
        missing = missing_alt()
        for m in missing:
            print(f"no alt text: {m}", file=sys.stderr)
        return 1 if missing else 0
    start = time.perf_counter()
    if args.command == "site":
        counts = build_site(args.out)
    elif args.command == "slides":
        counts = build_slides(args.out)
    else:
        counts = build_handouts(args.out, args.site, args.only, solutions=args.solutions)
    took = time.perf_counter() - start
    said = ", ".join(f"{v} {k}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items())
    print(f"{args.command}: {said} in {args.out} ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
