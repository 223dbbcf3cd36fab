"""``python notebooks/_site ...``: build the site, the slides or the handouts (see the package's docstring)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# jsonschema (nbformat's) registers an "iri" format check when rfc3987_syntax imports, and that import compiles
# a grammar: seconds of CPU in every process. No notebook schema has a format to check; the build does without.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # notebooks/: _build and this package
from _site import __doc__ as DOC  # noqa: E402
from _site.handouts import build_handouts  # noqa: E402
from _site.pages import build_site  # noqa: E402
from _site.prepare import missing_alt  # noqa: E402
from _site.slides import build_slides  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("site", "slides", "handouts"):
        one = sub.add_parser(name)
        one.add_argument("out", type=Path)
        if name == "site":
            one.add_argument(
                "--slides", type=Path, metavar="OUT", help="build the slides into OUT too (one process: faster)"
            )
        if name == "handouts":
            one.add_argument("--site", type=Path, help="print this built site instead of building one")
            one.add_argument("--only", nargs="+", metavar="NN", help="only these lessons (file name prefixes)")
            one.add_argument("--solutions", action="store_true", help="print the worked solutions too (answer keys)")
    sub.add_parser("alt-check", help="exit 1 if an image output or widget cell has no alt text")
    args = parser.parse_args(argv)

    if args.command == "alt-check":
        missing = missing_alt()
        for m in missing:
            print(f"no alt text: {m}", file=sys.stderr)
        return 1 if missing else 0
    start = time.perf_counter()
    if args.command == "site":
        counts = build_site(args.out)
        if args.slides:  # the widgets' stills and the sanitized HTML the site made, reused (the same slides)
            counts |= build_slides(args.slides)
    elif args.command == "slides":
        counts = build_slides(args.out)
    else:
        counts = build_handouts(args.out, args.site, args.only, solutions=args.solutions)
    took = time.perf_counter() - start
    said = ", ".join(f"{v} {k}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items())
    print(f"{args.command}: {said} in {args.out} ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
