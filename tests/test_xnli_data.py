"""Reading XNLI, XNLI-MT and MultiNLI files in their published layouts, and batching pairs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xlmlab.nli import XNLI_LANGUAGES, DataError, encode_pairs, read_xnli
from xlmlab.nli import sample as nli_sample
from xlmlab.nli.xnli import XNLI_COLUMNS
from xlmlab.train.batching import eval_batches, length_grouped_batches


def xnli_row(language, label, premise, hypothesis):
    row = dict.fromkeys(XNLI_COLUMNS, "x")
    row |= dict(language=language, gold_label=label, sentence1=premise, sentence2=hypothesis)
    return "\t".join(row[c] for c in XNLI_COLUMNS)


def write_xnli(path, rows):
    path.write_text("\n".join(["\t".join(XNLI_COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def xnli_dir(tmp_path):
    write_xnli(tmp_path / "xnli.dev.tsv", [
        xnli_row("en", "entailment", 'He said "yes.', "He spoke."),  # an unbalanced quote
        xnli_row("en", "contradiction", "It rains.", 'It is "dry" today.'),
        xnli_row("fr", "neutral", "Il pleut.", "Il fait \"froid."),
        xnli_row("de", "entailment", "Es regnet.", "Es ist nass."),
    ])
    write_xnli(tmp_path / "xnli.test.tsv", [xnli_row("fr", "contradiction", "A", "B")])
    mt = tmp_path / "multinli"
    mt.mkdir()
    (mt / "multinli.train.fr.tsv").write_text(
        "premise\thypo\tlabel\nIl a dit \"oui.\tIl a parlé.\tentailment\nA\tB\tcontradictory\nC\tD\tneutral\n",
        encoding="utf-8")
    return tmp_path


def test_xnli_tsv_with_unbalanced_quotes_keeps_every_row(xnli_dir):
    frame = read_xnli(xnli_dir / "xnli.dev.tsv")
    assert list(frame.columns) == ["language", "premise", "hypothesis", "label", "split"]
    assert frame["premise"].tolist() == ['He said "yes.', "It rains.", "Il pleut.", "Es regnet."]
    assert frame["hypothesis"][2] == 'Il fait "froid.'
    assert frame["label"].tolist() == [0, 2, 1, 0]
    assert set(frame["split"]) == {"dev"}


def test_xnli_mt_contradictory_is_contradiction_and_language_comes_from_the_name(xnli_dir):
    frame = read_xnli(xnli_dir / "multinli" / "multinli.train.fr.tsv")
    assert frame["label"].tolist() == [0, 2, 1]
    assert set(frame["language"]) == {"fr"} and set(frame["split"]) == {"train"}
    assert frame["premise"][0] == 'Il a dit "oui.'


def test_multinli_jsonl_drops_pairs_without_gold_label_and_logs_the_count(tmp_path, caplog):
    records = [dict(gold_label="neutral", sentence1="a", sentence2="b", genre="g", pairID="1"),
               dict(gold_label="-", sentence1="c", sentence2="d", genre="g", pairID="2"),
               dict(gold_label="contradiction", sentence1="e", sentence2="f", genre="g", pairID="3")]
    path = tmp_path / "multinli_1.0_dev_matched.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with caplog.at_level("INFO", logger="xlmlab.nli.xnli"):
        frame = read_xnli(path)
    assert frame["label"].tolist() == [1, 2]
    assert set(frame["split"]) == {"dev_matched"} and set(frame["language"]) == {"en"}
    assert "dropped 1 pairs" in caplog.text


def test_directory_reads_every_layout_and_filters_languages_and_split(xnli_dir):
    everything = read_xnli(xnli_dir)
    assert len(everything) == 4 + 1 + 3
    dev = read_xnli(xnli_dir, ["fr", "en"], split="dev")
    assert dev["language"].tolist() == ["fr", "en", "en"]  # in the order asked for


def test_missing_language_names_what_the_files_hold(xnli_dir):
    with pytest.raises(DataError, match=r"no pairs in \['sw'\].*'en', 'fr', 'de'"):
        read_xnli(xnli_dir / "xnli.dev.tsv", ["sw"])


def test_a_row_with_a_missing_field_names_file_and_line(tmp_path):
    path = write_xnli(tmp_path / "xnli.dev.tsv", [xnli_row("en", "neutral", "a", "b"),
                                                 "en\tneutral\tonly three"])
    with pytest.raises(DataError, match=r"xnli\.dev\.tsv:3: expected 19 tab-separated fields.*found 3"):
        read_xnli(path)


def test_an_unknown_label_names_file_and_line(tmp_path):
    path = tmp_path / "multinli.train.de.tsv"
    path.write_text("premise\thypo\tlabel\na\tb\tneutral\nc\td\tmaybe\n")
    with pytest.raises(DataError, match=r"multinli\.train\.de\.tsv:3: label 'maybe'"):
        read_xnli(path)


def test_a_broken_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "multinli_1.0_train.jsonl"
    path.write_text('{"gold_label": "neutral", "sentence1": "a", "sentence2": "b"}\n{"gold_label": \n')
    with pytest.raises(DataError, match=r"multinli_1\.0_train\.jsonl:2: not a JSON object"):
        read_xnli(path)


def test_unknown_files_and_empty_directories_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="unknown file type"):
        read_xnli(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="no XNLI files"):
        read_xnli(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_xnli(tmp_path / "absent.tsv")


def test_the_embedded_sample_is_what_its_generator_writes(tmp_path):
    nli_sample.write(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.tsv"))
    assert len(written) == 3 + len(nli_sample.LANGUAGES) - 1
    for name in written:
        assert (tmp_path / name).read_bytes() == (nli_sample.path() / name).read_bytes(), name


def test_the_embedded_sample_is_parallel_balanced_and_covers_the_models_languages():
    from xlmlab.tiny_models import LANGUAGES as MODEL_LANGUAGES

    frame = read_xnli(nli_sample.path())
    for split, size in nli_sample.SIZES.items():
        part = frame[frame["split"] == split]
        assert list(dict.fromkeys(part["language"])) == nli_sample.LANGUAGES or split == "train"
        assert sorted(set(part["language"])) == sorted(XNLI_LANGUAGES)
        labels = part.groupby("language", sort=False)["label"].apply(list)
        assert all(row == labels["en"] for row in labels) and len(labels["en"]) == size  # the same pairs, translated
        assert part["label"].value_counts(normalize=True).between(0.33, 0.34).all()
    assert set(nli_sample.LANGUAGES) <= set(MODEL_LANGUAGES)  # every language the tokenizers and models know
    english_train = read_xnli(nli_sample.path() / "xnli.train.tsv")
    assert set(english_train["language"]) == {"en"} and len(english_train) == nli_sample.SIZES["train"]


def test_the_embedded_sample_has_no_copied_hypotheses_and_no_leaked_test_pairs():
    frame = read_xnli(nli_sample.path())
    assert (frame["premise"] != frame["hypothesis"]).all()
    english = frame[frame["language"] == "en"]
    pairs = {split: list(zip(g["premise"], g["hypothesis"])) for split, g in english.groupby("split")}
    assert len(set(pairs["test"])) == len(pairs["test"]) and len(set(pairs["dev"])) == len(pairs["dev"])
    assert not set(pairs["test"]) & set(pairs["dev"])
    assert not (set(pairs["test"]) | set(pairs["dev"])) & set(pairs["train"])
    # a residence hypothesis never has its premise's sentence form, whatever the label
    countries = {nli_sample.country_name(c, "en") for c in nli_sample.CITIES.values()}

    def form(sentence):
        if "'s home is in " in sentence:
            return "home"
        return "country" if sentence.split(" lives in ")[1].rstrip(".") in countries else "lives"

    lives = english[english["hypothesis"].str.contains(" lives in |'s home is in ")]
    assert len(lives) > 0.4 * len(english)
    assert all(form(p) != form(h) for p, h in zip(lives["premise"], lives["hypothesis"]))


def test_encode_pairs_matches_the_tokenizer_on_each_pair():
    from xlmlab import load_tokenizer

    tok = load_tokenizer("tiny-xlmr")
    frame = read_xnli(nli_sample.path(), ["en", "zh"], split="dev").iloc[[0, 1, 200, 201]]
    pairs = encode_pairs(tok, frame, max_length=12)
    for ids, (_, row) in zip(pairs.ids, frame.iterrows()):
        alone = tok([row["premise"]], [row["hypothesis"]], max_length=12)["input_ids"][0]  # one row: no padding
        assert ids.tolist() == alone.tolist()
    full = encode_pairs(tok, frame, max_length=512)
    assert [ids.tolist() for ids in full.ids] == [tok.encode(p, h) for p, h in zip(frame["premise"], frame["hypothesis"])]
    assert max(full.lengths) > 12 and max(pairs.lengths) == 12
    batch = pairs.collate([0, 2])
    assert batch["input_ids"].shape == (2, max(len(pairs.ids[0]), len(pairs.ids[2])))
    assert (batch["attention_mask"].sum(1).numpy() == pairs.lengths[[0, 2]]).all()
    assert batch["labels"].tolist() == frame["label"].iloc[[0, 2]].tolist()


def test_length_grouped_batches_are_fixed_by_seed_and_epoch_and_cut_padding():
    lengths = np.random.default_rng(0).integers(5, 100, size=1000)
    a = length_grouped_batches(lengths, 16, seed=1, epoch=0)
    assert all(np.array_equal(x, y) for x, y in zip(a, length_grouped_batches(lengths, 16, seed=1, epoch=0)))
    assert not np.array_equal(a[0], length_grouped_batches(lengths, 16, seed=1, epoch=1)[0])
    assert all(len(b) == 16 for b in a) and len(np.unique(np.concatenate(a))) == len(a) * 16
    padded = sum(len(b) * lengths[b].max() for b in a)
    shuffled = np.random.default_rng(0).permutation(1000)[:len(a) * 16].reshape(len(a), 16)
    assert padded < 0.7 * sum(16 * lengths[b].max() for b in shuffled)
    assert sorted(np.concatenate(eval_batches(lengths, 64)).tolist()) == list(range(1000))
