"""Live slides for a lecturer: ``make lab`` has jupyterlab-slideshow (JupyterLab's presentation mode for
notebooks). In lesson 04, run in a live kernel, the slideshow is started as a lecturer starts it and walked
through with the arrow keys to its end (right, and down into sub-slides): every cell of the lesson is shown on
some slide (a cell marked "-" never would be: the build leaves continuing cells without a slide type), the
slides come in the order of the lesson's ``#``/``##`` sections, math is typeset, and on the widget's slide the
optimizer panel is live: moved by keyboard and by mouse, its figure redraws. Every request may go to the lab's
address only.
"""

from __future__ import annotations

import nbformat
from _build import NAV_TAG, is_section, tagged

from tests.browser.lab import (
    APP_READY,
    RAW_MATH,
    RESTART_CONSOLE_ERRORS,
    ROOT,
    open_and_run,
)
from tests.browser.test_lab import WIDGETS, _move_and_check, live_cells

NOTEBOOK = "notebooks/04-adam.ipynb"
PRESENTING = "() => document.body.dataset.jpDeckMode === 'presenting'"

# What the slide on screen shows: the indices of the cells the slideshow marks visible (and of the one it has
# scrolled to: a press may move within a slide), the first heading among them, and the text of their markdown
# with math, code and pre taken out (to look for raw TeX).
ON_SCREEN = """(path) => {
  const w = window.__nbs[path];
  const cells = w.content.widgets;
  const shown = cells.map((c, i) => [c, i]).filter(([c]) => c.node.classList.contains('jp-deck-mod-visible'));
  const heading = shown.map(([c]) => c.node.querySelector('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2'))
    .find(h => h);
  const text = shown.filter(([c]) => c.model.type === 'markdown').map(([c]) => {
    const md = c.node.querySelector('.jp-MarkdownOutput');  // the rendered text, not the hidden editor
    if (!md) return c.model.sharedModel.getSource();  // not rendered: its source, raw TeX and all
    const copy = md.cloneNode(true);
    copy.querySelectorAll('mjx-container, code, pre, script, mjx-assistive-mml').forEach(n => n.remove());
    return copy.textContent; }).join('\\n');
  const math = shown.reduce((n, [c]) => n + c.node.querySelectorAll('mjx-container').length, 0);
  const active = cells.map((c, i) => c.node.classList.contains('jp-deck-mod-onscreen') ? i : -1).filter(i => i >= 0);
  return {cells: shown.map(([, i]) => i), active,
          heading: heading ? heading.textContent.replace(/¶$/, '').trim() : null, text, math};
}"""


def _sections(path):
    """The notebook's cells a slideshow should show, and the titles of its sections in order."""
    cells = nbformat.read(ROOT / path, as_version=4).cells
    shown = [i for i, c in enumerate(cells) if not tagged(c, NAV_TAG)]
    titles = [c.source.splitlines()[0].lstrip("#").strip().replace("`", "") for c in cells if is_section(c)]
    return shown, titles


def _move_widget(page, shots) -> list[str]:
    """On the widget's slide: three controls moved (keyboard and mouse); the figure must redraw each time."""
    _, controls, matches = WIDGETS["04-adam.ipynb"]
    panel = page.locator(".jp-Cell.jp-deck-mod-visible .widget-vbox").first
    panel.wait_for(timeout=30_000)
    page.screenshot(path=shots / "lab-slideshow-widget.png")
    problems = []
    for control, how in (("lr", "keyboard"), ("beta1", "mouse"), ("optimizer", "mouse")):  # SGD, next: no beta1
        where = f"slideshow, {control!r} moved by {how}"
        if problem := _move_and_check(page, panel, control, controls[control], how, matches, where):
            problems.append(problem)
    page.screenshot(path=shots / "lab-slideshow-widget-moved.png")
    # the keys back to the slideshow, as a lecturer gives them back: a click on the slide's heading
    page.locator(".jp-Cell.jp-deck-mod-visible .jp-RenderedMarkdown h2").first.click()
    return problems


