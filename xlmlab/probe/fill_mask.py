"""`fill_mask`: the model's best tokens for each `<mask>` of a text.

The same answer as transformers' fill-mask pipeline: a softmax over the vocabulary at each mask,
the top k, and each candidate written back into the text:

    fill_mask(model, tok, "Paris is the <mask> of France.")
    -> [{"token": "capital", "token_id": 99, "score": 0.91, "sequence": "Paris is the capital of France."}, ...]

XLM masks with `<special1>` (`tokenizer.mask_token_id`); its MLM checkpoints also add a language
embedding to every token. The pipeline never passes one; `lang="en"` does, and for XLM models
trained with language embeddings that changes the predictions (notebook 05 shows how much).
XLM's `sequence` is Moses-detokenised ("paris is the capital of france.") where the reference
tokenizer only joins the pieces ("paris is the capital of france ."); tokens and scores agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..tokenizers.base import Tokenizer


def fill_mask(model: nn.Module, tokenizer: Tokenizer, text: str | Sequence[str], *, top_k: int = 5,
              lang: str | None = None) -> list:
    """Candidates for the masks of `text`, best first, each a dict with `token`, `token_id`,
    `score` (the probability) and `sequence` (the text with that token in place of the mask).

    One text with one mask: a list of `top_k` dicts. One text with several masks: a list per
    mask, each scored on its own in one forward pass (as the pipeline does; the other masks stay
    masks in `sequence`). Several texts: a list of those, one per text.

    `lang`: the language of the text. It picks XLM's Moses rules and, for XLM models, the
    language embedding; XLM-R and XLM-V have none and only the text is used.
    """
    texts = [text] if isinstance(text, str) else list(text)
    if not texts:
        raise ValueError("fill_mask needs at least one text")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1; found {top_k}")
    batch = tokenizer(texts, lang=lang, max_length=model.config.max_tokens)
    ids, attention = batch["input_ids"], batch["attention_mask"]  # (B, T)
    masked = ids == tokenizer.mask_token_id  # (B, T)
    per_text = masked.sum(1)
    if int(per_text.min()) == 0:
        missing = int((per_text == 0).nonzero()[0, 0])
        mask_text = tokenizer.convert_ids_to_tokens(tokenizer.mask_token_id)
        raise ValueError(f"text {missing} has no mask token {mask_text!r}: {texts[missing]!r}")
    device = next(model.parameters()).device
    langs = {"langs": lang} if lang is not None and getattr(model, "takes_langs", False) else {}
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = model(ids.to(device), attention.to(device), masked_positions=masked.to(device), **langs)  # (M, V)
    finally:
        model.train(was_training)
    scores, tokens = logits.float().softmax(-1).topk(min(top_k, logits.shape[-1]))  # (M, k), masks in row order
    scores, tokens = scores.cpu().tolist(), tokens.cpu().tolist()
    results, m = [], 0
    for row in range(len(texts)):
        real = ids[row][attention[row].bool()]  # the row without its padding
        where = (real == tokenizer.mask_token_id).nonzero()[:, 0].tolist()
        single = len(where) == 1
        per_mask = []
        for position in where:
            candidates = []
            for score, token in zip(scores[m], tokens[m]):
                filled = real.clone()
                filled[position] = token
                # one mask: specials dropped for a readable text; several: kept, so the other masks show
                sequence = tokenizer.decode(filled, skip_special_tokens=single, lang=lang)
                name = tokenizer.decode([token], skip_special_tokens=False, lang=lang)
                candidates.append({"token": name, "token_id": token, "score": score, "sequence": sequence})
            per_mask.append(candidates)
            m += 1
        results.append(per_mask[0] if single else per_mask)
    return results[0] if isinstance(text, str) else results
