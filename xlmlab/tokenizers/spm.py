"""The XLM-R / XLM-V tokenizer: SentencePiece pieces mapped through the fairseq dictionary.

The published `sentencepiece.bpe.model` files are SentencePiece unigram models (the file name
is historical). The model itself was trained with fairseq, whose dictionary puts four specials
first, so every id is shifted:

    fairseq   <s>=0  <pad>=1  </s>=2  <unk>=3  piece i -> i + 1  ...  <mask> = last
    spm       <unk>=0  <s>=1  </s>=2  piece i

and SentencePiece's own unknown (0) becomes fairseq's <unk> (3). "<mask>" written in a text is
the mask token; as fairseq does, the text on each side of it is encoded on its own.

That shift holds for the published files, whose fairseq `dict.txt` lists the pieces in
SentencePiece's order. A `dict.txt` made by `fairseq-preprocess` is ordered by frequency instead
(RoBERTa's even has `madeupwordNNNN` filler lines): given one (`dictionary=`), the ids follow it,
as fairseq does: <s> <pad> </s> <unk>, then dict.txt's lines in order, then <mask>; a piece that
dict.txt lacks is <unk>.

Batches go through SentencePiece's C++ batch call; the id shift is one numpy operation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sentencepiece

from .base import Layout, Ragged, Tokenizer, TokenizerError, check_text, ragged

SPECIALS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
MASK = "<mask>"
SPACE = "\u2581"  # ▁, how SentencePiece writes a space inside a piece


class SentencePieceTokenizer(Tokenizer):
    bos_token_id, pad_token_id, eos_token_id, unk_token_id = 0, 1, 2, 3
    offset = 1  # fairseq id = SentencePiece id + 1

    def __init__(self, model_file: str | Path, *, model_max_length: int = 512, num_threads: int = -1,
                 dictionary: str | Path | None = None):
        self.model_file = Path(model_file)
        self.sp = sentencepiece.SentencePieceProcessor()
        try:
            self.sp.Load(str(self.model_file))
        except (OSError, RuntimeError) as err:
            raise TokenizerError(f"{self.model_file}: not a readable SentencePiece model ({err})") from None
        if (self.sp.unk_id(), self.sp.bos_id(), self.sp.eos_id()) != (0, 1, 2):
            raise TokenizerError(f"{self.model_file}: expected the fairseq-compatible layout <unk>=0 <s>=1 </s>=2; "
                                 f"found unk={self.sp.unk_id()} bos={self.sp.bos_id()} eos={self.sp.eos_id()}")
        self.mask_token_id = len(self.sp) + self.offset
        self.symbols: list[str] | None = None  # the fairseq dictionary, when it is not the shift
        if dictionary is not None:
            self._follow_dictionary(Path(dictionary))
        self.vocab_size = self.mask_token_id + 1
        self.special_ids = frozenset([*SPECIALS.values(), self.mask_token_id])
        self.model_max_length = model_max_length
        self.num_threads = num_threads
        self.layout = Layout(start=(0,), middle=(2, 2), end=(2,), second_segment_type=0, odd_token_to_longer=True)

    def _follow_dictionary(self, path: Path) -> None:
        """Ids from a fairseq dict.txt: specials, its lines in order, <mask> (unless listed)."""
        symbols = [*SPECIALS, *(s for s in read_dictionary(path) if s not in SPECIALS)]
        if MASK not in symbols:
            symbols.append(MASK)
        self.symbols = symbols
        self.index = {}
        for i, symbol in enumerate(symbols):
            self.index.setdefault(symbol, i)
        pieces = [self.sp.id_to_piece(i) for i in range(len(self.sp))]
        self.to_fairseq = np.array([self.index.get(p, self.unk_token_id) for p in pieces], dtype=np.int64)
        self.to_fairseq[[self.sp.unk_id(), self.sp.bos_id(), self.sp.eos_id()]] = [3, 0, 2]
        self.mask_token_id = self.index[MASK]
        if self.mask_token_id != len(symbols) - 1:
            raise TokenizerError(f"{path}: lists <mask> before its end; fairseq's masked LM appends it last")

    @property
    def follows_shift(self) -> bool:
        """True when ids are SentencePiece's + 1 (the published layout), False with a reordered dict.txt."""
        return self.symbols is None or (
            len(self.symbols) == len(self.sp) + 2
            and bool((self.to_fairseq[3:] == np.arange(3, len(self.sp)) + self.offset).all()))

    def _to_fairseq(self, rows: list[list[int]]) -> Ragged:
        """SentencePiece ids -> fairseq ids, for a whole batch in one numpy operation."""
        flat, lengths = ragged(rows)
        if self.symbols is not None:
            return self.to_fairseq[flat], lengths
        return np.where(flat == self.sp.unk_id(), self.unk_token_id, flat + self.offset), lengths

    def _ids_batch(self, texts: list[str], lang: str | None = None) -> Ragged:
        if not any(MASK in t for t in texts):
            return self._to_fairseq(self.sp.encode(texts, num_threads=self.num_threads))
        rows = []
        for text in texts:
            flat, lengths = self._to_fairseq(self.sp.encode(_spans(text)))
            spans = np.split(flat, np.cumsum(lengths)[:-1])
            rows.append(spans[0].tolist() + [x for span in spans[1:] for x in (self.mask_token_id, *span.tolist())])
        return ragged(rows)

    def tokenize(self, text: str, lang: str | None = None) -> list[str]:
        """SentencePiece's pieces, as fairseq and the reference give them: an unknown character is
        its own surface string (`'é'`), which `encode` maps to <unk> (3)."""
        text = check_text(text)
        if MASK not in text:
            return self.sp.encode(text, out_type=str)
        spans = self.sp.encode(_spans(text), out_type=str)
        return spans[0] + [piece for span in spans[1:] for piece in (MASK, *span)]

    def _token(self, i: int) -> str:
        if not 0 <= i < self.vocab_size:
            raise TokenizerError(f"id {i} is outside the vocabulary (0..{self.vocab_size - 1})")
        if self.symbols is not None:
            return self.symbols[i]
        if i < len(SPECIALS):
            return list(SPECIALS)[i]
        return MASK if i == self.mask_token_id else self.sp.id_to_piece(i - self.offset)

    def _id(self, token: str) -> int:
        if token in SPECIALS:
            return SPECIALS[token]
        if token == MASK:
            return self.mask_token_id
        if self.symbols is not None:
            return self.index.get(token, self.unk_token_id)
        i = self.sp.piece_to_id(token)
        return self.unk_token_id if i == self.sp.unk_id() else i + self.offset

    def _join(self, tokens: list[str], lang: str | None = None) -> str:
        """The pieces joined as the reference decodes them, every `▁` a space except at the very
        start; special tokens kept (skip_special_tokens=False) sit with the text's own spaces:

            ['<s>', '▁Hello', '<s>', '▁hi', '</s>']  -> '<s> Hello<s> hi</s>'  ('Hello hi' skipping them)
        """
        text = "".join(tokens).replace(SPACE, " ")
        return text[1:] if tokens and tokens[0].startswith(SPACE) else text


def _spans(text: str) -> list[str]:
    """The text around each <mask>, right-stripped, each encoded on its own as fairseq does."""
    return [span.rstrip() for span in text.split(MASK)]


def read_dictionary(path: str | Path) -> list[str]:
    """The symbols of a fairseq dict.txt in order: one `symbol count` per line (a trailing
    `#fairseq:overwrite` flag allowed); a malformed line is an error naming the file and line."""
    path = Path(path)
    symbols = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TokenizerError(f"{path}: not found") from None
    for number, line in enumerate(lines, start=1):
        fields = line.rstrip().removesuffix(" #fairseq:overwrite").rsplit(" ", 1)
        if len(fields) != 2 or not fields[1].lstrip("-").isdigit() or not fields[0]:
            raise TokenizerError(f"{path}:{number}: expected '<symbol> <count>' (a fairseq dict.txt); "
                                 f"found {line[:80]!r}")
        symbols.append(fields[0])
    return symbols
