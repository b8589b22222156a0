"""Pretraining in miniature (notebook 05, in progress): the masked and translation objectives.

    objectives   MLM masking (15%, 80/10/10), TLM pairs, language sampling with alpha
"""

from .objectives import mask_tokens, sampling_probabilities, translation_pair

__all__ = ["mask_tokens", "sampling_probabilities", "translation_pair"]
