"""The MLM output layer on a GPU: how much the vocabulary size's alignment costs.

The output layer is one (tokens x 768) @ (768 x V) product. XLM-R's V = 250,002 and XLM-V's
V = 901,629 are not multiples of 8, so a bf16 row of logits is not 16-byte aligned and cuBLAS
cannot use its fastest kernels for the product; V rounded up to a multiple of 8 can. This times
forward and forward + backward of that product, bf16, 4,096 tokens (batch 32 x 128), for the
published sizes and the next multiple of 8, with CUDA events (mean of 10 after 3 warm-ups).

    python benchmarks/output_layer_gpu.py          # needs a CUDA GPU; says so and stops without
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

TOKENS, HIDDEN = 4096, 768


def cuda_ms(fn, repeat: int = 10) -> float:
    for _ in range(3):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(repeat):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / repeat


def main() -> int:
    if not torch.cuda.is_available():
        print("output_layer_gpu: no CUDA device here; this benchmark needs a GPU (skipped).")
        return 0
    torch.manual_seed(0)
    print(f"{torch.cuda.get_device_name()}; torch {torch.__version__}; ({TOKENS} x {HIDDEN}) @ ({HIDDEN} x V), bf16")
    for published in (250_002, 901_629):
        for vocab in (published, -(-published // 8) * 8):
            x = torch.randn(TOKENS, HIDDEN, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            w = torch.randn(vocab, HIDDEN, device="cuda", dtype=torch.bfloat16, requires_grad=True)

            def forward_backward():
                logits = F.linear(x, w)
                logits.backward(torch.ones_like(logits))

            forward = cuda_ms(lambda: F.linear(x, w))
            both = cuda_ms(forward_backward)
            tflops = 3 * 2 * TOKENS * HIDDEN * vocab / (both / 1e3) / 1e12
            print(f"V = {vocab:7,d} (V mod 8 = {vocab % 8}): forward {forward:6.2f} ms, "
                  f"forward + backward {both:6.2f} ms, {tflops:4.0f} TFLOP/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
