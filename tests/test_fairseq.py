"""fairseq checkpoints (model.pt + dict.txt + sentencepiece.bpe.model), both generations, written
here from a random transformers model: loaded by xlmlab they give the reference's logits; converted,
transformers loads them; reading them never runs code."""

from __future__ import annotations

import argparse
import random

import pytest
import sentencepiece
import torch

import xlmlab
from xlmlab.load import convert_fairseq

TOLERANCE = 1e-5
TEXTS = ["Ada Lovelace visited Nairobi.", "Здравствуйте, мир", "阿斯马拉学习设施", "नमस्ते दुनिया <mask> ok"]


@pytest.fixture(scope="module")
def reference(spm_dir):
    """A random XLMRobertaForMaskedLM over the test SentencePiece model (no token types, as fairseq)."""
    import transformers

    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_dir / "sentencepiece.bpe.model"))
    config = transformers.XLMRobertaConfig(vocab_size=len(sp) + 2, hidden_size=32, num_hidden_layers=2,
                                           num_attention_heads=4, intermediate_size=64, max_position_embeddings=66,
                                           type_vocab_size=1, layer_norm_eps=1e-5)
    torch.manual_seed(0)
    model = transformers.XLMRobertaForMaskedLM(config).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.3)
        model.roberta.embeddings.token_type_embeddings.weight.zero_()
    return model


def fairseq_weights(model, generation: str) -> dict[str, torch.Tensor]:
    """The transformers weights under fairseq's names: "2019" (decoder.*, fused in_proj,
    emb_layer_norm) or "cfg" (encoder.*, separate q/k/v, layernorm_embedding, version buffers)."""
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    top = "decoder" if generation == "2019" else "encoder"
    enc = f"{top}.sentence_encoder."
    norm = "emb_layer_norm" if generation == "2019" else "layernorm_embedding"
    out = {
        enc + "embed_tokens.weight": sd["roberta.embeddings.word_embeddings.weight"],
        enc + "embed_positions.weight": sd["roberta.embeddings.position_embeddings.weight"],
        enc + f"{norm}.weight": sd["roberta.embeddings.LayerNorm.weight"],
        enc + f"{norm}.bias": sd["roberta.embeddings.LayerNorm.bias"],
        f"{top}.lm_head.dense.weight": sd["lm_head.dense.weight"], f"{top}.lm_head.dense.bias": sd["lm_head.dense.bias"],
        f"{top}.lm_head.layer_norm.weight": sd["lm_head.layer_norm.weight"],
        f"{top}.lm_head.layer_norm.bias": sd["lm_head.layer_norm.bias"],
        f"{top}.lm_head.weight": sd["roberta.embeddings.word_embeddings.weight"], f"{top}.lm_head.bias": sd["lm_head.bias"],
    }
    for i in range(model.config.num_hidden_layers):
        ours, theirs = f"{enc}layers.{i}.", f"roberta.encoder.layer.{i}."
        for leaf in ("weight", "bias"):
            q, k, v = (sd[f"{theirs}attention.self.{n}.{leaf}"] for n in ("query", "key", "value"))
            if generation == "2019":
                out[f"{ours}self_attn.in_proj_{leaf}"] = torch.cat([q, k, v])
            else:
                out |= {f"{ours}self_attn.q_proj.{leaf}": q, f"{ours}self_attn.k_proj.{leaf}": k,
                        f"{ours}self_attn.v_proj.{leaf}": v}
            out |= {f"{ours}self_attn.out_proj.{leaf}": sd[f"{theirs}attention.output.dense.{leaf}"],
                    f"{ours}self_attn_layer_norm.{leaf}": sd[f"{theirs}attention.output.LayerNorm.{leaf}"],
                    f"{ours}fc1.{leaf}": sd[f"{theirs}intermediate.dense.{leaf}"],
                    f"{ours}fc2.{leaf}": sd[f"{theirs}output.dense.{leaf}"],
                    f"{ours}final_layer_norm.{leaf}": sd[f"{theirs}output.LayerNorm.{leaf}"]}
    if generation != "2019":
        out[enc + "version"] = torch.tensor([2.0])
    return out


