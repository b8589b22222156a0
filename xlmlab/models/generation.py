"""Causal generation with XLM: greedy, sampling, beam search and streaming, with a key/value cache.

The model is always run causally here, whatever its config says (xlm-clm-ende-1024's says
`causal: false`). The prompt goes through the model once; after that only the new token does,
its keys and values appended to the cache, so each step costs the same however long the text is.

Batches may hold prompts of different lengths: they are aligned to the right (padding on the
left), each row's positions counting its own tokens from 0, so a row generates exactly what it
would alone. Every new position takes its row's language (`langs`), and a row stops at `</s>`;
after that it is filled with padding.

    ids = generate(model, prompt_ids, langs=1, max_new_tokens=20)            # greedy
    ids = generate(model, prompt_ids, langs="de", do_sample=True, top_p=0.9, seed=0)
    ids = generate(model, prompt_ids, num_beams=4, length_penalty=1.0)
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .languages import language_ids

_FROM_CONFIG = object()


def _language_rows(model, langs, ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor | None:
    """One language id per row (B,): each row's language at its last real token, from any form
    `language_ids` accepts (an int, a code, one per row, one per token)."""
    per_token = language_ids(langs, ids, model.lang2id, model.config.n_langs)  # (B, T) or None
    if per_token is None:
        return None
    last = keep.long().cumsum(1).argmax(1)  # (B,) index of each row's last real token
    return per_token.gather(1, last[:, None]).squeeze(1)  # (B,)


def _prepare(model, input_ids, attention_mask, langs, max_new_tokens: int):
    """Validate, and align every prompt to the right: (ids, keep, positions, row languages)."""
    if not isinstance(input_ids, torch.Tensor) or input_ids.dtype != torch.long:
        raise TypeError("input_ids must be a LongTensor of token ids")
    ids = input_ids[None] if input_ids.dim() == 1 else input_ids
    if ids.dim() != 2 or ids.shape[1] == 0:
        raise ValueError(f"the prompt is empty: input_ids has shape {tuple(input_ids.shape)}; give at least one "
                         "token (XLM's convention is to start with </s>)")
    keep = (ids != model.config.pad_token_id) if attention_mask is None else attention_mask.bool()
    keep = keep[None] if keep.dim() == 1 else keep
    if not bool(keep.any(1).all()):
        raise ValueError("a prompt in the batch has no tokens (only padding)")
    limit = model.config.max_position_embeddings
    longest = int(keep.sum(1).max())
    if longest > limit:
        raise ValueError(f"a prompt of {longest} tokens is longer than the model's {limit} positions")
    if ids.shape[1] + max_new_tokens > limit:
        raise ValueError(f"{ids.shape[1]} prompt positions + max_new_tokens={max_new_tokens} would run past the "
                         f"model's {limit} positions; ask for at most {limit - ids.shape[1]} new tokens")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0; found {max_new_tokens}")
    rows = _language_rows(model, langs, ids, keep)
    order = torch.sort(keep.long(), dim=1, stable=True).indices  # padding first, tokens in order
    ids, keep = ids.gather(1, order), keep.gather(1, order)
    positions = (keep.long().cumsum(1) - 1).clamp(min=0)
    return ids, keep, positions, rows


def _step_langs(rows: torch.Tensor | None, T: int) -> torch.Tensor | None:
    return None if rows is None else rows[:, None].expand(-1, T)


def process_logits(logits: torch.Tensor, seen: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None, repetition_penalty: float = 1.0) -> torch.Tensor:
    """Scores (B, V) -> adjusted scores: repetition penalty on tokens already in the text (CTRL's
    rule: divide a positive score, multiply a negative one), temperature, then top-k and top-p
    (nucleus) filtering, the rest set to -inf."""
    if repetition_penalty != 1.0:
        picked = logits.gather(1, seen)
        penalised = torch.where(picked > 0, picked / repetition_penalty, picked * repetition_penalty)
        logits = logits.scatter(1, seen, penalised)
    if temperature != 1.0:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0; found {temperature} (use do_sample=False for greedy)")
        logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # keep the smallest set reaching top_p
        logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
    return logits


def stream(model, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None, langs=None,
           max_new_tokens: int = 20, **options) -> Iterator[torch.Tensor]:
    """Yield the next token of every row, (B,), one step at a time (padding once a row is done).
    `options`: do_sample, temperature, top_k, top_p, repetition_penalty, eos_token_id, seed."""
    prepared = _prepare(model, input_ids, attention_mask, langs, max_new_tokens)
    return _steps(model, prepared, max_new_tokens, **options)


@torch.no_grad()
def _steps(model, prepared, max_new_tokens: int, *, do_sample: bool = False, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, repetition_penalty: float = 1.0,
           eos_token_id=_FROM_CONFIG, seed: int | None = None) -> Iterator[torch.Tensor]:
    eos = model.config.eos_token_id if eos_token_id is _FROM_CONFIG else eos_token_id
    pad = model.config.pad_token_id
    ids, keep, positions, rows = prepared
    B, T0 = ids.shape
    generator = None
    if do_sample:
        generator = torch.Generator(device=ids.device)
        generator.manual_seed(seed if seed is not None else torch.seed())
    cache = model.transformer_body.new_cache(B, T0 + max_new_tokens)
    logits = model(ids, keep, _step_langs(rows, T0), causal=True, positions=positions, cache=cache)[:, -1]
    seen, done, next_position = ids, torch.zeros(B, dtype=torch.bool, device=ids.device), positions[:, -1] + 1
    for _ in range(max_new_tokens):
        scores = process_logits(logits.float(), seen, temperature=temperature if do_sample else 1.0,
                                top_k=top_k if do_sample else None, top_p=top_p if do_sample else None,
                                repetition_penalty=repetition_penalty)
        if do_sample:
            token = torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(1)
        else:
            token = scores.argmax(-1)
        token = token.masked_fill(done, pad)
        yield token
        if eos is not None:
            done = done | (token == eos)
            if bool(done.all()):
                return
        seen = torch.cat([seen, token[:, None]], 1)
        keep = torch.cat([keep, torch.ones_like(keep[:, :1])], 1)
        logits = model(token[:, None], keep, _step_langs(rows, 1), causal=True, positions=next_position[:, None],
                       cache=cache)[:, -1]
        next_position = next_position + 1


def generate(model, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None, langs=None,
             max_new_tokens: int = 20, do_sample: bool = False, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, num_beams: int = 1, length_penalty: float = 1.0,
             repetition_penalty: float = 1.0, eos_token_id=_FROM_CONFIG, seed: int | None = None) -> torch.Tensor:
    """Prompt (aligned to the right, padding on the left) followed by the new tokens: (B, T0 + n).

    `eos_token_id=None` generates exactly `max_new_tokens`. With `num_beams` > 1, beam search
    (no sampling) keeps the best hypothesis per row by log-probability / length**length_penalty.
    """
    if num_beams > 1:
        if do_sample:
            raise ValueError("beam search does not sample: use num_beams=1 with do_sample=True, or do_sample=False")
        return beam_search(model, input_ids, attention_mask=attention_mask, langs=langs, max_new_tokens=max_new_tokens,
                           num_beams=num_beams, length_penalty=length_penalty, repetition_penalty=repetition_penalty,
                           eos_token_id=eos_token_id)
    prepared = _prepare(model, input_ids, attention_mask, langs, max_new_tokens)
    steps = list(_steps(model, prepared, max_new_tokens, do_sample=do_sample, temperature=temperature, top_k=top_k,
                        top_p=top_p, repetition_penalty=repetition_penalty, eos_token_id=eos_token_id, seed=seed))
    return torch.cat([prepared[0], *(t[:, None] for t in steps)], 1)


@torch.no_grad()
def beam_search(model, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None, langs=None,
                max_new_tokens: int = 20, num_beams: int = 4, length_penalty: float = 1.0,
                repetition_penalty: float = 1.0, eos_token_id=_FROM_CONFIG) -> torch.Tensor:
    """Beam search with a cache that follows the surviving beams (`KVCache.reorder`)."""
    eos = model.config.eos_token_id if eos_token_id is _FROM_CONFIG else eos_token_id
    pad = model.config.pad_token_id
    ids, keep, positions, rows = _prepare(model, input_ids, attention_mask, langs, max_new_tokens)
    B, T0 = ids.shape
    K = num_beams
    expand = lambda t: t.repeat_interleave(K, 0)  # noqa: E731  (B, ...) -> (B*K, ...)
    beam_ids, keep, positions = expand(ids), expand(keep), expand(positions)
    rows = None if rows is None else expand(rows)
    cache = model.transformer_body.new_cache(B * K, T0 + max_new_tokens)
    logits = model(beam_ids, keep, _step_langs(rows, T0), causal=True, positions=positions, cache=cache)[:, -1]
    scores = torch.full((B, K), float("-inf"), device=ids.device)
    scores[:, 0] = 0.0  # the K copies start identical: only one may expand at first
    new = torch.empty(B * K, 0, dtype=torch.long, device=ids.device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    next_position = positions[:, -1] + 1
    for step in range(max_new_tokens):
        # score every continuation of every beam: the beam's log-probability plus the token's
        logp = process_logits(logits.float(), torch.cat([beam_ids, new], 1),
                              repetition_penalty=repetition_penalty).log_softmax(-1)  # (B*K, V)
        V = logp.shape[-1]
        total = (scores[:, :, None] + logp.view(B, K, V)).view(B, K * V)  # (B, K*V)
        # 2K candidates per row: even if K of them end the sentence, K can still go on
        top, index = total.topk(2 * K, dim=1)  # (B, 2K)
        chosen_beam, chosen_token, chosen_score = [], [], []
        for b in range(B):
            # best first: a candidate ending in </s> is a finished hypothesis (scored with the
            # length penalty); the others fill the K beams of the next step
            picked = 0
            for score, flat in zip(top[b].tolist(), index[b].tolist()):
                beam, token = divmod(flat, V)
                if eos is not None and token == eos:
                    if len(finished[b]) < K and score > float("-inf"):
                        hypothesis = new[b * K + beam].tolist() + [token]
                        finished[b].append((score / len(hypothesis) ** length_penalty, hypothesis))
                    continue
                chosen_beam.append(b * K + beam)
                chosen_token.append(token)
                chosen_score.append(score)
                picked += 1
                if picked == K:
                    break
        # the surviving beams take their parents' tokens and cache rows, plus their new token
        beams = torch.tensor(chosen_beam, device=ids.device)  # (B*K,) parent row of each new beam
        tokens = torch.tensor(chosen_token, device=ids.device)  # (B*K,)
        scores = torch.tensor(chosen_score, device=ids.device).view(B, K)
        new = torch.cat([new.index_select(0, beams), tokens[:, None]], 1)
        cache.reorder(beams)
        # stop when every row has K finished hypotheses; else run only the new tokens
        if all(len(f) >= K for f in finished) or step == max_new_tokens - 1:
            break
        keep = torch.cat([keep.index_select(0, beams), torch.ones_like(keep[:, :1])], 1)
        next_position = next_position.index_select(0, beams)
        logits = model(tokens[:, None], keep, _step_langs(rows, 1), causal=True, positions=next_position[:, None],
                       cache=cache)[:, -1]
        next_position = next_position + 1
    for b in range(B):  # running beams compete with the finished ones
        for k in range(K):
            hypothesis = new[b * K + k].tolist()
            if hypothesis:
                finished[b].append((scores[b, k].item() / len(hypothesis) ** length_penalty, hypothesis))
    best = [max(f, key=lambda sh: sh[0])[1] if f else [] for f in finished]
    width = max(map(len, best))
    out = torch.full((B, width), pad, dtype=torch.long, device=ids.device)
    for b, hypothesis in enumerate(best):
        out[b, :len(hypothesis)] = torch.tensor(hypothesis, dtype=torch.long)
    return torch.cat([ids, out], 1)


def generate_text(model, tokenizer, prompt: str, lang: str = "en", *, stream_text: bool = False, num_beams: int = 1,
                  **kwargs):
    """The continuation of `prompt` as text (or, with stream_text=True, an iterator of text pieces).

    The prompt is written as the original XLM code wrote its input: it starts with `</s>` (the
    symbol XLM trained with at every sentence start) and is not closed by one, so the model
    continues the sentence. `lang` picks the tokenizer's Moses rules and the language embedding.
    Every strategy of `generate` is open: greedy (the default), sampling (`do_sample=True` with
    `temperature`, `top_k`, `top_p`, `seed`) and beam search (`num_beams` > 1, `length_penalty`),
    which keeps several hypotheses to the end and so cannot stream.
    """
    ids = [tokenizer.eos_token_id] + tokenizer.encode(prompt, lang=lang, add_special_tokens=False)
    lang_id = tokenizer.lang2id[tokenizer.language(lang)] if tokenizer.lang2id else None
    input_ids = torch.tensor([ids], device=model.input_embeddings.weight.device)
    if num_beams > 1:
        if stream_text:
            raise ValueError("beam search chooses its text only at the end and cannot stream: "
                             "use stream_text=False, or num_beams=1")
        out = generate(model, input_ids, langs=lang_id, num_beams=num_beams, **kwargs)
        return tokenizer.decode(out[0, input_ids.shape[1]:].tolist(), lang=lang)
    steps = stream(model, input_ids, langs=lang_id, **kwargs)
    if stream_text:
        return _text_pieces(tokenizer, steps, lang)
    return tokenizer.decode([int(token[0]) for token in steps], lang=lang)


def _text_pieces(tokenizer, steps: Iterator[torch.Tensor], lang: str) -> Iterator[str]:
    new: list[int] = []
    shown = ""
    for token in steps:
        new.append(int(token[0]))
        text = tokenizer.decode(new, lang=lang)
        if text.startswith(shown) and len(text) > len(shown):
            yield text[len(shown):]
            shown = text


@torch.no_grad()
def generate_like_the_published_config(model, input_ids: torch.Tensor, max_new_tokens: int = 20) -> torch.Tensor:
    """Greedy generation the way the reference library runs xlm-clm-ende-1024 with its published
    config, reproduced step by step to show what goes wrong (tested against that library):

    - every step appends a dummy token (id `config.mask_token_id`, 0 = `<s>`) and reads the
      prediction at the dummy's position;
    - every position gets language `config.lang_id` (0 = German), whatever `langs` you meant;
    - attention follows `config.causal` (false in the published config: bidirectional);
    - the whole sequence is recomputed at every step: no cache.
    """
    config = model.config
    ids = input_ids
    for _ in range(max_new_tokens):
        dummy = torch.full_like(ids[:, :1], config.mask_token_id)
        logits = model(torch.cat([ids, dummy], 1), langs=config.lang_id, causal=config.causal)[:, -1]
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], 1)
    return ids
