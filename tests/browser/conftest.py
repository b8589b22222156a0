"""The browser tests: JupyterLab in headless Chromium. Skipped, with one line saying how to install
Chromium, where this machine has none."""

from __future__ import annotations

import shutil

import pytest

from .common import HERE, NOTEBOOKS, ROOT, lab_environment, new_page
from .harness import Lab, browser, missing

_outcomes: dict[str, str] = {}  # node id -> passed, failed or skipped
PREFIX = HERE.relative_to(ROOT).as_posix() + "/"


def pytest_collection_modifyitems(config, items):
    why = missing()
    if why:
        skip = pytest.mark.skip(reason=f"browser tests skipped: {why}")
        for item in items:
            if item.nodeid.startswith(PREFIX):
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


@pytest.fixture(scope="session")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="session")
def lab():
    before = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}
    checkpoints = NOTEBOOKS / ".ipynb_checkpoints"  # JupyterLab's copies of the opened notebooks
    had_checkpoints = checkpoints.exists()
    with Lab(NOTEBOOKS, env=lab_environment()) as server:
        yield server
    if not had_checkpoints:
        shutil.rmtree(checkpoints, ignore_errors=True)
    after = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("*.ipynb")}
    assert after == before, "a browser test changed the stored notebooks"


@pytest.fixture
def page(chromium):
    p = new_page(chromium)
    yield p
    p.close()
