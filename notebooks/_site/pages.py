"""The site: ``index.html`` and a page per lesson, with a table of contents and previous/next links."""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

import nbformat
from _build import INDEX, INDEX_TAG, index_markdown, lesson_paths, title_of

from _site.assets import copy_assets, exporter, require_assets, site_resources
from _site.prepare import image_count, page_name, prepared, rewrite_links


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
        id="index-intro",  # fixed ids (new cells get random ones): the same page every build
        source="# The Adam lessons\n\nA course that derives the Adam optimizer from its parents, one lesson at a time. "
        "Each lesson below is a notebook of the course, shown here with its stored outputs; open the notebooks in "
        "JupyterLab (`make lab`) to run them.",
    )
    listing = nbformat.v4.new_markdown_cell(rewrite_links(index_markdown(paths, titles)), id="index-lessons")
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
