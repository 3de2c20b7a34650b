"""The small image classifier every arm trains, and one arm's training loop.

Defined here, not downloaded: four 3x3 conv blocks (batch norm, ReLU, max-pool) and a linear
head on global average pooling, ~60k parameters at width 16. Small enough that a
1,000-image export at 64 px trains five arms in a few minutes on two CPU cores, big enough
that the arms differ (digits reach ~0.9 balanced accuracy). torch is imported lazily.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np

WIDTH = 16
BATCH = 32
LR = 3e-3
WEIGHT_DECAY = 1e-4
EVAL_BATCH = 256
# Steps per arm by default: ~2 minutes for five arms at 64 px on a CPU core. Measured on
# long-tailed digits (benchmarks/bench_evaluate.py), balancing's gain shrinks as the steps
# grow, once the model memorises the few originals of a rare class in every arm.
DEFAULT_STEPS = 200


@dataclass(frozen=True, slots=True)
class TrainConfig:
    size: int = 64
    steps: int = DEFAULT_STEPS
    seed: int = 1
    device: str = "cpu"
    threads: int = 1
    batch: int = BATCH

    def describe(self, n_classes: int) -> dict:
        return {
            "name": "SmallCNN",
            "layers": f"4 x (conv3x3, batch norm, ReLU, max-pool), widths {_widths()}, "
            "global average pool, linear",
            "parameters": count_parameters(n_classes),
            "input_size": self.size,
            "steps": self.steps,
            "batch_size": self.batch,
            "optimizer": f"AdamW lr {LR:g} (cosine to 0), weight decay {WEIGHT_DECAY:g}",
            "preprocessing": f"RGB, resized to {self.size}x{self.size} (bilinear), "
            "scaled to [-1, 1]; no train-time augmentation, so arms differ only in data, "
            "loss weights and sampling",
            "device": self.device,
            "threads": self.threads,
            "deterministic": self.device == "cpu",
        }


def _widths() -> list[int]:
    return [WIDTH, 2 * WIDTH, 4 * WIDTH, 4 * WIDTH]


def build_model(n_classes: int):
    import torch.nn as nn

    layers: list = []
    cin = 3
    for i, w in enumerate(_widths()):
        layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
        if i < 3:
            layers.append(nn.MaxPool2d(2))
        cin = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, n_classes)]
    return nn.Sequential(*layers)


def count_parameters(n_classes: int) -> int:
    widths, cin, total = _widths(), 3, 0
    for w in widths:
        total += cin * w * 9 + 2 * w
        cin = w
    return total + cin * n_classes + n_classes


def resolve_device(device: str) -> str:
    """auto -> cuda when torch sees a GPU, else cpu; cuda without one is refused."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: torch sees no CUDA GPU on this machine")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: use auto, cpu or cuda")
    return device


def default_threads() -> int:
    # One thread: the same numbers on every machine (another thread count may sum in another
    # order), and on a busy 2-core machine a model this small trained 4-10x faster on one
    # thread than on two (measured: threads wait on each other at every small conv).
    return 1


@contextlib.contextmanager
def deterministic(config: TrainConfig) -> Iterator[None]:
    """torch's deterministic settings and a fixed thread count for one evaluation, put back
    afterwards (the window's process keeps running other work)."""
    import torch

    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        torch.set_num_threads(config.threads)
        if config.device == "cpu":
            torch.use_deterministic_algorithms(True)
        else:  # some CUDA kernels have no deterministic form: close, not bit-equal
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


def _batches(n: int, steps: int, batch: int, gen, sample_weights) -> Iterator:
    import torch

    if sample_weights is not None:
        from torch.utils.data import WeightedRandomSampler

        sampler = WeightedRandomSampler(
            torch.tensor(sample_weights, dtype=torch.double),
            num_samples=steps * batch,
            replacement=True,
            generator=gen,
        )
        order = torch.tensor(list(sampler), dtype=torch.long)
        yield from order.view(steps, batch)
        return
    # Shuffled epochs, as DataLoader(shuffle=True, drop_last=False) over and over.
    need = steps * batch
    chunks = [torch.randperm(n, generator=gen) for _ in range(math.ceil(need / n))]
    yield from torch.cat(chunks)[:need].view(steps, batch)


def train_arm(
    images, labels: np.ndarray, n_classes: int, config: TrainConfig, loss_weights, sample_weights
) -> Generator[tuple[int, float], None, object]:
    """Train a fresh model; yields (step, loss) after every step and returns the model.

    `images` is a uint8 tensor N x 3 x S x S on the CPU. The same seed gives every arm the
    same initial weights; batches come from a generator seeded the same way."""
    import torch
    import torch.nn.functional as F

    dev = torch.device(config.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(n_classes).to(dev)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, config.steps))
    y_all = torch.as_tensor(labels, dtype=torch.long)
    w = (
        None
        if loss_weights is None
        else torch.tensor(loss_weights, dtype=torch.float32, device=dev)
    )
    model.train()
    for step, idx in enumerate(
        _batches(len(labels), config.steps, config.batch, gen, sample_weights), 1
    ):
        x = images[idx].to(dev).float().div_(127.5).sub_(1.0)
        y = y_all[idx].to(dev)
        loss = F.cross_entropy(model(x), y, weight=w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        yield step, float(loss.detach())
    return model


def predict(model, images, config: TrainConfig) -> np.ndarray:
    import torch

    dev = torch.device(config.device)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = images[start : start + EVAL_BATCH].to(dev).float().div_(127.5).sub_(1.0)
            out.append(model(x).argmax(dim=1).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.int64)
