"""Live slides for a lecturer: ``make lab`` has RISE (jupyterlab-rise); one slideshow started from the notebook's
toolbar moves a slide with the right arrow and typesets its math, offline.

RISE opens its slideshow in a panel beside the notebook: an iframe running RISE's own JupyterLab build at
``/rise/<path>``. Requests may go to the lab's address only (the reveal.js theme is ``white`` in
notebooks/_lab/overrides.json: RISE's default, ``simple``, fetches web fonts from Google).
"""

from __future__ import annotations

import re

from tests.browser.lab import APP_READY, RAW_MATH

NOTEBOOK = "notebooks/04-adam.ipynb"

# What RISE 0.43.1 itself prints into the console when its slideshow starts, allowed by exact text (and only
# these): RISE's app bundles JupyterLab 4.3 and loads the lab's extensions into it; the widgets manager
# (built for 4.6) cannot find @jupyterlab/console there, nor jupyterlab-slideshow @jupyterlab/fileeditor, and
# jupyterlab-fonts (which jupyterlab-slideshow brings) and its fonts find no main menu (RISE's app has none);
# RISE asks for a lecturer's optional rise.css and <notebook>.css next to the notebook (absent: a 404 page
# that is not CSS).
RISE_CONSOLE_ERRORS = (
    "Refused to apply style from '{base}/files/notebooks/rise.css' because its MIME type ('text/html') is not a "
    "supported stylesheet MIME type, and strict MIME checking is enabled.",
    "Refused to apply style from '{base}/files/notebooks/04-adam.css' because its MIME type ('text/html') is not a "
    "supported stylesheet MIME type, and strict MIME checking is enabled.",
    "Error: Shared module @jupyterlab/console doesn't exist in shared scope default",  # first line; a stack follows
    "Error: Shared module @jupyterlab/fileeditor doesn't exist in shared scope default",
    *(
        f"Plugin '{plugin}' failed to activate. TypeError: No provider for: @jupyterlab/mainmenu:IMainMenu."
        for plugin in (
            "@deathbeds/jupyterlab-fonts:fonts",
            "@deathbeds/jupyterlab-font-anonymous-pro",
            "@deathbeds/jupyterlab-font-atkinson-hyperlegible",
            "@deathbeds/jupyterlab-font-dejavu-sans-mono",
            "@deathbeds/jupyterlab-font-fira-code",
        )
    ),
)
# ... and a RangeError allowed only where RISE's own bundle throws it, every frame of its stack in RISE's static
# files: the design-token code of the UI toolkit bundled into RISE's app (colorContrast, getValueFor) recurses
# without end while the slideshow starts, 20-30 times. Not ours: it comes just the same with no RISE settings
# at all (theme left at its default) and on a notebook without widgets (03-rmsprop); jupyterlab-contrib/rise#144
# reports it too. A RangeError from anywhere else (the lab's extensions, our widgets) fails the test.
RISE_RANGE_ERROR = "RangeError: Maximum call stack size exceeded"
RISE_BUNDLE = "{base}/static/rise/"
FRAME_URL = re.compile(r"\(?(https?://[^\s)]+?):\d+:\d+\)?$")
# The requests behind the two refused styles end as aborted (a 404 answered with HTML)
RISE_FAILED_REQUESTS = (
    "{base}/files/notebooks/rise.css (net::ERR_ABORTED)",
    "{base}/files/notebooks/04-adam.css (net::ERR_ABORTED)",
    "{base}/rise/notebooks/04-adam.ipynb?activeCellIndex=0 (net::ERR_ABORTED)",
)

SLIDE = """() => {
  if (!document.querySelector('.reveal .slides section.present')) return null;
  const inner = [...document.querySelectorAll('.reveal .slides section.present')].pop();
  const copy = inner.cloneNode(true);
  copy.querySelectorAll('mjx-container, code, pre, .jp-InputArea, .jp-OutputArea').forEach(n => n.remove());
  return {hash: location.hash, text: inner.innerText.slice(0, 200), rest: copy.textContent,
          math: inner.querySelectorAll('mjx-container').length}; }"""


