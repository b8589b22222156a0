"""The embedded tiny models: small versions of the three architectures, built on first use.

Nothing can be downloaded here, so the workbook ships recipes, not weights: each tiny model is
made by xlmlab's own code from a fixed seed, written once in the published layout into
`$XLMLAB_HOME/models/<name>` (default `~/.cache/xlmlab`), and loaded from there afterwards
exactly like a real checkpoint. Their tokenizers are real: vocabularies built by `xlmlab.vocab`
for the 15 XNLI languages from word statistics and the parallel training text.

    tiny-xlmr     XLM-R shape (4 layers x 128), MLM-pretrained by `tiny_mlm`; the XLM-R method's
                  vocabulary, 8,000 pieces (8,002 ids)
    tiny-xlmv     the same body and training; the XLM-V method's vocabulary, 32,000 pieces (4x)
    tiny-xlm-tlm  XLM shape, the same body, 15 language embeddings, MLM+TLM; tiny-xlmr's vocabulary
    tiny-xlm      XLM causal en-de, two language embeddings (de = 0, en = 1), trained by `tiny_clm`
                  on CLDR names, with its BPE vocabulary

`initial(name)` is the directory of a pretrained model's starting point (the reference
initialisation, same vocabulary): the "random" model to compare the pretrained one with.

What comes out the same on another machine (another CPU sums floating-point numbers in another
order), which decides what a notebook may check digit for digit:
    exact everywhere   the vocabularies (SentencePiece training with a fixed thread count, k-means
                       with clusters far from ties, BPE merges counted in integers) and the
                       initial weights (`initialise`, drawn by numpy): tokenization, ids and shapes
                       are checked in the notebooks; tests/test_portability.py rebuilds them with
                       other threads and kernels;
    not exact          every trained weight (float32 training takes another path after thousands
                       of steps) and everything fine-tuned from them: the notebooks show what those
                       give unchecked and assert its claims with a margin.

Building all of them from an empty cache takes a few minutes on 2 cores, once.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import tiny_clm
from .models.checkpoint import build_model, save_model
from .models.config import XLMConfig, XLMRConfig
from .models.initialise import reference_init_
from .paths import home, staged_directory
from .vocab import XLMVSettings, build_xlmr, build_xlmv
from .vocab.training_data import XNLI_LANGUAGES

RECIPE_VERSION = 6  # bump when a recipe changes, so caches are rebuilt
INITIAL_SEED = 5  # the reference initialisation's seed (the weights every pretraining starts from)

LANGUAGES = XNLI_LANGUAGES  # what the vocabularies and the pretraining cover
LANG2ID = {lang: i for i, lang in enumerate(LANGUAGES)}  # sorted, as xlm-mlm-tlm-xnli15-1024 has them

# SentencePiece's ids, as every vocabulary of `xlmlab.vocab` lays them out (fairseq's specials)
_SPM_IDS = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2)
_XLMR_BODY = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
                  max_position_embeddings=130, type_vocab_size=1, layer_norm_eps=1e-5,
                  architectures=["XLMRobertaForMaskedLM"], **_SPM_IDS)
MODELS: dict[str, XLMRConfig | XLMConfig | None] = {  # None: its config comes from tiny_clm
    "tiny-xlmr": XLMRConfig(vocab_size=8002, **_XLMR_BODY),
    "tiny-xlmv": XLMRConfig(vocab_size=32002, **_XLMR_BODY),
    "tiny-xlm-tlm": XLMConfig(vocab_size=8002, emb_dim=128, n_layers=4, n_heads=4, max_position_embeddings=128,
                              n_langs=len(LANGUAGES), lang2id=LANG2ID, id2lang={i: x for x, i in LANG2ID.items()},
                              unk_index=3, mask_index=8001, mask_token_id=8001, layer_norm_eps=1e-5,
                              architectures=["XLMWithLMHeadModel"], **_SPM_IDS),
    "tiny-xlm": None,
}
PRETRAINED = ("tiny-xlmr", "tiny-xlmv", "tiny-xlm-tlm")


def _vocabulary(name: str) -> Path | None:
    """The vocabulary directory of an embedded model (built and cached by `xlmlab.vocab`)."""
    if name in ("tiny-xlmr", "tiny-xlm-tlm"):
        return build_xlmr(LANGUAGES, 8000, source="words+text", character_coverage=1.0)
    if name == "tiny-xlmv":
        settings = XLMVSettings(source="words+text", character_coverage=1.0)
        return build_xlmv(LANGUAGES, 32000, equal_size=True, settings=settings)
    return None


def _with_vocabulary(name: str, directory: Path) -> None:
    vocabulary = _vocabulary(name)
    if vocabulary is not None:
        for file in ("sentencepiece.bpe.model", "tokenizer_config.json", "vocabulary.json"):
            shutil.copy(vocabulary / file, directory / file)


def initial(name: str) -> Path:
    """The starting point of a pretrained embedded model: its config with the reference
    initialisation (`INITIAL_SEED`) and its tokenizer, the same on every machine."""
    if name not in PRETRAINED:
        raise KeyError(f"{name!r} has no initial model; the pretrained ones are {list(PRETRAINED)}")
    target = home() / "trained" / f"{name}-initial-v{RECIPE_VERSION}"
    if not (target / "config.json").is_file():
        with staged_directory(target) as staging:
            save_model(reference_init_(build_model(MODELS[name]), seed=INITIAL_SEED), staging)
            _with_vocabulary(name, staging)
    return target


def _trained(name: str) -> Path:
    """The trained model of an embedded name, built once and cached like the vocabularies."""
    target = home() / "trained" / f"{name}-v{RECIPE_VERSION}"
    if not (target / "config.json").is_file():
        with staged_directory(target) as staging:
            if name == "tiny-xlm":
                tiny_clm.build(staging)
            else:
                # the recipes train with the runner, which loads models by name through this
                # module: imported here, when a model is built, they never meet a name
                from . import tiny_mlm

                tiny_mlm.pretrain(name, initial(name), staging)
    return target


def build(name: str, *, force: bool = False) -> Path:
    """The directory of embedded model `name`, built now if it is missing or out of date."""
    if name not in MODELS:
        raise KeyError(f"no embedded model {name!r}; expected one of {sorted(MODELS)}")
    target = home() / "models" / name
    stamp = target / "xlmlab-recipe.json"
    if not force and stamp.is_file() and json.loads(stamp.read_text()) == {"name": name, "version": RECIPE_VERSION}:
        return target
    with staged_directory(target) as staging:  # a reader never sees a half-built directory
        shutil.copytree(_trained(name), staging, dirs_exist_ok=True)
        _with_vocabulary(name, staging)
        (staging / "xlmlab-recipe.json").write_text(json.dumps({"name": name, "version": RECIPE_VERSION}))
    return target


def build_all(*, force: bool = False) -> dict[str, Path]:
    return {name: build(name, force=force) for name in MODELS}
