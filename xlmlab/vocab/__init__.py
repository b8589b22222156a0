"""The vocabulary lab (notebooks 01 and 02): vocabularies built the XLM-R way and the XLM-V way
from the same offline word statistics, and measured on text.

    training_data   word counts per language (wordfreq), CC-100 sizes, language sampling
    unigram         SentencePiece unigram models: train, read, prune, union, ALP
    xlmr            the XLM-R method: one model over all languages
    xlmv            the XLM-V method: clusters of languages, capacities, the union
    cache           where builds are kept, and the directory each writes
    analysis        tokens per sentence, fertility, unknowns... per language
    cldr            parallel names from CLDR, offline
"""

from .unigram import VocabularyError
from .xlmr import build as build_xlmr
from .xlmv import XLMVSettings
from .xlmv import build as build_xlmv

__all__ = ["VocabularyError", "build_xlmr", "build_xlmv", "XLMVSettings"]
