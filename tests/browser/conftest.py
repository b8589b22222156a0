"""The browser tests: JupyterLab in headless Chromium. Skipped, with one line saying how to install
Chromium, where this machine has none."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest
from harness import Lab, browser, missing

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "build" / "screenshots"
HERE = Path(__file__).resolve().parent
# the user's XLMLAB_HOME, as `make lab` sees it (read before tests/conftest.py points it at a private one)
USER_HOME = os.environ.get("XLMLAB_HOME")
VIEWPORT = {"width": 1400, "height": 1000}
_outcomes: dict[str, str] = {}  # node id -> passed, failed or skipped
PREFIX = HERE.relative_to(ROOT).as_posix() + "/"


def pytest_collection_modifyitems(config, items):
    why = missing()
    if why:
        skip = pytest.mark.skip(reason=f"browser tests skipped: {why}")
        for item in items:
            if HERE in Path(item.fspath).resolve().parents:
                item.add_marker(skip)


def pytest_runtest_logreport(report):
    # one outcome per browser test, for the summary line
    if not report.nodeid.startswith(PREFIX):
        return
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    counts = {kind: list(_outcomes.values()).count(kind) for kind in ("passed", "failed", "skipped")}
    why = missing()
    line = ", ".join(f"{n} {kind}" for kind, n in counts.items()) + (f" ({why})" if why and counts["skipped"] else "")
    bad = bool(counts["failed"] or counts["skipped"])
    terminalreporter.write_line(f"browser tests: {line}", red=bad, green=not bad)


def lab_environment() -> dict:
    env = dict(os.environ)
    env.pop("XLMLAB_HOME", None)
    if USER_HOME:
        env["XLMLAB_HOME"] = USER_HOME
    return env


@contextlib.contextmanager
def user_home():
    """xlmlab's cache as the notebooks in JupyterLab see it, for computing what a widget should show."""
    saved = os.environ.get("XLMLAB_HOME")
    os.environ.pop("XLMLAB_HOME", None)
    if USER_HOME:
        os.environ["XLMLAB_HOME"] = USER_HOME
    try:
        yield
    finally:
        os.environ.pop("XLMLAB_HOME", None)
        if saved is not None:
            os.environ["XLMLAB_HOME"] = saved


def stored(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="session")
def lab():
    before = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}
    with Lab(NOTEBOOKS, env=lab_environment()) as server:
        yield server
    after = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}
    assert after == before, "a browser test changed the stored notebooks"


@pytest.fixture
def page(chromium):
    p = chromium.new_page(viewport=VIEWPORT)
    p.set_default_timeout(30_000)
    yield p
    p.close()
