"""The embedded tiny models: small versions of the three architectures, built on first use.

Nothing can be downloaded here, so the workbook ships recipes, not weights: each tiny model is
made by xlmlab's own code from a fixed seed, written once in the published layout into
`$XLMLAB_HOME/models/<name>` (default `~/.cache/xlmlab`), and loaded from there afterwards
exactly like a real checkpoint. Their tokenizers are real: vocabularies built by `xlmlab.vocab`
from word statistics of the workbook's 16 languages.

    tiny-xlmr  XLM-R shape, random weights; the XLM-R method's vocabulary, 8,000 pieces (8,002 ids)
    tiny-xlmv  XLM-V shape: the same body, random weights; the XLM-V method's vocabulary, 32,000 pieces (4x)
    tiny-xlm   XLM causal en-de, two language embeddings (de = 0, en = 1), trained by `tiny_clm`
               on CLDR names (about a minute and a half on 2 cores, once), with its BPE vocabulary

What comes out the same on another machine (another CPU sums floating-point numbers in another
order), which decides what a notebook may check digit for digit:
    exact everywhere   the three vocabularies (SentencePiece training with a fixed thread count,
                       k-means with clusters far from ties, BPE merges counted in integers) and
                       the random weights of tiny-xlmr / tiny-xlmv (`initialise`, drawn by numpy):
                       tokenization, ids and shapes are checked in the notebooks;
                       tests/test_portability.py rebuilds them with other threads and kernels;
    not exact          tiny-xlm's trained weights (float32 training takes another path after
                       thousands of steps), and everything fine-tuned from any of them: the
                       notebooks show what those give unchecked and assert its claims with a margin.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import tiny_clm
from .models.checkpoint import build_model, save_model
from .models.config import XLMRConfig
from .models.initialise import reference_init_
from .paths import home, staged_directory
from .vocab import build_xlmr, build_xlmv
from .vocab.training_data import DEFAULT_LANGUAGES

RECIPE_VERSION = 4  # bump when a recipe changes, so caches are rebuilt

_TINY_BODY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                  max_position_embeddings=258, type_vocab_size=1, layer_norm_eps=1e-5,
                  architectures=["XLMRobertaForMaskedLM"])
MODELS: dict[str, XLMRConfig | None] = {  # None: trained, its config comes from tiny_clm
    "tiny-xlmr": XLMRConfig(vocab_size=8002, **_TINY_BODY),
    "tiny-xlmv": XLMRConfig(vocab_size=32002, **_TINY_BODY),
    "tiny-xlm": None,
}


def _vocabulary(name: str) -> Path | None:
    """The vocabulary directory of an embedded model (built and cached by `xlmlab.vocab`)."""
    if name == "tiny-xlmr":
        return build_xlmr(DEFAULT_LANGUAGES, 8000)
    if name == "tiny-xlmv":
        return build_xlmv(DEFAULT_LANGUAGES, 32000, equal_size=True)
    return None


def _trained(name: str) -> Path | None:
    """The trained model of an embedded name, built once and cached like the vocabularies."""
    if name != "tiny-xlm":
        return None
    target = home() / "trained" / f"{name}-v{RECIPE_VERSION}"
    if not (target / "config.json").is_file():
        with staged_directory(target) as staging:
            tiny_clm.build(staging)
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
        trained = _trained(name)
        if trained is not None:
            shutil.copytree(trained, staging, dirs_exist_ok=True)
        else:
            save_model(reference_init_(build_model(MODELS[name]), seed=RECIPE_VERSION), staging)
        vocabulary = _vocabulary(name)
        if vocabulary is not None:
            for file in ("sentencepiece.bpe.model", "tokenizer_config.json", "vocabulary.json"):
                shutil.copy(vocabulary / file, staging / file)
        (staging / "xlmlab-recipe.json").write_text(json.dumps({"name": name, "version": RECIPE_VERSION}))
    return target


def build_all(*, force: bool = False) -> dict[str, Path]:
    return {name: build(name, force=force) for name in MODELS}
