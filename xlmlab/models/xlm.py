"""XLM (Lample & Conneau 2019): the same blocks as XLM-R, with three visible differences.

- positions are learned from 0 and do not skip padding;
- a language embedding (`langs`, one id per token) is added to every token when the model has
  several languages: for xlm-clm-ende-1024, de = 0 and en = 1;
- attention can be causal (CLM models such as xlm-clm-ende-1024) or bidirectional (MLM/TLM).
  The config's `causal` flag decides; `model(..., causal=True)` overrides it, which matters because
  the published ende config says `causal: false` although the model was trained causally.

Padding is found from `pad_token_id` when no attention mask is given, and the hidden states of
padding positions are zeroed after the embeddings and after every layer, as in the original code.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from .attention import causal_padding_mask, padding_mask
from .base import FamilyModel
from .blocks import Block, select_positions
from .config import XLMConfig
from .generation import generate
from .kv_cache import KVCache
from .languages import language_ids


class XLMEmbeddings(nn.Module):
    def __init__(self, config: XLMConfig):
        super().__init__()
        C = config.emb_dim
        self.word = nn.Embedding(config.vocab_size, C, padding_idx=config.pad_token_id)
        self.position = nn.Embedding(config.max_position_embeddings, C)
        self.lang = nn.Embedding(config.n_langs, C) if config.has_lang_embeddings else None
        self.norm = nn.LayerNorm(C, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, input_ids: torch.Tensor, langs: torch.Tensor | None,
                token_type_ids: torch.Tensor | None = None, positions: torch.Tensor | None = None) -> torch.Tensor:
        if positions is None:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)  # (T,)
        x = self.word(input_ids) + self.position(positions)  # (B, T, C)
        if langs is not None and self.lang is not None:
            x = x + self.lang(langs)
        if token_type_ids is not None:  # XLM looks token types up in the word table
            x = x + self.word(token_type_ids)
        return self.dropout(self.norm(x))


class XLMModel(FamilyModel):
    """The bare XLM transformer: token ids (+ languages) -> final hidden states (B, T, C)."""

    architecture: ClassVar[str] = "XLMModel"
    takes_langs: ClassVar[bool] = True

    def __init__(self, config: XLMConfig):
        super().__init__()
        if config.asm:
            raise ValueError("XLM with an adaptive softmax output (asm: true) is not supported")
        if not config.is_encoder:
            raise ValueError("XLM as a decoder with cross-attention (is_encoder: false) is not supported")
        self.config = config
        self.embeddings = XLMEmbeddings(config)
        self.layers = nn.ModuleList(
            Block(config.emb_dim, config.n_heads, 4 * config.emb_dim,
                  act="gelu" if config.gelu_activation else "relu", dropout=config.dropout,
                  attention_dropout=config.attention_dropout, eps=config.layer_norm_eps)
            for _ in range(config.n_layers)
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: int | torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                causal: bool | None = None, *, positions: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        """With a `cache` (generation), `input_ids` are only the new tokens, `attention_mask`
        covers every position so far (cached and new), `positions` are given explicitly, and
        attention is causal."""
        causal = self.config.causal if causal is None else causal
        start = 0 if cache is None else cache.length
        langs = language_ids(langs, input_ids, self.config.lang2id, self.config.n_langs)
        if attention_mask is None:  # padding found from pad_token_id; cached positions are all real
            real = input_ids != self.config.pad_token_id  # (B, T)
            attention_mask = torch.cat([torch.ones_like(input_ids[:, :start], dtype=torch.bool), real], 1)  # (B, S)
        keep = attention_mask.bool()  # (B, S)
        keep = None if bool(keep.all()) else keep  # None when nothing is padded
        if causal or cache is not None:
            mask = causal_padding_mask(keep, input_ids.shape[1], input_ids.device, start)  # (B|1, 1, T, S)
        else:
            mask = padding_mask(keep)  # (B, 1, 1, T) or None
        zero_pads = (lambda x: x) if keep is None else (lambda x: x * keep[:, start:, None].to(x.dtype))

        x = zero_pads(self.embeddings(input_ids, langs, token_type_ids, positions))  # (B, T, C)
        for i, block in enumerate(self.layers):
            x = zero_pads(block(x, mask, None if cache is None else cache.layer(i), start))
        if cache is not None:
            cache.length += input_ids.shape[1]
        return x

    def new_cache(self, batch_size: int, max_length: int) -> KVCache:
        """Empty key/value buffers for `max_length` positions, on the model's device and dtype."""
        if max_length > self.config.max_position_embeddings:
            raise ValueError(f"{max_length} positions needed, the model has {self.config.max_position_embeddings}")
        weight = self.embeddings.word.weight
        heads = self.config.n_heads
        return KVCache.empty(len(self.layers), batch_size, heads, max_length, self.config.emb_dim // heads,
                             device=weight.device, dtype=weight.dtype)

    def checkpoint_names(self) -> dict[str, str]:
        """Module paths here -> module paths in the published checkpoints."""
        names = {
            "embeddings.word": "embeddings",
            "embeddings.position": "position_embeddings",
            "embeddings.lang": "lang_embeddings",
            "embeddings.norm": "layer_norm_emb",
        }
        for i in range(len(self.layers)):
            ours = f"layers.{i}."
            names |= {
                ours + "attn.q": f"attentions.{i}.q_lin",
                ours + "attn.k": f"attentions.{i}.k_lin",
                ours + "attn.v": f"attentions.{i}.v_lin",
                ours + "attn.o": f"attentions.{i}.out_lin",
                ours + "ln1": f"layer_norm1.{i}",
                ours + "ffn.up": f"ffns.{i}.lin1",
                ours + "ffn.down": f"ffns.{i}.lin2",
                ours + "ln2": f"layer_norm2.{i}",
            }
        return names


