"""The lecture material in a real browser, network cut off: the offline site, the reveal.js decks, the handouts.

Built once per session by ``notebooks/_site`` into a temporary folder (the current tree, never a stale
``build/``). Every page and deck opens from ``file://``; any request that is not ``file:`` is blocked and fails the
test, as does a console error. Every page is also laid out for print at the A4 page's printable width, and two
handouts (and an answer key) are printed by ``_site handouts`` and read back with poppler (``pdftotext``,
``pdfimages``, ``pdftoppm``: a skip without them, a failure under CI).

Each page and deck is loaded once, in one tab the pages follow each other in (:class:`Tabs`): the site's pages are
checked on screen and then, on the same load, laid out for print (as chromium prints a handout: typeset on screen,
then printed), and the print tests check what that layout measured.

Screenshots (index, a page, a slide, a handout page) go to the ``shots`` folder; with ``UPDATE_README_MEDIA=1`` the
page and the slide are also copied to ``notebooks/_media/`` for the README.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import _build
import nbformat
import pytest
from _site import assets, prepare
from _site.slides import DECK_READY

from tests.browser.conftest import VIEWPORT, Watched, watch

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MEDIA = NOTEBOOKS / "_media"
UPDATE_MEDIA = bool(os.environ.get("UPDATE_README_MEDIA"))  # a test run leaves the tree alone unless asked
SITE_PY = NOTEBOOKS / "_site"

LESSONS = _build.lesson_paths()
TYPESET = "document.documentElement.dataset.math === 'typeset'"
WHERE = "(() => { const i = Reveal.getIndices(); return {h: i.h, v: i.v}; })()"
CI = os.environ.get("CI") in ("true", "1")

# The one rule for TeX left untypeset, on pages, in decks and in a handout's text: `$$`, `\(` or `\[`; or an
# inline `$` followed, on its line and before another `$`, by a TeX command (`\alpha`) or a sub-/superscript
# (`_`, `^`); or a `$...$` of at most three characters (`$x$`, `$g$`).
RAW_TEX = re.compile(r"\$\$|\\[(\[]|\$[^$\n]{0,80}?(?:\\[A-Za-z]+|[\^_])|\$[^\s$][^$\n]{0,2}\$")


def raw_tex(text: str) -> list[str]:
    """Each place ``text`` still holds raw TeX (:data:`RAW_TEX`), with a little context."""
    return [text[max(m.start() - 30, 0) : m.end() + 30] for m in RAW_TEX.finditer(text)]


def test_the_raw_tex_rule():
    raws = ("$\\alpha=0.1$", "a $m_t$ b", "$x^2$", "$$ a = b $$", "\\(a\\)", "\\[a\\]", "the $g$ here", "($\\beta_1$)")
    for raw in raws:
        assert raw_tex(raw), raw
    for fine in ("costs 5 dollars", "a = (b, 'c')", "x_1 = y^2 in code", "α = 0.1", "$ pip install numpy", ""):
        assert raw_tex(fine) == [], fine


# Visible prose (code and typeset math aside), to check for raw TeX; broken images; images without alt; input
# areas and outputs a keyboard cannot reach (tabindex="0", as nbconvert gives them: _site.assets.exporter).
PAGE_FACTS = r"""() => {
  const prose = [];
  for (const el of document.querySelectorAll('.jp-MarkdownOutput, .jp-RenderedHTML, .jp-RenderedMarkdown')) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('code, pre, mjx-container, script, style').forEach(e => e.remove());
    prose.push(copy.textContent);
  }
  const images = Array.from(document.images);
  return {
    prose: prose.join('\n'),
    errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    math: document.querySelectorAll('mjx-container').length,
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 60)),
    no_alt: images.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.src.slice(0, 60)),
    unfocusable: document.querySelectorAll(
      '.jp-Cell-inputWrapper:not([tabindex="0"]), .jp-OutputArea-output:not([tabindex="0"])').length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  };
}"""


def sections(path: Path) -> int:
    return sum(_build.is_section(c) for c in nbformat.read(path, as_version=4).cells)


def figures(path: Path) -> int:
    cells = nbformat.read(path, as_version=4).cells
    return sum(max(prepare.image_count(c), int(prepare.is_widget_cell(c))) for c in cells)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    why = assets.assets_missing()
    if why:
        if CI:
            pytest.fail(why)
        pytest.skip(why)
    out = tmp_path_factory.mktemp("lecture")
    folders = {"site": out / "site", "slides": out / "slides", "handouts": out / "handouts", "keys": out / "keys"}
    # `site --slides`: the site and the slides `make site` and `make slides` build, in one process (each widget's
    # still drawn once, each cell's HTML sanitized once)
    build = [sys.executable, str(SITE_PY), "site", str(folders["site"]), "--slides", str(folders["slides"])]
    subprocess.run(build, check=True, timeout=600)
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


class Tabs:
    """The pages of a built folder, opened one after another in one tab: a 1280x720 page, as ``new_page`` opens one,
    on which every request that is not ``file:`` is blocked and recorded with the console errors and uncaught
    exceptions (``watch``), what it recorded cleared before each page. (A browser context per page would cost a
    context and a renderer process each time; the pages share nothing a test checks but the browser's cache.)"""

    def __init__(self, browser, folder: Path, ready: str):
        self.browser, self.folder, self.ready = browser, folder, ready
        self.context = None
        self.tab: Watched | None = None
        self.printed: dict[str, dict] = {}  # name -> what the page measured laid out for print (record_print)

    @contextmanager
    def open(self, name: str):
        """The page, loaded, with ``ready`` holding (the math typeset), on screen at 1280x720."""
        if self.tab is None or self.tab.page.is_closed():
            self.close()
            self.context = self.browser.new_context(viewport=VIEWPORT)
            self.tab = watch(self.context, ("file:",))
        watched, page = self.tab, self.tab.page
        page.goto("about:blank")  # the last page gone, then the screen as new_page's (a print test may have changed it)
        page.set_viewport_size(VIEWPORT)
        page.emulate_media(media="null")
        for found in (watched.blocked, watched.failed, watched.console_errors, watched.page_errors):
            found.clear()
        page.goto((self.folder / name).as_uri(), timeout=60_000)
        page.wait_for_function(self.ready, timeout=60_000)
        yield watched

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
        self.context, self.tab = None, None


@pytest.fixture(scope="module")
def site(browser, built):
    tabs = Tabs(browser, built["site"], TYPESET)
    yield tabs
    tabs.close()


@pytest.fixture(scope="module")
def decks(browser, built):
    tabs = Tabs(browser, built["slides"], DECK_READY)
    yield tabs
    tabs.close()


def test_index_and_every_page_work_offline(built, site, shots):
    names = ["index.html"] + [prepare.page_name(p) for p in LESSONS]
    assert sorted(p.name for p in built["site"].glob("*.html")) == sorted(names)
    cache, report = {}, []
    for name in names:
        with site.open(name) as watched:
            check_page(built["site"], name, watched, cache, report, shots)
            if name != "index.html":  # what the print test checks, measured on this load (record_print)
                record_print(site, name, watched)
    print("\n".join(report))


def check_page(folder: Path, name: str, watched: Watched, cache: dict, report: list[str], shots: Path) -> None:
    """One page of the site, on screen: offline, typeset, every figure with alt text, links and anchors valid."""
    facts = watched.page.evaluate(PAGE_FACTS)
    assert watched.problems() == [], name
    assert raw_tex(facts["prose"]) == [] and facts["errors"] == 0, f"{name}: math not typeset"
    assert not facts["broken"] and not facts["no_alt"] and facts["unfocusable"] == 0, name
    lesson = next((p for p in LESSONS if prepare.page_name(p) == name), None)
    assert facts["images"] == (figures(lesson) if lesson else 1), name  # every figure, each widget's still
    assert facts["math"] > 0 or name == "index.html", name
    assert check_links(facts["links"], folder, cache) == [], name
    if lesson:  # previous/next and the table of contents of all lessons
        toc = watched.page.locator(".course-toc > ol > li > a").evaluate_all("l => l.map(a => a.href)")
        assert [Path(urlparse(h).path).name for h in toc] == [prepare.page_name(p) for p in LESSONS]
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


SLIDE_FACTS = r"""() => {
  const out = [];
  const tops = Array.from(document.querySelectorAll('.reveal .slides > section'));
  tops.forEach((top, h) => {
    const leaves = top.querySelectorAll(':scope > section');
    leaves.forEach((leaf, v) => {
      Reveal.slide(h, v);
      const r = leaf.getBoundingClientRect();
      out.push({h, v, w: leaf.offsetWidth, hgt: leaf.offsetHeight, right: r.right, bottom: r.bottom,
                left: r.left, top: r.top, scrolls: leaf.scrollHeight > leaf.clientHeight + 1,
                overflow: leaf.scrollHeight - leaf.clientHeight,
                scrollable: ['auto', 'scroll'].includes(getComputedStyle(leaf).overflowY),
                cut: leaf.scrollWidth > leaf.clientWidth + 1,
                math: leaf.querySelectorAll('mjx-container[display="true"]').length,
                img: leaf.querySelectorAll('img').length});
    });
  });
  Reveal.slide(0, 0);
  return {tops: tops.length, leaves: out};
}"""


SCROLL_TO_END = r"""([h, v]) => {
  Reveal.slide(h, v);
  const leaf = document.querySelectorAll('.reveal .slides > section')[h].querySelectorAll(':scope > section')[v];
  leaf.scrollTop = leaf.scrollHeight;
  const cells = leaf.querySelectorAll(':scope > .jp-Cell');
  const end = cells[cells.length - 1].getBoundingClientRect(), box = leaf.getBoundingClientRect();
  // the last cell's last line is in view (its top may have scrolled above the slide: a cell nearly as
  // tall as the slide does not fit beside the slide's padding)
  return end.bottom <= box.bottom + 0.5 && end.bottom - 40 >= box.top;
}"""


def own_subslides(path: Path) -> int:
    """The sub-slides a lesson asks for itself (its exercises); every other one continues a section."""
    cells = nbformat.read(path, as_version=4).cells
    return sum(c.metadata.get("slideshow", {}).get("slide_type") == "subslide" for c in cells)


def where(leaves) -> list[str]:
    """``h.v``: where each of these slides is in its deck (as reveal.js numbers them, from 0)."""
    return [f"{s['h']}.{s['v']}" for s in leaves]


@pytest.fixture
def deck(decks, lesson) -> Watched:
    """The lesson's deck, presented: math typeset, reveal.js ready, every image loaded (DECK_READY)."""
    with decks.open(prepare.page_name(lesson)) as watched:
        yield watched


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_deck_presents_offline_a_slide_per_section(built, deck, shots, lesson):
    watched = deck
    page = watched.page
    facts = page.evaluate(PAGE_FACTS)
    assert watched.problems() == []
    assert raw_tex(facts["prose"]) == [] and facts["errors"] == 0, "math not typeset"
    assert not facts["broken"] and not facts["no_alt"] and facts["images"] == figures(lesson)
    assert facts["unfocusable"] == 0, "input areas or outputs without tabindex"
    assert check_links(facts["links"], built["slides"], {}) == []
    slides = page.evaluate(SLIDE_FACTS)
    leaves = slides["leaves"]
    assert slides["tops"] == sections(lesson), "a horizontal slide per # / ## section"
    too_big = [s for s in leaves if s["w"] > 1280 or s["hgt"] > 720 or s["right"] > 1280.5 or s["bottom"] > 720.5]
    assert too_big == [], "slides larger than 1280x720"
    assert [s for s in leaves if s["cut"]] == [], "content cut off at a slide's right edge"
    # a section taller than its slide scrolls inside it: the rest is reachable, never cut off
    assert where(s for s in leaves if s["scrolls"] and not s["scrollable"]) == [], "tall slides that do not scroll"
    subslides = [s for s in leaves if s["v"] > 0]
    assert len(subslides) == own_subslides(lesson), f"sub-slides the lesson did not ask for: {where(subslides)}"
    tall = [s for s in leaves if s["scrolls"]]
    print(f"{lesson.stem}: {slides['tops']} slides, {len(leaves)} with sub-slides, {len(tall)} of them scroll")
    if tall:  # the last line of the tallest slide comes into view when the slide is scrolled to its end
        last = max(tall, key=lambda s: s["overflow"])
        assert page.evaluate(SCROLL_TO_END, [last["h"], last["v"]]), f"{where([last])}: its end stays out of view"
    # the keyboard: right moves to the next section, down into a section's exercises, left back
    page.evaluate("Reveal.slide(0, 0)")
    page.locator(".reveal").click(position={"x": 640, "y": 300})
    page.keyboard.press("ArrowRight")
    assert page.evaluate(WHERE) == {"h": 1, "v": 0}
    down = next((s["h"] for s in leaves if s["v"] == 1), None)
    if down is not None:
        page.evaluate(f"Reveal.slide({down}, 0)")
        page.keyboard.press("ArrowDown")
        assert page.evaluate(WHERE) == {"h": down, "v": 1}
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(WHERE) == {"h": max(down - 1, 0) if down is not None else 0, "v": 0}
    assert watched.problems() == []
    if lesson.name.startswith("04"):
        # for the README: the derivation slide with the most displayed formulas; and a long slide scrolled
        shown = max(leaves, key=lambda s: (s["math"], -s["h"]))
        assert shown["math"] >= 2, "no derivation slide in 04"
        page.evaluate(f"Reveal.slide({shown['h']}, {shown['v']})")
        shot = shots / "slide-04-adam.png"
        page.screenshot(path=str(shot))
        if UPDATE_MEDIA:
            shutil.copy(shot, MEDIA / "slide.png")
        more = next(s for s in tall if s["img"])
        page.evaluate(SCROLL_TO_END, [more["h"], more["v"]])
        page.screenshot(path=str(shots / "slide-04-adam-scrolled.png"))


# --- the handouts: each page laid out for print, then the PDFs `_site handouts` prints ------------------------

MM = 96 / 25.4  # CSS px per mm
A4_MM = (210, 297)
A4_PT = (595.28, 841.89)


def page_margins() -> tuple[float, float]:
    """The @page margins of site.css (vertical, horizontal), in mm: what the printable area is."""
    css = (assets.TEMPLATES / "course" / "site.css").read_text(encoding="utf-8")
    rule = re.search(r"@page\s*\{[^}]*\bsize:\s*A4;[^}]*\bmargin:\s*([\d.]+)mm\s+([\d.]+)mm", css)
    assert rule, "site.css has no `@page { size: A4; margin: Vmm Hmm }`"
    return float(rule.group(1)), float(rule.group(2))


def printable_px() -> tuple[int, float]:
    """The printable width and height of an A4 page in CSS px: the width to lay a page out at for print."""
    v, h = page_margins()
    return round((A4_MM[0] - 2 * h) * MM), (A4_MM[1] - 2 * v) * MM


# What would be cut off on paper: a table, a code block or output (`pre`), an image, a displayed formula or an
# output area wider than its container or the page (scrollWidth > clientWidth: it scrolls, and paper does not).
PRINT_FACTS = r"""() => {
  const W = document.documentElement.clientWidth;
  const cut = [];
  const what = 'table, pre, img, mjx-container[display="true"], .jp-OutputArea-output, .jp-Cell, main';
  for (const el of document.querySelectorAll(what)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not shown in print (the table of contents)
    const box = el.parentElement.getBoundingClientRect();
    const wide = el.tagName !== 'IMG' && el.scrollWidth > el.clientWidth + 1;
    if (wide || r.left < -0.5 || r.right > W + 0.5 || r.right > box.right + 0.5)
      cut.push(`${el.tagName.toLowerCase()}.${el.className}: ${Math.round(el.scrollWidth)} px wide, ` +
               `${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(box.left)}..${Math.round(box.right)}` +
               ` (page ${W}): ${el.textContent.trim().slice(0, 50)}`);
  }
  const pre = Array.from(document.querySelectorAll('pre'));
  return {
    width: W, scroll_width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
    cut, tables: document.querySelectorAll('table').length, pre: pre.length,
    unwrapped: pre.filter(p => !getComputedStyle(p).whiteSpace.startsWith('pre-wrap')).length,
    toc_shown: Array.from(document.querySelectorAll('.course-toc, .course-pager')).some(e => e.offsetHeight > 0),
  };
}"""


def record_print(site: Tabs, name: str, watched: Watched) -> None:
    """Lay a typeset page out as the handout prints it (print media, the A4 page's printable width, network
    blocked) and keep what it measures for the print tests: chromium's ``--print-to-pdf`` too typesets a page on
    screen and then lays it out for print. (On every page this measures what a page loaded in print media at that
    width from the start does.)"""
    width, height = printable_px()
    page = watched.page
    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": width, "height": round(height)})
    page.emulate_media(media="print")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    site.printed[name] = {
        "facts": page.evaluate(PAGE_FACTS),
        "fit": page.evaluate(PRINT_FACTS),
        "problems": watched.problems(),
    }


def printed(site: Tabs, lesson: Path) -> dict:
    """What the lesson's page measured laid out for print: on the page test's load of it, or on a load of its own
    (when the page test did not get to it, or this test runs alone)."""
    name = prepare.page_name(lesson)
    if name not in site.printed:
        with site.open(name) as watched:
            record_print(site, name, watched)
    return site.printed[name]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_page_prints_on_a4_with_nothing_cut_off(site, lesson):
    laid_out = printed(site, lesson)
    facts, fit = laid_out["facts"], laid_out["fit"]
    assert laid_out["problems"] == []
    assert raw_tex(facts["prose"]) == [] and facts["errors"] == 0 and facts["math"] > 0, "math not typeset"
    assert not facts["broken"] and not facts["no_alt"] and facts["images"] == figures(lesson), "figures"
    assert fit["width"] == printable_px()[0] and not fit["toc_shown"], "not laid out as printed"
    assert fit["cut"] == [] and fit["scroll_width"] <= fit["width"], "cut off at the page's right edge"
    assert fit["unwrapped"] == 0, "code blocks that do not wrap"
    print(
        f"{lesson.stem}: {fit['tables']} tables, {fit['pre']} code blocks, {facts['images']} figures, "
        f"{fit['height'] / printable_px()[1]:.1f} printable pages tall"
    )


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        why = f"{tool} (poppler-utils) is missing: apt-get install -y poppler-utils (as .ci/run does)"
        if CI:
            pytest.fail(why)
        pytest.skip(why)
    return found


def code_text(lesson: Path) -> str:
    """The lesson's code and its text outputs, as one text: what a handout shows verbatim."""
    parts = []
    for cell in nbformat.read(lesson, as_version=4).cells:
        if cell.cell_type == "code":
            parts.append(cell.source)
            for out in cell.outputs:
                parts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


PRINTED = ("01-ema", "05-worked-example")  # one with a widget's still and derivations, one with tables


@pytest.fixture(scope="session")
def printing(built) -> dict[str, Path]:
    """The handouts of PRINTED, as `make handouts` prints them (``_site handouts --site`` the built site), and the
    answer key of the first, as `make handouts SOLUTIONS=1` does (``--solutions``): the two commands side by side."""
    handouts = [sys.executable, str(SITE_PY), "handouts", str(built["handouts"]), "--site", str(built["site"])]
    keys = [sys.executable, str(SITE_PY), "handouts", str(built["keys"]), "--site", str(built["site"])]
    running = [
        subprocess.Popen([*handouts, "--only", *PRINTED]),
        subprocess.Popen([*keys, "--only", PRINTED[0], "--solutions"]),
    ]
    try:
        for command in running:
            assert command.wait(timeout=600) == 0, f"{command.args} failed"
    finally:
        for command in running:
            if command.poll() is None:
                command.kill()
                command.wait()
    return {"handouts": built["handouts"], "keys": built["keys"]}


@pytest.fixture(scope="session")
def handouts(printing) -> Path:
    return printing["handouts"]


@pytest.mark.parametrize("stem", PRINTED)
def test_a_handout_is_an_a4_pdf_with_its_math_figures_and_every_page(site, handouts, shots, stem):
    pdftotext, pdfimages, pdftoppm = poppler("pdftotext"), poppler("pdfimages"), poppler("pdftoppm")
    lesson = next(p for p in LESSONS if p.stem == stem)
    pdf = handouts / f"{stem}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages > 0 and len(boxes) >= pages
    assert all(abs(float(w) - A4_PT[0]) < 1 and abs(float(h) - A4_PT[1]) < 1 for w, h in boxes), "A4: 595 x 842 pt"
    # every page of the lesson is printed: at least as many pages as the printed layout is tall
    tall = printed(site, lesson)["fit"]["height"] / printable_px()[1]
    assert math.ceil(tall - 0.05) <= pages <= 2 * math.ceil(tall) + 2, f"{pages} pages for {tall:.1f} pages of print"
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("\f") == pages, "pdftotext reads another page count"
    code = code_text(lesson)  # code may hold TeX (a figure's title): the rule is for what the lesson typesets
    prose = "\n".join(line for line in text.splitlines() if line.strip() not in code)
    assert raw_tex(prose) == [], "raw TeX in the handout"
    title = nbformat.read(lesson, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
    assert title in text, "the lesson's title is not in its handout's text"
    assert "Worked solution" not in text, "a handout leaves the worked solutions out (an answer key prints them)"
    listed = subprocess.run([pdfimages, "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    images = [line for line in listed.splitlines()[2:] if line.split()[2:3] == ["image"]]
    assert len(images) >= figures(lesson), f"{len(images)} images in the PDF, the lesson has {figures(lesson)} figures"
    if stem == PRINTED[0]:
        shot = shots / f"handout-{stem}"
        page_two = ["-png", "-r", "80", "-f", "2", "-l", "2", "-singlefile", str(pdf), str(shot)]
        subprocess.run([pdftoppm, *page_two], check=True)
        assert shot.with_suffix(".png").stat().st_size > 0
    print(f"{pdf.name}: {pages} A4 pages, {len(images)} images, {len(data) / 1e6:.1f} MB")


def solution_count(lesson: Path) -> int:
    return sum(1 for c in nbformat.read(lesson, as_version=4).cells if _build.tagged(c, _build.SOLUTION_TAG))


SOLUTION_FACTS = """() => [...document.querySelectorAll('details.solution')].map(d => ({
  open: d.open, summary: d.querySelector('summary').textContent,
  shown: [...d.children].filter(n => n.tagName !== 'SUMMARY').some(n => n.checkVisibility()) }))"""


def test_the_site_shows_each_worked_solution_behind_a_click(site, shots):
    lesson = next(p for p in LESSONS if p.stem == PRINTED[0])
    with site.open(prepare.page_name(lesson)) as watched:
        check_solutions(lesson, watched, shots)


def check_solutions(lesson: Path, watched: Watched, shots: Path) -> None:
    page = watched.page
    found = page.evaluate(SOLUTION_FACTS)
    assert len(found) == solution_count(lesson) > 0, found
    assert all(f["summary"] == "Worked solution" and not f["open"] and not f["shown"] for f in found), found
    summary = page.locator("details.solution > summary").first
    summary.scroll_into_view_if_needed()
    summary.click()
    opened = page.evaluate(SOLUTION_FACTS)[0]
    page.locator("details.solution").first.screenshot(path=str(shots / "site-solution.png"))
    assert opened["open"] and opened["shown"], opened
    assert watched.problems() == []


def test_an_answer_key_prints_the_solutions(printing):
    """``make handouts SOLUTIONS=1``: the same handout with every worked solution open."""
    pdftotext = poppler("pdftotext")
    lesson = next(p for p in LESSONS if p.stem == PRINTED[0])
    pdf = printing["keys"] / f"{PRINTED[0]}-solutions.pdf"
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("Worked solution") == solution_count(lesson) > 0
    cells = nbformat.read(lesson, as_version=4).cells
    first_code = next(_build.solution_code(c) for c in cells if _build.tagged(c, _build.SOLUTION_TAG))
    assert first_code.strip().splitlines()[0].strip() in text, "the solutions' code is printed"
