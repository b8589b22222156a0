"""Looking inside a pretrained encoder (notebook 05): what it predicts, and where languages meet.

    fill_mask   the top tokens for a <mask>, as transformers' fill-mask pipeline gives them
    embed       sentence vectors from any layer (0 = the embeddings), mean or first-token pooled
    retrieval   finding each sentence's translation among all sentences of another language (and
                the same without a model: by the pieces two sentences share)
"""

from .embed import embed
from .fill_mask import fill_mask
from .retrieval import overlap_retrieval_accuracy, retrieval_accuracy, retrieval_by_layer

__all__ = ["embed", "fill_mask", "overlap_retrieval_accuracy", "retrieval_accuracy", "retrieval_by_layer"]