def test_rise_slideshow_moves_and_typesets(lab, new_page, shots):
    watched = new_page(allow=(lab.base + "/",))
    page = watched.page
    range_errors = []  # (where the console says it was printed, the URLs of its stack's frames)

    def on_console(msg):
        if msg.type == "error" and msg.text.splitlines()[0] == RISE_RANGE_ERROR:
            stack = msg.args[0].evaluate("e => String(e && e.stack || '')") if msg.args else ""
            frames = [m.group(1) for line in stack.splitlines()[1:] if (m := FRAME_URL.search(line.strip()))]
            range_errors.append((msg.location["url"], frames))

    page.on("console", on_console)
    page.goto(lab.url(f"/lab/tree/{NOTEBOOK}"))
    page.wait_for_function(APP_READY, timeout=60_000)
    page.wait_for_function(
        f"() => window.jupyterapp.shell.currentWidget?.context?.path === '{NOTEBOOK}'", timeout=30_000
    )
    button = page.locator(".jp-NotebookPanel-toolbar [data-command='RISE:preview']")
    if button.count():
        button.first.click()
    else:  # the command behind the toolbar button
        page.evaluate("() => { window.jupyterapp.commands.execute('RISE:preview'); }")
    frame = None
    for _ in range(120):
        page.wait_for_timeout(250)
        frame = next((f for f in page.frames if "/rise/" in f.url), None)
        if frame is not None:
            break
    assert frame is not None, "RISE opened no slideshow frame"
    frame.wait_for_function(SLIDE, timeout=60_000, polling=250)
    frame.wait_for_function(
        "() => document.querySelectorAll('.reveal section.present mjx-container').length > 0", timeout=30_000
    )
    first = frame.evaluate(SLIDE)
    page.screenshot(path=shots / "lab-rise-first.png")
    seen = [first]
    for _ in range(6):  # right arrow until a slide with math after the first (04: "The five lines", two on)
        frame.locator("body").press("ArrowRight")
        frame.wait_for_function(f"() => location.hash !== {seen[-1]['hash']!r}", timeout=15_000)
        page.wait_for_timeout(500)  # the slide's MathJax
        seen.append(frame.evaluate(SLIDE))
        if seen[-1]["math"]:
            break
    page.screenshot(path=shots / "lab-rise-moved.png")
    assert seen[1]["hash"] != first["hash"] and seen[1]["text"] != first["text"], "the right arrow did not move"
    with_math = [s for s in seen if s["math"]]
    assert len(with_math) >= 2, f"no slide after the first shows typeset math: {[s['hash'] for s in seen]}"
    raw = [(s["hash"], RAW_MATH.search(s["rest"]).group(0)) for s in seen if RAW_MATH.search(s["rest"])]
    assert not raw, f"raw TeX on slides: {raw}"
    allowed = {e.format(base=lab.base) for e in RISE_CONSOLE_ERRORS}
    failed_ok = {r.format(base=lab.base) for r in RISE_FAILED_REQUESTS}

    bundle = RISE_BUNDLE.format(base=lab.base)

    def allowed_problem(p: str) -> bool:
        return (
            p.removeprefix("console error: ").splitlines()[0] in allowed | {RISE_RANGE_ERROR}
            or p.removeprefix("failed request ") in failed_ok
        )

    problems = [p for p in watched.problems() if not allowed_problem(p)]
    seen_range = sum(e.splitlines()[0] == RISE_RANGE_ERROR for e in watched.console_errors)
    assert len(range_errors) == seen_range, f"{seen_range} RangeErrors, {len(range_errors)} with their stack read"
    problems += [
        f"console error: {RISE_RANGE_ERROR} at {where}, not from RISE's bundle: stack frames {frames}"
        for where, frames in range_errors
        if not where.startswith(bundle) or not frames or not all(f.startswith(bundle) for f in frames)
    ]
    print(f"RangeErrors from RISE's bundle: {len(range_errors)}")
    print("RISE console errors seen:", sorted({e.splitlines()[0] for e in watched.console_errors}))
    print("failed:", watched.failed, "blocked:", watched.blocked)
    assert not problems, "\n".join(problems)