class XLMWithLMHead(FamilyModel):
    """The language model: logits (B, T, V) from an output layer tied to the word embeddings."""

    architecture: ClassVar[str] = "XLMWithLMHeadModel"
    body: ClassVar[str] = "transformer"
    takes_langs: ClassVar[bool] = True

    def __init__(self, config: XLMConfig):
        super().__init__()
        self.config = config
        self.transformer = XLMModel(config)
        self.proj = nn.Linear(config.emb_dim, config.vocab_size)
        if config.tie_word_embeddings:
            self.proj.weight = self.transformer.embeddings.word.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: int | torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                causal: bool | None = None, *, positions: torch.Tensor | None = None,
                cache: KVCache | None = None, masked_positions: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T, V); with `masked_positions` (B, T) bool, only those rows (M, V), as the
        MLM and TLM objectives need them."""
        hidden = self.transformer(input_ids, attention_mask, langs, token_type_ids, causal,
                                  positions=positions, cache=cache)  # (B, T, C)
        return self.proj(select_positions(hidden, masked_positions))  # (B, T, V) or (M, V)

    def generate(self, input_ids: torch.Tensor, **kwargs) -> torch.Tensor:
        """Causal generation with a key/value cache; see `xlmlab.models.generation.generate`."""
        return generate(self, input_ids, **kwargs)

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"transformer.{k}": f"transformer.{v}" for k, v in self.transformer.checkpoint_names().items()}
        return names | {"proj": "pred_layer.proj"}


SUMMARIES = {
    "first": lambda hidden: hidden[:, 0],
    "last": lambda hidden: hidden[:, -1],
    "mean": lambda hidden: hidden.mean(dim=1),
}


class XLMForSequenceClassification(FamilyModel):
    """Classification from a one-vector summary of the sequence (the first token by default)."""

    architecture: ClassVar[str] = "XLMForSequenceClassification"
    body: ClassVar[str] = "transformer"
    head: ClassVar[str] = "summary"
    takes_langs: ClassVar[bool] = True

    def __init__(self, config: XLMConfig):
        super().__init__()
        if config.summary_type not in SUMMARIES:
            raise ValueError(f"summary_type {config.summary_type!r} is not supported; "
                             f"expected one of {sorted(SUMMARIES)}")
        if not (config.summary_use_proj and config.summary_proj_to_labels):
            raise ValueError("XLM classification needs summary_use_proj and summary_proj_to_labels set")
        if config.summary_activation not in (None, "tanh"):
            raise ValueError(f"summary_activation {config.summary_activation!r} is not supported; "
                             "expected null or 'tanh'")
        self.config = config
        self.transformer = XLMModel(config)
        self.summarize = SUMMARIES[config.summary_type]
        self.dropout = nn.Dropout(config.summary_first_dropout)
        self.summary = nn.Linear(config.emb_dim, config.num_labels)
        self.act = torch.tanh if config.summary_activation == "tanh" else (lambda x: x)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: int | torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                causal: bool | None = None) -> torch.Tensor:
        hidden = self.transformer(input_ids, attention_mask, langs, token_type_ids, causal)  # (B, T, C)
        return self.act(self.summary(self.dropout(self.summarize(hidden))))  # (B, num_labels)

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"transformer.{k}": f"transformer.{v}" for k, v in self.transformer.checkpoint_names().items()}
        return names | {"summary": "sequence_summary.summary"}


class XLMForTokenClassification(FamilyModel):
    """A label for every token, e.g. NER: logits (B, T, num_labels), from dropout + linear."""

    architecture: ClassVar[str] = "XLMForTokenClassification"
    body: ClassVar[str] = "transformer"
    head: ClassVar[str] = "classifier"
    takes_langs: ClassVar[bool] = True

    def __init__(self, config: XLMConfig):
        super().__init__()
        self.config = config
        self.transformer = XLMModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.emb_dim, config.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                langs: int | torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None,
                causal: bool | None = None) -> torch.Tensor:
        hidden = self.transformer(input_ids, attention_mask, langs, token_type_ids, causal)  # (B, T, C)
        return self.classifier(self.dropout(hidden))  # (B, T, num_labels)

    def checkpoint_names(self) -> dict[str, str]:
        names = {f"transformer.{k}": f"transformer.{v}" for k, v in self.transformer.checkpoint_names().items()}
        return names | {"classifier": "classifier"}
