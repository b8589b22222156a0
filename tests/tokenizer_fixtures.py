"""Tokenizer files built inside the tests: a multilingual SentencePiece model, an en/de XLM BPE."""

from __future__ import annotations

import collections

import sentencepiece

from xlmlab.vocab.cldr import names as cldr_names

SPM_LANGUAGES = ["en", "de", "fr", "es", "ru", "bg", "el", "ar", "he", "fa", "ur", "hi", "bn", "th", "zh", "ja",
                 "ko", "vi", "tr", "sw", "am", "ka", "hy"]


def train_sentencepiece(directory, vocab_size: int = 3000) -> None:
    """A unigram model in the published layout: directory/sentencepiece.bpe.model."""
    directory.mkdir(parents=True, exist_ok=True)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(t for lang in SPM_LANGUAGES for t in cldr_names(lang)), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(directory / "sentencepiece.bpe"), vocab_size=vocab_size,
        model_type="unigram", character_coverage=0.9995, minloglevel=2, num_threads=2)
    corpus.unlink()
    (directory / "sentencepiece.bpe.vocab").unlink()


def train_xlm_bpe(directory, merges: int = 400):
    from xlmlab.tokenizers.bpe import write_xlm_vocabulary
    from xlmlab.tokenizers.xlm import moses_words

    counts = collections.Counter()
    for lang in ("en", "de"):
        for text in cldr_names(lang):
            counts.update(moses_words(text, lang))
    return write_xlm_vocabulary(directory, counts, merges, lang2id={"de": 0, "en": 1})
