"""Hub ids resolve through the local Hugging Face cache, or fail with the command to fetch them."""

from __future__ import annotations

import sys
import types

import pytest

import xlmlab
from conftest import reference_model


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


def fake_hub(monkeypatch, snapshot_download):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(snapshot_download=snapshot_download))


def test_downloads_when_huggingface_hub_can(hf_home, tmp_path, monkeypatch):
    asked = []

    def snapshot_download(repo_id, allow_patterns):
        asked.append((repo_id, allow_patterns))
        target = tmp_path / "downloaded"
        reference_model("XLMRobertaForMaskedLM").save_pretrained(target)
        return str(target)

    fake_hub(monkeypatch, snapshot_download)
    assert isinstance(xlmlab.load_model("facebook/xlm-v-base"), xlmlab.XLMRForMaskedLM)
    assert asked[0][0] == "facebook/xlm-v-base" and "config.json" in asked[0][1]


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
