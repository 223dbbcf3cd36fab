"""The layout of lessonlib: the math imports nothing from the course helpers, every import is explicit.

CONTRIBUTING.md section 1: lessonlib.optim (the math) -> lessonlib.course (the helpers the notebooks share),
and lessonlib.exercises; data flows one way. These tests read the source, so they fail on the
import that breaks the rule, naming the file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lessonlib as ll

PACKAGE = Path(ll.__file__).parent


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_the_math_imports_nothing_from_the_course_or_the_exercises():
    for path in sorted((PACKAGE / "optim").glob("*.py")):
        bad = {m for m in imports(path) if m.startswith(("lessonlib.course", "lessonlib.exercises"))}
        bad |= {m for m in imports(path) if m in ("matplotlib", "ipywidgets", "torch") or m.startswith("matplotlib.")}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}; the math must not"


def test_importing_the_math_loads_no_plotting_widgets_or_torch():
    code = "import sys, lessonlib; print(sorted(m for m in ('matplotlib', 'ipywidgets', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


#: The course modules that hold pure arithmetic (bytes, operations, a clipping factor): an exercise check or a
#: notebook uses them without torch, so they must not import it, directly or through another course module.
TORCH_FREE = (
    "lessonlib.course.memory",
    "lessonlib.course.training",
    "lessonlib.exercises.cost",
    "lessonlib.exercises.scale",
    "lessonlib.exercises.pytorch",
)


def test_the_arithmetic_of_the_torch_lessons_imports_no_torch():
    for module in TORCH_FREE:
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        bad = {m for m in imports(path) if m == "torch" or m.startswith("torch.")}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}; it must work without torch"
    # nor through what they import, nor the setup every lesson calls first (about 2 s a kernel does not pay)
    modules = ", ".join(("lessonlib.course", *TORCH_FREE))
    code = f"import sys, {modules}; lessonlib.course.setup(0); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_no_lazy_module_getattr():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "__getattr__" not in names, f"{path.relative_to(PACKAGE.parent)} defines a module __getattr__"


def test_every_public_function_documents_its_arguments():
    """Public functions of the math with parameters carry an Args section (the symbols of the lessons)."""
    import inspect

    missing = []
    for name in ll.optim.__all__:
        obj = getattr(ll, name)
        if inspect.isfunction(obj) and not name.endswith("_kernel"):
            params = [p for p in inspect.signature(obj).parameters if p not in ("self",)]
            if params and "Args:" not in (obj.__doc__ or ""):
                missing.append(name)
        elif inspect.isclass(obj) and obj.__init__ is not object.__init__ and name not in ("Optimizer",):
            if "Args:" not in (obj.__doc__ or "") and not issubclass(obj, tuple):
                missing.append(name)
    assert not missing, f"no Args section: {missing}"


def test_the_step_functions_show_their_shared_args_written_once():
    """adam_step, adamw_step and adamw_paper_step take their common Args from one fragment (_STEP_DOCS)."""
    from lessonlib.optim.adam import _STEP_DOCS

    for fn in (ll.adam_step, ll.adamw_step, ll.adamw_paper_step):
        assert "{" + "state_args}" not in fn.__doc__ and r"theta: :math:`\theta_{t-1}`." in fn.__doc__
        assert _STEP_DOCS["state_args"] in fn.__doc__, fn.__name__
    assert _STEP_DOCS["moment_args"] in ll.adam_step.__doc__ and _STEP_DOCS["sqrt_arg"] in ll.adamw_paper_step.__doc__
