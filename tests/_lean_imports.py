"""Loaded first (``-p tests._lean_imports`` in pyproject.toml's addopts), before nbval imports nbformat.

jsonschema (nbformat's validator) registers an "iri" format check when ``rfc3987_syntax`` imports, and that import
compiles a grammar: about 2 s of CPU in each pytest process (the controller and every worker). No notebook schema
has a format to check; the tests do without it, as the site builder does (notebooks/_site/__main__.py). The
processes the tests start (the lab's server, kernels) are not affected. (Importable as ``tests._lean_imports`` because
the repository's root is on the path: ``python -m pytest`` puts the working directory there, and the editable
install of lessonlib, which `make` and environment.yml make, adds the root.)
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
