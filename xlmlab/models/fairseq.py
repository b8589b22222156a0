"""fairseq checkpoints of XLM-R, XLM-V and RoBERTa: `model.pt` read safely and renamed to the published layout.

XLM-R and XLM-V were trained with fairseq; their own releases, and anything trained with fairseq
since, are a directory of `model.pt`, `dict.txt` and `sentencepiece.bpe.model`. `model.pt` is a
pickled dict: `model` (the weights) and the hyper-parameters, in one of two generations:

    2019 (the XLM-R release)   args: argparse.Namespace; weights `decoder.sentence_encoder.*` and
                               `decoder.lm_head.*`; `emb_layer_norm`; attention as one fused
                               `in_proj_weight` (3C, C) stacking q, k, v
    newer fairseq              args: None; cfg: {"model": Namespace or dict, "task": ...}; weights
                               `encoder.sentence_encoder.*`, `encoder.lm_head.*`;
                               `layernorm_embedding`; separate q_proj, k_proj, v_proj; a `version`
                               buffer that is not a weight

Old args lack fields fairseq added later; fairseq's RoBERTa defaults fill them (`DEFAULTS`). The
layer count, width and heads come from the args, never guessed from weight shapes. The positions
table has max_positions + 2 rows (fairseq counts from padding_idx + 1, as the published layout
does); the published layout also needs a token-type embedding, which fairseq has not: a zero
1 x C row adds nothing. The LM head's weight is the input embedding (unless the args untie it).

Reading never runs code from the file: `torch.load(weights_only=True)` with only
`argparse.Namespace` allowed besides tensors; anything else the pickle asks for is refused.
"""

from __future__ import annotations

import argparse
import pickle
import re
from pathlib import Path

import torch

from .config import XLMRConfig

# fairseq's defaults for RoBERTa-family args (fairseq/models/roberta/model.py, base_architecture)
DEFAULTS = {
    "encoder_layers": 12, "encoder_embed_dim": 768, "encoder_ffn_embed_dim": 3072, "encoder_attention_heads": 12,
    "activation_fn": "gelu", "dropout": 0.1, "attention_dropout": 0.1, "max_positions": 512,
    "layernorm_embedding": True, "encoder_normalize_before": False, "untie_weights_roberta": False,
    "no_scale_embedding": True, "encoder_learned_pos": True,
}
# what xlmlab's XLM-R encoder computes: post-LN blocks, LayerNorm on the embeddings, no scaling
SUPPORTED = {"layernorm_embedding": True, "encoder_normalize_before": False, "no_scale_embedding": True,
             "encoder_learned_pos": True, "activation_fn": "gelu"}
# fairseq names inside one layer -> published names (q, k, v handled apart)
LAYER = {"self_attn.out_proj": "attention.output.dense", "self_attn_layer_norm": "attention.output.LayerNorm",
         "fc1": "intermediate.dense", "fc2": "output.dense", "final_layer_norm": "output.LayerNorm"}
# entries of a fairseq state dict that are not weights of the masked LM
NOT_WEIGHTS = re.compile(r"(^|\.)(version|_float_tensor)$|^classification_heads\.")


class FairseqError(ValueError):
    """A fairseq checkpoint xlmlab cannot read or does not support (raised as CheckpointError by `load`)."""


def read_checkpoint(path: str | Path) -> dict:
    """The dict inside `model.pt`, unpickled with tensors and argparse.Namespace only."""
    path = Path(path)
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FairseqError(f"{path}: not found") from None
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if found:
            raise FairseqError(f"{path}: refused to unpickle: the file asks to import {found.group(1)}, which could "
                               "run code; a fairseq checkpoint is read with tensors and argparse.Namespace only "
                               "(re-save its cfg as plain dicts)") from None
        raise FairseqError(f"{path}: unreadable, truncated or corrupt ({str(err).strip().splitlines()[0]})") from None
    except Exception as err:  # a damaged file fails in many ways
        raise FairseqError(f"{path}: unreadable, truncated or corrupt ({type(err).__name__}: {err})") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("model"), dict):
        keys = f" with keys {sorted(map(str, checkpoint))[:8]}" if isinstance(checkpoint, dict) else ""
        raise FairseqError(f"{path}: expected fairseq's checkpoint dict with 'model' (the weights) and 'args' or "
                           f"'cfg'; found {type(checkpoint).__name__}{keys}")
    return checkpoint


def model_args(checkpoint: dict, where: str | Path = "model.pt") -> dict:
    """The model's hyper-parameters as a dict, from `args` (2019) or `cfg.model` (newer), with
    fairseq's defaults for fields the file predates."""
    args = checkpoint.get("args")
    if args is None:
        cfg = checkpoint.get("cfg")
        if not isinstance(cfg, dict) or cfg.get("model") is None:
            raise FairseqError(f"{where}: neither 'args' nor 'cfg.model' holds the model's hyper-parameters")
        args = cfg["model"]
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    if not isinstance(args, dict):
        raise FairseqError(f"{where}: the hyper-parameters are a {type(args).__name__}; expected a Namespace or dict")
    values = DEFAULTS | {k: v for k, v in args.items() if v is not None}
    if any(k.startswith("decoder.sentence_encoder.") for k in checkpoint["model"]):
        # 2019: the structure was fixed in code (LayerNorm on the embeddings, post-LN layers),
        # whatever these flags said; the weights show it (emb_layer_norm)
        values |= {k: v for k, v in SUPPORTED.items() if k != "activation_fn"}
    unsupported = {k: values[k] for k, v in SUPPORTED.items() if values[k] != v}
    if unsupported:
        raise FairseqError(f"{where}: {unsupported}: xlmlab runs the XLM-R / RoBERTa encoder "
                           f"({', '.join(f'{k}={v}' for k, v in SUPPORTED.items())})")
    return values


