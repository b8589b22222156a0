"""The tokenizers (notebooks 01 and 03), id for id as the references give them.

    base    what both share: special-token layouts, truncation, batches as tensors
    spm     XLM-R / XLM-V: SentencePiece through the fairseq dictionary
    xlm     XLM: Moses preprocessing per language, then BPE
    bpe     learning BPE merges and writing an XLM vocabulary
"""

from .base import Tokenizer, TokenizerError, read_tokenizer_config
from .bpe import write_xlm_vocabulary
from .spm import SentencePieceTokenizer
from .xlm import XLMTokenizer

__all__ = ["Tokenizer", "TokenizerError", "read_tokenizer_config", "write_xlm_vocabulary",
           "SentencePieceTokenizer", "XLMTokenizer"]
