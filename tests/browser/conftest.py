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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory):
    """Session-wide JupyterLab server (browser_helpers.LabServer); stopped by PID at the end."""
    server = bh.LabServer(tmp_path_factory.mktemp("jupyterlab")).start()
    try:
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
    server = bh.VoilaServer(tmp, bh.make_root_dir(tmp)).start()
    try:
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


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def page(browser_context, request):
    """A new tab for one test. `page.bk_errors` collects uncaught page errors (JS exceptions).

    On a failing test a screenshot goes to results/browser/FAILED-<test>.png.
    """
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.bk_errors = errors
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        try:
            bh.screenshot(pg, "FAILED-" + _safe(request.node.name))
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            pass
    pg.close()
