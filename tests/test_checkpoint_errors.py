"""Bad model directories fail with one clear error that names the file and what is wrong."""

from __future__ import annotations

import json
import pickle
import random
import shutil

import pytest
import torch
from conftest import reference_model
from safetensors.torch import load_file, save_file

import xlmlab
from xlmlab import CheckpointError


@pytest.fixture
def good(tmp_path):
    directory = tmp_path / "good"
    reference_model("XLMRobertaForMaskedLM").save_pretrained(directory)
    return directory


def rewrite_weights(directory, change):
    state = load_file(directory / "model.safetensors")
    change(state)
    save_file(state, directory / "model.safetensors", metadata={"format": "pt"})


def edit_config(directory, **changes):
    config = json.loads((directory / "config.json").read_text())
    config.update(changes)
    (directory / "config.json").write_text(json.dumps(config))


def test_missing_config_names_the_file(good):
    (good / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"config\.json: not found"):
        xlmlab.load_model(good)


def test_invalid_config_json_gives_the_line(good):
    (good / "config.json").write_text('{\n  "model_type": "xlm-roberta",\n  oops\n}')
    with pytest.raises(CheckpointError, match=r"config\.json, line 3: not valid JSON"):
        xlmlab.load_model(good)


def test_missing_weights_lists_the_expected_files(good):
    (good / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"no weights found; expected one of model\.safetensors"):
        xlmlab.load_model(good)


def test_unknown_architecture_is_refused(good):
    edit_config(good, architectures=["XLMRobertaForQuestionAnswering"])
    with pytest.raises(CheckpointError, match=r"XLMRobertaForQuestionAnswering.*not supported.*XLMRobertaForMaskedLM"):
        xlmlab.load_model(good)


def test_unknown_model_type_is_refused(good):
    edit_config(good, model_type="bert")
    with pytest.raises(CheckpointError, match=r"model_type 'bert' is not supported"):
        xlmlab.load_model(good)


def test_architecture_of_the_other_family_is_refused(good):
    edit_config(good, architectures=["XLMWithLMHeadModel"])
    with pytest.raises(CheckpointError, match=r"not supported for model_type 'xlm-roberta'"):
        xlmlab.load_model(good)


def test_missing_weight_is_named(good):
    rewrite_weights(good, lambda s: s.pop("roberta.encoder.layer.1.output.dense.weight"))
    with pytest.raises(CheckpointError, match=r"missing weights: roberta\.encoder\.layer\.1\.output\.dense\.weight"):
        xlmlab.load_model(good)


def test_unexpected_weight_is_named_with_its_file(good):
    rewrite_weights(good, lambda s: s.update({"roberta.encoder.layer.9.extra.weight": torch.zeros(2)}))
    with pytest.raises(CheckpointError, match=r"unexpected weights: roberta\.encoder\.layer\.9\.extra\.weight \(in model\.safetensors\)"):
        xlmlab.load_model(good)


def test_shape_mismatch_reports_both_shapes(good):
    edit_config(good, vocab_size=120)
    with pytest.raises(CheckpointError, match=r"shape mismatch: roberta\.embeddings\.word_embeddings\.weight is \(101, 32\).*implies \(120, 32\)"):
        xlmlab.load_model(good)


def test_truncated_safetensors_is_reported(good):
    path = good / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: unreadable, truncated or corrupt"):
        xlmlab.load_model(good)


@pytest.mark.parametrize("seed", range(20))
def test_corrupt_pickle_is_reported(good, seed):
    (good / "model.safetensors").unlink()
    (good / "pytorch_model.bin").write_bytes(random.Random(seed).randbytes(4096))
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin: unreadable, truncated or corrupt"):
        xlmlab.load_model(good)


def test_plain_pickle_that_runs_code_is_refused_and_does_not_run(good, tmp_path):
    marker = tmp_path / "pwned"
    (good / "model.safetensors").unlink()
    with open(good / "pytorch_model.bin", "wb") as f:
        pickle.dump({"roberta.embeddings.word_embeddings.weight": RunsCode(marker)}, f)
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin: unreadable, truncated or corrupt, or not a plain-tensor pickle"):
        xlmlab.load_model(good)
    assert not marker.exists()


def test_truncated_pickle_is_reported(good, tmp_path):
    model = reference_model("XLMRobertaForMaskedLM")
    torch.save(model.state_dict(), tmp_path / "full.bin")
    (good / "model.safetensors").unlink()
    data = (tmp_path / "full.bin").read_bytes()
    (good / "pytorch_model.bin").write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin: unreadable, truncated or corrupt"):
        xlmlab.load_model(good)


class RunsCode:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_that_runs_code_is_refused_and_does_not_run(good, tmp_path):
    marker = tmp_path / "pwned"
    (good / "model.safetensors").unlink()
    torch.save({"roberta.embeddings.word_embeddings.weight": RunsCode(marker)}, good / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin: refused to unpickle: the file asks to import io\.open"):
        xlmlab.load_model(good)
    assert not marker.exists()


def test_shard_missing_from_disk_is_named(tmp_path):
    reference_model("XLMRobertaForMaskedLM").save_pretrained(tmp_path, max_shard_size="20KB")
    shard = sorted(tmp_path.glob("model-*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(CheckpointError, match=rf"{shard.name}: listed in the index but not found"):
        xlmlab.load_model(tmp_path)


def test_not_a_directory_is_refused(tmp_path):
    with pytest.raises(xlmlab.ModelNotFoundError, match="not a model directory"):
        xlmlab.load_model(tmp_path / "nowhere")


def test_non_float_weights_are_refused(good):
    rewrite_weights(good, lambda s: s.update({"lm_head.bias": torch.zeros(101, dtype=torch.long)}))
    with pytest.raises(CheckpointError, match=r"lm_head\.bias holds torch\.int64 values"):
        xlmlab.load_model(good)


def test_the_same_directory_loads_once_repaired(good, tmp_path):
    """Errors leave nothing behind: fixing the file is enough."""
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    rewrite_weights(broken, lambda s: s.pop("lm_head.bias"))
    with pytest.raises(CheckpointError):
        xlmlab.load_model(broken)
    shutil.copy(good / "model.safetensors", broken / "model.safetensors")
    assert isinstance(xlmlab.load_model(broken), xlmlab.XLMRForMaskedLM)
