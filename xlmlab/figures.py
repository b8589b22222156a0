"""Figures that draw every script of the workbook's languages: fonts for each, text shaped.

matplotlib's own font (DejaVu Sans) covers Latin, Greek, Cyrillic and Arabic letters, but has no
Chinese, Devanagari or Thai glyphs: labels in those scripts come out as empty boxes. Two things fix it:

1. Fonts. `use_script_fonts()` puts the Noto family of each missing script behind DejaVu Sans in
   matplotlib's font list; matplotlib then takes each character from the first font that has it.
   The fonts are the system's (Debian/Ubuntu: `fonts-noto-core fonts-noto-cjk`, which `make setup`
   installs when it runs as root), or any folder of Noto files named by `$XLMLAB_FONT_DIR`.
2. Shaping. Arabic and Urdu letters join and run right to left; a Devanagari vowel sign can sit
   before the consonant it follows in the text; Thai marks stack. matplotlib 3.11 and newer lays text
   out with libraqm (HarfBuzz and a bidi algorithm, inside matplotlib's own wheel), so no other
   library is needed; older versions draw these scripts unshaped, and `use_script_fonts` says so.

`python -m xlmlab.figures` lists the font found for each script and exits 1 if any is missing.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

# The script -> a word in it, and the font family that draws it.
SAMPLES = {
    "Latin": "English", "Greek": "Ελληνικά", "Cyrillic": "русский", "Arabic": "العربية", "Urdu": "اردو",
    "Hebrew": "עברית", "Devanagari": "हिन्दी", "Bengali": "বাংলা", "Tamil": "தமிழ்",
    "Thai": "ภาษาไทย", "Chinese": "中文", "Japanese": "日本語",
}
FAMILIES = {
    "Latin": "DejaVu Sans", "Greek": "DejaVu Sans", "Cyrillic": "DejaVu Sans", "Arabic": "Noto Sans Arabic",
    "Urdu": "Noto Sans Arabic", "Hebrew": "Noto Sans Hebrew", "Devanagari": "Noto Sans Devanagari",
    "Bengali": "Noto Sans Bengali", "Tamil": "Noto Sans Tamil",
    "Thai": "Noto Sans Thai", "Chinese": "Noto Sans CJK SC", "Japanese": "Noto Sans CJK JP",
}
# The file names the families come in (Debian's fonts-noto-core and fonts-noto-cjk, Google's downloads).
FILE_STEMS = ("NotoSansArabic", "NotoSansHebrew", "NotoSansDevanagari", "NotoSansBengali", "NotoSansTamil",
              "NotoSansThai", "NotoSansCJK")
INSTALL_HINT = ("install the Noto fonts (Debian/Ubuntu: apt-get install fonts-noto-core fonts-noto-cjk), "
                "or set XLMLAB_FONT_DIR to a folder holding Noto Sans Arabic, Hebrew, Devanagari, Bengali, Tamil, "
                "Thai and CJK .ttf/.otf/.ttc files")
_warned = False


def shapes_text() -> bool:
    """Whether this matplotlib shapes text (libraqm: joined Arabic, right to left, Indic reordering)."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    return (major, minor) >= (3, 11)


def _register_missing(wanted: set[str]) -> None:
    """Add Noto files to matplotlib's font list when its cache was made before they were installed."""
    from matplotlib import font_manager

    folders = [os.environ["XLMLAB_FONT_DIR"]] if os.environ.get("XLMLAB_FONT_DIR") else []
    files = font_manager.findSystemFonts(folders) if folders else []
    files += font_manager.findSystemFonts()
    for path in files:
        if Path(path).name.startswith(FILE_STEMS) and "Regular" in Path(path).name:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # a damaged or unreadable file: skip it
                continue


def missing_fonts() -> dict[str, str]:
    """Script -> family, for the scripts whose family matplotlib cannot find (after looking again)."""
    from matplotlib import font_manager

    def absent() -> dict[str, str]:
        have = {entry.name for entry in font_manager.fontManager.ttflist}
        return {script: family for script, family in FAMILIES.items() if family not in have}

    if absent():
        _register_missing(set(absent().values()))
    return absent()


def use_script_fonts() -> dict[str, str]:
    """Make matplotlib draw every script of SAMPLES; returns the scripts it still cannot draw.

    Sets rcParams["font.family"] to DejaVu Sans followed by the Noto families (a fallback list, used
    character by character). Warns once, naming the scripts and how to install their fonts, when a
    family is missing or this matplotlib cannot shape text; the figures still draw, with boxes or
    unjoined letters where those scripts are.
    """
    global _warned
    import matplotlib

    missing = missing_fonts()
    matplotlib.rcParams["font.family"] = list(dict.fromkeys(FAMILIES.values()))
    problems = []
    if missing:
        problems.append(f"no font for {', '.join(missing)} ({', '.join(sorted(set(missing.values())))}): "
                        f"their labels will show as empty boxes; {INSTALL_HINT}")
    if not shapes_text():
        problems.append(f"matplotlib {matplotlib.__version__} draws Arabic, Urdu, Hindi and Thai unshaped "
                        "(letters unjoined, left to right); matplotlib 3.11 or newer shapes them")
    if problems and not _warned:
        warnings.warn("xlmlab.figures: " + "; ".join(problems), stacklevel=2)
        _warned = True
    return missing


def main() -> int:
    from matplotlib import font_manager

    missing = missing_fonts()
    for script, family in FAMILIES.items():
        found = "missing" if script in missing else font_manager.findfont(family, fallback_to_default=False)
        print(f"{script:<11} {SAMPLES[script]:<9} {family:<21} {found}")
    print("text shaping (libraqm):", "yes" if shapes_text() else "no, matplotlib is older than 3.11")
    if missing:
        print(INSTALL_HINT, file=sys.stderr)
    return 1 if missing or not shapes_text() else 0


if __name__ == "__main__":
    raise SystemExit(main())
