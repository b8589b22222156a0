"""Choosing where to run: one helper, so every notebook runs on a CPU and speeds up on a GPU."""

from __future__ import annotations

import torch


def try_gpu(i: int = 0) -> torch.device:
    """GPU `i` if there is one (CUDA, then Apple MPS), else the CPU."""
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    if i == 0 and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe(device: torch.device | str) -> str:
    """'cpu (2 threads)', 'cuda:0 (NVIDIA H100 80GB HBM3)'..."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(device)
