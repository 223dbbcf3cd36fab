"""The live slideshow, page side: what the slide on screen shows, and the view after a key press.

Live slides for a lecturer: ``make lab`` has jupyterlab-slideshow (JupyterLab's presentation mode for notebooks).
test_lab's ``test_presenting_a_lesson_live`` starts it on lesson 01, open and live in the lab's page, and walks it
with the arrow keys; these are the readings it takes.
"""

from __future__ import annotations

import re

import nbformat
from _build import NAV_TAG, is_section, tagged

from tests.browser.lab import ROOT

PRESENTING = "() => document.body.dataset.jpDeckMode === 'presenting'"

# What the slide on screen shows: the indices of the cells the slideshow marks visible (and of the one it has
# scrolled to: a press may move within a slide), the first heading among them (its text with each typeset formula
# as MATH, as ``sections`` reads a title's TeX: the typeset math is checked apart), and the text of their markdown
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
  let title = null;
  if (heading) {
    const copy = heading.cloneNode(true);
    copy.querySelectorAll('mjx-container').forEach(n => n.replaceWith(' MATH '));
    title = copy.textContent.replace(/¶$/, '').replace(/\\s+/g, ' ').trim();
  }
  return {cells: shown.map(([, i]) => i), active, heading: title, text, math};
}"""


# The first slide laid out: its cells shown, its heading rendered.
FIRST_SLIDE = f"(path) => {{ const s = ({ON_SCREEN})(path); return s.cells.length > 0 && s.heading !== null; }}"


def sections(path):
    """The notebook's cells a slideshow should show, and the titles of its sections in order (each formula as MATH,
    as ``ON_SCREEN`` reads a heading: the typeset math is checked apart)."""
    cells = nbformat.read(ROOT / path, as_version=4).cells
    shown = [i for i, c in enumerate(cells) if not tagged(c, NAV_TAG)]
    titles = [c.source.splitlines()[0].lstrip("#").replace("`", "") for c in cells if is_section(c)]
    return shown, [" ".join(re.sub(r"\$[^$]*\$", " MATH ", t).split()) for t in titles]


# The view two animation frames after a press (each frame at most 100 ms, should the page get none). The deck
# moves in the key's own handler (a press's change was on the page as soon as the press returned, 22 of 22 in a
# walk of lesson 04): the frames are for the layout, not a guess at how long a move takes; this replaces a fixed
# 300 ms pause after each of the walk's ~80 presses.
SETTLED = f"""async (path) => {{
  for (let i = 0; i < 2; i++) await new Promise(r => {{ requestAnimationFrame(r); setTimeout(r, 100); }});
  return ({ON_SCREEN})(path);
}}"""


def after_press(page, path: str) -> dict:
    """What the slide shows once the press has been handled and the page laid out."""
    return page.evaluate(SETTLED, path)
