"""Named-entity recognition (notebook 06): reading, aligning, tagging and scoring, zero-shot per language.

    tags     BIO schemes, entities of a tag sequence, entity-level F1 as seqeval computes it
    data     WikiANN (XTREME) and CoNLL-style files into one table
    align    word tags onto sub-word pieces (first piece labelled, the rest ignored)
    sample   the embedded sample (data/ner-sample): translated messages with filled placeholders
    runner   NERRunner, the runner's task for token classification; predicting tags
"""

from .align import IGNORE, EncodedWords, align, encode_words, word_pieces
from .data import DataError, read_ner, tag_names, write_wikiann
from .runner import NERRunner, predict_tags
from .tags import entities, entity_counts, f1_by_language, f1_from_counts, f1_score, iob1_to_iob2

__all__ = ["IGNORE", "EncodedWords", "align", "encode_words", "word_pieces", "DataError", "read_ner", "tag_names",
           "write_wikiann", "NERRunner", "predict_tags", "entities", "entity_counts", "f1_by_language",
           "f1_from_counts", "f1_score", "iob1_to_iob2"]
