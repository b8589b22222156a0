"""What the embedded pretrained models learned, on the held-out strings (never trained on):
masked-token accuracy per language (at the positions shown as <mask>) with 95% intervals,
against each model's initial weights and a unigram baseline (always the commonest training
piece); what tiny-xlm-tlm gives with its language ids, English's for all, or none; top-1
translation retrieval English -> X at the best layer (raw and centred) against a baseline
without a model (shared pieces).

    python benchmarks/embedded_probe.py
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import torch

import xlmlab
from xlmlab import parallel, tiny_models
from xlmlab.pretrain import examples, masked_predictions
from xlmlab.probe import overlap_retrieval_accuracy, retrieval_by_layer
from xlmlab.stats import ratio_interval
from xlmlab.tiny_mlm import ALPHA

CPU = torch.device("cpu")


def commonest_piece(tok) -> int:
    return int(examples(tok, parallel.pairs("train"), objective="mlm", max_length=128, alpha=ALPHA).piece_counts().argmax())


def percent_with_interval(found: pd.DataFrame, right: pd.Series) -> str:
    per_example = right.groupby(found["example"]).agg(["sum", "count"])
    low, high = ratio_interval(per_example["sum"], per_example["count"])
    return f"{100 * right.mean():.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def main() -> int:
    held_out = parallel.pairs("eval")
    languages = [lang for lang in parallel.XNLI_LANGUAGES if lang != "en"]
    accuracy, retrieval, rows = {}, {}, []
    for name in tiny_models.PRETRAINED:
        tok = xlmlab.load_tokenizer(name)
        top = commonest_piece(tok)
        for label, directory in ((f"{name} initial", tiny_models.initial(name)), (name, tiny_models.build(name))):
            model = xlmlab.load_model(directory)
            data = examples(tok, held_out, objective="mlm", max_length=128, seed=0, lang2id=model.lang2id)
            found = masked_predictions(model, data, device=CPU, only_masks=True)
            right = found["predicted"] == found["target"]
            accuracy[label] = (100 * right.groupby(found["language"], sort=False).mean()).to_dict()
            accuracy[label]["all"] = 100 * right.mean()
            rows.append({"model": label, "<mask> accuracy, all languages": percent_with_interval(found, right),
                         "distinct pieces predicted": found["predicted"].nunique(),
                         "unigram baseline": f"{100 * np.mean(found['target'] == top):.1f}"})
            for center in (False, True):
                retrieval[(label, center)] = {}
                for lang in languages:
                    pairs = held_out[held_out["language"] == lang]
                    by_layer = retrieval_by_layer(model, tok, pairs["en"].tolist(), pairs["text"].tolist(),
                                                  source_lang="en", target_lang=lang, center=center)
                    retrieval[(label, center)][lang] = 100 * max(forward for forward, _ in by_layer)
    print("masked-token accuracy at <mask> positions, held-out strings, %:")
    print(pd.DataFrame(accuracy).round(1).to_string())
    print("\nall languages together (95% bootstrap interval over examples), against the unigram baseline:")
    print(pd.DataFrame(rows).set_index("model").to_string())

    tok, model = xlmlab.load_tokenizer("tiny-xlm-tlm"), xlmlab.load_model("tiny-xlm-tlm")
    ids = model.lang2id
    variants = {"its own language": ids, "always English": {lang: ids["en"] for lang in ids}, "no language id": None}
    effect = {}
    for label, lang2id in variants.items():
        data = examples(tok, held_out, objective="mlm", max_length=128, seed=0, lang2id=lang2id)
        found = masked_predictions(model, data, device=CPU, only_masks=True)
        right = found["predicted"] == found["target"]
        effect[label] = {**(100 * right.groupby(found["language"], sort=False).mean()).to_dict(), "all": 100 * right.mean()}
    print("\ntiny-xlm-tlm, <mask> accuracy by the language ids it is given, %:")
    print(pd.DataFrame(effect).round(1).T.to_string())

    shared = {lang: 100 * overlap_retrieval_accuracy(xlmlab.load_tokenizer("tiny-xlmr"),
                                                     held_out[held_out["language"] == lang]["en"].tolist(),
                                                     held_out[held_out["language"] == lang]["text"].tolist())[0]
              for lang in languages}
    for center in (False, True):
        frame = pd.DataFrame({label: r for (label, c), r in retrieval.items() if c == center})
        if not center:
            frame.insert(0, "shared pieces, no model", pd.Series(shared))
        frame.loc["avg"] = frame.mean()
        print(f"\nretrieval en -> X, top-1 %, best layer{', centred' if center else ''} (225 candidates):")
        print(frame.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
