"""Shared fixtures: reference models from transformers with random weights, and test batches."""

from __future__ import annotations

import json
import os

import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"  # the tests never reach a hub

SMALL_XLMR = dict(vocab_size=101, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=40, type_vocab_size=1, layer_norm_eps=1e-5)
SMALL_XLM = dict(vocab_size=97, emb_dim=32, n_layers=2, n_heads=4, n_langs=3, max_position_embeddings=40)

ARCHITECTURES = {
    # transformers class: config class name, config overrides
    "XLMRobertaModel": ("XLMRobertaConfig", SMALL_XLMR),
    "XLMRobertaForMaskedLM": ("XLMRobertaConfig", SMALL_XLMR),
    "XLMRobertaForSequenceClassification": ("XLMRobertaConfig", SMALL_XLMR | {"num_labels": 3}),
    "XLMRobertaForTokenClassification": ("XLMRobertaConfig", SMALL_XLMR | {"num_labels": 5}),
    "XLMModel": ("XLMConfig", SMALL_XLM),
    "XLMWithLMHeadModel": ("XLMConfig", SMALL_XLM),
    "XLMForSequenceClassification": ("XLMConfig", SMALL_XLM | {"num_labels": 3}),
    "XLMForTokenClassification": ("XLMConfig", SMALL_XLM | {"num_labels": 5}),
}


@pytest.fixture(autouse=True, scope="session")
def xlmlab_home(tmp_path_factory):
    """Embedded models built by the tests go to a private cache. Vocabulary builds and trained
    models are deterministic and keyed by their settings, so those caches are shared with the user's."""
    from pathlib import Path

    home = tmp_path_factory.mktemp("xlmlab-home")
    for kind in ("vocab", "trained", "runs"):
        shared = Path(os.environ.get("XLMLAB_HOME", "~/.cache/xlmlab")).expanduser() / kind
        shared.mkdir(parents=True, exist_ok=True)
        (home / kind).symlink_to(shared, target_is_directory=True)
    os.environ["XLMLAB_HOME"] = str(home)


def reference_model(architecture: str, seed: int = 0, **overrides):
    """A transformers model with every parameter random (biases and norms too), in eval mode."""
    import transformers

    config_name, defaults = ARCHITECTURES[architecture]
    config = getattr(transformers, config_name)(**(defaults | overrides))
    torch.manual_seed(seed)
    model = getattr(transformers, architecture)(config).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.3)
    return model


def reference_output(model, **inputs) -> torch.Tensor:
    with torch.no_grad():
        out = model(**inputs)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


def padded_batch(vocab_size: int, pad: int, lengths=(9, 6, 3), seed: int = 1):
    """Random ids, right-padded: (input_ids, attention_mask). Ids avoid the special range 0..4."""
    g = torch.Generator().manual_seed(seed)
    T = max(lengths)
    ids = torch.randint(5, vocab_size, (len(lengths), T), generator=g)
    mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).long()
    return ids.masked_fill(mask == 0, pad), mask


@pytest.fixture(scope="session")
def spm_dir(tmp_path_factory):
    from tokenizer_fixtures import train_sentencepiece

    directory = tmp_path_factory.mktemp("spm")
    train_sentencepiece(directory)
    return directory


@pytest.fixture(scope="session")
def xlm_dir(tmp_path_factory):
    from tokenizer_fixtures import train_xlm_bpe

    return train_xlm_bpe(tmp_path_factory.mktemp("xlm-bpe"))


def save_reference(model, directory, fmt: str):
    """Write `model` the way published checkpoints exist on disk."""
    if fmt == "safetensors":
        model.save_pretrained(directory)
    elif fmt == "safetensors-sharded":
        model.save_pretrained(directory, max_shard_size="20KB")
        assert (directory / "model.safetensors.index.json").exists()
    else:  # the older pickle layout, tied duplicates and position-id buffers included
        model.config.architectures = [type(model).__name__]  # as save_pretrained records it
        model.config.save_pretrained(directory)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        for name, buffer in model.named_buffers():
            state.setdefault(name, buffer.clone())
        if fmt == "bin":
            torch.save(state, directory / "pytorch_model.bin")
        else:
            names = sorted(state)
            halves = {"pytorch_model-00001-of-00002.bin": names[::2], "pytorch_model-00002-of-00002.bin": names[1::2]}
            for file, keys in halves.items():
                torch.save({k: state[k] for k in keys}, directory / file)
            weight_map = {k: file for file, keys in halves.items() for k in keys}
            (directory / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
