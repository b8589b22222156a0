"""xlmlab's models give the reference implementation's outputs on the reference's own checkpoints.

Every architecture is saved by transformers with random weights, in each published layout, loaded
by xlmlab, and run on the same batches; outputs must agree within 1e-5 (float32).
"""

from __future__ import annotations

import pytest
import torch
from conftest import ARCHITECTURES, padded_batch, reference_model, reference_output, save_reference

import xlmlab

TOLERANCE = 1e-5
FORMATS = ["safetensors", "safetensors-sharded", "bin", "bin-sharded"]


def assert_same(ours: torch.Tensor, theirs: torch.Tensor):
    assert ours.shape == theirs.shape
    assert torch.isfinite(ours).all()
    diff = (ours - theirs).abs().max().item()
    assert diff <= TOLERANCE, f"max |difference| {diff:.2e} > {TOLERANCE}"


def load_pair(architecture, tmp_path, fmt="safetensors", **overrides):
    ref = reference_model(architecture, **overrides)
    save_reference(ref, tmp_path, fmt)
    return ref, xlmlab.load_model(tmp_path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_padded_batch_matches_reference(architecture, fmt, tmp_path):
    ref, ours = load_pair(architecture, tmp_path, fmt)
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    inputs = {"input_ids": ids, "attention_mask": mask}
    if architecture.startswith("XLM") and not architecture.startswith("XLMRoberta"):
        inputs["langs"] = torch.randint(0, ref.config.n_langs, ids.shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert_same(ours(**inputs), reference_output(ref, **inputs))


@pytest.mark.parametrize("architecture", [a for a in ARCHITECTURES if a.startswith("XLMRoberta")])
def test_xlmr_sentence_pairs_match_reference(architecture, tmp_path):
    """<s> A </s></s> B </s>, padded, positions counting from padding_idx + 1."""
    ref, ours = load_pair(architecture, tmp_path)
    c = ref.config
    pairs = [([7, 8, 9], [10, 11]), ([12], [13, 14, 15, 16]), ([17, 18], [19])]
    rows = [[c.bos_token_id, *a, c.eos_token_id, c.eos_token_id, *b, c.eos_token_id] for a, b in pairs]
    T = max(map(len, rows))
    ids = torch.tensor([r + [c.pad_token_id] * (T - len(r)) for r in rows])
    mask = (ids != c.pad_token_id).long()
    with torch.no_grad():
        assert_same(ours(ids, mask), reference_output(ref, input_ids=ids, attention_mask=mask))


@pytest.mark.parametrize("architecture", [a for a in ARCHITECTURES if not a.startswith("XLMRoberta")])
@pytest.mark.parametrize("causal", [False, True])
def test_xlm_causal_and_bidirectional_match_reference(architecture, causal, tmp_path):
    ref, ours = load_pair(architecture, tmp_path, causal=causal)
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id, lengths=(11, 11, 7, 2))
    langs = torch.tensor([0, 1, 2, 1])[:, None].expand_as(ids)  # several languages in one batch
    with torch.no_grad():
        theirs = reference_output(ref, input_ids=ids, attention_mask=mask, langs=langs)
        assert_same(ours(ids, mask, langs=langs), theirs)
        assert_same(ours(ids, langs=langs), theirs)  # padding found from pad_token_id


def test_xlm_causal_argument_overrides_config(tmp_path):
    """A checkpoint that says causal: false, run causally, equals the reference built causal."""
    bidirectional = tmp_path / "bidirectional"
    bidirectional.mkdir()
    ref, ours = load_pair("XLMWithLMHeadModel", bidirectional, causal=False)
    causal_ref = reference_model("XLMWithLMHeadModel", causal=True)
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    with torch.no_grad():
        assert_same(ours(ids, mask, langs=1, causal=True), reference_output(causal_ref, input_ids=ids, langs=torch.ones_like(ids)))
        assert not torch.allclose(ours(ids, mask, langs=1), ours(ids, mask, langs=1, causal=True))


def test_xlm_sentence_pairs_with_token_types_match_reference(tmp_path):
    ref, ours = load_pair("XLMWithLMHeadModel", tmp_path)
    c = ref.config
    ids = torch.tensor([[c.bos_token_id, 7, 8, c.eos_token_id, 9, 10, c.eos_token_id],
                        [c.bos_token_id, 11, c.eos_token_id, 12, c.eos_token_id, c.pad_token_id, c.pad_token_id]])
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]])
    langs = torch.tensor([[1] * 4 + [0] * 3, [1] * 3 + [0] * 4])
    with torch.no_grad():
        theirs = reference_output(ref, input_ids=ids, token_type_ids=types, langs=langs)
        assert_same(ours(ids, langs=langs, token_type_ids=types), theirs)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_round_trip_through_transformers_gives_identical_outputs(architecture, tmp_path):
    """xlmlab.save_model writes what transformers loads back unchanged."""
    import transformers

    ref, ours = load_pair(architecture, tmp_path / "reference")
    xlmlab.save_model(ours, tmp_path / "ours")
    back = getattr(transformers, architecture).from_pretrained(tmp_path / "ours").eval()
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    with torch.no_grad():
        assert torch.equal(reference_output(back, input_ids=ids, attention_mask=mask),
                           reference_output(ref, input_ids=ids, attention_mask=mask))
    reloaded = xlmlab.load_model(tmp_path / "ours")
    for (name, a), (_, b) in zip(ours.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(a, b), name


def test_tied_weights_stay_tied_after_loading(tmp_path):
    _, ours = load_pair("XLMRobertaForMaskedLM", tmp_path)
    assert ours.lm_head.decoder.weight is ours.encoder.embeddings.word.weight
    _, xlm = load_pair("XLMWithLMHeadModel", tmp_path / "xlm")
    assert xlm.proj.weight is xlm.transformer.embeddings.word.weight


def test_untied_checkpoint_keeps_its_own_output_layer(tmp_path):
    ref, ours = load_pair("XLMWithLMHeadModel", tmp_path, tie_word_embeddings=False)
    assert ours.proj.weight is not ours.transformer.embeddings.word.weight
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    with torch.no_grad():
        assert_same(ours(ids, mask), reference_output(ref, input_ids=ids, attention_mask=mask))


@pytest.mark.parametrize("dtype", [torch.bfloat16, "float16"])
def test_dtype_argument_casts_every_parameter(dtype, tmp_path):
    _, ours = load_pair("XLMRobertaForMaskedLM", tmp_path)
    model = xlmlab.load_model(tmp_path, dtype=dtype)
    expected = dtype if isinstance(dtype, torch.dtype) else torch.float16
    assert {p.dtype for p in model.parameters()} == {expected}
    assert model.lm_head.decoder.weight is model.encoder.embeddings.word.weight


@pytest.mark.parametrize("architecture", ["XLMRobertaForMaskedLM", "XLMWithLMHeadModel"])
def test_gradients_match_reference(architecture, tmp_path):
    """Training needs the same gradients, not only the same outputs (dropout off on both sides)."""
    ref, ours = load_pair(architecture, tmp_path)
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    targets = torch.randint(5, ref.config.vocab_size, ids.shape, generator=torch.Generator().manual_seed(4)).flatten()
    loss = torch.nn.functional.cross_entropy
    loss(ref(input_ids=ids, attention_mask=mask).logits.flatten(0, 1), targets).backward()
    loss(ours(ids, mask).flatten(0, 1), targets).backward()

    body = ours.encoder if hasattr(ours, "encoder") else ours.transformer
    first_query = ours.checkpoint_names()[f"{'encoder' if hasattr(ours, 'encoder') else 'transformer'}.layers.0.attn.q"]
    pairs = [(ours.input_embeddings.weight, ref.get_input_embeddings().weight),
             (body.layers[0].attn.q.weight, ref.get_submodule(first_query).weight)]
    for mine, theirs in pairs:
        assert (mine.grad - theirs.grad).abs().max() <= 1e-5


@pytest.mark.parametrize("architecture", ["XLMRobertaForMaskedLM", "XLMWithLMHeadModel"])
def test_masked_positions_give_the_reference_logits_of_those_positions_only(architecture, tmp_path):
    """fairseq's masked-LM head: only the masked rows are projected, (M, V), and they are exactly
    the full model's logits there (the reference computes every position)."""
    ref, ours = load_pair(architecture, tmp_path)
    ids, mask = padded_batch(ref.config.vocab_size, ref.config.pad_token_id)
    masked = (torch.rand(ids.shape, generator=torch.Generator().manual_seed(0)) < 0.15) & mask.bool()
    masked[0, 1] = True  # at least one
    inputs = {"input_ids": ids, "attention_mask": mask}
    if architecture == "XLMWithLMHeadModel":
        inputs["langs"] = torch.ones_like(ids)
    with torch.no_grad():
        only = ours(**inputs, masked_positions=masked)
        assert only.shape == (int(masked.sum()), ref.config.vocab_size)
        torch.testing.assert_close(only, ours(**inputs)[masked], rtol=0, atol=0)
        assert_same(only, reference_output(ref, **inputs)[masked])
    with pytest.raises(ValueError, match="masked_positions must be a bool tensor of shape"):
        ours(ids, mask, masked_positions=masked.long())
