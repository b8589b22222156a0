"""Hub ids resolve through the local Hugging Face cache, or fail with the command to fetch them."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from conftest import reference_model, save_reference

import xlmlab


def cache_snapshot(hf_home, repo_folder, revision="0123abc", with_ref=True):
    """Lay out a repo the way huggingface_hub leaves it in $HF_HOME/hub."""
    repo = hf_home / "hub" / repo_folder
    snapshot = repo / "snapshots" / revision
    reference_model("XLMRobertaForMaskedLM").save_pretrained(snapshot)
    if with_ref:
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text(revision)
    return snapshot


@pytest.fixture
def hf_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path / "hf"


def test_hub_id_loads_from_the_cache(hf_home):
    cache_snapshot(hf_home, "models--facebook--xlm-v-base")
    assert isinstance(xlmlab.load_model("facebook/xlm-v-base"), xlmlab.XLMRForMaskedLM)


def test_snapshot_without_refs_is_found(hf_home):
    snapshot = cache_snapshot(hf_home, "models--facebook--xlm-v-base", with_ref=False)
    assert xlmlab.hub.resolve("facebook/xlm-v-base") == snapshot


@pytest.mark.parametrize("cached, asked", [("models--xlm-roberta-base", "FacebookAI/xlm-roberta-base"),
                                           ("models--FacebookAI--xlm-roberta-base", "xlm-roberta-base")])
def test_old_and_new_names_find_each_other(hf_home, cached, asked):
    snapshot = cache_snapshot(hf_home, cached)
    assert xlmlab.hub.resolve(asked) == snapshot


def test_missing_model_names_the_download_command(hf_home):
    with pytest.raises(xlmlab.ModelNotFoundError) as err:
        xlmlab.load_model("xlm-clm-ende-1024")
    message = str(err.value)
    assert "hf download FacebookAI/xlm-clm-ende-1024" in message
    assert str(hf_home / "hub") in message and "HF_HUB_OFFLINE is set" in message


def fake_hub(monkeypatch, snapshot_download, files=("config.json", "model.safetensors")):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    module = types.SimpleNamespace(snapshot_download=snapshot_download, list_repo_files=lambda repo_id: list(files))
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)


def remote_repo(tmp_path, monkeypatch, fmt="safetensors"):
    """A fake hub repository: a folder saved by transformers, served file by file as
    snapshot_download serves them (only the names matching allow_patterns arrive)."""
    import fnmatch
    import shutil

    remote = tmp_path / "remote"
    save_reference(reference_model("XLMRobertaForMaskedLM"), remote, fmt)
    asked = []

    def snapshot_download(repo_id, allow_patterns):
        asked.append(allow_patterns)
        target = tmp_path / "downloaded"
        target.mkdir(exist_ok=True)
        for f in remote.iterdir():
            if any(fnmatch.fnmatch(f.name, pattern) for pattern in allow_patterns):
                shutil.copy(f, target / f.name)
        return str(target)

    fake_hub(monkeypatch, snapshot_download, files=sorted(f.name for f in remote.iterdir()))
    return asked, tmp_path / "downloaded"


def test_downloads_safetensors_when_the_repository_has_them(hf_home, tmp_path, monkeypatch):
    asked, downloaded = remote_repo(tmp_path, monkeypatch)
    assert isinstance(xlmlab.load_model("facebook/xlm-v-base"), xlmlab.XLMRForMaskedLM)
    assert "config.json" in asked[0] and "*.safetensors" in asked[0]
    assert not any(p.startswith("pytorch_model") for p in asked[0])
    assert sorted(f.name for f in downloaded.iterdir()) == ["config.json", "model.safetensors"]


@pytest.mark.parametrize("fmt", ["bin", "bin-sharded"])
def test_downloads_the_pickled_weights_when_there_are_no_safetensors(hf_home, tmp_path, monkeypatch, fmt):
    """facebook/xlm-v-base publishes pytorch_model.bin only: that must arrive, sharded or not."""
    asked, downloaded = remote_repo(tmp_path, monkeypatch, fmt)
    model = xlmlab.load_model("facebook/xlm-v-base")
    assert isinstance(model, xlmlab.XLMRForMaskedLM)
    names = sorted(f.name for f in downloaded.iterdir())
    assert names[0] == "config.json" and all(n.startswith("pytorch_model") for n in names[1:])
    assert ("pytorch_model.bin.index.json" in names) == (fmt == "bin-sharded")
    reference = reference_model("XLMRobertaForMaskedLM")
    torch.testing.assert_close(model.lm_head.bias, reference.lm_head.bias)


def test_weight_patterns_prefer_safetensors_and_refuse_a_repository_without_weights():
    assert xlmlab.hub.weight_patterns(["config.json", "model.safetensors", "pytorch_model.bin"])[0] == "*.safetensors"
    assert xlmlab.hub.weight_patterns(["pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json"]) == \
        ["pytorch_model*.bin", "pytorch_model.bin.index.json"]
    with pytest.raises(FileNotFoundError, match="lists no weights \\(README.md, config.json\\)"):
        xlmlab.hub.weight_patterns(["config.json", "README.md"])


def test_a_cached_snapshot_without_weights_is_completed_by_a_download(hf_home, tmp_path, monkeypatch):
    snapshot = cache_snapshot(hf_home, "models--facebook--xlm-v-base")
    (snapshot / "model.safetensors").unlink()  # a download that brought config and tokenizer only
    asked, downloaded = remote_repo(tmp_path, monkeypatch, "bin")
    assert isinstance(xlmlab.load_model("facebook/xlm-v-base"), xlmlab.XLMRForMaskedLM)
    assert asked and (downloaded / "pytorch_model.bin").is_file()


def test_a_cached_snapshot_without_weights_offline_says_so(hf_home):
    snapshot = cache_snapshot(hf_home, "models--facebook--xlm-v-base")
    (snapshot / "model.safetensors").unlink()
    with pytest.raises(xlmlab.ModelNotFoundError, match="in the Hugging Face cache without its weights"):
        xlmlab.load_model("facebook/xlm-v-base")
    assert xlmlab.hub.resolve("facebook/xlm-v-base") == snapshot  # enough for the tokenizer


def test_failed_download_says_why(hf_home, monkeypatch):
    def snapshot_download(repo_id, allow_patterns):
        raise ConnectionError("no route to host")

    fake_hub(monkeypatch, snapshot_download)
    with pytest.raises(xlmlab.ModelNotFoundError, match=r"the download failed \(ConnectionError: no route to host\)"):
        xlmlab.load_model("facebook/xlm-v-base")


def test_tokenizer_loads_from_the_same_cached_snapshot(hf_home, spm_dir):
    import shutil

    snapshot = cache_snapshot(hf_home, "models--facebook--xlm-v-base")
    shutil.copy(spm_dir / "sentencepiece.bpe.model", snapshot)
    tok = xlmlab.load_tokenizer("facebook/xlm-v-base")
    assert isinstance(tok, xlmlab.SentencePieceTokenizer) and tok.encode("") == [0, 2]
