"""Build the lecture material from the stored notebooks: an offline site, reveal.js slides, A4 handouts.

    python notebooks/_site.py site build/site           # index.html + a page per lesson, opens from file://
    python notebooks/_site.py slides build/slides       # a reveal.js deck per lesson, presents from disk
    python notebooks/_site.py handouts build/handouts   # a PDF per lesson: chromium prints the site's pages (A4)
    python notebooks/_site.py alt-check                 # exit 1 if an image output (or a widget cell) has no alt

Everything works on in-memory copies: the notebooks are never rewritten. On those copies:
- links between notebooks (``02-momentum.ipynb``, ``01-ema.ipynb#Some-heading``) point at the pages/decks;
- the generated navigation cells are dropped (the pages carry their own previous/next and table of contents);
- a widget cell (``widgets.ema_widget()``, stored without output) gets a still of its initial state, drawn by
  running the notebook's setup cell and the widget cell under matplotlib's Agg backend inside
  ``lessonlib.course.widgets.static_panels()``, and a line saying the live version runs in JupyterLab;
- every figure gets the alt text stored in its cell's metadata (``"alt"``: a string, or a list, one per image);
- a slide starts at each ``#``/``##`` heading (the ``slideshow`` metadata ``_build.py`` writes), and a section
  too tall for one 1280x720 slide is cut into sub-slides at cell boundaries (what still does not fit scrolls
  inside its slide).

Web assets come from ``node_modules/`` (``package.json``, pinned by ``package-lock.json``, ``npm ci``): MathJax 3
(``tex-svg-full.js``: one file, no fonts to load) and reveal.js 5; they are copied next to the pages, so a
built folder works on its own, from disk, with no network.
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import html
import json
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
from _build import INDEX, INDEX_TAG, NAV_TAG, index_markdown, lesson_paths, tagged, title_of, varies  # noqa: E402

TEMPLATES = HERE / "_templates"
NODE = ROOT / "node_modules"
ASSETS = "assets"
MATHJAX = "mathjax/es5/tex-svg-full.js"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css", "plugin/notes/notes.js")
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
LIVE_NOTE = (
    "A still of this panel at its starting values. The live version, with controls to move, runs in JupyterLab "
    "(<code>make lab</code>)."
)
LINK = re.compile(r"\]\((\d\d-[\w-]+)\.ipynb(#[^)\s]*)?\)")
HEADING = re.compile(r"#{1,2} ")


class MissingAssets(SystemExit):
    pass


# --- the notebooks, prepared in memory -------------------------------------------------------------------------------


def page_name(path: Path) -> str:
    return path.stem + ".html"


def rewrite_links(source: str) -> str:
    """``[..](02-momentum.ipynb#Some-heading)`` -> ``[..](02-momentum.html#Some-heading)`` (pages and decks alike)."""
    return LINK.sub(lambda m: f"]({m.group(1)}.html{m.group(2) or ''})", source)


def is_section(cell) -> bool:
    """A cell that starts a slide: a markdown cell that begins with a ``#`` or ``##`` heading (navigation aside)."""
    return cell.cell_type == "markdown" and not tagged(cell, NAV_TAG) and bool(HEADING.match(cell.source))


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


def prepared(path: Path):
    """An in-memory copy of a notebook, ready to render (see the module's docstring)."""
    nb = nbformat.read(path, as_version=4)
    setup = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if tagged(cell, NAV_TAG):
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

SLIDE_H = 720 - 28  # the slide's height less its padding (deck.css)
PROSE_LINE, PROSE_CHARS = 27, 100  # 19 px text
CODE_LINE, CODE_CHARS = 19, 125  # 15 px code
IMG_MAX_H, IMG_MAX_W = 560, 1232


def wrapped(text: str, chars: int) -> int:
    return sum(max(1, math.ceil(len(line) / chars)) for line in text.splitlines()) if text else 0


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
    h = 16 + CODE_LINE * wrapped(cell.source, CODE_CHARS)
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


def png_size(b64: str) -> tuple[int, int]:
    head = base64.b64decode(b64[:64])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def paginate(nb) -> None:
    """Mark sub-slides where a section outgrows a slide; each continuation starts with the section's name."""
    cells, used, section = [], 0, ""
    for cell in nb.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        h = height_of(cell)
        if kind == "slide":
            section = re.sub(r"^#+\s*", "", cell.source.splitlines()[0])
            used = 0
        elif kind == "subslide":
            used = 0
        elif kind in ("-", "fragment") and used > 0 and used + h > SLIDE_H:
            note = nbformat.v4.new_markdown_cell(f'<p class="continued">{html.escape(section)} (continued)</p>')
            note.metadata["slideshow"] = {"slide_type": "subslide"}
            cells.append(note)
            used = 30
        used += h
        cells.append(cell)
    nb.cells = cells


# --- rendering -------------------------------------------------------------------------------------------------------


def node_package(name: str) -> Path:
    folder = NODE / name
    if not (folder / "package.json").is_file():
        raise MissingAssets(f"{folder} is missing: run `npm ci` (make site/slides/handouts does) first")
    return folder


def versions() -> dict[str, str]:
    return {n: json.loads((node_package(n) / "package.json").read_text())["version"] for n in ("mathjax", "reveal.js")}


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
            if rel.endswith("theme/white.css"):  # its one @import loads a web font: the system's sans-serif instead
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
    versions()
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
    """A deck per lesson in ``out`` (and an index.html listing them), with the assets they load; returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    versions()
    copy_assets(out, deck=True)
    deck = exporter("deck", reveal_url_prefix=f"{ASSETS}/reveal.js", reveal_theme="white")  # white: no web fonts
    links, slides, subslides = [], 0, 0
    for p in lesson_paths():
        nb = prepared(p)
        paginate(nb)
        body, _ = deck.from_notebook_node(nb, resources={"site": site_resources()})
        (out / page_name(p)).write_text(body, encoding="utf-8")
        n = sum(1 for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "slide")
        k = sum(1 for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "subslide")
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
    return {"decks": len(links), "slides": slides, "with_subslides": slides + subslides}


def print_pdf(page: Path, pdf: Path) -> None:
    """Chromium prints one page of the site (A4 from the page's @page rule), after MathJax has typeset it."""
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"no chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM=...)")
    with tempfile.TemporaryDirectory(prefix="handout-profile-") as profile:
        cmd = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=30000",
            f"--print-to-pdf={pdf}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise SystemExit(f"chromium could not print {page.name}: {done.stderr[-2000:]}")


def build_handouts(out: Path, site: Path | None = None, only: list[str] | None = None) -> dict:
    """A PDF per lesson in ``out``: the site's pages (built into a temporary folder unless ``site`` is given);
    ``only``: the lessons whose names start with one of these (``["01"]``), else all."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in lesson_paths() if not only or p.name.startswith(tuple(only))]
    with tempfile.TemporaryDirectory(prefix="site-") as tmp:
        if site is None:
            site = Path(tmp)
            build_site(site)
        for p in paths:
            print_pdf(site / page_name(p), out / (p.stem + ".pdf"))
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
        counts = build_handouts(args.out, args.site, args.only)
    took = time.perf_counter() - start
    print(f"{args.command}: {', '.join(f'{v} {k}' for k, v in counts.items())} in {args.out} ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
