"""The web assets every built folder carries (MathJax, reveal.js, the course's CSS), nbconvert's exporters, and
chromium (which prints the handouts and runs the browser tests).

Web assets come from ``node_modules/`` (``package.json``, pinned by ``package-lock.json``, ``npm ci``): MathJax 3
(``tex-svg-full.js``: one file, math drawn as SVG, no font files) and reveal.js 5 (its script, its CSS, the
``white`` theme without the ``@import`` of the Source Sans Pro files reveal.js ships, the notes plugin); they are
copied next to the pages, so a built folder works on its own, from disk, with no network.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "notebooks" / "_templates"
NODE = ROOT / "node_modules"
ASSETS = "assets"
MATHJAX = "mathjax/es5/tex-svg-full.js"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "plugin/notes/notes.js")  # what decks link
NODE_PACKAGES = ("mathjax", "reveal.js")
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
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


class MissingAssets(SystemExit):
    pass


def chromium_missing() -> str | None:
    """Why playwright cannot drive chromium here (None if it can): what the browser tests need too."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make .venv/.installed installs it)"
    return None if Path(CHROMIUM).is_file() else f"no chromium at {CHROMIUM}"


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


@functools.cache
def _clean_html(element) -> str:
    from nbconvert.filters.strings import clean_html

    return clean_html(element)


def exporter(kind: str, **kwargs):
    """nbconvert's exporter of our ``page`` or ``deck`` template.

    Two things only save time, the output is the same: bleach's sanitizing of a code cell's highlighted source
    and of an HTML output (``clean_html``, a pure function and a third of a page's conversion) is done once per
    text in a process, so that the deck of a lesson reuses its page's; and the notebook is validated once, after
    the preprocessors, instead of after each of them (``optimistic_validation``)."""
    from nbconvert import HTMLExporter, SlidesExporter

    cls = SlidesExporter if kind == "deck" else HTMLExporter
    return cls(
        template_name=kind,
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(TEMPLATES)],
        filters={"clean_html": _clean_html},
        optimistic_validation=True,
        **kwargs,
    )
