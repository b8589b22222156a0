"""What the embedded assets promise on another machine (see `xlmlab.tiny_models`).

A different CPU sums floating-point numbers in another order (other vector kernels, other thread
splits). The vocabularies and the random initial weights must not notice: each is built here in
two fresh processes, one with the machine's defaults and one as the portable run sets things up
(one thread, ATen's plain kernels, BLAS without AVX), and the files must be byte-identical.
Trained weights (tiny-xlm, the pretrained tiny-xlmr, tiny-xlmv and tiny-xlm-tlm) are not exact
across machines; the notebooks show what depends on
them unchecked and assert its claims with a margin.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

import xlmlab
from xlmlab.models.initialise import reference_init_
from xlmlab.vocab import xlmv

PORTABLE = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "default",
            "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OPENBLAS_CORETYPE": "Prescott", "ONEDNN_MAX_CPU_ISA": "SSE41"}
LANGS = ["ar", "bg", "de", "en", "ru", "uk"]
TOP = 2000


def run_here_and_elsewhere(code: str, tmp_path) -> tuple[str, str]:
    """Run `code` in two fresh processes at once, each with an empty XLMLAB_HOME: one with the
    machine's defaults (2 threads), one as the portable run sets things up; return what each prints."""
    base = {k: v for k, v in os.environ.items() if k not in PORTABLE}
    runs = []
    for name, extra in (("defaults", {"OMP_NUM_THREADS": "2"}), ("portable", PORTABLE)):
        env = base | extra | {"XLMLAB_HOME": str(tmp_path / name)}
        runs.append(subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    outputs = [run.communicate() for run in runs]
    for run, (_, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    return outputs[0][0], outputs[1][0]


VOCABULARIES = f"""
import hashlib
from xlmlab import vocab
directory = vocab.build_xlmv({LANGS}, 3000, settings=vocab.XLMVSettings(k=3, per_language_size=1500, top={TOP}),
                         equal_size=True)
for name in ("sentencepiece.bpe.model", "vocabulary.json"):
    print(name, hashlib.sha256((directory / name).read_bytes()).hexdigest())
"""


def test_vocabularies_are_byte_identical_with_other_threads_and_vector_kernels(tmp_path):
    """The XLM-V method end to end: SentencePiece training (per language and per cluster, the
    XLM-R method's one step), the ALP curves, VoCap allocation and k-means."""
    here, there = run_here_and_elsewhere(VOCABULARIES, tmp_path)
    assert len(here.splitlines()) == 2 and here == there


def test_kmeans_partition_does_not_move_under_rounding_noise():
    """The clusters are far from ties: noise 1000 times float32 rounding, any thread count, the
    same partition. (Labels are numbered by first language, so equal dicts mean equal partitions.)"""
    vectors = xlmv.lexical_vectors(xlmv.per_language_models(LANGS, 2000, top=TOP))
    clusters = xlmv.cluster(vectors, k=3)
    assert len(set(clusters.values())) == 3
    rng = np.random.default_rng(0)
    for threads in (1, 2):
        with threadpool_limits(threads):
            assert xlmv.cluster(vectors, k=3) == clusters
            noisy = vectors * (1 + 1e-4 * rng.standard_normal(vectors.shape)).astype(np.float32)
            assert xlmv.cluster(noisy, k=3) == clusters


INITIAL_WEIGHTS = """
import hashlib
from xlmlab import build_model
from xlmlab.models.config import XLMRConfig
from xlmlab.models.initialise import reference_init_
model = reference_init_(build_model(XLMRConfig(vocab_size=300, hidden_size=32, num_hidden_layers=1,
                                               num_attention_heads=4, intermediate_size=64)), seed=7)
for name, p in model.state_dict().items():
    print(name, hashlib.sha256(p.numpy().tobytes()).hexdigest())
"""


def test_random_initial_weights_are_the_same_with_other_vector_kernels(tmp_path):
    here, there = run_here_and_elsewhere(INITIAL_WEIGHTS, tmp_path)
    assert len(here.splitlines()) > 10 and here == there


def test_reference_init_draws_like_the_reference():
    config = xlmlab.XLMRConfig(vocab_size=5000, hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                               intermediate_size=128)
    model = reference_init_(xlmlab.build_model(config), seed=0)
    word = model.input_embeddings.weight
    assert word.std().item() == pytest.approx(0.02, rel=0.02)
    assert (word[config.pad_token_id] == 0).all()
    assert model.lm_head.decoder.weight is word  # still tied, drawn once
    layer = model.encoder.layers[0]
    assert (layer.ffn.up.bias == 0).all() and (model.lm_head.bias == 0).all()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert norms and all((m.weight == 1).all() and (m.bias == 0).all() for m in norms)
    again = reference_init_(xlmlab.build_model(config), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_the_embedded_initial_models_come_from_the_portable_initialisation():
    """tiny-xlmr's starting weights are reference_init_ with the recipe's seed, bit for bit."""
    from xlmlab import tiny_models

    model = xlmlab.load_model(tiny_models.initial("tiny-xlmr"))
    expected = reference_init_(xlmlab.build_model(tiny_models.MODELS["tiny-xlmr"]), seed=tiny_models.INITIAL_SEED)
    ours = dict(model.named_parameters())
    for name, param in expected.named_parameters():
        assert torch.equal(ours[name], param), name
