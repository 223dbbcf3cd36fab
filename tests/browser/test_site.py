"""The lecture material in a real browser, network cut off: the offline site, the reveal.js decks, one handout.

Built once per session by ``notebooks/_site.py`` into a temporary folder. Every page and deck opens from
``file://``; any request that is not ``file:`` is blocked and fails the test, as does a console error.
Screenshots (index, a page, a slide, a handout page) go to the ``shots`` folder; with
``UPDATE_README_MEDIA=1`` the page and the slide are also copied to ``notebooks/_media/`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MEDIA = NOTEBOOKS / "_media"
UPDATE_MEDIA = bool(os.environ.get("UPDATE_README_MEDIA"))  # a test run leaves the tree alone unless asked
SITE_PY = NOTEBOOKS / "_site.py"
sys.path.insert(0, str(NOTEBOOKS))
import _site  # noqa: E402

LESSONS = _site.lesson_paths()
TYPESET = "document.documentElement.dataset.math === 'typeset'"
WHERE = "(() => { const i = Reveal.getIndices(); return {h: i.h, v: i.v}; })()"

# Visible prose (code and typeset math aside) still holding TeX delimiters; broken images; images without alt.
PAGE_FACTS = r"""() => {
  const prose = [];
  for (const el of document.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedHTML, .jp-RenderedMarkdown')) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('code, pre, mjx-container, script, style').forEach(e => e.remove());
    prose.push(copy.textContent);
  }
  const text = prose.join('\n');
  const raw = [];
  for (const d of ['$$', '$', '\\(', '\\)']) {
    const i = text.indexOf(d);
    if (i >= 0) raw.push(text.slice(i - 40, i + 40));
  }
  const images = Array.from(document.images);
  return {
    raw,
    errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    math: document.querySelectorAll('mjx-container').length,
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 60)),
    no_alt: images.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.src.slice(0, 60)),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  };
}"""


def sections(path: Path) -> int:
    return sum(_site.is_section(c) for c in nbformat.read(path, as_version=4).cells)


def figures(path: Path) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return sum(max(_site.image_count(c), int(_site.is_widget_cell(c))) for c in cells)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    if not (_site.NODE / "mathjax" / "package.json").is_file() or not (_site.NODE / "reveal.js").is_dir():
        why = "node_modules/ is missing (MathJax, reveal.js): run `npm ci`, or `make site slides`"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    out = tmp_path_factory.mktemp("lecture")
    folders = {"site": out / "site", "slides": out / "slides", "handouts": out / "handouts"}
    for kind in ("site", "slides"):
        subprocess.run([sys.executable, str(SITE_PY), kind, str(folders[kind])], check=True, timeout=600)
    return folders


def ids_in(page: Path, cache: dict) -> set[str]:
    if page not in cache:
        cache[page] = set(re.findall(r'\sid="([^"]+)"', page.read_text(encoding="utf-8")))
    return cache[page]


def check_links(links: list[str], root: Path, cache: dict) -> list[str]:
    """Every link to a local page must name an existing file, and its #anchor an existing id there."""
    bad = []
    for href in links:
        url = urlparse(href)
        if url.scheme != "file":
            continue  # links to the web (references) are not followed: the network is off
        target = Path(unquote(url.path))
        if not target.is_file() or root not in target.parents:
            bad.append(f"{href}: no such page")
        elif (
            url.fragment
            and not url.fragment.startswith("/")
            and not {url.fragment, unquote(url.fragment)} & ids_in(target, cache)
        ):  # as the HTML spec finds a fragment's element: the raw fragment, then the decoded one
            bad.append(f"{href}: no such anchor")
    return bad


def open_page(new_page, path: Path):
    watched = new_page()
    watched.page.goto(path.as_uri())
    watched.page.wait_for_function(TYPESET, timeout=60_000)
    return watched


