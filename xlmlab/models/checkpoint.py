"""Reading and writing checkpoints in the published (Hugging Face) layout.

A model directory holds `config.json` and the weights as `model.safetensors`,
`pytorch_model.bin`, or shards listed in `model.safetensors.index.json` /
`pytorch_model.bin.index.json`. Parameter names are a contract with the published files; each
model states how its module paths map to them (`checkpoint_names`), so this module only has to
match names, check shapes and keep tied weights tied.

Loading is all-or-nothing: every tensor is read and checked before the model is assembled, and
any problem (missing or unexpected names, wrong shapes, a corrupt file, a pickle that would run
code) raises one `CheckpointError` that names the file and lists what is wrong.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..paths import write_atomic
from . import fairseq
from .config import ConfigError, XLMConfig, XLMRConfig, read_config, write_config
from .initialise import reference_init_
from .xlm import XLMForSequenceClassification, XLMForTokenClassification, XLMModel, XLMWithLMHead
from .xlm_roberta import XLMRForMaskedLM, XLMRForSequenceClassification, XLMRForTokenClassification, XLMRModel

# the classifiers of each task, by model_type
CLASSIFIERS = {
    "sequence": {"xlm-roberta": XLMRForSequenceClassification, "xlm": XLMForSequenceClassification},
    "token": {"xlm-roberta": XLMRForTokenClassification, "xlm": XLMForTokenClassification},
}
MODEL_CLASSES = {  # model_type -> architecture name -> class
    "xlm-roberta": {cls.architecture: cls for cls in (XLMRModel, XLMRForMaskedLM, XLMRForSequenceClassification,
                                                      XLMRForTokenClassification)},
    "xlm": {cls.architecture: cls for cls in (XLMModel, XLMWithLMHead, XLMForSequenceClassification,
                                              XLMForTokenClassification)},
}
DEFAULT_ARCHITECTURE = {"xlm-roberta": "XLMRobertaForMaskedLM", "xlm": "XLMWithLMHeadModel"}
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json")

# Checkpoint entries that are not weights of the model being loaded and are skipped:
# position/token-type id buffers that older files carry, and the pooler of a bare encoder
# that a head model does not use (the reference implementation skips it too).
SKIPPED = re.compile(r"(^|\.)(position_ids|token_type_ids)$|^roberta\.pooler\.")
# The pretraining heads, left out when a classifier is put on a pretrained body.
PRETRAINING_HEADS = re.compile(r"^(lm_head|pred_layer|classifier|sequence_summary)\.")


class CheckpointError(ValueError):
    """A model directory or weight file that cannot be loaded as it is."""


def model_class(config: XLMRConfig | XLMConfig, where: Path | str = "config.json") -> type[nn.Module]:
    """The xlmlab class for a config, from `architectures` (or the family's usual model)."""
    names = config.architectures or [DEFAULT_ARCHITECTURE[config.model_type]]
    family = MODEL_CLASSES[config.model_type]
    for name in names:
        if name in family:
            return family[name]
    supported = sorted(family)
    raise CheckpointError(f"{where}: architecture {names} is not supported for model_type "
                          f"{config.model_type!r}; expected one of {supported}")


def build_model(config: XLMRConfig | XLMConfig, *, device: torch.device | str | None = None) -> nn.Module:
    """A model of the config's architecture with freshly initialised weights."""
    with torch.device(device or "cpu"):
        return model_class(config)(config)


@dataclass
class _Weight:
    """One parameter of the model: its paths here (several when tied) and its names on disk."""

    ours: list[str]
    names: list[str] = field(default_factory=list)
    shape: tuple[int, ...] = ()


def _weights(model: nn.Module) -> list[_Weight]:
    """Group the model's parameters by identity (ties) and list the checkpoint names each accepts."""
    modules = model.checkpoint_names()
    aliases = getattr(model, "checkpoint_aliases", {})
    groups: dict[int, _Weight] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        path, leaf = name.rsplit(".", 1)
        stored = f"{modules[path]}.{leaf}"
        group = groups.setdefault(id(param), _Weight(ours=[], shape=tuple(param.shape)))
        group.ours.append(name)
        group.names += [stored, *aliases.get(stored, ())]
    return list(groups.values())


def _read_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: listed in the index but not found") from None
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if found:  # weights-only loading refuses to import anything but tensor types
            raise CheckpointError(f"{path}: refused to unpickle: the file asks to import {found.group(1)}, which "
                                  "could run code; only plain tensors are loaded") from None
        raise CheckpointError(f"{path}: unreadable, truncated or corrupt, or not a plain-tensor pickle "
                              f"({str(err).strip().splitlines()[0]})") from None
    except Exception as err:  # a damaged file can make either reader fail in many ways
        raise CheckpointError(f"{path}: unreadable, truncated or corrupt ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a mapping of names to tensors")
    return state


def read_weights(directory: Path) -> tuple[dict[str, torch.Tensor], dict[str, Path]]:
    """All tensors of a model directory, and the file each came from."""
    for name in WEIGHT_FILES:
        path = directory / name
        if path.exists():
            break
    else:
        raise CheckpointError(f"{directory}: no weights found; expected one of {', '.join(WEIGHT_FILES)}")
    if not name.endswith(".index.json"):
        state = _read_file(path)
        return state, dict.fromkeys(state, path)
    try:
        weight_map = json.loads(path.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: not a valid shard index ({err!r}); "
                              "expected a JSON object with 'weight_map'") from None
    state, source = {}, {}
    for shard in sorted(set(weight_map.values())):
        shard_path = directory / shard
        tensors = _read_file(shard_path)
        listed = [key for key, file in weight_map.items() if file == shard]
        absent = [key for key in listed if key not in tensors]
        if absent:
            raise CheckpointError(f"{shard_path}: the index lists {absent[:5]} in this shard but it does not hold them")
        state |= tensors
        source |= dict.fromkeys(tensors, shard_path)
    return state, source


def _short(items: list[str], limit: int = 8) -> str:
    more = f" ... and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def bind_weights(model: nn.Module, state: dict[str, torch.Tensor], source: dict[str, Path],
                 directory: Path | str, *, device: torch.device | str = "cpu", dtype: torch.dtype | None = None,
                 new_head: str | None = None) -> None:
    """Put checkpoint tensors into `model` (built on the meta device), keeping ties; check everything first.

    `new_head` names a module of `model` that is not read from the checkpoint (a classification
    head on a pretrained body): it keeps its fresh weights, and the checkpoint's own heads
    (`lm_head`, `pred_layer`, a classifier for other labels) are left out.

    Every tensor is copied into memory of its own on `device`: tensors read from a safetensors
    file sit at unaligned offsets of the file mapping, which makes CPU matrix products ~5% slower.
    """
    names = model.checkpoint_names()
    for module in model.optional_modules:  # a file may leave these out: the model then goes without
        stored = [v for k, v in names.items() if k.startswith(module + ".")]
        if getattr(model, module) is not None and not any(k.startswith(s + ".") for s in stored for k in state):
            setattr(model, module, None)
    weights = _weights(model)
    chosen: list[tuple[_Weight, str]] = []
    missing, wrong_shape = [], []
    fresh = []
    for weight in weights:
        found = next((name for name in weight.names if name in state), None)
        if new_head is not None and weight.ours[0].startswith(new_head + "."):
            fresh.append(weight)
        elif found is None:
            missing.append(weight.names[0])
        elif tuple(state[found].shape) != weight.shape:
            wrong_shape.append(f"{found} is {tuple(state[found].shape)} in {source[found].name}, "
                               f"the config implies {weight.shape}")
        else:
            chosen.append((weight, found))
    accepted = {name for weight in weights for name in weight.names}
    skipped = SKIPPED if new_head is None else PRETRAINING_HEADS
    unexpected = [f"{k} (in {source[k].name})" for k in state
                  if k not in accepted and not SKIPPED.search(k) and not skipped.search(k)]
    problems = []
    if missing:
        problems.append(f"missing weights: {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected weights: {_short(unexpected)}")
    if wrong_shape:
        problems.append(f"shape mismatch: {_short(wrong_shape, 4)}")
    if problems:
        raise CheckpointError(f"{directory}: cannot load as {model.architecture}:\n  " + "\n  ".join(problems))

    for weight, found in chosen:
        tensor = state[found]
        if not tensor.is_floating_point():
            raise CheckpointError(f"{source[found]}: {found} holds {tensor.dtype} values; expected floating point")
        param = nn.Parameter(tensor.to(device=device, dtype=dtype or tensor.dtype, copy=True))
        for name in weight.ours:
            path, leaf = name.rsplit(".", 1)
            setattr(model.get_submodule(path), leaf, param)
    params = dict(model.named_parameters(remove_duplicate=False))
    for weight in fresh:
        param = nn.Parameter(params[weight.ours[0]].detach().to(device=device, dtype=dtype, copy=True))
        for name in weight.ours:
            path, leaf = name.rsplit(".", 1)
            setattr(model.get_submodule(path), leaf, param)


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def _dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """None -> float32 (the reference numerics); "auto" -> as stored; a name or torch.dtype."""
    if dtype is None:
        return torch.float32
    if dtype == "auto":
        return None
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not supported; expected 'auto', one of {sorted(DTYPES)} or a torch.dtype")
    return DTYPES[dtype]


