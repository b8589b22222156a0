"""What the embedded pretrained models learned, on the held-out strings (never trained on):
masked-token accuracy per language (at the positions shown as <mask>) and top-1 translation
retrieval English -> X at the best layer (raw and centred), for each pretrained model and its
initial weights.

    python benchmarks/embedded_probe.py
"""

from __future__ import annotations

import sys

import pandas as pd
import torch

import xlmlab
from xlmlab import parallel, tiny_models
from xlmlab.pretrain import examples, masked_accuracy
from xlmlab.probe import retrieval_by_layer


def main() -> int:
    held_out = parallel.pairs("eval")
    languages = [lang for lang in tiny_models.LANGUAGES if lang != "en"]
    accuracy, retrieval = {}, {}
    for name in tiny_models.PRETRAINED:
        tok = xlmlab.load_tokenizer(name)
        for label, directory in ((f"{name} initial", tiny_models.initial(name)), (name, tiny_models.build(name))):
            model = xlmlab.load_model(directory)
            data = examples(tok, held_out, objective="mlm", max_length=128, seed=0, lang2id=model.lang2id)
            accuracy[label] = masked_accuracy(model, data, device=torch.device("cpu"), only_masks=True)
            for center in (False, True):
                retrieval[(label, center)] = {}
                for lang in languages:
                    pairs = held_out[held_out["language"] == lang]
                    by_layer = retrieval_by_layer(model, tok, pairs["en"].tolist(), pairs["text"].tolist(),
                                                  source_lang="en", target_lang=lang, center=center)
                    retrieval[(label, center)][lang] = 100 * max(forward for forward, _ in by_layer)
    print("masked-token accuracy at <mask> positions, held-out strings, %:")
    print(pd.DataFrame(accuracy).round(1).to_string())
    for center in (False, True):
        frame = pd.DataFrame({label: r for (label, c), r in retrieval.items() if c == center})
        frame.loc["avg"] = frame.mean()
        print(f"\nretrieval en -> X, top-1 %, best layer{', centred' if center else ''} (225 candidates):")
        print(frame.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
