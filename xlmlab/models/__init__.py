"""The models (notebook 00): XLM-R / XLM-V and XLM on shared blocks, loaded from published checkpoints.

    config        XLMRConfig, XLMConfig: config.json, field for field
    attention     multi-head self-attention and its masks
    kv_cache      the key/value cache of generation
    blocks        feed-forward and the post-LN transformer block
    base          what every model class states (architecture, body, head, languages)
    xlm_roberta   XLM-R and XLM-V: encoder, masked LM, sequence and token classifiers
    xlm           XLM: language embeddings, causal or bidirectional attention
    languages     language ids for XLM, from codes, ints or tensors
    generation    greedy, sampling, beam search and streaming for XLM
    initialise    the reference initialisation, the same on every CPU
    checkpoint    reading and writing the published layout (and reading fairseq's)
    fairseq       fairseq checkpoints (model.pt): safe reading, both generations, renamed to the published layout
"""

from .checkpoint import CheckpointError, build_model, load_classifier, load_directory, load_fairseq, save_model
from .config import PUBLISHED, ConfigError, XLMConfig, XLMRConfig, read_config, write_config
from .generation import beam_search, generate, generate_text, stream
from .kv_cache import KVCache
from .xlm import XLMForSequenceClassification, XLMForTokenClassification, XLMModel, XLMWithLMHead
from .xlm_roberta import XLMRForMaskedLM, XLMRForSequenceClassification, XLMRForTokenClassification, XLMRModel

__all__ = [
    "CheckpointError", "build_model", "load_classifier", "load_directory", "load_fairseq", "save_model",
    "PUBLISHED", "ConfigError", "XLMConfig", "XLMRConfig", "read_config", "write_config",
    "beam_search", "generate", "generate_text", "stream", "KVCache",
    "XLMForSequenceClassification", "XLMForTokenClassification", "XLMModel", "XLMWithLMHead",
    "XLMRForMaskedLM", "XLMRForSequenceClassification", "XLMRForTokenClassification", "XLMRModel",
]
