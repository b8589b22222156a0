"""The XLM tokenizer (Moses + BPE) gives transformers' XLMTokenizer ids, run with the right language."""

from __future__ import annotations

import itertools
import sys
import warnings

import numpy as np
import pytest
import torch
from tokenizer_fixtures import cldr_names

import xlmlab
from xlmlab.tokenizers.base import TokenizerError, longest_first

TRICKY = [
    "", " ", "  \t\n ", "Hello, world! It's 5 o'clock.", "\"Quoted\" and 'single' — dashes – here…",
    "Größe „Zitat“ « guillemets » 3,5 % über", "e\u0301te\u0301 cafe\u0301 naïve Ærø",
    "ｆｕｌｌｗｉｄｔｈ：（ｔｅｓｔ）１２３！", "你好，世界。再见", "👩\u200d👩\u200d👧 emoji ✨",
    "مرحبا بالعالم", "zero\u200bwidth\u00a0nbsp\u00adsoft tab\there", "e.g. Mr. Smith vs. Dr. Müller z.B. usw.",
    "URLs like http://example.com/a?b=c&d=e and mail@example.org", "don't won't y'all ’tis",
    "1,000,000.50 $ 3.14 -5 +7 = 12", "a <special1> b <s> c", "UPPER lower MiXeD",
]


@pytest.fixture(scope="module")
def tok(xlm_dir):
    return xlmlab.load_tokenizer(xlm_dir)


@pytest.fixture(scope="module")
def reference(xlm_dir):
    import transformers

    return transformers.XLMTokenizer(vocab_file=str(xlm_dir / "vocab.json"), merges_file=str(xlm_dir / "merges.txt"),
                                     lang2id={"de": 0, "en": 1}, id2lang={0: "de", 1: "en"})


def reference_pieces(reference, text, lang):
    """transformers' pieces for `lang`. Its encode() and tokenize() drop the language (they always
    use English rules), so the language-aware step is called directly; that step does not split
    out special tokens, which only tokenize() does, with English rules."""
    if "<s" in text:
        assert lang == "en"
        return reference.tokenize(text)
    return reference._tokenize(text, lang=lang)


def reference_ids(reference, text, lang, pair=None):
    """transformers' ids for `lang`, with XLM's specials: <s> A </s> (B </s>)."""
    ids = lambda t: reference.convert_tokens_to_ids(reference_pieces(reference, t, lang))  # noqa: E731
    if pair is None:
        return [0, *ids(text), 1]
    return [0, *ids(text), 1, *ids(pair), 1]


# the reference splits special tokens out only with English rules
CASES = [(text, lang) for text in TRICKY for lang in ("en", "de") if lang == "en" or "<s" not in text]


@pytest.mark.parametrize("text, lang", CASES)
def test_tricky_texts_equal_transformers(tok, reference, text, lang):
    assert tok.encode(text, lang=lang) == reference_ids(reference, text, lang)


def test_the_reference_drops_the_language_outside_its_inner_step(reference):
    text = "It's here."  # Moses splits the apostrophe differently in German and English
    assert reference._tokenize(text, lang="de") != reference._tokenize(text, lang="en")
    assert reference.tokenize(text, lang="de") == reference._tokenize(text, lang="en")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_cldr_name_equals_transformers(tok, reference, lang):
    texts = list(cldr_names(lang)) + list(cldr_names("fr")[:200])
    ours = [tok.encode(t, lang=lang) for t in texts]
    assert ours == [reference_ids(reference, t, lang) for t in texts]


def test_very_long_text_equals_transformers(tok, reference):
    text = " ".join(TRICKY[3:]) * 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tok.encode(text, lang="en") == reference_ids(reference, text, "en")
        text = text.replace("<s", "s")
        assert tok.encode(text, lang="de") == reference_ids(reference, text, "de")


def test_language_selects_the_moses_rules(tok):
    text = "It's here."  # German Moses rules split "'s" apart, English ones keep it
    assert tok.tokenize(text, lang="de") != tok.tokenize(text, lang="en")


