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


@functools.cache
def _highlighted(source: str, language: str, magics: str | None) -> str:
    from nbconvert.filters.highlight import Highlight2HTML

    return Highlight2HTML(pygments_lexer=language)(source, None, {"magics_language": magics} if magics else None)


def _highlighter(nb):
    """nbconvert's ``highlight_code`` filter for ``nb`` (its language_info's lexer by default), memoized."""
    info = nb.metadata.get("language_info", {})
    lexer = info.get("pygments_lexer", info.get("name")) or "ipython3"

    def highlight_code(source: str, language: str | None = None, metadata: dict | None = None) -> str:
        return _highlighted(source, language or lexer, (metadata or {}).get("magics_language"))

    return highlight_code


# The elements nbconvert's HTMLExporter makes focusable (tabindex="0": a keyboard can reach and scroll them), as
# its template writes their opening tags: a cell's input area and every output.
_FOCUSABLE = re.compile(r'<div (?:id="[^"]*" )?class="(?:jp-Cell-inputWrapper|[^"]*\bjp-OutputArea-output\b[^"]*)"')


def exporter(kind: str, **kwargs):
    """nbconvert's exporter of our ``page`` or ``deck`` template.

    Three things only save time, the page is the same:
    - bleach's sanitizing of a code cell's highlighted source and of an HTML output (``clean_html``), and pygments'
      highlighting of a cell's source, are pure functions done once per text in a process, so that the deck of a
      lesson reuses its page's;
    - the notebook is validated once, after the preprocessors, instead of after each of them
      (``optimistic_validation``);
    - HTMLExporter's last step is left out: it parses each finished page again with BeautifulSoup's pure-Python
      parser (half of ``_site site --slides``: 23 s with it, 12 s without) to give alt text to images that have
      none and tabindex="0" to the input areas and outputs. Every image of ours has its own alt text (test_site
      fails one without), and the tabindex is added here to the same elements, in the template's own markup.
    """
    from nbconvert import HTMLExporter, SlidesExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Exporter(SlidesExporter if kind == "deck" else HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            """HTMLExporter's, without its BeautifulSoup pass (above)."""
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", _highlighter(nb))
            data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("filter_data_type", data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _FOCUSABLE.sub(lambda m: m.group(0) + ' tabindex="0"', html), resources

    return Exporter(
        template_name=kind,
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(TEMPLATES)],
        filters={"clean_html": _clean_html},
        optimistic_validation=True,
        **kwargs,
    )
