"""The notebooks prepared in memory for the site, the slides and the handouts (the files are never rewritten).

On an in-memory copy: links between notebooks point at the pages/decks, the generated navigation cells go, a widget
cell gets a still of its initial state (drawn with matplotlib's Agg backend), every figure gets the alt text stored
in its cell's metadata, and the worked solutions stay (site, answer keys) or go (slides).
"""

from __future__ import annotations

import ast
import base64
import functools
import html
import os
import re
from pathlib import Path

import nbformat
from _build import NAV_TAG, SOLUTION_TAG, lesson_paths, tagged, title_of, varies

HERE = Path(__file__).resolve().parent.parent  # notebooks/
LIVE_NOTE = (
    "A still of this panel at its starting values. The live version, with controls to move, runs in JupyterLab "
    "(<code>make lab</code>)."
)
LINK = re.compile(r"\]\((\d\d-[\w-]+)\.ipynb(#[^)\s]*)?\)")


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


@functools.cache
def static_panel(setup: str, source: str):
    """Run the setup cell and the widget cell with matplotlib's Agg backend, the panels static: the still.

    Drawn once per process (the same sources give the same still): the site and the slides show the same one."""
    import matplotlib

    matplotlib.use("Agg")
    from lessonlib.course import widgets

    namespace: dict = {"__name__": "__lesson__"}
    cwd = os.getcwd()
    os.chdir(HERE)  # as the notebook runs
    try:
        exec(compile(setup, "<setup cell>", "exec"), namespace)  # noqa: S102 - our own notebooks
        tree = ast.parse(source)
        last = tree.body.pop()
        if not isinstance(last, ast.Expr):
            raise SystemExit(f"a widget cell must end with the widget call, found: {source!r}")
        with widgets.static_panels():
            exec(compile(tree, "<widget cell>", "exec"), namespace)  # noqa: S102
            still = eval(compile(ast.Expression(last.value), "<widget cell>", "eval"), namespace)  # noqa: S307
    finally:
        os.chdir(cwd)
    if not isinstance(still, widgets.StaticPanel):
        raise SystemExit(f"{source!r} did not build a panel through widgets.panel")
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
    setup = setup_source(nb)  # before any cell is edited
    cells = []
    for cell in nb.cells:
        if tagged(cell, NAV_TAG) or (not solutions and tagged(cell, SOLUTION_TAG)):
            continue
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source)
        if is_widget_cell(cell):
            cell.outputs = still_outputs(static_panel(setup, cell.source))
        if cell.cell_type == "code" and varies(cell):
            cell.source = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""  # nbval's marker, not a lesson
        cells.append(cell)
    nb.cells = cells
    nb.metadata["title"] = title_of(nb)
    return nb


# --- slides: a slide per section, as the notebook's slide types say -------------------------------------------------
#
# _build.py gives every cell its slide type: a slide at the title and at each ``##`` section, a sub-slide at each
