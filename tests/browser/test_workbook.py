"""Every numbered notebook, in JupyterLab in Chromium: restart and run all from the menus, no errors,
every cell run, every figure drawn; every widget set the way a person sets it, and what it shows
checked against xlmlab computed here; the HTML export (`make demo`'s) checked in the browser."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

import xlmlab

from .common import NOTEBOOKS, SCREENSHOTS, new_page, stored, user_home
from .harness import (
    cell,
    cell_images,
    control,
    eventually,
    html_problems,
    interactive_widget_cells,
    screenshot,
    slide,
    type_into,
)

NAMES = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module", params=NAMES, ids=[name.split("_")[0] for name in NAMES])
def run(request, lab, chromium):
    """The notebook after Kernel > Restart Kernel and Run All Cells; its page stays open for the widgets."""
    page = new_page(chromium)
    try:
        result = lab.run_all(page, request.param)
        screenshot(page, SCREENSHOTS / f"{Path(request.param).stem}.png", top=True)
        print(f"{request.param}: ran in {result.seconds:.0f} s")
        yield result
    finally:
        lab.shutdown_kernels()
        page.close()


def test_every_cell_runs_without_error_and_every_figure_is_drawn(run):
    problems = run.problems(stored(run.name))
    assert not problems, "\n".join(problems)


def test_the_html_export_shows_every_figure_and_no_error(run, page, tmp_path):
    # what `make demo` writes (`jupyter nbconvert --to html`: this exporter) for the notebook as executed here
    html = tmp_path / Path(run.name).with_suffix(".html").name
    html.write_text(HTMLExporter().from_notebook_node(nbformat.from_dict(run.saved()))[0], encoding="utf-8")
    problems, figures = html_problems(page, html)
    assert not problems, "\n".join(problems)
    assert figures == sum(cell_images(c) for c in run.notebook["cells"])


def test_every_widget_answers_the_way_it_should(run):
    drivers = WIDGETS.get(run.name, {})
    widget_cells = interactive_widget_cells(run.notebook)
    driven = sorted(n for n, c in enumerate(run.notebook["cells"])
                    if any(marker in "".join(c["source"]) for marker in drivers))
    assert widget_cells == driven, f"widget cells {widget_cells}, cells the tests drive {driven}"
    for marker, drive in drivers.items():
        where = cell(run.page, run.notebook, marker)
        where.scroll_into_view_if_needed()
        drive(where)
        outputs = where.locator(".jp-Cell-outputWrapper")  # the widget as it was left
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        outputs.screenshot(path=str(SCREENSHOTS / f"{Path(run.name).stem}-{drive.__name__}.png"))


# the widgets --------------------------------------------------------------------------------------------
def shown_pieces(output) -> dict[str, list[str]]:
    """A pieces table (`vocab.analysis.pieces_html`): tokenizer name -> the pieces it shows."""
    return output.evaluate("""node => Object.fromEntries([...node.querySelectorAll('tr')].filter(row =>
        row.querySelector('span')).map(row =>
        [row.querySelector('b').textContent, [...row.querySelectorAll('span')].map(s => s.textContent)]))""")


def tokenizer_explorer(where):
    from xlmlab import parallel
    from xlmlab.tiny_models import LANGUAGES
    from xlmlab.vocab import build_xlmr

    with user_home():
        tokenizers = {"XLM-R method, 8k": xlmlab.load_tokenizer("tiny-xlmr"),
                      "XLM-R method, 32k": xlmlab.load_tokenizer(build_xlmr(LANGUAGES, 32000, source="words+text",
                                                                            character_coverage=1.0)),
                      "XLM-V method, 32k": xlmlab.load_tokenizer("tiny-xlmv")}
    output, text = where.locator(".widget-html-content"), control(where, "text").locator("input")

    def expected(names, sentence):
        return {name: tokenizers[name].tokenize(sentence) for name in names}

    shown = ["XLM-R method, 8k", "XLM-V method, 32k"]
    # another language's example: the text box takes it, the pieces follow
    russian = parallel.read_eval()["ru"].iloc[158]
    control(where, "example").locator("select").select_option("ru")
    eventually(text.input_value, russian, what="the text box")
    eventually(lambda: shown_pieces(output), expected(shown, russian))
    # typed, key by key
    typed = "Passwort vergessen? 密码 2026"
    type_into(text, typed)
    eventually(lambda: shown_pieces(output), expected(shown, typed))
    # other tokenizers chosen
    shown = ["XLM-R method, 8k", "XLM-R method, 32k"]
    control(where, "tokenizers").locator("select").select_option(shown)
    eventually(lambda: shown_pieces(output), expected(shown, typed))


def size_and_clusters(where):
    import dataclasses

    from xlmlab.vocab import XLMVSettings, build_xlmr, build_xlmv, training_data
    from xlmlab.vocab import analysis as vocab_analysis

    langs, settings = training_data.DEFAULT_LANGUAGES, XLMVSettings()
    texts = vocab_analysis.cldr_texts(langs)
    output = where.locator(".widget-html-content")

    def expected(n, k, lang):
        with user_home():
            xlmr = xlmlab.load_tokenizer(build_xlmr(langs, n))
            xlmv = xlmlab.load_tokenizer(build_xlmv(langs, n, settings=dataclasses.replace(settings, k=k),
                                                    equal_size=True))
        duel = vocab_analysis.head_to_head(vocab_analysis.measure({"XLM-R": xlmr, "XLM-V": xlmv}, texts), "XLM-R",
                                           "XLM-V")
        levels = vocab_analysis.by_level(duel)["difference_%"]
        word = max(texts[lang][:40], key=len)
        return ([f"{level}: {levels[level]:+.2f}%" for level in ("high", "medium", "low", "all")],
                {f"XLM-R, {n:,}": xlmr.tokenize(word), f"XLM-V, {n:,}, k = {k}": xlmv.tokenize(word)})

    def shown():
        return (output.locator("table").first.locator("td").all_inner_texts(), shown_pieces(output))

    slide(control(where, "size"), 1)  # 16,000 -> 32,000
    eventually(shown, expected(32_000, 8, "de"), what="the 32,000-piece pair")
    control(where, "k").locator("select").select_option(label="1 cluster")
    control(where, "name in").locator("select").select_option("ru")
    eventually(shown, expected(32_000, 1, "ru"), what="k = 1 at 32,000, a Russian name")


def example_across_languages(where):
    from xlmlab.nli import LABELS, evaluate_directory, read_xnli
    from xlmlab.nli import sample as nli_sample
    from xlmlab.paths import home

    test = read_xnli(nli_sample.path(), split="test").reset_index(drop=True)
    langs = list(dict.fromkeys(test["language"]))
    position = test.groupby("language", sort=False).cumcount().to_numpy()
    index, lang = 5, "zh"
    rows = test.iloc[position == index].reset_index(drop=True)
    names = ["random", "tiny-xlmr", "tiny-xlmv", "tiny-xlm-tlm", "translate-train-all"]
    with user_home():
        kept = {name: sorted((home() / "runs").glob(f"04-{name}-" + "[0-9a-f]" * 16)) for name in names}
    assert all(len(found) == 1 for found in kept.values()), kept  # one kept run per start
    gold = int(rows["label"].iloc[langs.index(lang)])
    expected = {}
    for name, (run_dir,) in kept.items():
        _, predictions = evaluate_directory(run_dir / "best", {"test": rows}, device="cpu", progress=False)
        labels = predictions["test"]
        expected[name] = [LABELS[label][0].upper() for label in labels] + [f"{int((labels == gold).sum())} of {len(langs)}"]
    output = where.locator(".widget-html-content")

    def shown():
        premise = output.locator("p").first.inner_text()
        table = output.evaluate("""node => Object.fromEntries([...node.querySelectorAll('tr')].slice(1).map(row =>
            [row.querySelector('th').textContent, [...row.querySelectorAll('td')].map(td => td.textContent)]))""")
        return rows["premise"].iloc[langs.index(lang)] in premise and LABELS[gold] in premise, table

    slide(control(where, "test pair"), index - 2)  # the notebook starts at pair 2
    control(where, "language").locator("select").select_option(lang)
    eventually(shown, (True, expected), what=f"test pair {index} across languages")


def generation_playground(where):
    from xlmlab.models.generation import generate_text

    with user_home():
        model, tok = xlmlab.load_model("tiny-xlm"), xlmlab.load_tokenizer("tiny-xlm")
    output = where.locator(".widget-html-content")

    def expected(prompt, lang, **options):
        return " ".join(f"{prompt} {generate_text(model, tok, prompt, lang=lang, max_new_tokens=12, **options)}".split())

    def shown():
        return " ".join(output.inner_text().split())

    control(where, "strategy").locator("select").select_option("greedy")
    type_into(control(where, "prompt").locator("input"), "South")
    eventually(shown, expected("South", "en"), what="greedy continuation, English")
    control(where, "language").locator("select").select_option("de")
    type_into(control(where, "prompt").locator("input"), "Vereinigte")
    eventually(shown, expected("Vereinigte", "de"), what="greedy continuation, German")
    control(where, "strategy").locator("select").select_option("beam search")
    slide(control(where, "beams"), -1)  # 4 -> 3
    eventually(shown, expected("Vereinigte", "de", num_beams=3), what="beam search, 3 beams")
    control(where, "strategy").locator("select").select_option("sampling")
    type_into(control(where, "seed").locator("input"), "7", enter=True)
    slide(control(where, "temperature"), -3)  # 1.0 -> 0.7
    slide(control(where, "top-p"), -2)  # 0.9 -> 0.8
    eventually(shown, expected("Vereinigte", "de", do_sample=True, temperature=0.7, top_p=0.8, seed=7),
               what="sampled continuation, seed 7")


def fill_mask_widget(where):
    from xlmlab.probe import fill_mask

    name, sentence, lang = "tiny-xlm-tlm", "Diese Datei kann nicht <mask> werden.", "de"
    with user_home():
        model, tok = xlmlab.load_model(name), xlmlab.load_tokenizer(name)
    found = fill_mask(model, tok, sentence.replace("<mask>", tok.convert_ids_to_tokens(tok.mask_token_id)), top_k=3,
                      lang=lang)
    expected = [[tok.convert_ids_to_tokens(c["token_id"]), f"{c['score']:.3f}"] for c in found]
    output = where.locator(".widget-html-content")
    type_into(control(where, "sentence").locator("input"), sentence)
    control(where, "model").locator("select").select_option(name)
    control(where, "language").locator("select").select_option(lang)
    slide(control(where, "top k"), -2)  # 5 -> 3
    eventually(lambda: output.evaluate("""node => [...node.querySelectorAll('tbody tr')].map(
        row => [...row.querySelectorAll('td')].slice(0, 2).map(td => td.textContent))"""), expected,
        what="fill-mask candidates")


def ner_tagger(where):
    import pandas as pd

    from xlmlab.ner import encode_words, predict_tags, read_ner, tag_names
    from xlmlab.ner import sample as ner_sample
    from xlmlab.paths import home

    sentence, lang, name = "Kontoen 'Hans Weber' aus 'Wien' wurde geladen", "de", "tiny-xlmr"
    labels = tag_names(*(read_ner(ner_sample.COMMITTED / f"{s}.tsv") for s in ("train", "dev", "test")))
    with user_home():
        (run_dir,) = sorted((home() / "runs").glob(f"06-{name}-" + "[0-9a-f]" * 16))
        model, tok = xlmlab.load_model(run_dir / "best"), xlmlab.load_tokenizer(run_dir / "best")
    words = ner_sample.split_words(sentence, lang)
    frame = pd.DataFrame({"language": [lang], "tokens": [words], "tags": [["O"] * len(words)]})
    tags = predict_tags(model, encode_words(tok, frame, labels), labels)[0]
    output = where.locator(".widget-html-content")
    type_into(control(where, "sentence").locator("input"), sentence)
    control(where, "language").locator("select").select_option(lang)
    control(where, "tagger").locator("select").select_option(name)
    eventually(lambda: output.evaluate("""node => [...node.querySelectorAll('table.tagged tr')].map(
        row => [...row.querySelectorAll('td')].map(td => td.textContent))"""), [words, tags],
        what="the words and the tagger's tags")


# notebook -> {a marker in the widget cell's source: the function that drives it}
WIDGETS = {
    "01_tokenization_xlmr_vs_xlmv.ipynb": {"examples = {lang: held_out[lang].iloc[158]": tokenizer_explorer},
    "02_building_an_xlmv_vocabulary.ipynb": {"def grid_html(": size_and_clusters},
    "03_clm_generation_xlm_ende.ipynb": {"prompt_box = widgets.Text(": generation_playground},
    "04_xnli_finetuning.ipynb": {"def example_html(": example_across_languages},
    "05_pretraining_mlm_tlm.ipynb": {"text_box = widgets.Text(": fill_mask_widget},
    "06_cross_lingual_ner.ipynb": {"sentence_box = widgets.Text(": ner_tagger},
}
