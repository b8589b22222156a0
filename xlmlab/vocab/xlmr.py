"""The XLM-R method (Conneau et al. 2019): one SentencePiece unigram model over all languages.

Each language's share of the training data follows exponential smoothing, p_l ~ n_l^alpha with
alpha = 0.3 over its CC-100 size n_l: low-resource languages get more than their share of the
raw text, high-resource ones less, and one model of N pieces is trained on the mixture.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from . import unigram
from .cache import cache_path, copy_to, count_pieces, write_directory
from .training_data import COVERAGE, check_languages, mixed_counts, sampling_probabilities, source_key


def build(langs: list[str], size: int, out: Path | None = None, *, alpha: float = 0.3, top: int = 10_000,
          source: str = "words", character_coverage: float = COVERAGE) -> Path:
    """One unigram model of `size` pieces over all `langs`, sampled with p_l ~ n_l^alpha (cached);
    `source`: word lists alone or with running text (`training_data`); `character_coverage`:
    the share of the characters' occurrences the single-character pieces must cover (1.0: all)."""
    langs = check_languages(sorted(langs), source)
    settings = {"method": "xlmr", "langs": langs, "size": size, "alpha": alpha, "top": top,
                **source_key(source, character_coverage)}
    cached = cache_path("xlmr", settings)
    if not (cached / "vocabulary.json").is_file():
        probabilities = sampling_probabilities(langs, alpha)
        with tqdm(total=1, desc=f"XLM-R vocabulary ({size:,} pieces, {len(langs)} languages)", leave=False) as bar:
            counts = mixed_counts(langs, probabilities, top=top, source=source)
            model_file = unigram.train(counts, size, cached.with_suffix(".model"),
                                       character_coverage=character_coverage)
            bar.update()
        model = unigram.read(model_file)
        write_directory(cached, model, settings | {"probabilities": probabilities, "pieces": count_pieces(model)})
        model_file.unlink()
    return copy_to(cached, out)
