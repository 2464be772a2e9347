"""Servers and page helpers for the real-browser tests (JupyterLab and Voila in headless Chromium).

Nothing here imports Playwright at module level: `make test` collects this folder
without the `browser` extra installed and only deselects the tests.
See tests/browser/README.md for the fixture API.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
APPS = REPO / "apps"
RESULTS = Path(os.environ.get("BK_BROWSER_RESULTS", REPO / "results" / "browser"))
CHROMIUM = os.environ.get("BK_CHROMIUM", "/usr/bin/chromium")

# Generous, but every wait polls: a passing test never waits this long.
SERVER_START_TIMEOUT = 60.0
KERNEL_TIMEOUT = 90.0
EXECUTE_TIMEOUT = 180.0
UI_TIMEOUT_MS = 60_000

# JupyterLab settings for tests (TESTING-NOTES): no virtualised cells, no news / update pop-ups.
LAB_OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
}
# JupyterLab 4.4+ sends widget messages to a kernel subshell (ipykernel 7), a second thread;
# the panels hand every message to the kernel thread (widgets._base.KernelThread). The tests
# keep JupyterLab's default (perCommTarget), which is what learners get; BK_BROWSER_SUBSHELLS=0
# turns it off, to compare (README "Comms over subshells").
if os.environ.get("BK_BROWSER_SUBSHELLS") == "0":
    LAB_OVERRIDES["@jupyterlab/apputils-extension:kernels-settings"] = {"commsOverSubshells": "disabled"}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Any http(s) request that is not to our own loopback servers (CDN fonts, MathJax, ...) is aborted.
EXTERNAL_URL = re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)[:/])")


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(tmp: Path) -> dict[str, str]:
    """Environment for a server: every Jupyter/IPython dir is a temporary one, never the user's."""
    env = dict(os.environ)
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def make_root_dir(tmp: Path) -> Path:
    """A temporary copy of notebooks/ plus tests/browser/fixtures/*.ipynb, and apps/ as apps/: tests never edit the repo."""
    root = tmp / "root"
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    src = REPO / "notebooks"
    if src.is_dir():
        shutil.copytree(src, root, ignore=skip)
    else:
        root.mkdir(parents=True)
    for nb in FIXTURES.glob("*.ipynb"):
        shutil.copy2(nb, root / nb.name)
    shutil.copytree(APPS, root / "apps", ignore=skip)
    return root


def _http(method: str, url: str, token: str | None = None, timeout: float = 10.0):
    req = urllib.request.Request(url, method=method)
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
        return resp.status, (json.loads(body) if body and "json" in resp.headers.get("Content-Type", "") else body)