def model_args(model, *, old: bool) -> dict:
    c = model.config
    args = {"arch": "roberta_base", "encoder_layers": c.num_hidden_layers, "encoder_embed_dim": c.hidden_size,
            "encoder_ffn_embed_dim": c.intermediate_size, "encoder_attention_heads": c.num_attention_heads,
            "max_positions": c.max_position_embeddings - 2, "activation_fn": "gelu", "dropout": 0.1,
            "attention_dropout": 0.1}
    if not old:  # fields fairseq added after 2019
        args |= {"layernorm_embedding": True, "encoder_normalize_before": False, "untie_weights_roberta": False,
                 "no_scale_embedding": True}
    return args


def write_fairseq(directory, model, spm_dir, generation: str, *, dictionary: list[str] | None = None,
                  weights: dict | None = None) -> None:
    """model.pt in one generation ("2019", "cfg-namespace", "cfg-dict"), dict.txt, the spm model."""
    directory.mkdir(parents=True, exist_ok=True)
    weights = weights if weights is not None else fairseq_weights(model, "2019" if generation == "2019" else "cfg")
    if generation == "2019":
        checkpoint = {"args": argparse.Namespace(**model_args(model, old=True)), "model": weights,
                      "optimizer_history": [], "extra_state": {}}
        torch.save(checkpoint, directory / "model.pt", _use_new_zipfile_serialization=False)
    else:
        args = model_args(model, old=False)
        task = {"_name": "masked_lm", "tokens_per_sample": 512}
        if generation == "cfg-namespace":  # cfg.model and cfg.task as Namespace objects
            cfg = {"model": argparse.Namespace(**args), "task": argparse.Namespace(**task)}
        else:  # as plain dicts
            cfg = {"model": args, "task": task}
        checkpoint = {"args": None, "cfg": cfg, "model": weights}
        torch.save(checkpoint, directory / "model.pt")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_dir / "sentencepiece.bpe.model"))
    lines = dictionary if dictionary is not None else [sp.id_to_piece(i) for i in range(3, len(sp))]
    (directory / "dict.txt").write_text("".join(f"{p} {1000 - n % 900}\n" for n, p in enumerate(lines)),
                                        encoding="utf-8")
    (directory / "sentencepiece.bpe.model").write_bytes((spm_dir / "sentencepiece.bpe.model").read_bytes())


def reference_batch(spm_dir):
    import transformers

    tok = transformers.XLMRobertaTokenizer.from_pretrained(spm_dir)
    return tok(TEXTS, padding=True, return_tensors="pt")


def assert_close(ours, theirs):
    assert ours.shape == theirs.shape
    diff = (ours - theirs).abs().max().item()
    assert diff <= TOLERANCE, f"max |difference| {diff:.2e}"