def test_index_and_every_page_work_offline(built, new_page, shots):
    site = built["site"]
    names = ["index.html"] + [_site.page_name(p) for p in LESSONS]
    assert sorted(p.name for p in site.glob("*.html")) == sorted(names)
    cache, report = {}, []
    for name in names:
        watched = open_page(new_page, site / name)
        facts = watched.page.evaluate(PAGE_FACTS)
        assert watched.problems() == [], name
        assert facts["raw"] == [] and facts["errors"] == 0, f"{name}: math not typeset: {facts['raw']}"
        assert not facts["broken"] and not facts["no_alt"], name
        lesson = next((p for p in LESSONS if _site.page_name(p) == name), None)
        assert facts["images"] == (figures(lesson) if lesson else 1), name  # every figure, each widget's still
        assert facts["math"] > 0 or name == "index.html", name
        assert check_links(facts["links"], site, cache) == [], name
        if lesson:  # previous/next and the table of contents of all lessons
            toc = watched.page.locator(".course-toc > ol > li > a").evaluate_all("l => l.map(a => a.href)")
            assert [Path(urlparse(h).path).name for h in toc] == names[1:]
        report.append(f"{name}: {facts['math']} formulas, {facts['images']} figures, {len(facts['links'])} links")
        if name in ("index.html", "04-adam.html"):
            if name == "04-adam.html":
                still = watched.page.locator("img[alt^='The optimizer panel at its initial settings']")
                still.scroll_into_view_if_needed()
                watched.page.evaluate("window.scrollBy(0, -260)")
            shot = shots / f"site-{Path(name).stem}.png"
            watched.page.screenshot(path=str(shot))
            if name == "04-adam.html" and UPDATE_MEDIA:
                shutil.copy(shot, MEDIA / "site.png")
    print("\n".join(report))


SLIDE_FACTS = r"""() => {
  const out = [];
  const tops = Array.from(document.querySelectorAll('.reveal .slides > section'));
  tops.forEach((top, h) => {
    const leaves = top.querySelectorAll(':scope > section');
    leaves.forEach((leaf, v) => {
      Reveal.slide(h, v);
      const r = leaf.getBoundingClientRect();
      const below = (e) => e.getBoundingClientRect().bottom > r.bottom - 14 + 0.5;  // into the bottom padding
      const boxes = Array.from(leaf.querySelectorAll('.jp-OutputArea-output'));
      const first = leaf.querySelector(':scope > .jp-Cell');
      out.push({h, v, w: leaf.offsetWidth, hgt: leaf.offsetHeight, right: r.right, bottom: r.bottom,
                left: r.left, top: r.top, scrolls: leaf.scrollHeight > leaf.clientHeight + 1,
                cut: leaf.scrollWidth > leaf.clientWidth + 1,
                text_cut: Array.from(leaf.querySelectorAll(':scope > .jp-Cell, .jp-MarkdownOutput')).filter(below)
                  .map(e => e.textContent.trim().slice(0, 60)),
                box_cut: boxes.filter(below).length,
                box_scrolls: boxes.filter(b => b.scrollHeight > b.clientHeight + 1).length,
                continued: !!(first && first.querySelector('.continued')),
                math: leaf.querySelectorAll('mjx-container[display="true"]').length,
                img: leaf.querySelectorAll('img').length});
    });
  });
  Reveal.slide(0, 0);
  return {tops: tops.length, leaves: out};
}"""


def own_subslides(path: Path) -> int:
    """The sub-slides a lesson asks for itself (its exercises); every other one continues a section."""
    cells = nbformat.read(path, as_version=4).cells
    return sum(c.metadata.get("slideshow", {}).get("slide_type") == "subslide" for c in cells)


