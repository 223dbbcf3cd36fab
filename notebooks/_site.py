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
- a slide starts at each ``#``/``##`` heading and a sub-slide at each exercise (the ``slideshow`` metadata
  ``_build.py`` writes); a section taller than the 1280x720 slide scrolls inside it (deck.css);
- the worked solutions are collapsed ``<details>`` on the site (a click opens one) and left out of the slides and,
  unless asked for, of the handouts.

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


# --- slides: a slide per section, as the notebook's slide types say -------------------------------------------------
#
# _build.py gives every cell its slide type: a slide at the title and at each ``##`` section, a sub-slide at each
# exercise (and at a ``###`` heading). A section taller than the 1280x720 slide scrolls inside it (deck.css), as
# reveal.js allows; nothing is measured or cut here.

CHROMIUM_FLAGS = [  # CONTRIBUTING.md section 5: without the background-networking flags chromium dials out
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


def chromium_missing() -> str | None:
    """Why playwright cannot drive chromium here (None if it can): what the browser tests need too."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make .venv/.installed installs it)"
    return None if Path(CHROMIUM).is_file() else f"no chromium at {CHROMIUM}"


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
    """A deck per lesson in ``out`` (and an index.html listing them), with the assets they load; returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    require_assets()
    copy_assets(out, deck=True)
    # white: the theme whose only font is an @import copy_assets drops (the fonts are deck.css's system ones)
    deck = exporter("deck", reveal_url_prefix=f"{ASSETS}/reveal.js", reveal_theme="white")
    resources = {"site": site_resources()}
    links, slides, subslides = [], 0, 0
    for p in lesson_paths():
        nb = prepared(p, solutions=False)
        body, _ = deck.from_notebook_node(nb, resources=resources)
        (out / page_name(p)).write_text(body, encoding="utf-8")
        kinds = [c.metadata.get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
        n, k = kinds.count("slide"), kinds.count("subslide")
        slides, subslides = slides + n, subslides + k
        links.append(f'<li><a href="{page_name(p)}">{html.escape(nb.metadata["title"])}</a> ({n} slides)</li>')
    (out / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>The Adam lessons: slides</title>'
        "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.5}</style></head>\n"
        "<body><h1>The Adam lessons: slides</h1><p>One deck per lesson; arrow keys move between slides (right/left: "
        "sections, down/up: a section's exercises), the mouse wheel or the scroll bar scrolls a long slide, "
        '<kbd>s</kbd> opens the speaker view, <kbd>Esc</kbd> the overview.</p>\n<ol start="0">'
        + "\n".join(links)
        + "</ol></body></html>\n",
        encoding="utf-8",
    )
    return {"decks": len(links), "slides": slides, "with_subslides": slides + subslides}


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