def _read_directory_config(directory: Path) -> XLMRConfig | XLMConfig:
    """The directory's config.json; a problem with it is a CheckpointError like any other."""
    try:
        return read_config(directory / "config.json")
    except ConfigError as err:
        raise CheckpointError(str(err)) from None


def load_directory(directory: Path, *, device: torch.device | str | None = None,
                   dtype: torch.dtype | str | None = None) -> nn.Module:
    """Load a model from a directory in the published layout (or fairseq's); see `xlmlab.load_model`."""
    if is_fairseq_directory(directory):
        return load_fairseq(directory, device=device, dtype=dtype)
    config = _read_directory_config(directory)
    cls = model_class(config, directory / "config.json")
    state, source = read_weights(directory)
    with torch.device("meta"):
        try:
            model = cls(config)
        except ValueError as err:
            raise CheckpointError(f"{directory / 'config.json'}: {err}") from None
    bind_weights(model, state, source, directory, device=device or "cpu", dtype=_dtype(dtype))
    return model.eval()


def is_fairseq_directory(directory: Path) -> bool:
    """fairseq's layout: model.pt (with dict.txt beside it) and no config.json."""
    return (directory / "model.pt").is_file() and not (directory / "config.json").is_file()


def load_classifier(directory: Path, labels: list[str] | tuple[str, ...], *, device: torch.device | str | None = None,
                    dtype: torch.dtype | str | None = None, seed: int = 0, require_head: bool = False,
                    task: str = "sequence") -> nn.Module:
    """A classifier for `labels`, in train mode, its body from a model directory: one label per
    sequence (`task="sequence"`, XNLI) or per token (`task="token"`, NER).

    A directory that already holds a classifier with these labels is loaded as it is (to go on
    training or to evaluate). Otherwise the body of any family member (a masked or causal LM, a
    bare encoder, a classifier with other labels) is loaded and a new head is put on it,
    initialised from `seed` as the reference implementation does: weights N(0, 0.02), biases 0.
    `require_head` refuses that: the directory must hold a classifier for `labels`.
    """
    if task not in CLASSIFIERS:
        raise ValueError(f"task {task!r}; expected one of {sorted(CLASSIFIERS)}")
    config = _read_directory_config(directory)
    cls = CLASSIFIERS[task][config.model_type]
    id2label = dict(enumerate(labels))
    new_head = None
    if model_class(config, directory / "config.json") is not cls or config.id2label != id2label:
        if require_head:
            raise CheckpointError(f"{directory}: expected a classifier for labels {list(labels)}; found "
                                  f"{config.architectures} with labels {list(config.id2label.values())}")
        new_head = cls.head
        config.id2label = id2label
        config.architectures = [cls.architecture]
    state, source = read_weights(directory)
    with torch.device("meta"):
        model = cls(config)
    if new_head is not None:
        head = model.get_submodule(new_head).to_empty(device="cpu")
        reference_init_(head, seed, config.init_std)  # the same head on every machine
    bind_weights(model, state, source, directory, device=device or "cpu", dtype=_dtype(dtype), new_head=new_head)
    return model.train()