def where(leaves) -> list[str]:
    """``h.v``: where each of these slides is in its deck (as reveal.js numbers them, from 0)."""
    return [f"{s['h']}.{s['v']}" for s in leaves]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_deck_presents_offline_a_slide_per_section(built, new_page, shots, lesson):
    deck = built["slides"] / _site.page_name(lesson)
    watched = open_page(new_page, deck)
    page = watched.page
    page.wait_for_function(_site.DECK_READY, timeout=30_000)
    facts = page.evaluate(PAGE_FACTS)
    assert watched.problems() == []
    assert facts["raw"] == [] and facts["errors"] == 0, f"math not typeset: {facts['raw']}"
    assert not facts["broken"] and not facts["no_alt"] and facts["images"] == figures(lesson)
    assert check_links(facts["links"], built["slides"], {}) == []
    slides = page.evaluate(SLIDE_FACTS)
    leaves = slides["leaves"]
    assert slides["tops"] == sections(lesson), "a horizontal slide per # / ## section"
    too_big = [s for s in leaves if s["w"] > 1280 or s["hgt"] > 720 or s["right"] > 1280.5 or s["bottom"] > 720.5]
    assert too_big == [], "slides larger than 1280x720"
    assert [s for s in leaves if s["cut"]] == [], "content cut off at a slide's right edge"
    # nothing taller than its slide: only an output (a long table, a long print) may scroll, inside its own box
    assert where(s for s in leaves if s["scrolls"]) == [], "slides whose content is taller than 720 px"
    assert [(f"{s['h']}.{s['v']}", s["text_cut"]) for s in leaves if s["text_cut"]] == [], "text cut at the bottom"
    assert where(s for s in leaves if s["box_cut"]) == [], "an output box reaching below its slide"
    cut = [s for s in leaves if s["v"] > 0 and not s["continued"]]
    assert len(cut) == own_subslides(lesson), f"sub-slides that do not say which section they continue: {where(cut)}"
    boxes = sum(bool(s["box_scrolls"]) for s in leaves)
    print(f"{lesson.stem}: {slides['tops']} slides, {len(leaves)} with sub-slides, {boxes} with an output that scrolls")
    # the keyboard: right moves to the next section, down into a section's next part, left back
    page.locator(".reveal").click(position={"x": 640, "y": 300})
    page.keyboard.press("ArrowRight")
    assert page.evaluate(WHERE) == {"h": 1, "v": 0}
    tall = next((s["h"] for s in leaves if s["v"] == 1), None)
    if tall is not None:
        page.evaluate(f"Reveal.slide({tall}, 0)")
        page.keyboard.press("ArrowDown")
        assert page.evaluate(WHERE) == {"h": tall, "v": 1}
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(WHERE)["h"] == (tall - 1 if tall is not None else 0)
    assert watched.problems() == []
    if lesson.name.startswith("04"):
        # for the README: the derivation slide with the most displayed formulas; and one continued sub-slide
        shown = max(leaves, key=lambda s: (s["math"], -s["h"]))
        assert shown["math"] >= 2, "no derivation slide in 04"
        page.evaluate(f"Reveal.slide({shown['h']}, {shown['v']})")
        shot = shots / "slide-04-adam.png"
        page.screenshot(path=str(shot))
        if UPDATE_MEDIA:
            shutil.copy(shot, MEDIA / "slide.png")
        more = next(s for s in leaves if s["continued"] and s["img"])
        page.evaluate(f"Reveal.slide({more['h']}, {more['v']})")
        page.screenshot(path=str(shots / "slide-04-adam-continued.png"))


def test_a_handout_is_an_a4_pdf_with_its_math_typeset(built, shots):
    subprocess.run(
        [
            sys.executable,
            str(SITE_PY),
            "handouts",
            str(built["handouts"]),
            "--site",
            str(built["site"]),
            "--only",
            "01",
        ],
        check=True,
        timeout=600,
    )
    pdf = built["handouts"] / "01-ema.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages > 0 and len(boxes) >= pages
    assert all(abs(float(w) - 595.28) < 1 and abs(float(h) - 841.89) < 1 for w, h in boxes), "A4 is 595 x 842 pt"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        prose = [line for line in text.splitlines() if "$" in line and not re.search(r"[=(\"']", line)]
        assert "\\frac" not in text and prose == [], "raw TeX in the handout"
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "2",
                "-l",
                "2",
                "-singlefile",
                str(pdf),
                str(shots / "handout-01-ema"),
            ],
            check=True,
        )
        assert (shots / "handout-01-ema.png").stat().st_size > 0
    print(f"01-ema.pdf: {pages} A4 pages, {len(data) / 1e6:.1f} MB")
