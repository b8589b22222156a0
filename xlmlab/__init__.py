"""xlmlab: a workbook for the XLM family (XLM, XLM-R, XLM-V) in plain PyTorch.

    model = xlmlab.load_model("tiny-xlmr")            # or a directory, or "facebook/xlm-v-base"
    logits = model(input_ids, attention_mask)          # (B, T, V)
    xlmlab.save_model(model, "out/")                   # loads back in transformers unchanged
    tok = xlmlab.load_tokenizer("FacebookAI/xlm-roberta-base")
    batch = tok(["Hello world", "Hallo Welt"])          # input_ids, attention_mask: (B, L)
    xnli = xlmlab.read_xnli("XNLI-1.0/xnli.test.tsv")  # language, premise, hypothesis, label, split
"""

from .models.checkpoint import CheckpointError, build_model, save_model
from .models.config import PUBLISHED, ConfigError, XLMConfig, XLMRConfig
from .device import try_gpu
from .hub import ModelNotFoundError
from .models.generation import generate_text
from .train.runner import Runner, Settings, TrainingDiverged
from .nli.xnli import DataError, read_xnli
from .load import load_model, load_tokenizer
from .tokenizers.spm import SentencePieceTokenizer
from .tokenizers.base import TokenizerError
from .tokenizers.xlm import XLMTokenizer
from .models.xlm import XLMForSequenceClassification, XLMModel, XLMWithLMHead
from .models.xlm_roberta import XLMRForMaskedLM, XLMRForSequenceClassification, XLMRModel

__version__ = "0.1.0"

__all__ = [
    "PUBLISHED", "CheckpointError", "ConfigError", "ModelNotFoundError",
    "XLMConfig", "XLMRConfig", "XLMModel", "XLMWithLMHead", "XLMForSequenceClassification",
    "XLMRModel", "XLMRForMaskedLM", "XLMRForSequenceClassification",
    "SentencePieceTokenizer", "XLMTokenizer", "TokenizerError",
    "build_model", "generate_text", "load_model", "load_tokenizer", "save_model", "try_gpu",
    "DataError", "read_xnli", "Runner", "Settings", "TrainingDiverged",
]