# The view two animation frames after a press (each frame at most 100 ms, should the page get none). The deck
# moves in the key's own handler (a press's change was on the page as soon as the press returned, 22 of 22 in a
# walk of lesson 04): the frames are for the layout, not a guess at how long a move takes; this replaces a fixed
# 300 ms pause after each of the walk's ~80 presses.
SETTLED = f"""async (path) => {{
  for (let i = 0; i < 2; i++) await new Promise(r => {{ requestAnimationFrame(r); setTimeout(r, 100); }});
  return ({ON_SCREEN})(path);
}}"""


def _after_press(page) -> dict:
    """What the slide shows once the press has been handled and the page laid out."""
    return page.evaluate(SETTLED, NOTEBOOK)


def test_presenting_a_lesson_live(own_lab, new_page, shots):
    lab = own_lab
    watched = new_page(allow=(lab.base + "/",))
    page = watched.page
    page.goto(lab.url("/lab"))
    page.wait_for_function(APP_READY, timeout=60_000)
    open_and_run(page, NOTEBOOK, live_cells(NOTEBOOK.split("/")[-1]), 180_000)  # the widget live, the rest stored

    # the lecturer's way in: the slideshow's button (its command, deck:toggle / deck:start)
    buttons = page.locator("[data-command='deck:toggle'], [data-command='deck:start']")
    print("slideshow buttons:", buttons.count(), [b.get_attribute("title") for b in buttons.all()])
    assert buttons.count(), "no button starts the slideshow"
    buttons.first.click()
    page.wait_for_function(PRESENTING, timeout=30_000)
    page.wait_for_function(  # the first slide laid out: its cells shown, its heading rendered
        f"(path) => {{ const s = ({ON_SCREEN})(path); return s.cells.length > 0 && s.heading !== null; }}",
        arg=NOTEBOOK,
        timeout=30_000,
        polling=50,
    )
    page.screenshot(path=shots / "lab-slideshow-first.png")

    want_cells, want_titles = _sections(NOTEBOOK)
    slides = [page.evaluate(ON_SCREEN, NOTEBOOK)]
    widget_moves = None  # what went wrong moving the widget on its slide (None: the slide never came)
    idle = 0  # rounds in a row in which neither key changed the view (a press may only move the slide's scroll)
    for _ in range(4 * len(want_cells)):  # to the end: down through a slide's sub-slides, then the right arrow
        for key in ("ArrowDown", "ArrowRight"):  # a section's sub-slides first (### parts, exercises), then on
            page.keyboard.press(key)
            now = _after_press(page)
            if now != slides[-1]:
                break
        else:
            idle += 1
            if idle == 3:
                break
            continue
        idle = 0
        slides.append(now)
        if "Try it" in (now["heading"] or "") and not any("Try it" in (s["heading"] or "") for s in slides[:-1]):
            widget_moves = _move_widget(page, shots)
            assert page.evaluate(ON_SCREEN, NOTEBOOK)["heading"] == now["heading"], "a widget's key moved the slide"
    seen = sorted({i for s in slides for i in s["cells"]})
    titles = []
    for s in slides:
        if s["heading"] and (not titles or titles[-1] != s["heading"]):
            titles.append(s["heading"])
    print(f"{len(slides)} views, {len(titles)} slides, {len(seen)} of {len(want_cells)} cells shown")
    assert len(titles) > 1, "the right arrow did not move to another slide"
    assert seen == want_cells, f"cells never shown on a slide: {sorted(set(want_cells) - set(seen))}"
    assert titles == want_titles, f"slides in the order {titles}, the lesson's sections are {want_titles}"
    assert sum(s["math"] > 0 for s in slides) >= 2, "no slide shows typeset math"
    raw = sorted({m.group(0) for s in slides for m in RAW_MATH.finditer(s["text"])})
    assert not raw, f"raw TeX on the slides: {raw}"
    assert widget_moves is not None, "the widget's slide never came"
    assert not widget_moves, "\n".join(widget_moves)

    page.keyboard.press("Escape")
    page.wait_for_function(f"() => !({PRESENTING})()", timeout=10_000)
    allowed = {f"console error: {e}" for e in RESTART_CONSOLE_ERRORS}
    problems = [p for p in watched.problems() if p not in allowed]
    assert not problems, "\n".join(problems)
