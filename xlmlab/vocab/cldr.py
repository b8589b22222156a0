"""Real multilingual text that exists offline: CLDR names, through `babel`.

Every CLDR locale names the world's territories, languages and currencies in its own language:
parallel phrases in well over 100 languages and many scripts. They are short, so they suit
tokenization statistics and tiny models, not fluent prose.

    names("de")[:3] -> ['Welt', 'Afrika', 'Nordamerika']
"""

from __future__ import annotations

import functools
import random

from babel import Locale


@functools.cache
def names(lang: str) -> tuple[str, ...]:
    """The names of territories, languages and currencies in `lang`, in CLDR's order."""
    locale = Locale.parse(lang)
    return tuple(t for t in (*locale.territories.values(), *locale.languages.values(),
                             *locale.currencies.values()) if t)


def sentences(langs: list[str], count: int, *, per_text: tuple[int, int] = (3, 8), seed: int = 0) -> list[str]:
    """`count` multi-sentence texts, each made of names from one random language of `langs`."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pool = names(rng.choice(langs))
        k = rng.randint(*per_text)
        out.append(". ".join(" ".join(rng.sample(pool, 3)) for _ in range(k)) + ".")
    return out
