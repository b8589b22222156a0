"""Pretraining in miniature (notebook 05): MLM and TLM on parallel text.

    objectives   MLM masking (15%, 80/10/10), TLM pairs, language sampling with alpha
    data         streams of full sentences and translation pairs, masked anew every epoch
    runner       PretrainRunner: the runner's task for MLM, TLM or both
"""

from .data import MaskedExamples, examples
from .objectives import mask_tokens, sampling_probabilities, translation_pair
from .runner import PretrainRunner, masked_accuracy, masked_counts, masked_predictions

__all__ = ["MaskedExamples", "examples", "mask_tokens", "sampling_probabilities", "translation_pair",
           "PretrainRunner", "masked_accuracy", "masked_counts", "masked_predictions"]
