"""The project's promises about itself: declared dependencies agree, transformers stays a test tool."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}


def normalise(requirement: str) -> tuple[str, str]:
    """'pytorch>=2.3' -> ('torch', '>=2.3'); names compared the way pip compares them."""
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_NAMES.get(name, name), spec.replace(" ", "")


def conda_requirements() -> set[tuple[str, str]]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    out = set()
    for line in lines[start + 1:]:
        m = re.match(r"  - ([^:#]+?)\s*(#.*)?$", line)
        if m and not m.group(1).startswith(("python=", "pip")):
            out.add(normalise(m.group(1)))
    return out


def test_environment_yml_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    assert conda_requirements() == declared


def test_the_declared_packages_are_all_there():
    names = {name for name, _ in conda_requirements()}
    assert {"torch", "sentencepiece", "jupyterlab", "matplotlib", "pandas", "ipywidgets", "nbval"} <= names


def test_xlmlab_never_imports_transformers():
    sources = [p for p in (ROOT / "xlmlab").rglob("*.py")]
    offenders = [p.name for p in sources if re.search(r"^\s*(import|from)\s+transformers\b", p.read_text(), re.M)]
    assert offenders == []
    code = "import sys, xlmlab, xlmlab.cli; xlmlab.load_model('tiny-xlmr'); print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_python_dash_m_runs_the_command_line():
    out = subprocess.run([sys.executable, "-m", "xlmlab", "--help"], capture_output=True, text=True, check=True)
    assert "assets" in out.stdout