@pytest.mark.parametrize("generation", ["2019", "cfg-namespace", "cfg-dict"])
def test_fairseq_checkpoint_gives_the_reference_logits(generation, reference, spm_dir, tmp_path):
    write_fairseq(tmp_path / "fs", reference, spm_dir, generation)
    model = xlmlab.load_model(tmp_path / "fs")
    batch = reference_batch(spm_dir)
    ours_batch = xlmlab.load_tokenizer(tmp_path / "fs")(TEXTS)
    assert torch.equal(ours_batch["input_ids"], batch["input_ids"])  # dict.txt in SentencePiece's order: the same ids
    with torch.no_grad():
        assert_close(model(batch["input_ids"], batch["attention_mask"]),
                     reference(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits)
    assert model.lm_head.decoder.weight is model.input_embeddings.weight
    assert model.config.num_attention_heads == reference.config.num_attention_heads  # from the args


@pytest.mark.parametrize("generation", ["2019", "cfg-dict"])
def test_converted_directory_loads_in_transformers_with_the_same_logits(generation, reference, spm_dir, tmp_path):
    import transformers

    write_fairseq(tmp_path / "fs", reference, spm_dir, generation)
    out = convert_fairseq(tmp_path / "fs", tmp_path / "hf")
    theirs = transformers.XLMRobertaForMaskedLM.from_pretrained(out).eval()
    batch = reference_batch(spm_dir)
    with torch.no_grad():
        expected = reference(**batch).logits
        assert_close(theirs(**batch).logits, expected)
        assert_close(xlmlab.load_model(out)(batch["input_ids"], batch["attention_mask"]), expected)
    assert (theirs.roberta.embeddings.token_type_embeddings.weight == 0).all()
    assert theirs.roberta.embeddings.token_type_embeddings.weight.shape == (1, reference.config.hidden_size)


@pytest.fixture(scope="module")
def frequency_ordered(reference, spm_dir, tmp_path_factory):
    """A fairseq directory whose dict.txt is in another order (as fairseq-preprocess writes it: by
    frequency), lacks one piece, and ends with madeupword fillers; the weights follow dict.txt."""
    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_dir / "sentencepiece.bpe.model"))
    pieces = [sp.id_to_piece(i) for i in range(3, len(sp))]
    order = pieces[:]
    random.Random(0).shuffle(order)
    dropped = sp.encode("Nairobi", out_type=str)[0]
    order.remove(dropped)
    lines = order + [f"madeupword{n:04d}" for n in range(3)]
    # fairseq id of each dict symbol -> the reference row it takes; fillers take random rows
    published = {p: i + 4 for i, p in enumerate(pieces)}  # piece -> transformers id (sp id + 1)
    rows = [0, 1, 2, 3, *(published.get(p, 3) for p in lines), len(sp) + 1]
    weights = fairseq_weights(reference, "cfg")
    torch.manual_seed(1)
    for key in ("encoder.sentence_encoder.embed_tokens.weight", "encoder.lm_head.bias"):
        table = weights[key][torch.tensor(rows)].clone()
        table[-4:-1] = torch.randn_like(table[-4:-1])  # the madeupwords
        weights[key] = table
    weights["encoder.lm_head.weight"] = weights["encoder.sentence_encoder.embed_tokens.weight"]
    directory = tmp_path_factory.mktemp("freq") / "fs"
    write_fairseq(directory, reference, spm_dir, "cfg-dict", dictionary=lines, weights=weights)
    return directory, lines, dropped


def test_tokenizer_follows_a_reordered_dict(frequency_ordered):
    directory, lines, dropped = frequency_ordered
    tok = xlmlab.load_tokenizer(directory)
    assert not tok.follows_shift
    assert tok.vocab_size == 4 + len(lines) + 1 and tok.mask_token_id == tok.vocab_size - 1
    pieces = tok.tokenize("Ada Lovelace visited Nairobi")
    ids = tok.encode("Ada Lovelace visited Nairobi", add_special_tokens=False)
    index = {p: i + 4 for i, p in enumerate(lines)}
    assert ids == [index.get(p, 3) for p in pieces]
    assert 3 in ids and dropped in pieces  # the piece dict.txt lacks is <unk>
    assert tok.convert_ids_to_tokens(ids[0]) == pieces[0]