def save_model(model: nn.Module, directory: str | Path) -> Path:
    """Write `config.json` + `model.safetensors` in the layout the reference implementation loads.

    Tied weights are written once, under the name the published checkpoints use. Files are
    written to temporary names and renamed, so an interrupted save leaves no half-written file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config
    config.architectures = [model.architecture]
    params = dict(model.named_parameters(remove_duplicate=False))
    tensors = {w.names[0]: params[w.ours[0]].detach().to("cpu").contiguous() for w in _weights(model)}
    dtypes = {t.dtype for t in tensors.values()}
    if len(dtypes) == 1:
        config.extra["torch_dtype"] = str(dtypes.pop()).removeprefix("torch.")
    write_atomic(directory / "model.safetensors", lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"}))
    write_atomic(directory / "config.json", lambda tmp: write_config(config, tmp))
    return directory


def load_fairseq(directory: Path, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | str | None = None) -> nn.Module:
    """An XLMRForMaskedLM from a fairseq directory (`model.pt`); rows in dict.txt's order.

    See `models/fairseq.py` for the two format generations and what is filled in.
    """
    path = directory / "model.pt"
    try:
        checkpoint = fairseq.read_checkpoint(path)
        args = fairseq.model_args(checkpoint, path)
        weights = checkpoint["model"]
        embedding = next((v for k, v in weights.items() if k.endswith("sentence_encoder.embed_tokens.weight")), None)
        if embedding is None:
            raise fairseq.FairseqError(f"{path}: no sentence_encoder.embed_tokens.weight; not a RoBERTa-family model")
        config = fairseq.config_from_args(args, vocab_size=embedding.shape[0])
        state = fairseq.published_state(weights, config, path)
    except fairseq.FairseqError as err:
        raise CheckpointError(str(err)) from None
    with torch.device("meta"):
        model = XLMRForMaskedLM(config)
    bind_weights(model, state, dict.fromkeys(state, path), directory, device=device or "cpu", dtype=_dtype(dtype))
    return model.eval()
