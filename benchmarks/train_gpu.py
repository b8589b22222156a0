"""GPU training step (forward + backward) in bf16 at XLM-V base size: xlmlab against transformers.

XLMRobertaForMaskedLM with a 901,629 x 768 embedding matrix, batch 32 x 128, bf16 weights,
loss on 15% of the positions computed the same way for both; the same random weights in both
models (transformers saves, xlmlab loads). Timed with CUDA events, the two models alternating
every round. Prints step time, tokens/s, the ratio (>1: xlmlab faster), peak memory, and the
share of the bf16 matrix peak, both as measured here (an 8192^3 matmul) and from the datasheet.

`--head all` scores every position with the MLM output layer (what calling the model does);
`--head masked` runs the encoder, then the output layer on the masked positions only, as
pretraining does (fairseq computes it only there). `--vocab 250002` gives XLM-R base.

    python benchmarks/train_gpu.py                      # needs a CUDA GPU; says so and stops without
    python benchmarks/train_gpu.py --head masked --vocab 250002
    python benchmarks/train_gpu.py --device cpu --vocab 5000 --batch 2 --steps 2   # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
import transformers

import xlmlab

DATASHEET_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, SXM parts


def step_flops(B: int, T: int, H: int, L: int, F_: int, V: int, scored: int | None = None) -> float:
    """Matrix FLOPs of one forward + backward (x3 the forward): layers, attention, MLM head on
    `scored` positions (default: all B * T)."""
    tokens = B * T
    layer = 2 * tokens * (4 * H * H + 2 * H * F_) + 2 * 2 * B * T * T * H  # projections + QK^T, AV
    head = 2 * (tokens if scored is None else scored) * (H * H + H * V)
    return 3 * (L * layer + head)


def matmul_peak(device: torch.device) -> float:
    """Measured bf16 TFLOP/s of an 8192^3 product on random data."""
    a, b = (torch.randn(8192, 8192, device=device, dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 10 * 2 * 8192**3 / (start.elapsed_time(end) / 1e3) / 1e12


class Timer:
    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def __call__(self, fn) -> float:
        if not self.cuda:
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--vocab", type=int, default=901629)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also list the GPU kernels of one xlmlab step")
    parser.add_argument("--head", choices=["all", "masked"], default="all",
                        help="score every position, or only the masked ones (as pretraining does)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("train_gpu: no CUDA device here; this benchmark needs a GPU (skipped).")
        return 0
    torch.manual_seed(0)

    config = transformers.XLMRobertaConfig(vocab_size=args.vocab, max_position_embeddings=514, type_vocab_size=1,
                                           layer_norm_eps=1e-5, attn_implementation="sdpa")
    reference = transformers.XLMRobertaForMaskedLM(config)
    with tempfile.TemporaryDirectory() as directory:
        reference.save_pretrained(directory)
        ours = xlmlab.load_model(directory, device=device, dtype=torch.bfloat16)
    reference = reference.to(device=device, dtype=torch.bfloat16)

    B, T, V = args.batch, args.length, args.vocab
    ids = torch.randint(5, V, (B, T), device=device)
    masked = (torch.rand(B * T, device=device) < 0.15).nonzero().squeeze(1)  # the positions with a loss
    targets = ids.view(-1)[masked]

    H = config.hidden_size

    def mlm_loss(logits: torch.Tensor) -> torch.Tensor:
        if args.head == "masked":  # already only the masked rows
            return F.cross_entropy(logits.float(), targets)
        return F.cross_entropy(logits.view(-1, V)[masked].float(), targets)  # upcast only the rows needed

    if args.head == "all":
        models = {
            "xlmlab": (ours, lambda: ours(ids)),
            "reference": (reference, lambda: reference(input_ids=ids).logits),
        }
    else:  # the encoder, then the output layer on the masked positions only
        models = {
            "xlmlab": (ours, lambda: ours.lm_head(ours.encoder(ids).view(-1, H)[masked])),
            "reference": (reference, lambda: reference.lm_head(reference.roberta(input_ids=ids).last_hidden_state.view(-1, H)[masked])),
        }

    with torch.no_grad():  # same function: compare the losses once, without dropout
        ours.eval(), reference.eval()
        losses = {name: mlm_loss(run()).item()
                  for name, (_, run) in models.items()}
    print(f"loss check (eval, bf16): xlmlab {losses['xlmlab']:.4f}, reference {losses['reference']:.4f}")

    def train_step(model, run):
        loss = mlm_loss(run())
        loss.backward()
        model.zero_grad(set_to_none=True)

    timer = Timer(device)
    times: dict[str, list[float]] = {name: [] for name in models}
    peak_memory: dict[str, float] = {}
    for model, _ in models.values():
        model.train()
    for i in range(args.warmup + args.steps):
        order = list(models.items())[:: 1 if i % 2 == 0 else -1]
        for name, (model, run) in order:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            seconds = timer(lambda: train_step(model, run))
            if device.type == "cuda":
                peak_memory[name] = torch.cuda.max_memory_allocated() / 2**30
            if i >= args.warmup:
                times[name].append(seconds)

    flops = step_flops(B, T, H, config.num_hidden_layers, config.intermediate_size, V,
                       scored=len(masked) if args.head == "masked" else None)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    measured_peak = matmul_peak(device) if device.type == "cuda" else float("nan")
    datasheet = next((v for k, v in DATASHEET_BF16_TFLOPS.items() if k in name), float("nan"))
    print(f"{name}; torch {torch.__version__}, transformers {transformers.__version__}; "
          f"batch {B} x {T}, vocab {V:,}, bf16, MLM head on {args.head} positions; {flops / 1e12:.1f} TFLOP per step; "
          f"bf16 matmul peak measured {measured_peak:.0f} TFLOP/s, datasheet {datasheet:.0f}")
    print(f"{'model':>10} {'step ms':>8} {'tokens/s':>10} {'TFLOP/s':>8} {'% measured':>11} {'% datasheet':>12} {'peak GiB':>9}")
    for name, t in times.items():
        s = statistics.median(t)
        achieved = flops / s / 1e12
        print(f"{name:>10} {s * 1e3:8.1f} {B * T / s:10.0f} {achieved:8.0f} {100 * achieved / measured_peak:10.1f}% "
              f"{100 * achieved / datasheet:11.1f}% {peak_memory.get(name, float('nan')):9.2f}")
    print(f"ratio (reference time / xlmlab time): {statistics.median(times['reference']) / statistics.median(times['xlmlab']):.3f}")
    if args.profile and device.type == "cuda":
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            train_step(*models["xlmlab"])
            torch.cuda.synchronize()
        print(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=15, max_name_column_width=60))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
