"""Figures draw every script of the workbook: a font for each (no missing-glyph warning), and Arabic,
Urdu and Hindi shaped (joined letters, right to left, a vowel sign before its consonant)."""

import os
import warnings

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib._text_helpers import layout  # noqa: E402  (what the Agg renderer draws: glyphs and positions)

from xlmlab import figures  # noqa: E402


@pytest.fixture(scope="module")
def fonts():
    """The workbook's font list; without the Noto fonts the checks are skipped, except in CI (.ci/run installs them)."""
    saved = matplotlib.rcParams["font.family"]
    missing = figures.use_script_fonts()
    if missing and not os.environ.get("CI"):
        pytest.skip(f"no font for {', '.join(missing)}: {figures.INSTALL_HINT}")
    yield
    matplotlib.rcParams["font.family"] = saved


def glyphs(text):
    """(character, glyph index, x) of `text` as matplotlib lays it out in the workbook's fonts, left to right."""
    prop = font_manager.FontProperties(family=matplotlib.rcParams["font.family"], size=12)
    font = font_manager.get_font(font_manager.fontManager._find_fonts_by_props(prop))
    font.set_size(12, 72)
    return sorted(((item.char, item.glyph_index, item.x) for item in layout(text, font)), key=lambda g: g[2])


def test_a_label_in_every_script_draws_without_a_missing_glyph(fonts):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        for i, (script, sample) in enumerate(figures.SAMPLES.items()):
            ax.text(0, i, f"{script}: {sample}")
        ax.set_ylim(-1, len(figures.SAMPLES))
        fig.canvas.draw()
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []
    assert figures.missing_fonts() == {}


def test_arabic_and_urdu_are_joined_and_run_right_to_left(fonts):
    for word in ("العربية", "اردو"):
        drawn = glyphs(word)
        # right to left: the first letter of the word is the rightmost glyph, the last the leftmost
        assert drawn[-1][0] == word[0] and drawn[0][0] == word[-1]
    # joined: the letters inside a word take their medial forms, other glyphs than the same letters alone
    inner = glyphs("العربية")[1:-1]
    alone = {char: glyphs(char)[0][1] for char, _, _ in inner}
    assert sum(index != alone[char] for char, index, _ in inner) >= 3


def test_a_devanagari_vowel_sign_is_drawn_before_its_consonant(fonts):
    drawn = glyphs("हिन्दी")  # HA, VOWEL SIGN I, NA, VIRAMA, DA, VOWEL SIGN II
    ha = glyphs("ह")[0][1]
    # the cluster HA + I is drawn as two glyphs with the vowel sign first, to the left of HA
    assert drawn[0][0] == drawn[1][0] == "हि"
    assert drawn[0][1] != ha and drawn[1][1] == ha
    # NA + VIRAMA becomes one half-form glyph, not NA with a visible virama
    half = [index for char, index, _ in drawn if char == "न्"]
    assert len(half) == 1 and half[0] != glyphs("न")[0][1]


def test_a_missing_font_warns_once_and_the_figure_still_draws(monkeypatch):
    saved = matplotlib.rcParams["font.family"]
    monkeypatch.setattr(figures, "FAMILIES", {**figures.FAMILIES, "Thai": "No Such Font Family"})
    monkeypatch.setattr(figures, "_warned", False)
    try:
        with pytest.warns(UserWarning, match="no font for Thai .*fonts-noto-core") as caught:
            assert figures.use_script_fonts() == {"Thai": "No Such Font Family"}
            figures.use_script_fonts()
        assert sum("xlmlab.figures" in str(w.message) for w in caught) == 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig, ax = plt.subplots()
            ax.set_title(figures.SAMPLES["Thai"])
            fig.canvas.draw()
            plt.close(fig)
    finally:
        matplotlib.rcParams["font.family"] = saved


def test_the_font_report_names_every_script(capsys):
    code = figures.main()
    out = capsys.readouterr().out
    assert all(script in out for script in figures.SAMPLES)
    assert code == (1 if figures.missing_fonts() or not figures.shapes_text() else 0)
