"""The browser harness finds what it is there to find: a widget that stops responding, an error, a
cell that never ran, a figure that went missing, an error saved in an HTML export; and it leaves no
server or kernel behind."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from .common import new_page
from .harness import CURRENT, Lab, control, eventually, html_problems, type_into

# a 1 x 1 PNG: a stored figure
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()

ECHO = """import ipywidgets as widgets
from IPython.display import display

box = widgets.Text(value="", description="word")
shout = widgets.HTML()
{wiring}
display(widgets.VBox([box, shout]))"""
WORKING = "box.observe(lambda change: setattr(shout, 'value', change['new'].upper()), 'value')"
BROKEN = "box.observe(lambda change: setattr(shout, 'value', change['new'].upper()), 'description')  # wrong trait"


def write(directory: Path, name: str, *cells: str, outputs: dict | None = None) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    for n, cell_outputs in (outputs or {}).items():
        nb.cells[n].outputs = cell_outputs
        nb.cells[n].execution_count = n + 1
    nbformat.write(nb, directory / name)
    return name


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp("notebooks")
    write(directory, "working.ipynb", ECHO.format(wiring=WORKING))
    write(directory, "broken.ipynb", ECHO.format(wiring=BROKEN))
    write(directory, "error.ipynb", "x = 1", "1 / 0", "print('never reached')")
    figure = nbformat.v4.new_output("display_data", data={"image/png": PIXEL, "text/plain": "<Figure>"})
    write(directory, "figures.ipynb", "import matplotlib.pyplot as plt", "plt.plot([1, 2])\nplt.show()",
          "plt.plot([1, 2])\nplt.close()  # the figure is no longer shown", outputs={1: [figure], 2: [figure]})
    return directory


@pytest.fixture(scope="module")
def small_lab(made):
    with Lab(made) as server:
        yield server


@pytest.fixture
def page(chromium, small_lab):
    p = new_page(chromium)
    yield p
    small_lab.shutdown_kernels()
    p.close()


def echo(page, notebook: str, made: Path, lab: Lab, timeout_s: float) -> None:
    run = lab.run_all(page, notebook)
    assert not run.problems(json.loads((made / notebook).read_text()))
    where = page.locator(f"{CURRENT} .jp-Cell").first
    type_into(control(where, "word").locator("input"), "hallo")
    eventually(where.locator(".widget-html-content").inner_text, "HALLO", timeout_s=timeout_s)


def test_a_widget_that_answers_passes(page, made, small_lab):
    echo(page, "working.ipynb", made, small_lab, timeout_s=30)


def test_a_widget_that_stops_answering_fails(page, made, small_lab):
    with pytest.raises(AssertionError, match="did not become what it should"):
        echo(page, "broken.ipynb", made, small_lab, timeout_s=3)


def test_an_error_and_the_cells_after_it_are_reported(page, made, small_lab):
    run = small_lab.run_all(page, "error.ipynb")
    problems = run.problems()
    assert any("ZeroDivisionError" in p for p in problems), problems
    assert any("cell 2" in p and "not executed" in p for p in problems), problems


def test_a_figure_that_went_missing_is_reported(page, made, small_lab):
    problems = small_lab.run_all(page, "figures.ipynb").problems(json.loads((made / "figures.ipynb").read_text()))
    assert problems == ["figures.ipynb, code cell 2: 0 figures, the stored notebook has 1"], problems


def test_the_html_check_finds_saved_errors_and_undrawn_figures(made, tmp_path, chromium):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 / 0", outputs=[nbformat.v4.new_output(
                    "error", ename="ZeroDivisionError", evalue="division by zero",
                    traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"])]),
                nbformat.v4.new_code_cell("import warnings; warnings.warn('only a warning')", outputs=[
                    nbformat.v4.new_output("stream", name="stderr", text="UserWarning: only a warning\n")]),
                nbformat.v4.new_code_cell("figure", outputs=[nbformat.v4.new_output(
                    "display_data", data={"image/png": PIXEL[:40], "text/plain": "<Figure>"})])]
    nbformat.write(nb, tmp_path / "saved.ipynb")
    subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "html", str(tmp_path / "saved.ipynb")],
                   check=True, capture_output=True)
    page = chromium.new_page()
    problems, figures = html_problems(page, tmp_path / "saved.html")
    page.close()
    assert figures == 1
    assert len(problems) == 2, problems
    assert "ZeroDivisionError: division by zero" in problems[0] and "not drawn" in problems[1]


def test_the_server_and_its_kernels_stop_also_on_failure(made, chromium):
    with pytest.raises(RuntimeError, match="on purpose"):
        with Lab(made) as lab:
            page = chromium.new_page()
            lab.open(page, "working.ipynb")
            kernels = lab.kernel_processes()
            assert kernels, "a kernel was started"
            page.close()
            raise RuntimeError("a test failing on purpose")
    assert lab.process.poll() is not None
    assert not [pid for pid in kernels if Path(f"/proc/{pid}").exists()]
