"""XLM-R and XLM-V: a RoBERTa encoder over a SentencePiece vocabulary.

XLM-V is XLM-R with a 901,629-piece vocabulary instead of 250,002: same code, same config class.
What sets this family apart from XLM (`xlm.py`) fits in a few lines:
- positions count real tokens only and start after the padding index (fairseq's rule),
  so with pad = 1 the first token sits at position 2 and padding at position 1;
- a token-type embedding (a single type in the published models) instead of language embeddings;
- no causal mask: an attention mask only hides padding keys.

Calling a model returns a tensor: hidden states (B, T, C) for `XLMRModel`, logits (B, T, V) for
`XLMRForMaskedLM`, logits (B, num_labels) for `XLMRForSequenceClassification` and (B, T, num_labels)
for `XLMRForTokenClassification` (NER).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from .attention import padding_mask
from .base import FamilyModel
from .blocks import Block, activation, select_positions
from .config import XLMRConfig


def position_ids(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """Positions of real tokens counted from padding_idx + 1; padding stays at padding_idx.

    [[0, 5, 2, 1, 1]] with padding_idx 1 -> [[2, 3, 4, 1, 1]]
    """
    real = (input_ids != padding_idx).long()  # (B, T)
    return torch.cumsum(real, dim=1) * real + padding_idx  # (B, T)


class XLMREmbeddings(nn.Module):
    def __init__(self, config: XLMRConfig):
        super().__init__()
        C = config.hidden_size
        self.padding_idx = config.pad_token_id
        self.word = nn.Embedding(config.vocab_size, C, padding_idx=config.pad_token_id)
        self.position = nn.Embedding(config.max_position_embeddings, C, padding_idx=config.pad_token_id)
        self.token_type = nn.Embedding(config.type_vocab_size, C)
        self.norm = nn.LayerNorm(C, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        positions = position_ids(input_ids, self.padding_idx)  # (B, T)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(positions)  # (B, T, C)
        return self.dropout(self.norm(x))


class XLMRPooler(nn.Module):
    """dense + tanh on the first token: kept so a bare checkpoint round-trips, not used by forward."""

    def __init__(self, config: XLMRConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))  # (B, C)


class XLMRModel(FamilyModel):
    """The bare encoder: token ids -> final hidden states (B, T, C)."""

    architecture: ClassVar[str] = "XLMRobertaModel"
    optional_modules: ClassVar[tuple[str, ...]] = ("pooler",)  # bare encoders are saved with or without it

    def __init__(self, config: XLMRConfig, with_pooler: bool = True):
        super().__init__()
        if config.is_decoder:
            raise ValueError("XLM-R as a decoder (is_decoder: true) is not supported; xlmlab runs the encoder")
        self.config = config
        self.embeddings = XLMREmbeddings(config)
        self.layers = nn.ModuleList(
            Block(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                  act=config.hidden_act, dropout=config.hidden_dropout_prob,
                  attention_dropout=config.attention_probs_dropout_prob, eps=config.layer_norm_eps)
            for _ in range(config.num_hidden_layers)
        )
        self.pooler = XLMRPooler(config) if with_pooler else None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        if langs is not None:
            raise ValueError("XLM-R and XLM-V have no language embeddings: call the model without langs")
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, C)
        mask = padding_mask(attention_mask)  # (B, 1, 1, T) or None
        for block in self.layers:
            x = block(x, mask)
        return x

    def checkpoint_names(self) -> dict[str, str]:
        """Module paths here -> module paths in the published checkpoints."""
        names = {
            "embeddings.word": "embeddings.word_embeddings",
            "embeddings.position": "embeddings.position_embeddings",
            "embeddings.token_type": "embeddings.token_type_embeddings",
            "embeddings.norm": "embeddings.LayerNorm",
            "pooler.dense": "pooler.dense",
        }
        for i in range(len(self.layers)):
            ours, theirs = f"layers.{i}.", f"encoder.layer.{i}."
            names |= {
                ours + "attn.q": theirs + "attention.self.query",
                ours + "attn.k": theirs + "attention.self.key",
                ours + "attn.v": theirs + "attention.self.value",
                ours + "attn.o": theirs + "attention.output.dense",
                ours + "ln1": theirs + "attention.output.LayerNorm",
                ours + "ffn.up": theirs + "intermediate.dense",
                ours + "ffn.down": theirs + "output.dense",
                ours + "ln2": theirs + "output.LayerNorm",
            }
        return names


class XLMRLMHead(nn.Module):
    """dense -> GELU -> LayerNorm -> decoder tied to the word embeddings, plus its own bias."""

    def __init__(self, config: XLMRConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = activation(config.hidden_act)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.act(self.dense(hidden)))  # (B, T, C)
        return nn.functional.linear(x, self.decoder.weight, self.bias)  # (B, T, V)


class XLMRForMaskedLM(FamilyModel):
    """The pretraining model: logits over the vocabulary at every position (B, T, V)."""

    architecture: ClassVar[str] = "XLMRobertaForMaskedLM"
    body: ClassVar[str] = "encoder"
    # the bias has lived under two names in published checkpoints
    checkpoint_aliases: ClassVar[dict[str, tuple[str, ...]]] = {"lm_head.bias": ("lm_head.decoder.bias",)}

    def __init__(self, config: XLMRConfig):
        super().__init__()
        self.config = config
        self.encoder = XLMRModel(config, with_pooler=False)
        self.lm_head = XLMRLMHead(config)
        if config.tie_word_embeddings:
            self.lm_head.decoder.weight = self.encoder.embeddings.word.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None, *,
                masked_positions: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T, V); with `masked_positions` (B, T) bool, only those rows: (M, V).

        fairseq projects only the masked positions in pretraining: with 15% masked, the
        vocabulary projection (901,629-way for XLM-V) costs 15% of projecting every position.
        """
        hidden = self.encoder(input_ids, attention_mask, langs, token_type_ids)  # (B, T, C)
        return self.lm_head(select_positions(hidden, masked_positions))  # (B, T, V) or (M, V)

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"encoder.{k}": f"roberta.{v}" for k, v in self.encoder.checkpoint_names().items()}
        return names | {
            "lm_head.dense": "lm_head.dense",
            "lm_head.norm": "lm_head.layer_norm",
            "lm_head.decoder": "lm_head.decoder",
            "lm_head": "lm_head",
        }


