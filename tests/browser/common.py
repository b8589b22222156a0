"""What the browser tests share: where things are, and xlmlab's cache as JupyterLab's kernels see it."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "build" / "screenshots"
HERE = Path(__file__).resolve().parent
# the user's XLMLAB_HOME, as `make lab` sees it (read at collection, before tests/conftest.py points
# the tests at a private one)
USER_HOME = os.environ.get("XLMLAB_HOME")
VIEWPORT = {"width": 1400, "height": 1000}


def _point_at_user_home(env) -> None:
    env.pop("XLMLAB_HOME", None)
    if USER_HOME:
        env["XLMLAB_HOME"] = USER_HOME


def lab_environment() -> dict:
    env = dict(os.environ)
    _point_at_user_home(env)
    return env


@contextlib.contextmanager
def user_home():
    """xlmlab's cache as the notebooks in JupyterLab see it, for computing what a widget should show."""
    saved = os.environ.get("XLMLAB_HOME")
    _point_at_user_home(os.environ)
    try:
        yield
    finally:
        os.environ.pop("XLMLAB_HOME", None)
        if saved is not None:
            os.environ["XLMLAB_HOME"] = saved


def new_page(chromium):
    """A page of the size the screenshots are taken at, waiting at most 30 s for an element."""
    page = chromium.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    return page


def stored(name: str) -> dict:
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
