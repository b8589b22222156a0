"""The embedded tiny English-German causal XLM: data, vocabulary and training.

A small model trained the way xlm-clm-ende-1024 was (next-token prediction, a language
embedding on every token, `</s>` opening every sentence), on text that exists offline: the CLDR
names of territories, languages, currencies, months and weekdays in English and German. The
vocabulary is XLM's own format (`vocab.json` + `merges.txt` with `</w>`, Moses preprocessing,
lowercasing), learned here, so the real XLM tokenizer path is the one that runs.

It learns to continue names in the language it is told: after `</s>` it writes an English name
with `langs` = en and a German one with `langs` = de. That is all it knows.
"""

from __future__ import annotations

import collections
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from babel import Locale
from tqdm.auto import tqdm

from .models.checkpoint import build_model, save_model
from .models.config import XLMConfig
from .tokenizers.bpe import write_xlm_vocabulary
from .tokenizers.xlm import XLMTokenizer, moses_words
from .vocab import cldr

LANG2ID = {"de": 0, "en": 1}


def sentences(lang: str) -> list[str]:
    """CLDR names in `lang`, months and weekdays included."""
    locale = Locale.parse(lang)
    calendar = [*locale.months["format"]["wide"].values(), *locale.days["format"]["wide"].values()]
    return sorted(set(cldr.names(lang)) | set(calendar))


def build(directory: Path, *, merges: int = 800, steps: int = 2500, seed: int = 0, progress: bool = True) -> Path:
    """Learn the vocabulary, train the model, and write both into `directory`."""
    texts = {lang: sentences(lang) for lang in LANG2ID}
    counts = collections.Counter(w for lang, ts in texts.items() for t in ts for w in moses_words(t, lang))
    write_xlm_vocabulary(directory, counts, merges, lang2id=LANG2ID)
    tok = XLMTokenizer(directory / "vocab.json", directory / "merges.txt", lang2id=LANG2ID)
    examples = [([tok.eos_token_id] + tok.encode(t, lang=lang, add_special_tokens=False)[:30] + [tok.eos_token_id],
                 LANG2ID[lang]) for lang, ts in texts.items() for t in ts]

    config = XLMConfig(vocab_size=tok.vocab_size, emb_dim=128, n_layers=2, n_heads=4, n_langs=2, causal=True,
                       max_position_embeddings=64, dropout=0.1, attention_dropout=0.1, lang2id=LANG2ID,
                       id2lang={i: lang for lang, i in LANG2ID.items()}, architectures=["XLMWithLMHeadModel"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(config).train()
        train(model, examples, steps=steps, seed=seed, progress=progress)
    save_model(model.eval(), directory)
    return directory


def batches(examples: list[tuple[list[int], int]], size: int, pad: int, rng: random.Random):
    """Endless shuffled batches: (ids, langs), right-padded."""
    while True:
        order = list(range(len(examples)))
        rng.shuffle(order)
        for i in range(0, len(order) - size + 1, size):
            rows = [examples[j] for j in order[i:i + size]]
            T = max(len(ids) for ids, _ in rows)
            ids = torch.tensor([ids + [pad] * (T - len(ids)) for ids, _ in rows])
            langs = torch.tensor([lang for _, lang in rows])[:, None].expand_as(ids)
            yield ids, langs


def train(model, examples, *, steps: int, seed: int, batch_size: int = 64, lr: float = 3e-3,
          progress: bool = True) -> list[float]:
    """Next-token prediction with AdamW and a linear decay; returns the loss of every step."""
    pad = model.config.pad_token_id
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    losses = []
    data = batches(examples, batch_size, pad, random.Random(seed))
    for _ in tqdm(range(steps), desc="training tiny-xlm", disable=not progress, leave=False):
        ids, langs = next(data)
        logits = model(ids[:, :-1], langs=langs[:, :-1], causal=True)  # (B, T-1, V)
        targets = ids[:, 1:].masked_fill(ids[:, 1:] == pad, -100)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses
