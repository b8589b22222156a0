"""xlmlab: a workbook for the XLM family (XLM, XLM-R, XLM-V) in plain PyTorch.

    model = xlmlab.load_model("tiny-xlmr")            # or a directory, or "facebook/xlm-v-base"
    logits = model(input_ids, attention_mask)          # (B, T, V)
    xlmlab.save_model(model, "out/")                   # loads back in transformers unchanged
    tok = xlmlab.load_tokenizer("FacebookAI/xlm-roberta-base")
    batch = tok(["Hello world", "Hallo Welt"])          # input_ids, attention_mask: (B, L)
    xnli = xlmlab.read_xnli("XNLI-1.0/xnli.test.tsv")  # language, premise, hypothesis, label, split
    xlmlab.fill_mask(model, tok, "Paris is the <mask> of France.")  # top 5: token, token_id, score, sequence
    vectors = xlmlab.embed(model, tok, ["Hello world"], layer=6)      # (1, H) sentence vectors
"""

from .device import try_gpu
from .hub import ModelNotFoundError
from .load import load_model, load_tokenizer
from .models import (
    PUBLISHED,
    CheckpointError,
    ConfigError,
    XLMConfig,
    XLMForSequenceClassification,
    XLMForTokenClassification,
    XLMModel,
    XLMRConfig,
    XLMRForMaskedLM,
    XLMRForSequenceClassification,
    XLMRForTokenClassification,
    XLMRModel,
    XLMWithLMHead,
    build_model,
    generate_text,
    save_model,
)
from .nli import DataError, NLIRunner, read_xnli
from .nli import NLIRunner as Runner  # the runner on its best-known task, under its first name
from .probe import embed, fill_mask
from .tokenizers import SentencePieceTokenizer, TokenizerError, XLMTokenizer
from .train import Settings, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "PUBLISHED", "CheckpointError", "ConfigError", "ModelNotFoundError",
    "XLMConfig", "XLMRConfig", "XLMModel", "XLMWithLMHead", "XLMForSequenceClassification",
    "XLMForTokenClassification", "XLMRModel", "XLMRForMaskedLM", "XLMRForSequenceClassification",
    "XLMRForTokenClassification",
    "SentencePieceTokenizer", "XLMTokenizer", "TokenizerError",
    "build_model", "generate_text", "load_model", "load_tokenizer", "save_model", "try_gpu",
    "embed", "fill_mask", "DataError", "read_xnli", "NLIRunner", "Runner", "Settings", "TrainingDiverged",
]
