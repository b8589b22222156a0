"""The project's promises about itself: declared dependencies agree, transformers stays a test tool."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}


def normalise(requirement: str) -> tuple[str, str]:
    """'pytorch>=2.3' -> ('torch', '>=2.3'); names compared the way pip compares them."""
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_NAMES.get(name, name), spec.replace(" ", "")


def conda_requirements() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    out = {}
    for line in lines[start + 1:]:
        m = re.match(r"  - ([^:#]+?)\s*(#.*)?$", line)
        if m and not m.group(1).startswith(("python=", "pip")):
            name, spec = normalise(m.group(1))
            out[name] = spec
    return out


def pinned() -> dict[str, str]:
    """constraints.txt: name -> exact version."""
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, spec = normalise(line)
            assert spec.startswith("=="), f"constraints.txt pins exact versions; found {line!r}"
            out[name] = spec[2:]
    return out


def declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])


def test_environment_yml_pins_what_constraints_pin_and_ranges_the_rest():
    conda, pins, ranges = conda_requirements(), pinned(), declared()
    assert set(conda) == set(pins) | set(ranges)
    for name, spec in conda.items():
        assert spec == (f"=={pins[name]}" if name in pins else ranges[name]), name


def test_pyproject_ranges_admit_the_pinned_versions():
    from packaging.specifiers import SpecifierSet

    pins, ranges = pinned(), declared()
    for name in set(pins) & set(ranges):
        assert pins[name] in SpecifierSet(ranges[name]), f"{name}: {pins[name]} is outside {ranges[name]}"


def test_the_packages_that_decide_the_embedded_data_are_pinned():
    assert {"wordfreq", "babel", "sentencepiece", "scikit-learn", "sacremoses", "torch"} <= set(pinned())


def test_make_installs_the_pinned_torch_first():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH_SPEC\s*\?=\s*torch==(\S+)$", makefile, re.M).group(1) == pinned()["torch"]


def test_the_declared_packages_are_all_there():
    assert {"torch", "sentencepiece", "jupyterlab", "matplotlib", "pandas", "ipywidgets", "nbval"} <= set(conda_requirements())


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


def test_stored_notebooks_keep_no_widget_state():
    # widget state is large and changes on every run: it stays out of the stored notebooks
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert "widgets" not in notebook["metadata"], f"{path.name} stores widget state: pop metadata.widgets"


def test_without_chromium_the_browser_tests_are_skipped_with_one_line_saying_how_to_install_it(tmp_path):
    env = dict(os.environ, XLMLAB_CHROMIUM=str(tmp_path / "no-chromium"))
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/browser", "-p", "no:cacheprovider", "-q"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    reasons = set(re.findall(r"SKIPPED \[\d+\] \S+: (.*)", done.stdout))
    assert reasons == {"browser tests skipped: no Chromium: install it (Debian: apt-get install chromium) or point "
                       "XLMLAB_CHROMIUM at one; Playwright's own browser download is not used"}, done.stdout[-2000:]
    assert re.search(r"^browser tests: 0 passed, 0 failed, [1-9]\d* skipped \(no Chromium", done.stdout, re.M), done.stdout