class XLMRClassificationHead(nn.Module):
    """<s> -> dropout -> dense -> tanh -> dropout -> out_proj."""

    def __init__(self, config: XLMRConfig):
        super().__init__()
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(p)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.dropout(hidden[:, 0])  # (B, C): the <s> token
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)  # (B, num_labels)


class XLMRForSequenceClassification(FamilyModel):
    """Sentence(-pair) classification, e.g. XNLI: logits (B, num_labels)."""

    architecture: ClassVar[str] = "XLMRobertaForSequenceClassification"
    body: ClassVar[str] = "encoder"
    head: ClassVar[str] = "classifier"

    def __init__(self, config: XLMRConfig):
        super().__init__()
        self.config = config
        self.encoder = XLMRModel(config, with_pooler=False)
        self.classifier = XLMRClassificationHead(config)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(self.encoder(input_ids, attention_mask, langs, token_type_ids))

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"encoder.{k}": f"roberta.{v}" for k, v in self.encoder.checkpoint_names().items()}
        return names | {"classifier.dense": "classifier.dense", "classifier.out_proj": "classifier.out_proj"}


class XLMRForTokenClassification(FamilyModel):
    """A label for every token, e.g. NER: logits (B, T, num_labels).

    The head is one dropout and one linear layer on each token's final hidden state; the
    sequence classifier's dense + tanh step is not there (the reference has none either).
    """

    architecture: ClassVar[str] = "XLMRobertaForTokenClassification"
    body: ClassVar[str] = "encoder"
    head: ClassVar[str] = "classifier"

    def __init__(self, config: XLMRConfig):
        super().__init__()
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.config = config
        self.encoder = XLMRModel(config, with_pooler=False)
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.encoder(input_ids, attention_mask, langs, token_type_ids)  # (B, T, C)
        return self.classifier(self.dropout(hidden))  # (B, T, num_labels)

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"encoder.{k}": f"roberta.{v}" for k, v in self.encoder.checkpoint_names().items()}
        return names | {"classifier": "classifier"}
