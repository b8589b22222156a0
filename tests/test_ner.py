"""NER: tags and seqeval's entity F1, the published file layouts, sub-word alignment against the
reference recipe, the token-classification runner, and the embedded sample."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import xlmlab
from xlmlab.models.checkpoint import load_classifier
from xlmlab.ner import (
    IGNORE,
    DataError,
    NERRunner,
    align,
    encode_words,
    entities,
    f1_score,
    iob1_to_iob2,
    read_ner,
    tag_names,
    word_pieces,
    write_wikiann,
)
from xlmlab.ner import sample as ner_sample
from xlmlab.train import Settings

TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


# tags and the metric ------------------------------------------------------------------------------
def random_sentences(seed: int, n: int = 300) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(TAGS) for _ in range(rng.randint(1, 12))] for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_entities_are_read_as_seqeval_reads_them(seed):
    from seqeval.metrics.sequence_labeling import get_entities

    for tags in random_sentences(seed):
        assert entities(tags) == get_entities(tags), tags


@pytest.mark.parametrize("seed", range(5))
def test_f1_equals_seqeval(seed):
    from seqeval.metrics import f1_score as seqeval_f1

    gold = random_sentences(seed)
    # predictions: the gold tags with a quarter of them changed, so scores are neither 0 nor 100
    rng = random.Random(seed + 100)
    predicted = [[rng.choice(TAGS) if rng.random() < 0.25 else t for t in sentence] for sentence in gold]
    assert f1_score(gold, predicted) == pytest.approx(100 * seqeval_f1(gold, predicted), abs=1e-9)
    assert f1_score(gold, gold) == 100.0


def test_an_entity_is_right_only_when_type_and_both_ends_match():
    gold = [["B-PER", "I-PER", "O", "B-ORG"]]
    assert f1_score(gold, [["B-PER", "O", "O", "B-ORG"]]) == pytest.approx(100 * 2 * 1 / (2 + 2))
    assert f1_score(gold, [["B-ORG", "I-ORG", "O", "B-ORG"]]) == pytest.approx(50.0)


def test_iob1_becomes_iob2():
    assert iob1_to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"]) == \
        ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"]


# reading files ----------------------------------------------------------------------------------------
def test_wikiann_file_is_read_with_languages_and_sentences(tmp_path):
    path = tmp_path / "test"
    path.write_text("de:Angela\tB-PER\nde:Merkel\tI-PER\nde:spricht\tO\n\nfr:Paris\tB-LOC\nfr::\tO\n", encoding="utf-8")
    frame = read_ner(path)
    assert frame["language"].tolist() == ["de", "fr"]
    assert frame["tokens"].tolist() == [["Angela", "Merkel", "spricht"], ["Paris", ":"]]
    assert frame["tags"].tolist() == [["B-PER", "I-PER", "O"], ["B-LOC", "O"]]
    assert frame["split"].unique().tolist() == ["test"]


def test_conll_file_takes_the_last_column_and_skips_docstart(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\n\nKenya B-LOC\n", encoding="utf-8")
    frame = read_ner(path, language="en", scheme="iob1")
    assert frame["tokens"].tolist() == [["EU", "rejects"], ["Kenya"]]
    assert frame["tags"].tolist() == [["B-ORG", "O"], ["B-LOC"]]
    assert frame["split"].unique().tolist() == ["train"]


@pytest.mark.parametrize(("text", "message"), [
    ("de:Berlin\tB-LOC\nde:liegt B-LOC\n", ":2: expected 'lang:token<TAB>tag'"),
    ("de:Berlin\tB-LOC\nde:liegt\tX-LOC\n", ":2: tag 'X-LOC' is not O, B-TYPE or I-TYPE"),
    ("de:Berlin\tB-LOC\nfr:est\tO\n", ":2: language 'fr' in the middle of a 'de' sentence"),
])
def test_malformed_wikiann_lines_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "dev"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=f"{path}{message}".replace("(", r"\(").replace(")", r"\)")):
        read_ner(path)


def test_malformed_conll_lines_name_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("Nairobi B-LOC\nni\n", encoding="utf-8")
    with pytest.raises(DataError, match=f"{path}:2: expected 'token tag'"):
        read_ner(path, language="sw")
    with pytest.raises(DataError, match="does not say its language"):
        read_ner(path)


def test_written_wikiann_reads_back(tmp_path):
    frame = read_ner(ner_sample.COMMITTED / "dev.tsv")
    write_wikiann(frame, tmp_path / "dev.tsv")
    again = read_ner(tmp_path / "dev.tsv")
    pd.testing.assert_frame_equal(frame, again)


def test_label_set_is_o_then_b_and_i_of_each_type():
    frame = pd.DataFrame({"tags": [["B-PER", "I-PER", "O"], ["B-ORG"]]})
    assert tag_names(frame) == ["O", "B-ORG", "I-ORG", "B-PER", "I-PER"]


# aligning labels with pieces -------------------------------------------------------------------------
WORDS = [
    (["Ada", "Lovelace", "visited", "Nairobi", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"], "en"),
    (["Ангела", "Меркель", "посетила", "Москву"], ["B-PER", "I-PER", "O", "B-LOC"], "ru"),
    (["阿", "斯", "马", "拉", "学", "习"], ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O"], "zh"),
    (["श्री", "अमित", "शाह", "ने", "कहा"], ["O", "B-PER", "I-PER", "O", "O"], "hi"),
    (["Ärztin", "Zoë", "über", "Straße", "née"], ["O", "B-PER", "O", "B-LOC", "O"], "de"),
]


def reference_alignment(reference, words, tags, labels):
    """transformers' run_ner recipe: word_ids() of a fast tokenizer, the first piece of each word
    labelled, the other pieces and the specials -100."""
    encoding = reference(words, is_split_into_words=True)
    out, previous = [], None
    for word in encoding.word_ids():
        out.append(IGNORE if word is None or word == previous else labels.index(tags[word]))
        previous = word
    return encoding["input_ids"], out


@pytest.mark.parametrize(("words", "tags", "lang"), WORDS)
def test_sentencepiece_alignment_equals_the_reference_recipe(spm_dir, words, tags, lang):
    import transformers

    reference = transformers.XLMRobertaTokenizerFast.from_pretrained(spm_dir)
    tok = xlmlab.load_tokenizer(spm_dir)
    ids, labels, first = align(tok, words, [TAGS.index(t) for t in tags])
    ref_ids, ref_labels = reference_alignment(reference, words, tags, TAGS)
    assert ids.tolist() == ref_ids
    assert labels.tolist() == ref_labels
    assert len(first) == len(words) and (labels[first] != IGNORE).all()


@pytest.mark.parametrize("words", [["Angela", "Merkel", "besucht", "Straßburg", "."], ["Don't", "e.g.", "U.S.A."]])
def test_xlm_alignment_tokenises_each_word_as_the_reference(xlm_dir, words):
    import transformers

    reference = transformers.XLMTokenizer(vocab_file=str(xlm_dir / "vocab.json"), merges_file=str(xlm_dir / "merges.txt"))
    tok = xlmlab.load_tokenizer(xlm_dir)
    pieces = word_pieces(tok, words, "en")
    assert [p.tolist() for p in pieces] == [reference.convert_tokens_to_ids(reference.tokenize(w)) for w in words]
    ids, labels, first = align(tok, words, list(range(len(words))), lang="en")
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert labels[first].tolist() == list(range(len(words)))
    assert (np.delete(labels, first) == IGNORE).all()


def test_truncation_drops_whole_words_and_predictions_pad_with_o(spm_dir):
    tok = xlmlab.load_tokenizer(spm_dir)
    words = ["Nairobi"] * 30
    ids, labels, first = align(tok, words, [1] * 30, max_length=12)
    assert len(ids) <= 12 and ids[-1] == tok.eos_token_id
    assert 0 < len(first) < 30
    assert (labels[first] == 1).all()


def test_a_tag_the_model_lacks_is_refused(spm_dir):
    frame = pd.DataFrame({"language": ["en"], "tokens": [["Paris"]], "tags": [["B-LOC"]]})
    with pytest.raises(DataError, match=r"tags \['B-LOC'\] are not among the model's labels"):
        encode_words(xlmlab.load_tokenizer(spm_dir), frame, ["O", "B-PER", "I-PER"])


# models and the runner -----------------------------------------------------------------------------------
def test_token_classifier_gets_a_new_head_on_a_pretrained_body(tmp_path):
    from conftest import reference_model

    ref = reference_model("XLMRobertaForMaskedLM")
    ref.save_pretrained(tmp_path / "mlm")
    model = load_classifier(tmp_path / "mlm", ["O", "B-PER", "I-PER"], task="token")
    assert isinstance(model, xlmlab.XLMRForTokenClassification)
    assert model.classifier.weight.shape == (3, ref.config.hidden_size)
    xlmlab.save_model(model, tmp_path / "tagger")
    # a tagger for other labels keeps its body and gets a new head
    other = load_classifier(tmp_path / "tagger", ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"], task="token")
    assert other.classifier.weight.shape[0] == 5
    assert (other.encoder.embeddings.word.weight == model.encoder.embeddings.word.weight).all()
    with pytest.raises(xlmlab.CheckpointError, match="expected a classifier for labels"):
        load_classifier(tmp_path / "tagger", ["O", "B-LOC", "I-LOC"], task="token", require_head=True)


@pytest.mark.parametrize("model_name", ["tiny-xlmr", "tiny-xlm-tlm"])
def test_runner_learns_the_english_sample_and_reports_every_language(model_name, tmp_path):
    """From the random start of an XLM-R and an XLM (language embeddings) body: the tagger fits
    English sentences it trains on, and every language of the evaluation set is scored."""
    source = xlmlab.tiny_models.initial(model_name)
    train = read_ner(ner_sample.COMMITTED / "train.tsv")
    test = read_ner(ner_sample.COMMITTED / "test.tsv").groupby("language", sort=False).head(10).reset_index(drop=True)
    seen = train.iloc[:64].reset_index(drop=True)
    runner = NERRunner(source, train, {"seen": seen, "test": test}, tmp_path / "run",
                       Settings(max_steps=100, batch_size=16, lr=1e-3, warmup=0.1, eval_every=100, save_every=100),
                       progress=False)
    before = runner.evaluate()["seen"]["en"]
    runner.fit()
    after = runner.metrics.set_index(["split", "language"])["f1"]
    assert after["seen", "en"] > before + 40, (before, after["seen", "en"])
    assert list(after["test"].index) == [*dict.fromkeys(test["language"]), "avg"]
    best = xlmlab.load_model(tmp_path / "run" / "best")
    assert best.architecture.endswith("ForTokenClassification")


# the embedded sample -----------------------------------------------------------------------------------
def test_sample_files_are_what_the_generator_writes_from_the_committed_templates(tmp_path):
    """Rendering the committed templates again (Faker and CLDR at their pinned versions) gives the
    committed files byte for byte."""
    out = ner_sample.write(ner_sample.read_committed_templates(), tmp_path / "ner-sample")
    for name in ("templates.tsv", "train.tsv", "dev.tsv", "test.tsv", "README.md"):
        assert (out / name).read_bytes() == (ner_sample.COMMITTED / name).read_bytes(), name


@pytest.fixture(scope="module")
def splits():
    return {s: read_ner(ner_sample.COMMITTED / f"{s}.tsv") for s in ("train", "dev", "test")}


def test_training_is_english_and_evaluation_is_parallel_in_twelve_languages(splits):
    assert splits["train"]["language"].unique().tolist() == ["en"]
    for name in ("dev", "test"):
        frame = splits[name]
        sizes = frame.groupby("language", sort=False).size()
        assert sizes.index.tolist() == ner_sample.LANGUAGES
        assert sizes.nunique() == 1
        # parallel: row i of every language holds the same entities by type (word order may differ)
        kinds = [sorted(e[0] for e in entities(t)) for t in frame["tags"]]
        n = sizes.iloc[0]
        for i, lang in enumerate(ner_sample.LANGUAGES):
            assert kinds[i * n:(i + 1) * n] == kinds[:n], lang


def test_evaluation_shares_no_town_or_publisher_with_training(splits):
    def organisations(frame):
        return {" ".join(words[a:b + 1]) for words, tags in zip(frame["tokens"], frame["tags"])
                for kind, a, b in entities(tags) if kind == "ORG"}
    english_test = splits["test"][splits["test"]["language"] == "en"]
    assert organisations(splits["train"]) and organisations(english_test)
    assert not organisations(splits["train"]) & organisations(english_test)


def test_every_entity_is_in_the_script_of_its_language(splits):
    """Names are filled per locale: Devanagari in Hindi, Han in Chinese, Arabic script in Arabic and Urdu."""
    import unicodedata

    scripts = {"hi": "DEVANAGARI", "zh": "CJK", "ar": "ARABIC", "ur": "ARABIC", "el": "GREEK", "bg": "CYRILLIC"}
    test = splits["test"]
    for lang, script in scripts.items():
        rows = test[test["language"] == lang]
        people = [w for words, tags in zip(rows["tokens"], rows["tags"]) for w, t in zip(words, tags) if t.endswith("PER")]
        assert people and all(script in unicodedata.name(w[0]) for w in people), (lang, people[:5])


def test_placeholders_are_all_filled(splits):
    for frame in splits.values():
        assert not any("{" in w or "}" in w for words in frame["tokens"] for w in words)


def test_words_split_at_spaces_and_punctuation_and_chinese_by_character():
    assert ner_sample.split_words("Removed 'Nairobi' from this device.", "en") == \
        ["Removed", "'", "Nairobi", "'", "from", "this", "device", "."]
    assert ner_sample.split_words("您已成功加入'阿斯马拉'学习设施", "zh") == \
        ["您", "已", "成", "功", "加", "入", "'", "阿", "斯", "马", "拉", "'", "学", "习", "设", "施"]
    words, tags = ner_sample.fill("Coach – {name}", {"name": "Ada Lovelace"}, "en")
    assert (words, tags) == (["Coach", "–", "Ada", "Lovelace"], ["O", "O", "B-PER", "I-PER"])


def test_kept_run_names_follow_the_words_and_tags_of_ner_tables(tmp_path):
    from xlmlab.train import run_directory

    train = read_ner(ner_sample.COMMITTED / "train.tsv")
    evals = {"dev": read_ner(ner_sample.COMMITTED / "dev.tsv").iloc[:20]}
    source = xlmlab.tiny_models.initial("tiny-xlmr")
    name = run_directory(tmp_path, "ner", source, train, evals, Settings()).name
    assert run_directory(tmp_path, "ner", source, train, evals, Settings()).name == name
    changed = train.copy()
    changed.at[0, "tags"] = ["O"] * len(changed.at[0, "tags"])
    assert run_directory(tmp_path, "ner", source, changed, evals, Settings()).name != name


def test_ner_train_command_writes_a_tagger_and_reports_f1_per_language(tmp_path, capsys):
    from xlmlab.cli import main

    sample = ner_sample.COMMITTED
    assert main(["ner", "train", "--model", str(xlmlab.tiny_models.initial("tiny-xlmr")), "--train",
                 str(sample / "train.tsv"), "--eval", str(sample / "dev.tsv"), "--out", str(tmp_path / "run"),
                 "--max-steps", "4", "--batch-size", "8", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dev: en ") and " ur " in out and "best step 4 of 4" in out
    assert xlmlab.load_model(tmp_path / "run" / "best").architecture == "XLMRobertaForTokenClassification"


def test_templates_keep_entity_placeholders_and_mark_the_parallel_ones(tmp_path):
    """The extraction rules on a small Kolibri-like wheel: placeholders must be people, facilities or
    channels (numbers allowed beside them) and unchanged in a translation for it to count."""
    import json
    import zipfile

    messages = {  # key -> (English, translation pattern for every other language)
        "joined": ("You joined '{facility}'", "{lang}: '{{facility}}'"),
        "coach": ("Coach – {name}", "{lang} – {{name}}"),
        "size": ("File size {size}", "{lang} {{size}}"),  # no entity: dropped
        "plural": ("{count, plural, one {# learner} other {# learners}} in {className}", "{lang}"),  # ICU: dropped
        "lost": ("Delete '{channelName}'", "{lang} '{{channel}}'"),  # renamed in translation: not usable there
    }
    path = tmp_path / ner_sample.WHEEL
    with zipfile.ZipFile(path, "w") as z:
        for lang, locale in ner_sample.KOLIBRI.items():
            texts = {key: en if lang == "en" else pattern.format(lang=lang) for key, (en, pattern) in messages.items()}
            if lang == "hi":
                texts["coach"] = "कोच – {name} {name1}"  # a placeholder more: Hindi is not usable
            z.writestr(f"kolibri/locale/{locale}/LC_MESSAGES/app-messages.json", json.dumps(texts))
    templates = ner_sample.read_templates(path).set_index("en")
    assert sorted(templates.index) == ["Coach – {name}", "Delete '{channelName}'", "You joined '{facility}'"]
    assert templates.loc["You joined '{facility}'", "parallel"]
    assert not templates.loc["Coach – {name}", "parallel"] and templates.loc["Coach – {name}", "hi"] == ""
    assert templates.loc["Coach – {name}", "de"] == "de – {name}"
    assert not templates.loc["Delete '{channelName}'", "parallel"]
