"""Finding published checkpoints on disk: the local Hugging Face cache, without the network.

A hub id such as `facebook/xlm-v-base` resolves to the snapshot a previous download left in
`$HF_HUB_CACHE`, or `$HF_HOME/hub`, default `~/.cache/huggingface/hub`:

    models--facebook--xlm-v-base/refs/main             -> the revision
    models--facebook--xlm-v-base/snapshots/<revision>/  -> config.json, weights, tokenizer files

If it is not there, `huggingface_hub` is installed and downloads are allowed (no HF_HUB_OFFLINE),
it is downloaded; otherwise the error names the command that fetches it on a connected machine.
A download takes the config, the tokenizer files and one copy of the weights: safetensors where
the repository has them, else `pytorch_model.bin` (facebook/xlm-v-base publishes only that).
A cached snapshot without weights (a download that stopped early) is not taken for a model.
"""

from __future__ import annotations

import fnmatch
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
# What a model directory needs besides its weights: config and tokenizer files, nothing else.
FILES = ["config.json", "tokenizer_config.json", "sentencepiece.bpe.model", "vocab.json", "merges.txt",
         "special_tokens_map.json"]
# The weights in either published format, preferred first; a repository may hold both.
WEIGHTS = {"safetensors": ["*.safetensors", "*.safetensors.index.json"],
           "bin": ["pytorch_model*.bin", "pytorch_model.bin.index.json"]}


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


def has_weights(directory: Path) -> bool:
    return any(any(directory.glob(pattern)) for patterns in WEIGHTS.values() for pattern in patterns)


def find_in_cache(repo_id: str, cache: Path | None = None, *, weights: bool = False) -> Path | None:
    """The cached snapshot directory for `repo_id` that has a config.json (and, with `weights`,
    weights), or None."""
    cache = cache or hub_cache()

    def usable(d: Path) -> bool:
        return (d / "config.json").is_file() and (not weights or has_weights(d))

    for name in _aliases(repo_id):
        repo = cache / ("models--" + name.replace("/", "--"))
        ref = repo / "refs" / "main"
        if ref.is_file():
            snapshot = repo / "snapshots" / ref.read_text().strip()
            if usable(snapshot):
                return snapshot
        snapshots = sorted((d for d in (repo / "snapshots").glob("*") if usable(d)), key=lambda d: d.stat().st_mtime)
        if snapshots:
            return snapshots[-1]
    return None


def weight_patterns(files: list[str]) -> list[str]:
    """Which weight files to fetch from a repository listing: safetensors if there are any,
    else the pickled `.bin` (and its shard index).

        ['config.json', 'pytorch_model.bin'] -> ['pytorch_model*.bin', 'pytorch_model.bin.index.json']
    """
    for patterns in WEIGHTS.values():
        if any(fnmatch.fnmatch(f, p) for f in files for p in patterns):
            return patterns
    raise FileNotFoundError(f"the repository lists no weights ({', '.join(sorted(files)) or 'no files'}); "
                            "expected *.safetensors or pytorch_model.bin")


def download(repo_id: str) -> tuple[Path | None, str]:
    """Try to download with huggingface_hub; return (directory or None, why not)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("", "0", "false", "no"):
        return None, "HF_HUB_OFFLINE is set"
    try:
        from huggingface_hub import list_repo_files, snapshot_download
    except ImportError:
        return None, "huggingface_hub is not installed"
    try:
        patterns = FILES + weight_patterns(list_repo_files(repo_id))
        return Path(snapshot_download(repo_id, allow_patterns=patterns)), ""
    except Exception as err:  # no network, unknown repo, permissions: all end in the same advice
        return None, f"the download failed ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"


def resolve(name: str | os.PathLike, *, weights: bool = False) -> Path:
    """A local directory as it is, else a hub id through the cache (or a download). With
    `weights` (a model, not just its tokenizer), a cached snapshot must hold weights too."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    text = str(name)
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise ModelNotFoundError(f"{path}: not a model directory (expected a folder with config.json)")
    cached = find_in_cache(text, weights=weights)
    if cached is not None:
        return cached
    downloaded, why = download(text)
    if downloaded is not None:
        return downloaded
    full_id = next((full for full, short in KNOWN_IDS.items() if short == text), text)
    partial = find_in_cache(text)
    where = (f"is in the Hugging Face cache without its weights ({partial})" if partial is not None else
             f"is not a local directory and is not in the Hugging Face cache at {hub_cache()}")
    raise ModelNotFoundError(
        f"{text!r} {where} ({why}). On a machine with network access run\n"
        f"    pip install huggingface_hub && hf download {full_id}\n"
        f"then copy its cache folder here (or set HF_HOME to it), or pass the model directory itself."
    )
