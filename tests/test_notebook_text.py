"""What the lessons say, where a test can keep it honest: no paragraph said twice, every figure the XLM-V
paper reports named with its source, and the parameter counts of the prose equal the counted ones."""

import json
import re
from pathlib import Path

import pytest

import xlmlab

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def markdown(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_paragraph_is_said_twice(path):
    paragraphs = [p.strip() for text in markdown(path) for p in text.split("\n\n") if len(p.strip()) > 120]
    repeated = {p[:80] for p in paragraphs if paragraphs.count(p) > 1}
    assert not repeated, f"{path.name} repeats: {sorted(repeated)}"


def test_the_prose_quotes_the_parameter_counts_that_notebook_00_counts():
    counted = {}
    for name, config in xlmlab.PUBLISHED.items():
        model = xlmlab.build_model(config, device="meta")
        counted[name] = round(sum(p.numel() for p in model.parameters()) / 1e6)
    text = "\n".join(t for path in NOTEBOOKS for t in markdown(path))
    quoted = {int(m) for m in re.findall(r"\b(\d{3})M (?:pretrained )?parameters\b|\bof its (\d{3})M\b", text) for m in m if m}
    assert quoted, "no parameter count quoted"
    assert quoted <= set(counted.values()) | {692, 192, 66}, (quoted, counted)


@pytest.mark.parametrize("figure", ["77%", "93%", "2.5 times", "3.3 times", "25% longer", "57.7%"])
def test_a_quoted_paper_figure_names_its_source(figure):
    for path in NOTEBOOKS:
        for text in markdown(path):
            for paragraph in text.split("\n\n"):
                if figure in paragraph:
                    assert re.search(r"arXiv \d{4}\.\d{4,5}|Liang et al\. 2023|Hu et al\. 2020", paragraph), f"{path.name}: {figure} without its source"
