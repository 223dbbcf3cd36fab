"""What every browser test shares: Debian's chromium driven by playwright, pages with the network cut off,
and a folder for screenshots.

Without chromium or playwright the browser tests skip with a message saying how to get them; under
``CI=true`` (``.ci/run``, which installs both) a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _site.assets import CHROMIUM, chromium_missing
from _site.assets import CHROMIUM_FLAGS as FLAGS  # CONTRIBUTING.md section 5's, written once (the handouts use them)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"  # looked at by people, kept after the run
VIEWPORT = {"width": 1280, "height": 720}
HOW = "apt-get install -y chromium (as .ci/run does), then `make test`"
UNDER_CI = os.environ.get("CI", "").lower() in ("true", "1")  # CI=false or CI=0 means not under CI


@pytest.fixture(scope="session")
def browser():
    why = chromium_missing()
    if why:
        if UNDER_CI:
            pytest.fail(f"browser tests cannot run under CI: {why}; {HOW}")
        pytest.skip(f"browser tests skipped: {why}; to run them: {HOW}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watched:
    """A page and what went wrong on it: blocked or failed requests, console errors, uncaught exceptions."""

    page: object
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self, *, allow_console: tuple[str, ...] = ()) -> list[str]:
        console = [m for m in self.console_errors if not any(a in m for a in allow_console)]
        return (
            [f"blocked request {u}" for u in self.blocked]
            + [f"failed request {u}" for u in self.failed]
            + [f"console error: {m}" for m in console]
            + [f"uncaught exception: {m}" for m in self.page_errors]
        )


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., Watched]]:
    """``new_page(allow=("file:",))``: a 1280x720 page in a fresh context; every request whose URL does not
    start with one of ``allow`` (or ``data:``/``blob:``) is aborted and recorded."""
    contexts = []

    def make(allow: tuple[str, ...] = ("file:",), viewport: dict = VIEWPORT) -> Watched:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        return watch(context, allow)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


# --- JupyterLab (tests/browser/lab.py): one `make lab` server for the session (its page: test_lab's lab_page) -----


def watch(context, allow: tuple[str, ...]) -> Watched:
    """What ``new_page`` does, for a context a session-scoped fixture owns: a page whose every request outside
    ``allow`` (and ``data:``/``blob:``) is aborted and recorded, with its console errors and exceptions."""
    page = context.new_page()
    watched = Watched(page)
    allowed = (*allow, "data:", "blob:")

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            watched.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on(
        "requestfailed", lambda req: req.url in watched.blocked or watched.failed.append(f"{req.url} ({req.failure})")
    )
    page.on("console", lambda msg: msg.type == "error" and watched.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))
    return watched


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory):
    """``make lab`` as the README runs it, on a free loopback port with a random token, in folders of its own;
    stopped (its whole process group: make, jupyter, every kernel) whatever happens. test_lab's one page
    (``lab_page``) opens the notebooks on it one after another, and presents lesson 01 as live slides."""
    import secrets

    from tests.browser.lab import Lab, free_port

    server = Lab(port=free_port(), token=secrets.token_hex(16), home=tmp_path_factory.mktemp("lab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
