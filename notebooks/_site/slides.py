"""The slides: a reveal.js deck per lesson, a slide per ``#``/``##`` section, as the notebook's slide types say.

``_build.py`` gives every cell its slide type: a slide at the title and at each ``##`` section, a sub-slide at each
exercise (and at a ``###`` heading or a cell tagged ``subslide``). A section taller than the 1280x720 slide scrolls
inside it (deck.css), as reveal.js allows; nothing is measured or cut here.
"""

from __future__ import annotations

import html
from pathlib import Path

from _build import lesson_paths

from _site.assets import ASSETS, copy_assets, exporter, require_assets, site_resources
from _site.prepare import page_name, prepared

DECK_READY = (
    "document.documentElement.dataset.math === 'typeset' && window.Reveal && Reveal.isReady()"
    " && Array.from(document.images).every(i => i.complete)"
)


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
