"""Fixtures for the real-browser tests: JupyterLab, Voila, headless Chromium (Playwright, sync API).

Every test in this folder is marked `browser`: `make test` (-m "not browser") deselects them,
`make test-browser` runs them. See README.md here for the fixture API.
"""
from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest

import browser_helpers as bh

HERE = Path(__file__).resolve().parent


def _needs(module: str) -> None:
    """Skip when the `browser` extra is missing (plain `pytest tests`); fail under `make test-browser`."""
    try:
        importlib.import_module(module)
    except ImportError:
        message = f'{module} is not installed: run `make test-browser` (pip install -e ".[test,browser]")'
        if os.environ.get("BK_BROWSER_REQUIRED") == "1":  # set by `make test-browser`
            pytest.fail(message)
        pytest.skip(message)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


_TIMES: dict[str, float] = {}


def pytest_runtest_logreport(report):
    if Path(str(report.fspath)).resolve().is_relative_to(HERE):
        _TIMES[report.nodeid] = _TIMES.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """Per-test times of the browser tests (setup included: the first pays for the servers);
    also written to results/browser/times.txt."""
    if not _TIMES:
        return
    lines = [f"{seconds:7.1f} s  {nodeid}" for nodeid, seconds in _TIMES.items()]
    lines.append(f"{sum(_TIMES.values()):7.1f} s  total")
    terminalreporter.write_sep("-", "browser test times")
    for line in lines:
        terminalreporter.write_line(line)
    try:
        bh.RESULTS.mkdir(parents=True, exist_ok=True)
        (bh.RESULTS / "times.txt").write_text("\n".join(lines) + "\n")
    except OSError:
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory):
    """Session-wide JupyterLab server (browser_helpers.LabServer); stopped by PID at the end."""
    server = bh.LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:                      # stopped even when the start is interrupted (Ctrl-C, timeout)
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def lab(jupyter_lab):
    """The JupyterLab server for one test; every session/kernel is shut down afterwards."""
    jupyter_lab.shutdown_sessions()
    yield jupyter_lab
    jupyter_lab.shutdown_sessions()


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    """Session-wide Voila server (browser_helpers.VoilaServer) on a temp copy of notebooks/ + fixtures."""
    _needs("voila")
    tmp = tmp_path_factory.mktemp("voila")
    server = bh.VoilaServer(tmp, bh.make_root_dir(tmp))
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    """A persistent headless Chromium context (/usr/bin/chromium); external http(s) requests are aborted.

    `browser_context.blocked_urls` lists what was blocked (CDN fonts and the like).
    """
    _needs("playwright")
    from playwright.sync_api import sync_playwright

    if not os.path.exists(bh.CHROMIUM):
        pytest.fail(f"{bh.CHROMIUM} is missing: `make test-browser` installs it (apt-get install chromium)")

    pw = sync_playwright().start()
    context = pw.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=bh.CHROMIUM,
        headless=True,
        args=bh.CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    blocked: list[str] = []

    def block(route):
        blocked.append(route.request.url)
        route.abort()

    context.route(bh.EXTERNAL_URL, block)
    context.blocked_urls = blocked
    context.set_default_timeout(bh.UI_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()
        pw.stop()


_COMM_ID = re.compile(rb'"comm_id":\s*"([0-9a-f-]+)"')
_COMM_TYPE = re.compile(rb'"(?:method|type|msg_type)\\?":\s*\\?"(\w+)')


def _log_comms(ws, out: list[str]) -> None:
    """Record comm messages on a kernel websocket (BK_BROWSER_COMM_LOG=1): time, direction, comm, types."""
    import time

    def record(direction, payload):
        data = payload if isinstance(payload, bytes) else payload.encode()
        if b"comm_msg" not in data[:4000]:
            return
        comm = _COMM_ID.search(data)
        kinds = [m.decode() for m in _COMM_TYPE.findall(data[:4000])]
        out.append(f"{time.monotonic():.3f} {direction} {comm.group(1).decode()[:8] if comm else '?'} "
                   f"{' '.join(k for k in kinds if k not in ('comm_msg',))} {len(data)}B")

    ws.on("framesent", lambda payload: record(">", payload))
    ws.on("framereceived", lambda payload: record("<", payload))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def page(browser_context, request):
    """A new tab for one test. `page.bk_errors` collects uncaught page errors (JS exceptions).

    On a failing test a screenshot goes to results/browser/FAILED-<test>.png, and the page's
    errors and console messages to FAILED-<test>.console.txt.
    """
    pg = browser_context.new_page()
    errors: list[str] = []
    console: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    pg.bk_errors = errors
    pg.bk_console = console
    comms: list[str] = []
    if os.environ.get("BK_BROWSER_COMM_LOG") == "1":     # debugging aid: every comm message, both ways
        pg.on("websocket", lambda ws: _log_comms(ws, comms))
    yield pg
    if comms:
        bh.RESULTS.mkdir(parents=True, exist_ok=True)
        (bh.RESULTS / f"comms-{_safe(request.node.name)}.txt").write_text("\n".join(comms) + "\n")
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        name = "FAILED-" + _safe(request.node.name)
        try:
            bh.screenshot(pg, name)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            pass
        try:
            (bh.RESULTS / f"{name}.console.txt").write_text(
                "\n".join(["page errors:", *errors, "", "console:", *console]) + "\n")
        except OSError:
            pass
    pg.close()