class _Server:
    """A server process in its own process group, stopped by its PID."""

    name = "server"

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = jupyter_env(tmp)
        self.proc: subprocess.Popen | None = None
        self.log_path = RESULTS / f"{self.name}.log"

    def _spawn(self, cmd: list[str], cwd: Path) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def _wait_ready(self, path: str) -> float:
        """Poll `path` until it answers 200; fail early (with the log) if the process died."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < SERVER_START_TIMEOUT:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = _http("GET", self.base_url + path, self.token, timeout=2)
                if status == 200:
                    return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last = exc
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"{self.name} not ready after {SERVER_START_TIMEOUT} s ({last}):\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # start_new_session: the group id is the server's PID
        for sig, wait in [(signal.SIGTERM, 15), (signal.SIGKILL, 5)]:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self._log.close()


class LabServer(_Server):
    """JupyterLab on a free loopback port with a random token, serving a temp copy of notebooks/."""

    name = "jupyterlab"

    def __init__(self, tmp: Path):
        super().__init__(tmp)
        self.root_dir = make_root_dir(tmp)
        # overrides.json goes into a temp app_settings_dir given to this server only,
        # so the venv's share/jupyter/lab/settings is never written.
        self.settings_dir = tmp / "lab-settings"
        self.settings_dir.mkdir()
        (self.settings_dir / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))

    def start(self) -> "LabServer":
        self._spawn([
            sys.executable, "-m", "jupyterlab",
            "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--LabApp.app_settings_dir={self.settings_dir}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        ], cwd=self.root_dir)
        self.startup_seconds = self._wait_ready("/api/status")
        return self

    # ---- REST

    def api(self, method: str, path: str):
        return _http(method, f"{self.base_url}/api/{path.lstrip('/')}", self.token)[1]

    def sessions(self) -> list[dict]:
        return self.api("GET", "sessions")

    def session_for(self, name: str) -> dict | None:
        for s in self.sessions():
            if s.get("path") == name or s.get("path", "").endswith("/" + name):
                return s
        return None

    def wait_kernel_idle(self, name: str, timeout: float = KERNEL_TIMEOUT) -> dict:
        """Poll GET /api/sessions until `name`'s kernel is idle with a websocket connected."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.session_for(name)
            kernel = (seen or {}).get("kernel") or {}
            if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
                return seen
            time.sleep(0.2)
        raise TimeoutError(f"kernel of {name} not idle+connected after {timeout} s; session: {seen}")

    def shutdown_sessions(self) -> None:
        """Delete every session (and its kernel), then any stray kernel."""
        try:
            for s in self.sessions():
                self.api("DELETE", f"sessions/{s['id']}")
            for k in self.api("GET", "kernels"):
                self.api("DELETE", f"kernels/{k['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.shutdown_sessions()
        super().stop()

    # ---- pages

    def notebook_url(self, name: str) -> str:
        return f"{self.base_url}/lab/workspaces/t{uuid.uuid4().hex[:12]}/tree/{name}?reset&token={self.token}"

    def open_notebook(self, page, name: str, timeout: float = KERNEL_TIMEOUT):
        """Open `name` (relative to root_dir) in a fresh workspace, wait until its kernel is idle + connected."""
        page.goto(self.notebook_url(name))
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=UI_TIMEOUT_MS)
        page.wait_for_function(
            """name => { const w = window.jupyterapp.shell.currentWidget;
                         return !!(w && w.context && w.context.path === name && w.content
                                   && w.content.widgets && w.content.widgets.length
                                   && w.sessionContext && w.sessionContext.session); }""",
            arg=name, timeout=timeout * 1000,
        )
        self.wait_kernel_idle(name, timeout)
        # The REST view can be ahead of the page: also wait for the page's own kernel connection.
        page.wait_for_function(
            """name => { const w = window.jupyterapp.shell.currentWidget;
                         const sc = w && w.context && w.context.path === name && w.sessionContext;
                         const k = sc && sc.session && sc.session.kernel;
                         return !!(sc && sc.isReady && k && k.connectionStatus === 'connected'
                                   && k.status === 'idle'); }""",
            arg=name, timeout=timeout * 1000,
        )
        return page


class VoilaServer(_Server):
    """Voila serving a directory (the same temp root as JupyterLab): /voila/render/<nb>."""

    name = "voila"

    def __init__(self, tmp: Path, root_dir: Path):
        super().__init__(tmp)
        self.root_dir = root_dir

    def start(self) -> "VoilaServer":
        self._spawn([
            sys.executable, "-m", "voila", str(self.root_dir),
            "--no-browser", "--Voila.ip=127.0.0.1", f"--port={self.port}",
            f"--Voila.token={self.token}",
            "--show_tracebacks=True",
        ], cwd=self.root_dir)
        self.startup_seconds = self._wait_ready("/")
        return self

    def url(self, name: str) -> str:
        return f"{self.base_url}/voila/render/{name}?token={self.token}"

    def open(self, page, name: str, ready_css: str, timeout_ms: int = int(EXECUTE_TIMEOUT * 1000)):
        """Open `name` in Voila and wait until an element matching `ready_css` is visible.

        Voila streams the page while the kernel runs the notebook, and the page's "load" comes only
        once every cell has run: so wait for the response to start, then for the element, within
        `timeout_ms` in all (the element gets at least a second; not Playwright's 60-s navigation default).
        """
        deadline = time.monotonic() + timeout_ms / 1000
        page.goto(self.url(name), wait_until="commit", timeout=timeout_ms)
        left_ms = max(1_000, int((deadline - time.monotonic()) * 1000))
        page.locator(ready_css).first.wait_for(state="visible", timeout=left_ms)
        return page


# --------------------------------------------------------------------------- page helpers

_NOTEBOOK_JS = """
name => {
  const app = window.jupyterapp;
  let panel = null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.content && (name === null ? w === app.shell.currentWidget : w.context.path === name)) panel = w;
  }
  if (!panel) return null;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const info = cells.map(c => {
    const prompt = c.node.querySelector('.jp-InputPrompt');
    const outputs = c.model.outputs.toJSON();
    return {
      source: c.model.sharedModel.getSource(),
      count: c.model.executionCount,
      running: !!(prompt && prompt.textContent.includes('*')),
      tags: c.model.getMetadata('tags') || [],
      errors: outputs.filter(o => o.output_type === 'error')
                     .map(o => o.ename + ': ' + o.evalue),
    };
  });
  return info;
}
"""


def cell_states(page, name: str | None = None) -> list[dict]:
    """Per code cell: source, execution count, running ([*]), error outputs (ename: evalue)."""
    return page.evaluate(_NOTEBOOK_JS, name)


