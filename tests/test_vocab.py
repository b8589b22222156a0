"""The vocabulary builders, step by step, on a few languages and small sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xlmlab
from xlmlab import vocab
from xlmlab.cli import main as cli
from xlmlab.vocab import analysis as vocab_analysis
from xlmlab.vocab import training_data, unigram, xlmv

LANGS = ["ar", "bg", "de", "en", "ru", "uk"]
SETTINGS = vocab.XLMVSettings(k=3, per_language_size=1500, step=250, top=2000)
TOP = 2000  # words per language: small, so that the tests train in seconds


@pytest.fixture(scope="module")
def models():
    return xlmv.per_language_models(LANGS, SETTINGS.per_language_size, top=TOP)


def test_word_counts_are_scaled_and_include_capitals():
    counts = training_data.word_counts("de", total=100_000, top=2000)
    assert 95_000 < sum(counts.values()) < 110_000
    assert "die" in counts and "Die" in counts and counts["Die"] < counts["die"]


def test_sampling_probabilities_follow_alpha():
    equal = training_data.sampling_probabilities(["en", "is", "de"], 0.0)
    assert np.allclose(list(equal.values()), 1 / 3)
    real = training_data.sampling_probabilities(["en", "is"], 1.0)
    smoothed = training_data.sampling_probabilities(["en", "is"], 0.3)
    assert real["en"] > smoothed["en"] > 0.5 and abs(sum(smoothed.values()) - 1) < 1e-12


@pytest.mark.parametrize("langs, message", [(["en", "xx"], r"no word statistics for \['xx'\]"), ([], "no languages"),
                                            (["sw"], r"no word statistics for \['sw'\] in source 'words'")])
def test_bad_languages_are_refused(langs, message):
    with pytest.raises(ValueError, match=message):
        vocab.build_xlmr(langs, 1000)
    with pytest.raises(ValueError, match=r"source 'text'; expected one of \('words', 'words\+text'\)"):
        vocab.build_xlmr(["en"], 1000, source="text")


def test_running_text_brings_punctuation_digits_and_languages_without_word_lists():
    words = training_data.word_counts("ru", total=100_000, top=2000)
    mixed = training_data.word_counts("ru", total=100_000, top=2000, source="words+text")
    assert 95_000 < sum(mixed.values()) < 110_000
    text = set(mixed) - set(words)
    assert any(any(c.isdigit() and c != "0" for c in w) for w in text)  # wordfreq writes digits as 0
    assert any(w.endswith((",", ".", ":", "?")) for w in text)
    # Swahili has no word list: its counts are its running text alone
    swahili = training_data.word_counts("sw", total=50_000, source="words+text")
    assert set(swahili) == {w for w, _ in training_data._text_frequencies("sw")}
    assert "sw" in training_data.languages("words+text") and "sw" not in training_data.languages()


def test_word_list_builds_keep_their_cache_keys():
    """Word-list builds at the default coverage are keyed as before the two settings existed, so
    their caches stay valid; the other settings key builds of their own."""
    assert training_data.source_key("words") == {}
    assert training_data.source_key("words+text", 1.0) == {"source": "words+text", "character_coverage": 1.0}
    assert "source" not in vocab.XLMVSettings().key()
    assert vocab.XLMVSettings(source="words+text").key()["source"] == "words+text"


def test_vocabularies_with_running_text_know_the_held_out_characters(tmp_path):
    """The XLM-R method on the 15 XNLI languages, word lists plus the parallel training text,
    every character kept: under 0.5% unknown pieces on the held-out Django strings of every
    language (word lists alone leave 1-46% there: no punctuation, no Greek or Thai letters)."""
    from xlmlab import parallel

    built = vocab.build_xlmr(training_data.XNLI_LANGUAGES, 8000, tmp_path / "t", source="words+text",
                             character_coverage=1.0)
    tok = xlmlab.load_tokenizer(built)
    held_out = parallel.pairs("eval")
    texts = {"en": sorted(set(held_out["en"]))} | {lang: g["text"].tolist() for lang, g in held_out.groupby("language")}
    for lang, sentences in texts.items():
        flat, _ = tok.encode_ragged(sentences)
        assert 100 * np.mean(flat == tok.unk_token_id) < 0.5, lang
    assert json.loads((built / "vocabulary.json").read_text())["source"] == "words+text"


def test_training_is_byte_identical(tmp_path):
    counts = training_data.word_counts("en", top=TOP)
    a = unigram.train(counts, 1000, tmp_path / "a.model").read_bytes()
    b = unigram.train(counts, 1000, tmp_path / "b.model").read_bytes()
    assert a == b


def test_too_small_and_too_large_sizes_say_what_to_change(tmp_path):
    counts = training_data.word_counts("ja", top=TOP)
    with pytest.raises(unigram.VocabularyError, match=r"too small for the \d+ characters .* use a size above"):
        unigram.train(counts, 100, tmp_path / "small.model")
    with pytest.raises(unigram.VocabularyError, match=r"more than these word counts support; use at most \d+"):
        unigram.train({"ab": 3, "cd": 2}, 5000, tmp_path / "large.model")
    with pytest.raises(unigram.VocabularyError, match="the corpus is empty"):
        unigram.train({}, 100, tmp_path / "empty.model")


def test_prune_keeps_every_character_and_the_best_longer_pieces(models):
    model = models["de"]
    pruned = unigram.prune(model, 100)
    full, kept = unigram.scores(model), unigram.scores(pruned)
    longer = sorted((p for p in full if len(p) > 1), key=lambda p: (-full[p], p))
    assert set(kept) == xlmv.characters(model) | set(longer[:100])
    assert all(kept[p] == full[p] for p in kept)
    controls = [p.piece for p in model.pieces if p.type != unigram.NORMAL]
    assert [p.piece for p in pruned.pieces if p.type != unigram.NORMAL] == controls
    assert pruned.trainer_spec.vocab_size == len(pruned.pieces) == len(controls) + len(kept)
    assert unigram.scores(unigram.prune(model, 10**9)) == full  # more than there are: all of them


def test_union_holds_every_piece_at_its_best_score(models):
    merged = unigram.union([models["de"], models["en"]])
    scores = unigram.scores(merged)
    de, en = unigram.scores(models["de"]), unigram.scores(models["en"])
    assert set(scores) == set(de) | set(en) and len(scores) < len(de) + len(en)
    shared = next(iter(set(de) & set(en)))
    assert scores[shared] == max(de[shared], en[shared])
    assert unigram.processor(merged).encode("Hallo world") != []  # the union loads like any model


def test_lexical_vectors_cover_the_union_with_a_common_floor(models):
    vectors = xlmv.lexical_vectors(models)
    assert list(vectors.index) == LANGS
    assert vectors.shape[1] == len(set().union(*(unigram.scores(m) for m in models.values())))
    floor = vectors.to_numpy().min()
    absent = [p for p in vectors.columns if p not in unigram.scores(models["ar"])][0]
    assert vectors.loc["ar", absent] == floor


def test_clusters_group_languages_by_script(models):
    clusters = xlmv.cluster(xlmv.lexical_vectors(models), k=3)
    assert clusters["ru"] == clusters["uk"] == clusters["bg"]
    assert clusters["de"] == clusters["en"] != clusters["ru"] and clusters["ar"] not in (clusters["en"], clusters["ru"])
    assert xlmv.cluster(xlmv.lexical_vectors(models), k=3) == clusters  # deterministic


def test_allocation_spends_exactly_the_total_and_favours_weight(models):
    curves = xlmv.alp_curves(models, step=250)
    assert (curves.groupby("lang")["alp"].apply(lambda a: a.is_monotonic_increasing)).mean() > 0.8
    weights = dict.fromkeys(LANGS, 1.0) | {"en": 50.0}
    allocation = xlmv.allocate(curves, weights, 3000, step=250)
    assert sum(allocation.values()) == 3000 and allocation["en"] == max(allocation.values())


def test_capacities_add_up_to_the_size_and_cover_the_characters():
    capacities = xlmv.cluster_capacities({"a": 100, "b": 300, "c": 0}, {"a": 0, "b": 1, "c": 1}, {0: 50, 1: 70}, 1000)
    assert sum(capacities.values()) == 1000 and capacities[0] >= 50 and capacities[1] >= 70
    with pytest.raises(unigram.VocabularyError, match="smaller than the 120 characters"):
        xlmv.cluster_capacities({"a": 1}, {"a": 0}, {0: 120}, 100)


def test_xlmr_and_xlmv_builds_load_as_tokenizers(tmp_path):
    xlmr = xlmlab.load_tokenizer(vocab.build_xlmr(LANGS, 3000, tmp_path / "r", top=TOP))
    xlmv_dir = vocab.build_xlmv(LANGS, 3000, tmp_path / "v", settings=SETTINGS)
    info = json.loads((xlmv_dir / "vocabulary.json").read_text())
    assert sum(info["capacities"].values()) == 3000 and info["pieces"] <= 3000  # overlap: the union is smaller
    equal = vocab.build_xlmv(LANGS, 3000, tmp_path / "e", settings=SETTINGS, equal_size=True)
    assert json.loads((equal / "vocabulary.json").read_text())["pieces"] == 3000
    assert xlmr.vocab_size == xlmlab.load_tokenizer(equal).vocab_size == 3002
    assert xlmlab.load_tokenizer(xlmv_dir).encode("Привет") != []


def test_builds_are_cached_and_byte_identical(tmp_path, monkeypatch):
    first = vocab.build_xlmv(LANGS, 3000, settings=SETTINGS).joinpath("sentencepiece.bpe.model").read_bytes()
    monkeypatch.setenv("XLMLAB_HOME", str(tmp_path))
    again = vocab.build_xlmv(LANGS, 3000, settings=SETTINGS).joinpath("sentencepiece.bpe.model").read_bytes()
    assert first == again


def test_measures_and_head_to_head(tmp_path):
    toks = {"xlmr": xlmlab.load_tokenizer(vocab.build_xlmr(LANGS, 3000, top=TOP)),
            "xlmv": xlmlab.load_tokenizer(vocab.build_xlmv(LANGS, 3000, settings=SETTINGS, equal_size=True))}
    texts = vocab_analysis.cldr_texts(["de", "ru"])
    measures = vocab_analysis.measure(toks, texts)
    assert len(measures) == 4 and (measures["tokens_per_sentence"] > 1).all()
    assert ((measures["unk_rate"] >= 0) & (measures["unk_rate"] < 0.05)).all()
    assert (measures["alp"] < 0).all()
    duel = vocab_analysis.head_to_head(measures, "xlmr", "xlmv")
    expected = 100 * (duel.loc["de", "xlmv"] / duel.loc["de", "xlmr"] - 1)
    assert duel.loc["de", "difference_%"] == pytest.approx(expected)
    assert set(vocab_analysis.by_level(duel).index) >= {"all"}
    shared = vocab_analysis.overlap(toks["xlmr"], texts)
    assert shared.loc["de", "de"] == 1.0 and shared.loc["de", "ru"] < 0.5


def test_explorer_html_shows_every_piece_escaped():
    tok = xlmlab.load_tokenizer(vocab.build_xlmr(LANGS, 3000, top=TOP))
    page = vocab_analysis.pieces_html({"a": tok, "b <x>": tok}, "Hallo <Welt> Привет")
    assert page.count("<tr>") == 2 and "b &lt;x&gt;" in page and "<Welt>" not in page
    assert page.count("<span") == 2 * len(tok.encode("Hallo <Welt> Привет", add_special_tokens=False))


def test_explorer_shows_the_character_an_unknown_piece_stands_for():
    tok = xlmlab.load_tokenizer(vocab.build_xlmr(LANGS, 3000, top=TOP))
    text = "Hallo ☃ Welt"  # a snowman is in no word list
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.unk_token_id in ids
    page = vocab_analysis.pieces_html({"de": tok}, text)
    assert ">☃</span>" in page and "&lt;unk&gt;</span>" not in page
    assert page.count("outline:2px solid") == ids.count(tok.unk_token_id) and "1 unknown" in page


def test_cli_builds_and_compares(tmp_path, capsys):
    assert cli(["vocab", "build", "--method", "xlmr", "--size", "3000", "--out", str(tmp_path / "r"), "--langs", *LANGS,
                "--top", str(TOP)]) == 0
    assert cli(["vocab", "compare", str(tmp_path / "r"), "--out", str(tmp_path / "report.csv"), "--langs", "de", "ru"]) == 0
    report = tmp_path / "report.csv"
    assert report.read_text().splitlines()[0].startswith("tokenizer,lang,level")
    assert "tokens_per_sentence" in capsys.readouterr().out


def test_user_text_and_flores_directories_are_read(tmp_path):
    (tmp_path / "de.txt").write_text("Guten Tag.\n\nWie geht es?\n", encoding="utf-8")
    assert vocab_analysis.read_text_dir(tmp_path) == {"de": ["Guten Tag.", "Wie geht es?"]}
    (tmp_path / "devtest").mkdir()
    (tmp_path / "devtest" / "deu_Latn.devtest").write_text("Ein Satz.\nNoch einer.\n", encoding="utf-8")
    assert vocab_analysis.read_flores(tmp_path, ["de", "en"]) == {"de": ["Ein Satz.", "Noch einer."]}
    with pytest.raises(FileNotFoundError, match="no <lang>.txt files"):
        vocab_analysis.read_text_dir(tmp_path / "devtest")
