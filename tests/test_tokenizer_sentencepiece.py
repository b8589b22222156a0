"""XLM-R / XLM-V tokenization gives fairseq's ids: SentencePiece's pieces through the fairseq dictionary.

The oracle is written out here, one token at a time: <s>=0 <pad>=1 </s>=2 <unk>=3, piece i -> i + 1,
SentencePiece's unknown -> 3, <mask> last; single <s> A </s>, pair <s> A </s></s> B </s>.
transformers' XLMRobertaTokenizer on the same file is checked too.
"""

from __future__ import annotations

import os
import warnings

import pytest
import sentencepiece
import torch

import xlmlab
from xlmlab.tokenizers.base import TokenizerError

TRICKY = [
    "", " ", "   \t\n  ", "Hello world", "  leading and   inner   spaces  ",
    "e\u0301te\u0301 cafe\u0301",                      # combining acute accents
    "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３！",                     # full-width forms, ideographic space
    "👩\u200d👩\u200d👧\u200d👦 family 🏳️\u200d🌈 flag",  # emoji joined by zero-width joiners
    "مرحبا بالعالم، كيف حالك؟",                           # Arabic, right to left
    "שלום עולם", "سلام دنیا", "ہیلو دنیا",                 # Hebrew, Persian, Urdu
    "日本語のテキストと中文文本", "한국어 텍스트",             # CJK
    "Deutschland Россия Ελλάδα ประเทศไทย ኢትዮጵያ",        # mixed scripts in one text
    "tab\tnew\nline\r\nzero\u200bwidth\u00a0nbsp\u00ad",  # control and format characters
    "<mask>", "Paris is the <mask> of France.", "a<mask>b<mask>", "<mask> <mask>",
    "1234567890 3.14 1,000,000 €%&*()",
]


@pytest.fixture(scope="module")
def sp(spm_dir):
    return sentencepiece.SentencePieceProcessor(model_file=str(spm_dir / "sentencepiece.bpe.model"))


@pytest.fixture(scope="module")
def tok(spm_dir):
    return xlmlab.load_tokenizer(spm_dir)


@pytest.fixture(scope="module")
def reference(spm_dir):
    import transformers

    return transformers.XLMRobertaTokenizer.from_pretrained(spm_dir)


def fairseq_ids(sp, text: str) -> list[int]:
    """The oracle: fairseq's dictionary over SentencePiece's segmentation (masks as fairseq's fill_mask)."""
    mask = len(sp) + 1
    out: list[int] = []
    for k, span in enumerate(text.split("<mask>")):
        if k:
            out.append(mask)
        out += [3 if i == sp.unk_id() else i + 1 for i in sp.encode(span.rstrip())]
    return out


def long_text():
    return " ".join(TRICKY[3:16]) * 60


@pytest.mark.parametrize("text", TRICKY + ["LONG"])
def test_single_text_ids_equal_fairseq(tok, sp, text):
    text = long_text() if text == "LONG" else text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tok.encode(text) == [0, *fairseq_ids(sp, text), 2]


@pytest.mark.parametrize("text", TRICKY + ["LONG"])
def test_single_text_ids_equal_transformers(tok, reference, text):
    text = long_text() if text == "LONG" else text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tok.encode(text) == reference(text)["input_ids"]


def test_pairs_are_s_a_ss_b_s(tok, sp):
    a, b = "Deutschland", "Россия"
    assert tok.encode(a, b) == [0, *fairseq_ids(sp, a), 2, 2, *fairseq_ids(sp, b), 2]
    assert tok.encode(a, b, add_special_tokens=False) == fairseq_ids(sp, a) + fairseq_ids(sp, b)


def test_the_real_vocabulary_layout(tok, sp):
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == len(sp) + 1 and tok.vocab_size == len(sp) + 2
    assert tok.convert_ids_to_tokens([0, 1, 2, 3, tok.mask_token_id]) == ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    piece = sp.id_to_piece(100)
    assert tok.convert_tokens_to_ids(piece) == 101 and tok.convert_ids_to_tokens(101) == piece


def test_tokenize_gives_the_pieces(tok, sp):
    text = "Paris is the <mask> of France."
    assert tok.tokenize(text) == [*sp.encode("Paris is the", out_type=str), "<mask>", *sp.encode(" of France.", out_type=str)]