def run_all(page, name: str | None = None) -> None:
    """Run every cell of notebook `name` (default: the current one). Does not wait: see wait_until_executed."""
    page.evaluate(
        """name => {
          const app = window.jupyterapp;
          if (name !== null) {
            for (const w of app.shell.widgets('main')) {
              if (w.context && w.context.path === name) app.shell.activateById(w.id);
            }
          }
          app.commands.execute('notebook:run-all-cells');
        }""",
        name,
    )


def wait_until_executed(page, name: str | None = None, timeout: float = EXECUTE_TIMEOUT) -> list[dict]:
    """Poll until every non-empty code cell has an execution count and none shows [*].

    Returns early when a cell shows an unexpected error (run-all stops there; cells tagged
    `raises-exception` are expected to fail and run-all goes on past them); returns cell_states().
    """
    deadline = time.monotonic() + timeout
    states = []
    while time.monotonic() < deadline:
        states = cell_states(page, name) or []
        code = [s for s in states if s["source"].strip()]
        running = any(s["running"] for s in code)
        if code and not running:
            unexpected = any(s["errors"] and "raises-exception" not in s["tags"] for s in code)
            if all(s["count"] is not None for s in code) or unexpected:
                return states
        time.sleep(0.2)
    raise TimeoutError(f"cells not executed after {timeout} s: " + json.dumps(
        [{k: s[k] for k in ("count", "running", "errors")} for s in states]))


def error_outputs(page, include_expected: bool = False) -> list[str]:
    """Texts of the error outputs on the page (empty list: none). Works in JupyterLab and Voila.

    Counts stderr outputs that carry a traceback, error mime outputs, and ipywidgets'
    "Error displaying widget" placeholders. In JupyterLab, outputs of cells tagged
    `raises-exception` are skipped unless include_expected.
    """
    return page.evaluate(
        """includeExpected => {
          const expected = [];
          const app = window.jupyterapp;
          if (app && !includeExpected) {
            for (const w of app.shell.widgets('main')) {
              if (!(w.content && w.content.widgets)) continue;
              for (const c of w.content.widgets) {
                if ((c.model.getMetadata('tags') || []).includes('raises-exception')) expected.push(c.node);
              }
            }
          }
          const found = [];
          const seen = new Set();
          const add = (el) => {
            if (seen.has(el) || expected.some(n => n.contains(el))) return;
            seen.add(el); found.push(el.textContent.trim().slice(0, 500));
          };
          document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            .forEach(el => { if (/Traceback|Error\\b|Exception/.test(el.textContent)) add(el); });
          document.querySelectorAll('.jp-RenderedText[data-mime-type*="error"]').forEach(add);
          document.querySelectorAll('.jp-OutputArea-output, .jupyter-widgets')
            .forEach(el => { if (/Error displaying widget|Failed to load model class/.test(el.textContent)
                                   && !el.querySelector('.jp-OutputArea-output')) add(el); });
          return found;
        }""",
        include_expected,
    )


def wait_for_css(page, *selectors: str, timeout_ms: int = UI_TIMEOUT_MS) -> None:
    """Wait until each selector matches at least one visible element (e.g. ".bk-step button")."""
    for css in selectors:
        page.locator(css).first.wait_for(state="visible", timeout=timeout_ms)


_CANVAS_JS = """
css => {
  const root = document.querySelector(css);
  if (!root) return null;
  const canvas = root.querySelector('.jupyter-matplotlib-canvas-div canvas') || root.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return null;
  const url = canvas.toDataURL();
  const blank = document.createElement('canvas');
  blank.width = canvas.width; blank.height = canvas.height;
  return url === blank.toDataURL() ? '' : url;
}
"""


def canvas_fingerprint(page, css: str) -> str | None:
    """toDataURL() of the canvas (a panel's LayeredCanvas) inside the first element matching `css`.

    None: no such element or canvas yet; '' : the canvas exists but is still blank.
    """
    return page.evaluate(_CANVAS_JS, css)


def wait_canvas_drawn(page, css: str, timeout: float = 60.0, settle: float = 0.5) -> str:
    """Poll until the canvas has been drawn and its pixels stay the same for `settle` s; return them."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        fp = canvas_fingerprint(page, css)
        if fp != last:
            last, since = fp, time.monotonic()
        elif fp and time.monotonic() - since >= settle:
            return fp
        time.sleep(0.1)
    raise TimeoutError(f"canvas in {css!r} not drawn/stable after {timeout} s (last: {str(last)[:40]})")


def wait_canvas_changed(page, css: str, before: str, timeout: float = 60.0) -> str:
    """Poll until the canvas pixels differ from `before`; return the new fingerprint."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fp = canvas_fingerprint(page, css)
        if fp and fp != before:
            return fp
        time.sleep(0.1)
    raise TimeoutError(f"canvas in {css!r} did not change within {timeout} s")


