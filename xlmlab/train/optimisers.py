"""The optimisers of a run: AdamW with weight decay where it belongs, optionally SparseAdam for the
word embeddings, a linear schedule, and gradient clipping that also handles row-sparse gradients.

Row-sparse embeddings (`Settings.sparse_embeddings`): only the rows of the tokens in the batch get
a gradient and move, instead of dense AdamW over the whole matrix (692M parameters for XLM-V).
"""

from __future__ import annotations

import torch
from torch import nn

from .settings import Settings, linear_schedule


def optimisers(model: nn.Module, settings: Settings, total_steps: int, device: torch.device):
    """([AdamW] or [AdamW, SparseAdam], their LambdaLR schedules).

    No weight decay on biases and LayerNorm weights (as in the reference recipes), nor on
    row-sparse embeddings, which SparseAdam updates instead.
    """
    s = settings
    embedding = model.input_embeddings.weight
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p is embedding and s.sparse_embeddings:
            continue
        (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    fused = {"fused": True} if device.type == "cuda" else {}
    found = [torch.optim.AdamW(groups, lr=s.lr, **fused)]
    if s.sparse_embeddings:
        found.append(torch.optim.SparseAdam([embedding], lr=s.lr))
    factor = linear_schedule(total_steps, s.warmup)
    return found, [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in found]


def clip_gradients(params: list[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
    """Scale all gradients, dense and row-sparse alike, so their joint norm is at most `max_norm`;
    returns the norm before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    if not any(g.is_sparse for g in grads):
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    norms = [(g.coalesce().values() if g.is_sparse else g).float().norm() for g in grads]
    total = torch.stack(norms).norm()
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad = p.grad.coalesce() * scale if p.grad.is_sparse else p.grad.mul_(scale)
    return total
