"""JupyterLab for the browser tests: the server started as the README starts it (``make lab``), and the
page-side helpers that open a notebook, run it as a learner would and read what it shows.

The server runs with its own config, data, runtime, settings and workspaces folders (a learner's are never
read or written), with two test-only settings: windowing off (JupyterLab 4 leaves off-screen cells out of the
page otherwise) and autosave off (a run in the lab must never rewrite the stored notebooks), and the app
exposed to the page as ``window.jupyterapp`` (as Galata, JupyterLab's own UI-test layer, does) so that a test
can call the lab's commands and read the notebook model.

How the waits are written (borrowed from Galata's ``NotebookHelper.waitForRun``): a run is over when the
kernel is idle and no code cell shows the ``[*]`` prompt, and either every code cell has an execution count
or one of them holds an error (JupyterLab stops a run-all at the first error). ``page.evaluate`` has no
timeout of its own, so every wait is a ``page.wait_for_function`` with one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from _build import exercises, lesson_paths  # noqa: F401 - exercises: for test_lab
from _site.prepare import is_widget_cell  # noqa: F401 - for test_lab

ROOT = Path(__file__).resolve().parents[2]

NOTEBOOKS = [p.name for p in lesson_paths()]

#: The settings the tests add in their own settings folder (JUPYTERLAB_SETTINGS_DIR).
TEST_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
#: ... and in their own config folder (JUPYTER_CONFIG_DIR).
TEST_CONFIG = {"jupyter_lab_config.json": {"LabApp": {"expose_app_in_browser": True}}}

#: Console errors JupyterLab itself prints on a kernel restart while its debugger is available (ipykernel
#: has debugpy): the debugger's pending request is cancelled with the old kernel. Allowed by exact text.
RESTART_CONSOLE_ERRORS = (
    "Could not restore the debugger state: Canceled future for debug_request message before replies were done",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running ``make lab``: its URL parts, the folders it was given, and what it printed."""

    port: int
    token: str
    home: Path
    proc: subprocess.Popen | None = None
    out_path: Path = field(init=False)
    err_path: Path = field(init=False)

    def __post_init__(self):
        self.out_path = self.home / "lab.stdout"
        self.err_path = self.home / "lab.stderr"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def env(self) -> dict:
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"),  # the kernels' history and startup files: not the learner's
            ("MPLCONFIGDIR", "matplotlib"),
        ]:
            env[var] = str(self.home / sub)
        env.pop("JUPYTER_PORT", None)
        env.pop("JUPYTER_TOKEN", None)
        return env

    def command(self) -> list[str]:
        args = (
            f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={self.port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token={self.token}"
        )
        return ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"]

    def start(self, timeout: float = 180.0) -> None:
        for sub in ("config", "data", "runtime", "settings", "workspaces", "ipython", "matplotlib"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        for rel, value in TEST_SETTINGS.items():
            path = self.home / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        for rel, value in TEST_CONFIG.items():
            (self.home / "config" / rel).write_text(json.dumps(value))
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:  # the child keeps its own copies
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: make and jupyter (kernels get their own)
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make lab exited with status {self.proc.returncode}:\n{self.log()[-4000:]}")
            if self.printed_url() and self._answers():
                return
            time.sleep(0.25)
        raise RuntimeError(f"make lab did not serve {self.base} within {timeout:.0f} s:\n{self.log()[-4000:]}")

    def _answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url("/api/status"), timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """Shut the server down as a person would (which shuts its kernels down), then make sure: the process
        group (make, jupyter) gets SIGTERM, then SIGKILL, and any kernel still running on this server's
        connection files is killed (jupyter_client starts kernels in sessions of their own)."""
        if self.proc is not None and self.proc.poll() is None:
            self._request_shutdown()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                    try:
                        os.killpg(self.proc.pid, sig)
                        self.proc.wait(wait)
                        break
                    except ProcessLookupError:
                        break
                    except subprocess.TimeoutExpired:
                        continue
        for pid in self.kernel_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _request_shutdown(self) -> None:
        import urllib.request

        request = urllib.request.Request(self.url("/api/shutdown"), method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            pass  # already gone, or not answering: the signals below take over

    def kernel_pids(self) -> list[int]:
        """Processes whose command line names a connection file in this server's runtime folder: its kernels."""
        runtime = str(self.home / "runtime")
        pids = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if runtime in cmdline and "ipykernel" in cmdline:
                pids.append(int(proc.name))
        return pids

    def log(self) -> str:
        """What the lab and its kernels wrote to stderr (where jupyter logs), with make's stdout before it."""
        out = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        err = self.err_path.read_text(errors="replace") if self.err_path.exists() else ""
        return out + err

    def printed_url(self) -> str | None:
        """The URL the server prints for a person to open (the token is printed as ``...``)."""
        m = re.search(r"(http://127\.0\.0\.1:\d+/\S*)\?token=\.\.\.", self.log())
        return m.group(1) if m else None


# --- page side ------------------------------------------------------------------------------------------------

APP_READY = "() => !!(window.jupyterapp && window.jupyterapp.started && window.jupyterapp.shell)"

# A notebook with no cell to run live is opened with no kernel (JupyterLab's kernel preference: don't start one),
# as a learner reading it would see it: its stored outputs rendered, and no kernel to start and shut down.
OPEN = """async ([path, live]) => {
  const app = window.jupyterapp;
  await app.started;
  const args = {path};
  if (!live) args.kernelPreference = {shouldStart: false, canStart: false, autoStartDefault: false};
  const w = await app.commands.execute('docmanager:open', args);
  await w.context.ready;
  await w.sessionContext.ready;
  w.node.dataset.testNb = path;
  (window.__nbs = window.__nbs || {})[path] = w;
  app.shell.activateById(w.id);
  return w.id;
}"""

# The notebook panel (JupyterLab's NotebookPanel) of `path`, in the page's JavaScript, as OPEN registered it.
NB_PANEL = "window.__nbs[path]"

# The panel on screen (one the lab opened itself: where it landed, a link's target), registered under `key` as OPEN
# registers the panels it opens, so that NB_PANEL (and the tests' close) find it.
REGISTER_CURRENT = "(key) => { (window.__nbs = window.__nbs || {})[key] = window.jupyterapp.shell.currentWidget; }"

KERNEL_IDLE = f"""(path) => {{ const w = {NB_PANEL};
  const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected'; }}"""

# The notebook has no kernel: none started, and none found running for its path.
NO_KERNEL = f"""(path) => {{ const w = {NB_PANEL};
  return !!w && w.sessionContext.isReady && !w.sessionContext.session
    && w.sessionContext.kernelDisplayName === w.sessionContext.noKernelName; }}"""

# Every cell: its index, type, source, execution count, and outputs (type, mime types, text of streams and
# errors); every markdown cell's text with math, code and pre taken out (to look for raw $...$); images.
REPORT = f"""(path) => {{
  const w = {NB_PANEL};
  const cells = w.content.widgets.map((c, i) => {{
    const cell = {{index: i, type: c.model.type, source: c.model.sharedModel.getSource()}};
    if (c.model.type === 'code') {{
      cell.count = c.model.executionCount;
      cell.outputs = c.model.outputs.toJSON().map(o => ({{
        type: o.output_type, name: o.name || null,
        text: o.output_type === 'stream' ? [].concat(o.text).join('') :
              o.output_type === 'error' ? o.ename + ': ' + o.evalue :
              [].concat((o.data || {{}})['text/plain'] || []).join(''),
        mimes: Object.keys(o.data || {{}}),
      }}));
      cell.shown = [...c.node.querySelectorAll('.jp-OutputArea-output')].map(n => n.innerText);
    }}
    if (c.model.type === 'markdown') {{
      const md = c.node.querySelector('.jp-MarkdownOutput');
      cell.rendered = !!md && !md.classList.contains('lm-mod-hidden');
      cell.math = md ? md.querySelectorAll('mjx-container').length : 0;
      if (md) {{
        const copy = md.cloneNode(true);
        copy.querySelectorAll('mjx-container, code, pre, script, mjx-assistive-mml').forEach(n => n.remove());
        cell.text = copy.textContent;
      }}
    }}
    cell.images = [...c.node.querySelectorAll('img')].map(im => ({{
      src: (im.getAttribute('src') || '').slice(0, 80), complete: im.complete, width: im.naturalWidth}}));
    return cell;
  }});
  return {{cells, mathjax: w.node.querySelectorAll('mjx-container').length}};
}}"""


# Run one cell as a learner does (select it, Shift+Enter's command), its source first replaced if one is given.
RUN_CELL = f"""(args) => {{
  const [path, index, source] = args; const app = window.jupyterapp; const w = {NB_PANEL};
  app.shell.activateById(w.id);
  const cell = w.content.widgets[index];
  if (source !== null) cell.model.sharedModel.setSource(source);
  cell.model.sharedModel.execution_count = null;  // the stored count must not read as this run's
  w.content.activeCellIndex = index;
  w.content.mode = 'command';
  app.commands.execute('notebook:run-cell');
}}"""

CELL_DONE = f"""(args) => {{
  const [path, index, before] = args; const w = {NB_PANEL}; const c = w.content.widgets[index];
  const k = w.sessionContext.session.kernel;
  return k.status === 'idle' && c.model.executionCount !== null && c.model.executionCount !== before
    && !(c.promptNode.textContent || '').includes('*');
}}"""


def run_cell(page, path: str, index: int, source: str | None = None, timeout_ms: int = 60_000) -> None:
    """Run cell ``index`` of the open notebook ``path`` (with ``source`` put in first, if given) and wait for it."""
    page.evaluate(RUN_CELL, [path, index, source])
    page.wait_for_function(CELL_DONE, arg=[path, index, None], timeout=timeout_ms, polling=50)


# Drawn: every markdown cell rendered, and, where a markdown source holds math, MathJax's first formula on the page
# (opened with no kernel, a notebook is ready before it is drawn: nothing else would wait for the drawing).
RENDERED = f"""(path) => {{ const w = {NB_PANEL};
  const md = w.content.widgets.filter(c => c.model.type === 'markdown');
  if (!md.length || !md.every(c => c.node.querySelector('.jp-MarkdownOutput'))) return false;
  const tex = md.some(c => c.model.sharedModel.getSource().includes('$'));
  return !tex || w.node.querySelectorAll('mjx-container').length > 0; }}"""


def open_and_run(page, path: str, indices: list[int], timeout_ms: int) -> None:
    """Open notebook ``path`` in ``page`` as stored (its outputs are nbval's to check), wait for its kernel, then
    run the cells ``indices`` in order: the setup cell, and the cells a test needs live (the widgets). With no
    cell to run, the notebook is opened without a kernel (nothing of it needs one)."""
    page.evaluate(OPEN, [path, bool(indices)])
    page.wait_for_function(RENDERED, arg=path, timeout=60_000, polling=50)
    if not indices:
        return
    page.wait_for_function(KERNEL_IDLE, arg=path, timeout=60_000, polling=50)
    for index in indices:
        run_cell(page, path, index, timeout_ms=timeout_ms)
    page.evaluate(f"(path) => {{ {NB_PANEL}.content.activeCellIndex = 0; }}", path)  # back at the top, as opened


IMAGES_SETTLED = f"""(path) => [...{NB_PANEL}.node.querySelectorAll('img')].every(im => im.complete)"""

RAW_MATH = re.compile(r"\$\$|\$[^$\s][^$]*\$|\\\(|\\\[")


def cell_index(report: dict, needle: str) -> int:
    """The index of the one code cell whose source contains ``needle``."""
    hits = [c["index"] for c in report["cells"] if c["type"] == "code" and needle in c["source"]]
    if len(hits) != 1:
        raise LookupError(f"expected one code cell containing {needle!r}, found {len(hits)} (cells {hits})")
    return hits[0]


def nb_path(name: str) -> str:
    return f"notebooks/{name}"
