"""The XLM tokenizer: Moses preprocessing per language, then BPE over words ending in `</w>`.

Unlike SentencePiece (`spm.py`), which reads raw text, XLM's vocabulary was
learned on text that went through the Moses scripts first, so the same steps must run here:

    replace unicode punctuation     "。" -> ". ", "“" -> '"', full-width digits -> ASCII ...
    Moses punctuation normalisation (per language)
    remove non-printing characters  (Unicode categories C*)
    Moses tokenisation              (per language, no escaping)   "Hello, world!" -> Hello , world !
    lowercase and strip accents     (when tokenizer_config.json says so, as for xlm-clm-ende-1024)
    BPE per word                    merges ranked by their line in merges.txt; the last symbol of
                                    a word carries "</w>": "hello" -> "hel", "lo</w>"

`lang` selects the Moses rules and the language id; zh, ja and th are segmented by rjieba,
KyTea and PyThaiNLP instead of Moses, as in the reference. Words are BPE-encoded once and
cached, whole texts too (a corpus repeats its sentences: XNLI pairs each premise with three
hypotheses).
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from pathlib import Path

import torch
from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer

from .base import Layout, Ragged, Tokenizer, TokenizerError, check_text, ragged
from .bpe import merge_pair, word_symbols

SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<unk>"] + [f"<special{i}>" for i in range(10)]
SEGMENTERS = {"zh": "rjieba", "ja": "Mykytea (KyTea)", "th": "pythainlp"}

# Moses' replace-unicode-punctuation.perl
_PUNCT = str.maketrans({
    "，": ",", "、": ",", "”": '"', "“": '"', "∶": ":", "：": ":", "？": "?", "《": '"', "》": '"',
    "）": ")", "！": "!", "（": "(", "；": ";", "」": '"', "「": '"', "～": "~", "’": "'", "…": "...",
    "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]", "％": "%",
    **{chr(0xFF10 + d): str(d) for d in range(10) if d != 1}, "１": "1",
})
_FULL_STOPS = re.compile(r"[。．]\s*")


def replace_unicode_punct(text: str) -> str:
    """'你好，世界。 再见' -> '你好,世界. 再见'"""
    return _FULL_STOPS.sub(". ", text).translate(_PUNCT)


def remove_non_printing_char(text: str) -> str:
    """Drop control, format, private-use, surrogate and unassigned characters (categories C*)."""
    if text.isprintable():  # nothing of category C in it (the common case)
        return text
    return "".join(c for c in text if not unicodedata.category(c).startswith("C"))


def lowercase_and_remove_accent(words: list[str]) -> list[str]:
    """['Größe', 'Café'] -> ['große', 'cafe']: lowercase, NFD, drop combining marks (Mn)."""
    text = " ".join(words).lower()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()
    return text.split(" ")


@functools.cache
def moses(lang: str) -> tuple[MosesPunctNormalizer, MosesTokenizer]:
    return MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang)


def moses_pipeline(text: str, lang: str) -> str:
    """Punctuation replaced and normalised, non-printing characters removed; not yet split."""
    return remove_non_printing_char(moses(lang)[0].normalize(replace_unicode_punct(text)))


def moses_words(text: str, lang: str, lowercase: bool = True) -> list[str]:
    """The words of `text` as XLM's Moses preprocessing cuts them (not for zh, ja, th)."""
    words = moses(lang)[1].tokenize(moses_pipeline(text, lang), return_str=False, escape=False)
    return lowercase_and_remove_accent(words) if lowercase else words


def read_merges(path: Path) -> dict[tuple[str, str], int]:
    """merges.txt -> {(left, right): rank}; rank = line number, as the reference reads it."""
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    merges = [tuple(line.split()[:2]) for line in lines]
    return dict(zip(merges, range(len(merges))))


