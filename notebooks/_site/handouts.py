"""The handouts: chromium prints each page of the site to an A4 PDF (the answer keys: with the worked solutions)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _build import lesson_paths

from _site import assets
from _site.pages import build_site
from _site.prepare import page_name


def print_pdf(page: Path, pdf: Path, *, solutions: bool = False) -> None:
    """Chromium prints one page of the site (A4 from the page's @page rule), after MathJax has typeset it.

    The worked solutions are left out of print unless ``solutions`` (the page opens them when its address ends in
    ``?solutions``: a lecturer's answer key)."""
    if not Path(assets.CHROMIUM).is_file():
        raise SystemExit(f"no chromium at {assets.CHROMIUM} (apt-get install -y chromium, or set CHROMIUM=...)")
    pdf.unlink(missing_ok=True)  # a chromium that exits 0 without printing must not leave an old PDF passing
    with tempfile.TemporaryDirectory(prefix="handout-profile-") as profile:
        cmd = [
            assets.CHROMIUM,
            *assets.CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=30000",
            f"--print-to-pdf={pdf}",
            page.resolve().as_uri() + ("?solutions" if solutions else ""),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise SystemExit(f"chromium could not print {page.name}: {done.stderr[-2000:]}")


def build_handouts(
    out: Path, site: Path | None = None, only: list[str] | None = None, *, solutions: bool = False
) -> dict:
    """A PDF per lesson in ``out``: the site's pages (built into a temporary folder unless ``site`` is given);
    ``only``: the lessons whose names start with one of these (``["01"]``), else all; ``solutions``: print the
    worked solutions too (``NN-name-solutions.pdf``), else they are left out. A chromium per lesson, as many at
    once as there are cores."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in lesson_paths() if not only or p.name.startswith(tuple(only))]
    with tempfile.TemporaryDirectory(prefix="site-") as tmp:
        if site is None:
            site = Path(tmp)
            build_site(site)
        with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1) or 1) as pool:
            printing = [
                pool.submit(
                    print_pdf,
                    site / page_name(p),
                    out / f"{p.stem}{'-solutions' if solutions else ''}.pdf",
                    solutions=solutions,
                )
                for p in paths
            ]
            for one in printing:
                one.result()  # the first failure stops the command (SystemExit, saying which page)
    return {"handouts": len(paths)}