def config_from_args(args: dict, vocab_size: int) -> XLMRConfig:
    """The published config.json of a fairseq RoBERTa-family model (pad = 1, as fairseq's dictionary)."""
    return XLMRConfig(
        architectures=["XLMRobertaForMaskedLM"], vocab_size=vocab_size, hidden_size=args["encoder_embed_dim"],
        num_hidden_layers=args["encoder_layers"], num_attention_heads=args["encoder_attention_heads"],
        intermediate_size=args["encoder_ffn_embed_dim"], hidden_act="gelu", hidden_dropout_prob=args["dropout"],
        attention_probs_dropout_prob=args["attention_dropout"], max_position_embeddings=args["max_positions"] + 2,
        type_vocab_size=1, layer_norm_eps=1e-5, tie_word_embeddings=not args["untie_weights_roberta"],
    )


def published_state(weights: dict[str, torch.Tensor], config: XLMRConfig,
                    where: str | Path = "model.pt") -> dict[str, torch.Tensor]:
    """fairseq weight names -> the published names of XLMRobertaForMaskedLM, q/k/v unfused.

    decoder.sentence_encoder.layers.0.self_attn.in_proj_weight (3C, C)
        -> roberta.encoder.layer.0.attention.self.{query,key,value}.weight (C, C) each
    """
    out: dict[str, torch.Tensor] = {}
    unknown = []
    C = config.hidden_size
    for name, tensor in weights.items():
        if NOT_WEIGHTS.search(name):
            continue
        key = re.sub(r"^(decoder|encoder)\.", "", name)
        layer = re.match(r"sentence_encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$", key)
        if layer:
            i, part, leaf = layer.groups()
            prefix = f"roberta.encoder.layer.{i}."
            if part in LAYER:
                out[f"{prefix}{LAYER[part]}.{leaf}"] = tensor
                continue
            separate = re.fullmatch(r"self_attn\.(q|k|v)_proj", part)
            if separate:
                out[f"{prefix}attention.self.{dict(q='query', k='key', v='value')[separate.group(1)]}.{leaf}"] = tensor
                continue
            unknown.append(name)
            continue
        fused = re.match(r"sentence_encoder\.layers\.(\d+)\.self_attn\.in_proj_(weight|bias)$", key)
        if fused:
            i, leaf = fused.groups()
            if tensor.shape[0] != 3 * C:
                raise FairseqError(f"{where}: {name} has {tensor.shape[0]} rows; expected 3 x {C} (q, k, v stacked)")
            for part, chunk in zip(("query", "key", "value"), tensor.split(C)):
                out[f"roberta.encoder.layer.{i}.attention.self.{part}.{leaf}"] = chunk
            continue
        simple = {  # everything outside the layers
            "sentence_encoder.embed_tokens.weight": "roberta.embeddings.word_embeddings.weight",
            "sentence_encoder.embed_positions.weight": "roberta.embeddings.position_embeddings.weight",
            "sentence_encoder.emb_layer_norm.weight": "roberta.embeddings.LayerNorm.weight",
            "sentence_encoder.emb_layer_norm.bias": "roberta.embeddings.LayerNorm.bias",
            "sentence_encoder.layernorm_embedding.weight": "roberta.embeddings.LayerNorm.weight",
            "sentence_encoder.layernorm_embedding.bias": "roberta.embeddings.LayerNorm.bias",
            "lm_head.dense.weight": "lm_head.dense.weight", "lm_head.dense.bias": "lm_head.dense.bias",
            "lm_head.layer_norm.weight": "lm_head.layer_norm.weight",
            "lm_head.layer_norm.bias": "lm_head.layer_norm.bias",
            "lm_head.weight": "lm_head.decoder.weight", "lm_head.bias": "lm_head.bias",
        }
        if key in simple:
            out[simple[key]] = tensor
        else:
            unknown.append(name)
    if unknown:
        more = f" ... and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        raise FairseqError(f"{where}: weights xlmlab does not know in a fairseq RoBERTa model: "
                           f"{', '.join(unknown[:8])}{more}")
    positions = out.get("roberta.embeddings.position_embeddings.weight")
    if positions is not None and positions.shape[0] != config.max_position_embeddings:
        raise FairseqError(f"{where}: the positions table has {positions.shape[0]} rows; max_positions "
                           f"{config.max_position_embeddings - 2} in the args implies {config.max_position_embeddings}")
    embeddings = out.get("roberta.embeddings.word_embeddings.weight")
    if embeddings is not None:
        # fairseq has no token types; the published layout's single type adds a zero row
        out["roberta.embeddings.token_type_embeddings.weight"] = embeddings.new_zeros(1, C)
        if config.tie_word_embeddings:
            head = out.pop("lm_head.decoder.weight", None)
            if head is not None and not torch.equal(head, embeddings):
                raise FairseqError(f"{where}: the LM head's weight differs from the input embedding, but the args "
                                   "tie them (untie_weights_roberta is false)")
    return out