class XLMTokenizer(Tokenizer):
    def __init__(self, vocab_file: str | Path, merges_file: str | Path, *, lang2id: dict[str, int] | None = None,
                 do_lowercase_and_remove_accent: bool = True, model_max_length: int = 512,
                 text_cache_size: int = 1 << 16):
        vocab_file, merges_file = Path(vocab_file), Path(merges_file)
        try:
            self.encoder: dict[str, int] = json.loads(vocab_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise TokenizerError(f"{vocab_file}: unreadable ({err})") from None
        except json.JSONDecodeError as err:
            raise TokenizerError(f"{vocab_file}, line {err.lineno}: not valid JSON ({err.msg})") from None
        if not isinstance(self.encoder, dict) or not all(isinstance(v, int) for v in self.encoder.values()):
            raise TokenizerError(f"{vocab_file}: expected a JSON object mapping tokens to integer ids")
        missing = [t for t in ("<s>", "</s>", "<pad>", "<unk>") if t not in self.encoder]
        if missing:
            raise TokenizerError(f"{vocab_file}: special tokens {missing} are missing from the vocabulary")
        try:
            self.bpe_ranks = read_merges(merges_file)
        except (OSError, UnicodeDecodeError) as err:
            raise TokenizerError(f"{merges_file}: unreadable ({err})") from None
        self.decoder = {i: t for t, i in self.encoder.items()}
        self.lang2id = dict(lang2id) if lang2id else None
        self.id2lang = {i: lang for lang, i in self.lang2id.items()} if self.lang2id else None
        self.do_lowercase_and_remove_accent = do_lowercase_and_remove_accent
        self.model_max_length = model_max_length
        self.bos_token_id, self.eos_token_id = self.encoder["<s>"], self.encoder["</s>"]
        self.pad_token_id, self.unk_token_id = self.encoder["<pad>"], self.encoder["<unk>"]
        self.mask_token_id = self.encoder.get("<special1>", self.unk_token_id)
        self.vocab_size = len(self.encoder)
        self.special_ids = frozenset(self.encoder[t] for t in SPECIAL_TOKENS if t in self.encoder)
        self.layout = Layout(start=(self.bos_token_id,), middle=(self.eos_token_id,), end=(self.eos_token_id,),
                             second_segment_type=1, odd_token_to_longer=False)
        specials = [t for t in SPECIAL_TOKENS if t in self.encoder]
        self._special_split = re.compile("(" + "|".join(map(re.escape, specials)) + ")")
        self._segmenters: dict[str, object] = {}
        self._word_cache: dict[str, list[str]] = {}
        self._text_cache: dict[tuple[str, str], list[int]] = {}
        self._text_cache_size = text_cache_size

    # languages -------------------------------------------------------------------------------
    def language(self, lang: str | None) -> str:
        """The Moses language for `lang`: checked against the model's languages, 'en' by default."""
        if lang is None:
            return "en"
        if not isinstance(lang, str):
            raise TokenizerError(f"lang must be a language code such as 'en'; found {type(lang).__name__}")
        if self.lang2id is not None and lang not in self.lang2id:
            raise ValueError(f"unknown language {lang!r}; this model knows {sorted(self.lang2id)}")
        return lang

    def _segmenter(self, lang: str):
        if lang not in self._segmenters:
            try:
                if lang == "zh":
                    import rjieba
                    self._segmenters[lang] = lambda t: " ".join(rjieba.cut(t))
                elif lang == "th":
                    from pythainlp.tokenize import word_tokenize
                    self._segmenters[lang] = word_tokenize
                else:
                    import Mykytea
                    kytea = Mykytea.Mykytea(f"-model {os.path.expanduser('~')}/local/share/kytea/model.bin")
                    self._segmenters[lang] = lambda t: list(kytea.getWS(t))
            except ImportError:
                raise TokenizerError(f"tokenizing {lang!r} needs a word segmenter: pip install "
                                     f"{SEGMENTERS[lang].split()[0]}") from None
        return self._segmenters[lang]

    def words(self, text: str, lang: str) -> list[str]:
        """Text -> the words BPE sees, after the language's preprocessing."""
        if lang not in SEGMENTERS:
            return moses_words(text, lang, self.do_lowercase_and_remove_accent)
        if lang == "zh":
            words = moses_pipeline(self._segmenter(lang)(text), lang).split()
        else:
            words = self._segmenter(lang)(moses_pipeline(text, lang))
        return lowercase_and_remove_accent(words) if self.do_lowercase_and_remove_accent else words

    # BPE -------------------------------------------------------------------------------------
    def bpe(self, word: str) -> list[str]:
        """'lower' -> ['low', 'er</w>'] (depending on the merges): the best-ranked adjacent pair is
        merged everywhere, left to right, until no known pair is left."""
        pieces = self._word_cache.get(word)
        if pieces is not None:
            return pieces
        symbols = word_symbols(word)
        ranks = self.bpe_ranks
        while len(symbols) > 1:
            best = min(zip(symbols, symbols[1:]), key=lambda pair: ranks.get(pair, float("inf")))
            if best not in ranks:
                break
            symbols = merge_pair(symbols, best)
        self._word_cache[word] = list(symbols)
        return self._word_cache[word]

    def tokenize(self, text: str, lang: str | None = None) -> list[str]:
        text, lang = check_text(text), self.language(lang)
        tokens = []
        for span in self._special_split.split(text):
            if span in self.encoder and self._special_split.fullmatch(span):
                tokens.append(span)
            elif span:
                tokens += [piece for word in self.words(span, lang) if word for piece in self.bpe(word)]
        return tokens

    def _ids(self, text: str, lang: str) -> list[int]:
        key = (lang, text)
        ids = self._text_cache.get(key)
        if ids is None:
            ids = [self.encoder.get(t, self.unk_token_id) for t in self.tokenize(text, lang)]
            if len(self._text_cache) >= self._text_cache_size:
                self._text_cache.clear()
            self._text_cache[key] = ids
        return ids

    def _ids_batch(self, texts: list[str], lang: str | None) -> Ragged:
        lang = self.language(lang)
        return ragged([self._ids(t, lang) for t in texts])

    def __call__(self, texts, text_pairs=None, *, lang: str | None = None, **kwargs) -> dict[str, torch.Tensor]:
        """As `Tokenizer.__call__`, plus `langs` (B, L): the language id of every position."""
        batch = super().__call__(texts, text_pairs, lang=lang, **kwargs)
        if self.lang2id is not None:
            batch["langs"] = torch.full_like(batch["input_ids"], self.lang2id[self.language(lang)])
        return batch

    # ids <-> text ----------------------------------------------------------------------------
    def _token(self, i: int) -> str:
        return self.decoder.get(i, "<unk>")

    def _id(self, token: str) -> int:
        return self.encoder.get(token, self.unk_token_id)

    def _join(self, tokens: list[str], lang: str | None = None) -> str:
        """Pieces joined into words, then Moses-detokenised for `lang` ("hello , world !" -> "hello, world!")."""
        words = "".join(f" {t} " if t in SPECIAL_TOKENS else t for t in tokens).replace("</w>", " ").split()
        return MosesDetokenizer(lang=self.language(lang)).detokenize(words)
