"""Language ids: how XLM is told which language each token is in.

XLM adds a learned language embedding to every token; xlm-clm-ende-1024 has two (de = 0,
en = 1, from its sorted language list). One helper turns every way of saying it into ids, for
the model's forward and for generation alike.
"""

from __future__ import annotations

import torch


def language_ids(langs, input_ids: torch.Tensor, lang2id: dict[str, int] | None,
                 n_langs: int) -> torch.Tensor | None:
    """The language id of every token, (B, T), from any of the ways people write it:

        "de" or 0                  one language for the whole batch
        ["de", "en"] or (B,)       one per row
        (B, T)                     one per token (checked and returned as it is)

    Codes go through the model's `lang2id` (xlm-clm-ende-1024: de = 0, en = 1). The model and
    generation both call this, so `langs` means the same everywhere.
    """
    if langs is None:
        return None
    if isinstance(langs, str) or (isinstance(langs, (list, tuple)) and langs and isinstance(langs[0], str)):
        codes = [langs] if isinstance(langs, str) else list(langs)
        unknown = sorted({c for c in codes if c not in (lang2id or {})})
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; this model knows {sorted(lang2id or {})}")
        langs = lang2id[langs] if isinstance(langs, str) else [lang2id[c] for c in codes]
    langs = torch.as_tensor(langs, dtype=torch.long, device=input_ids.device)
    if langs.dim() == 0:
        langs = langs.expand_as(input_ids)  # (B, T)
    elif langs.dim() == 1 and langs.shape[0] == input_ids.shape[0]:
        langs = langs[:, None].expand_as(input_ids)  # (B, T)
    if langs.shape != input_ids.shape:
        raise ValueError(f"langs must be an int, a language code, one per row (B,) or shape "
                         f"{tuple(input_ids.shape)}; found shape {tuple(langs.shape)}")
    if n_langs > 1 and (int(langs.min()) < 0 or int(langs.max()) >= n_langs):
        raise ValueError(f"language ids must be in 0..{n_langs - 1}; found {langs.unique().tolist()}")
    return langs
