"""Model configurations for the two XLM families, read from and written to `config.json`.

The field names are those of the published `config.json` files (the Hugging Face layout), so a
config read from disk and written back keeps its meaning. The dataclass defaults are the
reference implementation's defaults, because a `config.json` that omits a field means that
default; the real published values live in `PUBLISHED` below.

    XLMRConfig  XLM-R and XLM-V (model_type "xlm-roberta")
    XLMConfig   XLM (model_type "xlm"), e.g. xlm-clm-ende-1024
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A `config.json` that cannot describe a model xlmlab supports."""


def _default_labels() -> dict[int, str]:
    return {0: "LABEL_0", 1: "LABEL_1"}


@dataclass
class _Config:
    """What both families share: labels, tying, the architecture list and unknown keys."""

    model_type: ClassVar[str]
    aliases: ClassVar[dict[str, str]] = {}

    architectures: list[str] = field(default_factory=list)
    id2label: dict[int, str] = field(default_factory=_default_labels)
    tie_word_embeddings: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> _Config:
        """Build a config from a parsed `config.json`; unknown keys are kept in `extra`."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in raw.items():
            key = cls.aliases.get(key, key)
            if key in known:
                values[key] = value
            elif key not in ("model_type", "label2id", "num_labels"):
                extra[key] = value
        if "id2label" in values:
            values["id2label"] = {int(k): v for k, v in values["id2label"].items()}
        elif "num_labels" in raw:
            values["id2label"] = {i: f"LABEL_{i}" for i in range(int(raw["num_labels"]))}
        return cls(**values, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The `config.json` contents: every field, the model type, and the kept unknown keys."""
        out = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name != "extra":
                out[f.name] = getattr(self, f.name)
        out["id2label"] = {str(k): v for k, v in self.id2label.items()}
        out["label2id"] = {v: k for k, v in self.id2label.items()}
        out["model_type"] = self.model_type
        return out


@dataclass
class XLMRConfig(_Config):
    """XLM-R / XLM-V: a RoBERTa encoder with a SentencePiece vocabulary."""

    model_type: ClassVar[str] = "xlm-roberta"

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    classifier_dropout: float | None = None
    is_decoder: bool = False

    @property
    def init_std(self) -> float:
        """The standard deviation new weights are drawn with (the reference's `initializer_range`)."""
        return self.extra.get("initializer_range", 0.02)

    @property
    def max_tokens(self) -> int:
        """The longest sequence the positions allow: they start after the padding index (514 -> 512)."""
        return self.max_position_embeddings - self.pad_token_id - 1


@dataclass
class XLMConfig(_Config):
    """XLM: a transformer with learned positions from 0 and optional language embeddings."""

    model_type: ClassVar[str] = "xlm"
    aliases: ClassVar[dict[str, str]] = {
        "n_words": "vocab_size",
        "hidden_size": "emb_dim",
        "num_attention_heads": "n_heads",
        "num_hidden_layers": "n_layers",
        "bos_index": "bos_token_id",
        "eos_index": "eos_token_id",
        "pad_index": "pad_token_id",
    }

    vocab_size: int = 30145
    emb_dim: int = 2048
    n_layers: int = 12
    n_heads: int = 16
    dropout: float = 0.1
    attention_dropout: float = 0.1
    gelu_activation: bool = True
    sinusoidal_embeddings: bool = False
    causal: bool = False
    asm: bool = False
    n_langs: int = 1
    use_lang_emb: bool = True
    max_position_embeddings: int = 512
    layer_norm_eps: float = 1e-12
    unk_index: int = 3
    mask_index: int = 5
    is_encoder: bool = True
    summary_type: str = "first"
    summary_use_proj: bool = True
    summary_activation: str | None = None
    summary_proj_to_labels: bool = True
    summary_first_dropout: float = 0.1
    mask_token_id: int | None = 0
    lang_id: int = 0
    pad_token_id: int = 2
    bos_token_id: int = 0
    eos_token_id: int = 1
    lang2id: dict[str, int] | None = None
    id2lang: dict[int, str] | None = None

    @property
    def init_std(self) -> float:
        """The standard deviation new weights are drawn with (the reference's `init_std`)."""
        return self.extra.get("init_std", 0.02)

    @property
    def max_tokens(self) -> int:
        """The longest sequence the positions allow (they start at 0)."""
        return self.max_position_embeddings

    @property
    def has_lang_embeddings(self) -> bool:
        return self.use_lang_emb and self.n_langs > 1

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> XLMConfig:
        config = super().from_dict(raw)
        if config.id2lang is not None:
            config.id2lang = {int(k): v for k, v in config.id2lang.items()}
        return config


CONFIG_CLASSES: dict[str, type[_Config]] = {"xlm-roberta": XLMRConfig, "xlm": XLMConfig}


def read_config(path: str | Path) -> XLMRConfig | XLMConfig:
    """Read a `config.json`, choosing the family from `model_type`."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; a model directory needs a config.json") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}, line {err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object, found {type(raw).__name__}")
    model_type = raw.get("model_type")
    if model_type not in CONFIG_CLASSES:
        raise ConfigError(
            f"{path}: model_type {model_type!r} is not supported; "
            f"expected one of {sorted(CONFIG_CLASSES)}"
        )
    try:
        return CONFIG_CLASSES[model_type].from_dict(raw)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path}: {err}") from None


def write_config(config: _Config, path: str | Path) -> None:
    Path(path).write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


# The configurations of the published checkpoints (values from their config.json files).
PUBLISHED: dict[str, XLMRConfig | XLMConfig] = {
    "xlm-roberta-base": XLMRConfig(
        architectures=["XLMRobertaForMaskedLM"],
        vocab_size=250002,
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
    ),
    "xlm-v-base": XLMRConfig(
        architectures=["XLMRobertaForMaskedLM"],
        vocab_size=901629,
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
    ),
    "xlm-clm-ende-1024": XLMConfig(
        architectures=["XLMWithLMHeadModel"],
        vocab_size=64699,
        emb_dim=1024,
        n_layers=6,
        n_heads=8,
        n_langs=2,
        use_lang_emb=True,
        causal=False,
        lang2id={"de": 0, "en": 1},
        id2lang={0: "de", 1: "en"},
    ),
}