def test_language_ids_are_the_real_ones(tok):
    assert tok.lang2id == {"de": 0, "en": 1}  # not en = 0, as the published model card says
    batch = tok(["Hello", "Hallo Welt"], lang="en")
    assert (batch["langs"] == 1).all() and batch["langs"].shape == batch["input_ids"].shape
    assert (tok(["Hallo"], lang="de")["langs"] == 0).all()


def test_unknown_language_lists_the_known_ones(tok):
    with pytest.raises(ValueError, match=r"unknown language 'fr'; this model knows \['de', 'en'\]"):
        tok.encode("Bonjour", lang="fr")


@pytest.mark.skipif("rjieba" in sys.modules, reason="checks the message shown when the segmenter is missing")
def test_languages_needing_a_segmenter_say_what_to_install(xlm_dir):
    tok = xlmlab.XLMTokenizer(xlm_dir / "vocab.json", xlm_dir / "merges.txt")  # no language list: any code
    with pytest.raises(TokenizerError, match="tokenizing 'zh' needs a word segmenter: pip install rjieba"):
        tok.encode("你好", lang="zh")


def test_pairs_have_xlm_specials_and_token_types(tok, reference):
    batch = tok(["Hello world"], ["Hallo Welt"], lang="en")
    ids = reference_ids(reference, "Hello world", "en", "Hallo Welt")
    assert batch["input_ids"][0].tolist() == ids
    first = len(reference_ids(reference, "Hello world", "en"))
    assert batch["token_type_ids"][0].tolist() == [0] * first + [1] * (len(ids) - first)


@pytest.mark.parametrize("max_length", [5, 8, 13, 512])
def test_batches_pad_and_truncate_like_transformers(tok, reference, max_length):
    texts, pairs = TRICKY[:9], TRICKY[9:]
    ours = tok(texts, pairs, lang="en", max_length=max_length)
    theirs = reference(texts, pairs, truncation=True, max_length=max_length, padding=True, return_tensors="pt",
                       return_token_type_ids=True)
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_mask"], theirs["attention_mask"])
    assert torch.equal(ours["token_type_ids"], theirs["token_type_ids"])


def test_decode_gives_readable_text(tok):
    assert tok.decode(tok.encode("Hello world. Größe (Welt)", lang="en")) == "hello world. große (welt)"


@pytest.mark.parametrize("bad, message", [(3.5, "text must be a str; found float"), (None, "found NoneType"),
                                          ("\udfff", "lone surrogate U+DFFF")])
def test_bad_text_is_refused_clearly(tok, bad, message):
    with pytest.raises(TokenizerError, match=message.replace("+", r"\+")):
        tok.encode(bad, lang="en")


def test_corrupt_vocabulary_names_the_file_and_line(xlm_dir, tmp_path):
    (tmp_path / "vocab.json").write_text('{"<s>": 0,\n "</s>": 1,\n oops}')
    (tmp_path / "merges.txt").write_text((xlm_dir / "merges.txt").read_text())
    with pytest.raises(TokenizerError, match=r"vocab\.json, line 3: not valid JSON"):
        xlmlab.load_tokenizer(tmp_path)


def simulate(len_a: int, len_b: int, budget: int, python_rule: bool) -> tuple[int, int]:
    """The two reference truncation loops, token by token."""
    if python_rule:  # transformers' Python tokenizers: drop from the longer, the second on ties
        while len_a + len_b > budget:
            if len_a > len_b:
                len_a -= 1
            else:
                len_b -= 1
        return len_a, len_b
    small, large, swap = (len_b, len_a, True) if len_a > len_b else (len_a, len_b, False)  # tokenizers (Rust)
    if len_a + len_b <= budget:
        return len_a, len_b
    large = small if small > budget else max(small, budget - small)
    if small + large > budget:
        small = budget // 2
        large = small + budget % 2
    return (large, small) if swap else (small, large)


@pytest.mark.parametrize("odd_token_to_longer", [False, True])
def test_longest_first_equals_both_reference_loops(odd_token_to_longer):
    grid = np.array(list(itertools.product(range(12), range(12), range(0, 25))))
    a, b = longest_first(grid[:, 0], grid[:, 1], grid[:, 2], odd_token_to_longer)
    expected = [simulate(x, y, n, python_rule=not odd_token_to_longer) for x, y, n in grid]
    assert list(zip(a.tolist(), b.tolist())) == expected