def wait_text_changed(locator, before: str, timeout: float = 60.0) -> str:
    """Poll until the locator's inner text differs from `before`; return it."""
    deadline = time.monotonic() + timeout
    text = before
    while time.monotonic() < deadline:
        text = locator.inner_text()
        if text != before:
            return text
        time.sleep(0.1)
    raise TimeoutError(f"text still {before!r} after {timeout} s")


def screenshot(page, name: str, css: str | None = None, full_page: bool = False) -> Path:
    """Save a PNG into results/browser/<name>.png and return its path.

    With `css`, only the first matching element (e.g. ".bk-probe", a whole panel) is captured.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.png"
    if css:
        element = page.locator(css).first
        box = element.bounding_box()
        viewport = page.viewport_size
        if box and viewport and box["height"] + 120 > viewport["height"]:
            # an element taller than the window comes out clipped and garbled: grow the window
            # for the shot (JupyterLab lays out again), then put it back
            page.set_viewport_size({"width": viewport["width"], "height": int(box["height"]) + 200})
            try:
                page.wait_for_timeout(300)     # one layout pass; not a wait for the kernel
                element.scroll_into_view_if_needed()
                element.screenshot(path=str(path))
            finally:
                page.set_viewport_size(viewport)
        else:
            element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    return path


# --------------------------------------------------------------------------- panel helpers


def wait_until(predicate, timeout: float = 60.0, message: str = "condition", interval: float = 0.1):
    """Poll `predicate()` until it returns a truthy value; return that value (TimeoutError otherwise)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{message}: not true after {timeout} s (last: {value!r})")


def wait_text_matches(locator, pattern: str, timeout: float = 60.0) -> re.Match:
    """Poll until the locator's inner text matches the regex `pattern`; return the match."""
    last = [""]

    def check():
        last[0] = locator.inner_text()
        return re.search(pattern, last[0])

    try:
        return wait_until(check, timeout, f"text matching {pattern!r}")
    except TimeoutError:
        raise TimeoutError(f"text never matched {pattern!r} within {timeout} s; last: {last[0]!r}") from None


def assert_text_steady(locator, seconds: float = 1.0) -> str:
    """Poll the locator's text for `seconds`: it must not change. Returns it."""
    first = locator.inner_text()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = locator.inner_text()
        assert now == first, f"text changed from {first!r} to {now!r} within {seconds} s"
        time.sleep(0.1)
    return first


def wait_text_steady(locator, seconds: float = 1.0, timeout: float = 30.0) -> str:
    """Poll until the locator's text has not changed for `seconds`; return it."""
    deadline = time.monotonic() + timeout
    last, since = locator.inner_text(), time.monotonic()
    while time.monotonic() < deadline:
        now = locator.inner_text()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return last
        time.sleep(0.1)
    raise TimeoutError(f"text still changing after {timeout} s (last: {last!r})")


def collapse_sidebars(page) -> None:
    """Close JupyterLab's side bars, so a notebook (and a wide panel) gets the whole width."""
    page.evaluate("() => { const s = window.jupyterapp.shell; s.collapseLeft(); s.collapseRight(); }")


def open_and_run(lab, page, name: str, timeout: float = EXECUTE_TIMEOUT) -> list[dict]:
    """Open `name` in JupyterLab (side bars closed), run all cells, wait until executed; cell_states()."""
    lab.open_notebook(page, name)
    collapse_sidebars(page)
    run_all(page, name)
    return wait_until_executed(page, name, timeout)


def scroll_into_view(page, css: str) -> None:
    """Scroll the first element matching `css` to the top of its scrolling notebook (for screenshots)."""
    page.evaluate("css => { const el = document.querySelector(css); if (el) el.scrollIntoView({block: 'start'}); }",
                  css)


def step_number(status_text: str) -> int:
    """The step count in a Playground status line ("... epoch 2, step 38 ..."); -1 when there is none."""
    match = re.search(r"\bepoch \d+, step (\d+)", status_text)
    return int(match.group(1)) if match else -1


_EXECUTE_JS = """
async code => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let text = '';
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return text;
}
"""


def kernel_execute(page, code: str) -> str:
    """Run ``code`` in the current notebook's kernel (not in a cell); return what it printed."""
    return page.evaluate(_EXECUTE_JS, code)
