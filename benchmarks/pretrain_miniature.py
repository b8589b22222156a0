"""Pretraining in miniature, measured: what MLM and MLM+TLM teach a small encoder on the
parallel text, against the same body with random weights.

One vocabulary for all three (the XLM-R method, 8,000 pieces over the 15 XNLI languages, word
lists plus the parallel training text, every character kept), one body size, the same steps,
batch and sequence length:

    random     XLM-R architecture, the reference initialisation, no training
    mlm        XLM-R architecture, MLM on the 15 languages (alpha 0.3)
    mlm+tlm    XLM architecture with 15 language embeddings, MLM and TLM (as xlm-mlm-tlm-xnli15-1024)

Reported per language on the held-out Django strings (never trained on): masked-token accuracy
(the same masks for every model) and top-1 translation retrieval English -> X by mean-pooled
sentence vectors, at the best layer, raw and centred per language.

    python benchmarks/pretrain_miniature.py [--steps 1500] [--hidden 128] [--layers 4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from xlmlab import parallel, vocab
from xlmlab.models import XLMConfig, XLMRConfig, build_model, save_model
from xlmlab.models.initialise import reference_init_
from xlmlab.pretrain import PretrainRunner, examples, masked_accuracy
from xlmlab.probe import retrieval_by_layer
from xlmlab.tokenizers import SentencePieceTokenizer
from xlmlab.train import Settings
from xlmlab.vocab.training_data import XNLI_LANGUAGES


def random_model(kind: str, vocabulary: Path, out: Path, hidden: int, layers: int, length: int) -> Path:
    """A randomly initialised masked LM with the vocabulary's tokenizer, in the published layout."""
    tok = SentencePieceTokenizer(vocabulary / "sentencepiece.bpe.model")
    body = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=4 * hidden)
    if kind == "xlmr":
        config = XLMRConfig(vocab_size=tok.vocab_size, max_position_embeddings=length + 2, type_vocab_size=1,
                            layer_norm_eps=1e-5, architectures=["XLMRobertaForMaskedLM"], **body)
    else:
        lang2id = {lang: i for i, lang in enumerate(XNLI_LANGUAGES)}
        config = XLMConfig(vocab_size=tok.vocab_size, emb_dim=hidden, n_layers=layers, n_heads=4, n_langs=15,
                           lang2id=lang2id, id2lang={i: lang for lang, i in lang2id.items()},
                           max_position_embeddings=length, pad_token_id=tok.pad_token_id,
                           bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                           unk_index=tok.unk_token_id, mask_index=tok.mask_token_id,
                           mask_token_id=tok.mask_token_id, architectures=["XLMWithLMHeadModel"])
    save_model(reference_init_(build_model(config), seed=0), out)
    shutil.copy(vocabulary / "sentencepiece.bpe.model", out)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args()
    vocabulary = vocab.build_xlmr(XNLI_LANGUAGES, 8000, source="words+text", character_coverage=1.0)
    train, held_out = parallel.pairs("train"), parallel.pairs("eval")
    languages = [lang for lang in XNLI_LANGUAGES if lang != "en"]
    work = args.out or Path(tempfile.mkdtemp())
    settings = Settings(max_steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup=0.05,
                        max_length=args.length, eval_every=args.steps, save_every=args.steps, seed=0, device="cpu")
    runs = {"random": ("xlmr", None), "mlm": ("xlmr", "mlm"), "mlm+tlm": ("xlm", "mlm+tlm")}
    accuracy, retrieval, seconds = {}, {}, {}
    for name, (kind, objective) in runs.items():
        start = random_model(kind, vocabulary, work / f"{name}-init", args.hidden, args.layers, args.length)
        runner = PretrainRunner(start, train, {"eval": held_out}, work / name, settings,
                                objective=objective or "mlm", progress=True)
        began = time.perf_counter()
        if objective is not None:
            runner.fit()
        seconds[name] = time.perf_counter() - began
        model, tok = runner.model.eval(), runner.tokenizer
        # MLM masks of the held-out text, the same for every model (TLM pairs would let the
        # translation give the answer away)
        held_out_mlm = examples(tok, held_out, objective="mlm", max_length=args.length, seed=0, lang2id=model.lang2id)
        accuracy[name] = masked_accuracy(model, held_out_mlm, device=runner.device)
        table = {}
        for lang in languages:
            pairs = held_out[held_out["language"] == lang]
            for center in (False, True):
                by_layer = retrieval_by_layer(model, tok, pairs["en"].tolist(), pairs["text"].tolist(),
                                              source_lang="en", target_lang=lang, center=center)
                table[(lang, center)] = max(forward for forward, _ in by_layer)
        retrieval[name] = table
    print(f"\n{args.steps} steps, batch {args.batch_size} x {args.length}, body {args.layers} x {args.hidden}, "
          f"8,002 ids; training time: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    frame = pd.DataFrame({name: accuracy[name] for name in runs})
    print("\nmasked-token accuracy on the held-out strings, %:\n" + frame.round(1).to_string())
    for center in (False, True):
        rows = {name: {lang: 100 * retrieval[name][(lang, center)] for lang in languages} for name in runs}
        frame = pd.DataFrame(rows)
        frame.loc["avg"] = frame.mean()
        print(f"\nretrieval en -> X, top-1 %, best layer{', centred' if center else ''} (225 candidates):\n"
              + frame.round(1).to_string())
    print(json.dumps({"accuracy": accuracy, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
