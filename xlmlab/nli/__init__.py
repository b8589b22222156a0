"""Natural language inference (notebook 04): XNLI data, fine-tuning, zero-shot accuracy per language.

    xnli       reading XNLI-1.0, XNLI-MT-1.0 and MultiNLI files into one table
    sample     the embedded template sample (data/xnli-sample)
    pairs      premise/hypothesis pairs as token ids, batched
    runner     NLIRunner: the runner's task for XNLI (xlmlab.Runner)
    evaluate   accuracy per language; evaluating a saved model
"""

from .evaluate import accuracy_by_language, evaluate_directory, predict
from .pairs import EncodedPairs, encode_pairs
from .runner import NLIRunner
from .xnli import LABELS, PUBLISHED, XNLI_LANGUAGES, DataError, read_xnli

__all__ = ["accuracy_by_language", "evaluate_directory", "predict", "EncodedPairs", "encode_pairs", "NLIRunner",
           "LABELS", "PUBLISHED", "XNLI_LANGUAGES", "DataError", "read_xnli"]