@pytest.mark.parametrize("max_length", [6, 9, 16, 512])
def test_batches_pad_and_truncate_like_transformers(tok, reference, max_length):
    texts = TRICKY[:12]
    pairs = list(reversed(TRICKY[8:20]))
    for args in ((texts,), (texts, pairs)):
        ours = tok(*args, max_length=max_length)
        theirs = reference(*args, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        assert torch.equal(ours["input_ids"], theirs["input_ids"])
        assert torch.equal(ours["attention_mask"], theirs["attention_mask"])


def test_pair_truncation_trims_the_longer_side_first(tok, sp):
    a, b = "Deutschland " * 10, "Ελλάδα"
    kept_b = fairseq_ids(sp, b)
    max_length = 4 + 2 * len(kept_b) + 1  # the 4 specials, B whole, A one token longer than B
    batch = tok([a], [b], max_length=max_length)
    assert batch["input_ids"][0, -len(kept_b) - 1:-1].tolist() == kept_b
    assert batch["input_ids"][0, 1:len(kept_b) + 2].tolist() == fairseq_ids(sp, a)[:len(kept_b) + 1]
    assert batch["input_ids"].shape == (1, max_length)


def test_padding_to_max_length(tok):
    batch = tok(["a", "bb cc"], padding="max_length", max_length=20)
    assert batch["input_ids"].shape == (2, 20) and batch["attention_mask"][0].sum() < 20
    assert (batch["input_ids"][batch["attention_mask"] == 0] == tok.pad_token_id).all()


def test_long_input_without_truncation_warns_once(spm_dir):
    tok = xlmlab.load_tokenizer(spm_dir)
    with pytest.warns(UserWarning, match="longer than the model's 512 positions"):
        tok([long_text()], truncation=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tok([long_text()], truncation=False)


@pytest.fixture(scope="module")
def no_nines_dir(tmp_path_factory):
    """A model whose training text has no 9 and no accented e: "9" and "é" are unknown."""
    from xlmlab.vocab.cldr import names

    directory = tmp_path_factory.mktemp("spm-no-nines")
    corpus = directory / "corpus.txt"
    drop = str.maketrans("", "", "9éÉèêë")
    lines = [name.translate(drop) for name in names("en")] + ["Yes, 2000, and 1800."]
    corpus.write_text("\n".join(lines), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(directory / "sentencepiece.bpe"), vocab_size=400, model_type="unigram",
        character_coverage=1.0, minloglevel=2, num_threads=1)
    return directory


def test_unknown_characters_are_their_surface_in_tokenize_and_unk_in_encode(no_nines_dir):
    import transformers

    tok = xlmlab.load_tokenizer(no_nines_dir)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(no_nines_dir / "sentencepiece.bpe.model"))
    reference = transformers.XLMRobertaTokenizer.from_pretrained(no_nines_dir)
    text = "I was born in 92000, and this is falsé."
    pieces = tok.tokenize(text)
    assert pieces == sp.encode(text, out_type=str) == reference.tokenize(text)
    unknown = [k for k, i in enumerate(sp.encode(text)) if i == sp.unk_id()]
    assert [pieces[k] for k in unknown] == ["9", "é"]
    ids = tok.encode(text, add_special_tokens=False)
    assert [ids[k] for k in unknown] == [3, 3] and tok.convert_tokens_to_ids(pieces) == ids
    assert ids == reference.encode(text, add_special_tokens=False)
    assert tok.tokenize("é <mask> 9") == ["▁", "é", "<mask>", "▁", "9"]


def test_decode_equals_transformers_with_and_without_special_tokens(tok, reference):
    import random

    rng = random.Random(0)
    specials = [0, 1, 2, 3, tok.mask_token_id]
    for _ in range(500):
        ids = [rng.choice(specials) if rng.random() < 0.3 else rng.randrange(4, tok.mask_token_id)
               for _ in range(rng.randint(0, 12))]
        for skip in (False, True):
            assert tok.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip), ids


def test_decode_keeps_the_spaces_around_special_tokens(tok):
    hello, hi, there = (tok.encode(w, add_special_tokens=False) for w in ("Hello", "hi", "there"))
    ids = [0, *hello, 0, *hi, 0, *there, 2]
    assert tok.decode(ids, skip_special_tokens=False) == "<s> Hello<s> hi<s> there</s>"
    assert tok.decode(ids) == "Hello hi there"


def test_decode_inverts_encode(tok):
    text = "Deutschland Россия Ελλάδα"
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(torch.tensor(tok.encode(text))).startswith("Deutschland")
    assert tok.decode(tok.encode(text), skip_special_tokens=False).startswith("<s>")


@pytest.mark.parametrize("bad, message", [(123, "text must be a str; found int"),
                                          (None, "text must be a str; found NoneType"),
                                          ("ok\ud800no", r"lone surrogate U\+D800 at index 2")])
def test_bad_text_is_refused_clearly(tok, bad, message):
    with pytest.raises(TokenizerError, match=message):
        tok.encode(bad)
    with pytest.raises(TokenizerError, match=message.replace("text must", r"texts\[1\] must").replace("text contains", "")):
        tok(["fine", bad])


def test_missing_and_corrupt_model_files(tmp_path):
    with pytest.raises(TokenizerError, match="no tokenizer files"):
        xlmlab.load_tokenizer(tmp_path)
    (tmp_path / "sentencepiece.bpe.model").write_bytes(os.urandom(2000))
    with pytest.raises(TokenizerError, match=r"sentencepiece\.bpe\.model: not a readable SentencePiece model"):
        xlmlab.load_tokenizer(tmp_path)