def test_reordered_dict_converts_to_what_the_fairseq_model_computes(frequency_ordered, reference, spm_dir, tmp_path):
    import transformers

    directory, lines, dropped = frequency_ordered
    fairseq_model, fairseq_tok = xlmlab.load_model(directory), xlmlab.load_tokenizer(directory)
    out = convert_fairseq(directory, tmp_path / "hf")
    theirs = transformers.XLMRobertaForMaskedLM.from_pretrained(out).eval()
    theirs_tok = transformers.XLMRobertaTokenizer.from_pretrained(out)
    text = "Ada Lovelace visited the <mask> of Nairobi."
    ours_ids = torch.tensor([fairseq_tok.encode(text)])
    hf_ids = theirs_tok(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        ours, converted = fairseq_model(ours_ids), theirs(input_ids=hf_ids).logits
    # the same computation: every published id's logit is its dict.txt row's logit
    rows = torch.tensor([0, 1, 2, 3, *fairseq_tok.to_fairseq[3:len(fairseq_tok.sp)].tolist(), fairseq_tok.mask_token_id])
    assert_close(converted, ours[..., rows])
    assert converted.shape[-1] == len(fairseq_tok.sp) + 2


def test_a_pickle_that_runs_code_is_refused_and_does_not_run(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran"), "w"))

    directory = tmp_path / "fs"
    directory.mkdir()
    torch.save({"args": argparse.Namespace(encoder_layers=1), "model": {}, "x": Exploit()}, directory / "model.pt")
    with pytest.raises(xlmlab.CheckpointError, match=r"refused to unpickle: the file asks to import .*open"):
        xlmlab.load_model(directory)
    assert not (tmp_path / "ran").exists()


class DictConfig:
    """Stands for omegaconf's DictConfig, which some fairseq versions pickled as cfg."""


def test_a_config_object_other_than_namespace_is_refused_by_name(tmp_path):
    directory = tmp_path / "fs"
    directory.mkdir()
    torch.save({"args": None, "cfg": {"model": DictConfig()}, "model": {}}, directory / "model.pt")
    with pytest.raises(xlmlab.CheckpointError, match=r"asks to import .*DictConfig.*argparse.Namespace only"):
        xlmlab.load_model(directory)


def test_an_unknown_weight_is_refused_and_version_buffers_are_not(reference, spm_dir, tmp_path):
    weights = fairseq_weights(reference, "cfg")
    weights["encoder.sentence_encoder.layers.0.adapter.weight"] = torch.zeros(2)
    write_fairseq(tmp_path / "fs", reference, spm_dir, "cfg-dict", weights=weights)
    with pytest.raises(xlmlab.CheckpointError, match=r"does not know.*layers\.0\.adapter\.weight"):
        xlmlab.load_model(tmp_path / "fs")


def test_a_pre_ln_encoder_is_refused_with_what_is_supported(reference, spm_dir, tmp_path):
    write_fairseq(tmp_path / "fs", reference, spm_dir, "cfg-dict")
    checkpoint = torch.load(tmp_path / "fs" / "model.pt", weights_only=False)
    checkpoint["cfg"]["model"]["encoder_normalize_before"] = True
    torch.save(checkpoint, tmp_path / "fs" / "model.pt")
    with pytest.raises(xlmlab.CheckpointError, match="encoder_normalize_before.*True.*xlmlab runs"):
        xlmlab.load_model(tmp_path / "fs")


def test_dict_that_does_not_fit_the_embeddings_is_refused(reference, spm_dir, tmp_path):
    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_dir / "sentencepiece.bpe.model"))
    write_fairseq(tmp_path / "fs", reference, spm_dir, "2019",
                  dictionary=[sp.id_to_piece(i) for i in range(3, len(sp) - 5)])
    with pytest.raises(xlmlab.CheckpointError, match=r"dict.txt gives \d+ ids .* embeddings have \d+ rows"):
        xlmlab.load_model(tmp_path / "fs")


def test_malformed_dict_line_names_file_and_line(reference, spm_dir, tmp_path):
    write_fairseq(tmp_path / "fs", reference, spm_dir, "2019")
    with open(tmp_path / "fs" / "dict.txt", "a", encoding="utf-8") as f:
        f.write("no-count-here\n")
    n = len((tmp_path / "fs" / "dict.txt").read_text(encoding="utf-8").splitlines())
    with pytest.raises(xlmlab.TokenizerError, match=f"dict.txt:{n}: expected '<symbol> <count>'"):
        xlmlab.load_tokenizer(tmp_path / "fs")


def test_convert_command_writes_the_published_layout(reference, spm_dir, tmp_path, capsys):
    from xlmlab.cli import main

    write_fairseq(tmp_path / "fs", reference, spm_dir, "2019")
    assert main(["convert", str(tmp_path / "fs"), str(tmp_path / "hf")]) == 0
    assert "SentencePiece's order" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "hf").iterdir()} == {"config.json", "model.safetensors", "sentencepiece.bpe.model"}


def test_a_head_that_differs_from_the_tied_embeddings_is_refused(reference, spm_dir, tmp_path):
    weights = fairseq_weights(reference, "2019")
    weights["decoder.lm_head.weight"] = weights["decoder.lm_head.weight"] + 1.0
    write_fairseq(tmp_path / "fs", reference, spm_dir, "2019", weights=weights)
    with pytest.raises(xlmlab.CheckpointError, match="differs from the input embedding, but the args tie them"):
        xlmlab.load_model(tmp_path / "fs")
