"""Finding published checkpoints on disk: the local Hugging Face cache, without the network.

A hub id such as `facebook/xlm-v-base` resolves to the snapshot a previous download left in
`$HF_HUB_CACHE`, or `$HF_HOME/hub`, default `~/.cache/huggingface/hub`:

    models--facebook--xlm-v-base/refs/main             -> the revision
    models--facebook--xlm-v-base/snapshots/<revision>/  -> config.json, weights, tokenizer files

If it is not there, `huggingface_hub` is installed and downloads are allowed (no HF_HUB_OFFLINE),
it is downloaded; otherwise the error names the command that fetches it on a connected machine.
"""

from __future__ import annotations

import os
from pathlib import Path

# Published ids and their older short names: either may be in a user's cache.
KNOWN_IDS = {
    "FacebookAI/xlm-roberta-base": "xlm-roberta-base",
    "FacebookAI/xlm-roberta-large": "xlm-roberta-large",
    "facebook/xlm-v-base": "xlm-v-base",
    "FacebookAI/xlm-clm-ende-1024": "xlm-clm-ende-1024",
    "FacebookAI/xlm-mlm-ende-1024": "xlm-mlm-ende-1024",
}
# What a model directory needs: weights, config and tokenizer files, nothing else.
FILES = ["config.json", "*.safetensors", "*.safetensors.index.json", "tokenizer_config.json",
         "sentencepiece.bpe.model", "vocab.json", "merges.txt", "special_tokens_map.json"]


class ModelNotFoundError(FileNotFoundError):
    """A name that is neither a directory, an embedded model, nor in the local cache."""


def hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    return Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser() / "hub"


def _aliases(repo_id: str) -> list[str]:
    """'xlm-roberta-base' -> ['xlm-roberta-base', 'FacebookAI/xlm-roberta-base'] and back."""
    names = [repo_id]
    for full, short in KNOWN_IDS.items():
        if repo_id in (full, short):
            names += [n for n in (full, short) if n != repo_id]
    return names


def find_in_cache(repo_id: str, cache: Path | None = None) -> Path | None:
    """The cached snapshot directory for `repo_id` that has a config.json, or None."""
    cache = cache or hub_cache()
    for name in _aliases(repo_id):
        repo = cache / ("models--" + name.replace("/", "--"))
        ref = repo / "refs" / "main"
        if ref.is_file():
            snapshot = repo / "snapshots" / ref.read_text().strip()
            if (snapshot / "config.json").is_file():
                return snapshot
        snapshots = sorted((repo / "snapshots").glob("*/config.json"), key=lambda p: p.stat().st_mtime)
        if snapshots:
            return snapshots[-1].parent
    return None


def download(repo_id: str) -> tuple[Path | None, str]:
    """Try to download with huggingface_hub; return (directory or None, why not)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("", "0", "false", "no"):
        return None, "HF_HUB_OFFLINE is set"
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None, "huggingface_hub is not installed"
    try:
        return Path(snapshot_download(repo_id, allow_patterns=FILES)), ""
    except Exception as err:  # no network, unknown repo, permissions: all end in the same advice
        return None, f"the download failed ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"


def resolve(name: str | os.PathLike) -> Path:
    """A local directory as it is, else a hub id through the cache (or a download)."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    text = str(name)
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise ModelNotFoundError(f"{path}: not a model directory (expected a folder with config.json)")
    cached = find_in_cache(text)
    if cached is not None:
        return cached
    downloaded, why = download(text)
    if downloaded is not None:
        return downloaded
    full_id = next((full for full, short in KNOWN_IDS.items() if short == text), text)
    raise ModelNotFoundError(
        f"{text!r} is not a local directory and is not in the Hugging Face cache at {hub_cache()} "
        f"({why}). On a machine with network access run\n"
        f"    pip install huggingface_hub && hf download {full_id}\n"
        f"then copy its cache folder here (or set HF_HOME to it), or pass the model directory itself."
    )
