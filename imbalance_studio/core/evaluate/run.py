"""`iter_evaluate`: train the same small CNN several ways on an export and judge each on its
validation split. A generator of progress events (image loading, then arm/step/loss) that
returns the report; closing it (Cancel) stops between two steps and writes nothing."""

from __future__ import annotations

import itertools
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..names import display_name
from ..text import plural
from .data import ARM_HELP, EvaluateError, ExportData, Row, build_arms, read_export
from .data import validation_warnings as _val_warnings
from .metrics import bootstrap_balanced_accuracy, confusion, interval, scores
from .model import (
    DEFAULT_STEPS,
    TrainConfig,
    default_threads,
    deterministic,
    predict,
    resolve_device,
    train_arm,
)

FORMAT = "imbalance-studio-evaluation"
CURVE_POINTS = 100
# Seconds per training step at 64 px, batch 32, on one CPU thread (0.065 s measured on a
# 2-core machine under a load of 8; more allowed for busier ones) and on a GPU: for the
# estimate shown before a run starts.
CPU_STEP_S = 0.1
GPU_STEP_S = 0.004


@dataclass(frozen=True, slots=True)
class EvalProgress:
    """One progress event: `phase` "load images" or "train ARM"; done/total count images or
    steps; `loss` the step's training loss; `eta_s` the seconds left, once known."""

    phase: str
    done: int
    total: int
    arm: str = ""
    step: int = 0
    loss: float | None = None
    eta_s: float | None = None
    arm_number: int = 0  # 1-based, of `arms`: a bar over the whole run (0: not training)
    arms: int = 0


def estimate_seconds(n_arms: int, steps: int, size: int, device: str = "cpu") -> float:
    """A rough duration for n_arms x steps training steps (loading and judging are small)."""
    per_step = GPU_STEP_S if device == "cuda" else CPU_STEP_S
    return n_arms * steps * per_step * (size / 64) ** 2


def _load(data: ExportData, rows: list[Row], size: int) -> Generator[EvalProgress, None, object]:
    """uint8 tensor N x 3 x size x size of the rows' images, decoded by core/imageio."""
    import torch
    from PIL import Image

    from ..imageio import ImageDecodeError, load_image

    out = np.zeros((len(rows), size, size, 3), np.uint8)
    for i, row in enumerate(rows):
        path = data.folder / row.path
        try:
            img, _ = load_image(path)
        except (ImageDecodeError, OSError) as exc:
            raise EvaluateError(f"{display_name(str(path))}: cannot be read ({exc})") from exc
        img = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
        out[i] = np.asarray(img)
        if i % 32 == 31 or i == len(rows) - 1:
            yield EvalProgress("load images", i + 1, len(rows))
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def _curve(losses: list[float]) -> list[list[float]]:
    """At most CURVE_POINTS (step, mean loss of the steps since the previous point)."""
    if not losses:
        return []
    edges = np.unique(np.linspace(0, len(losses), min(CURVE_POINTS, len(losses)) + 1).astype(int))
    return [[int(b), round(float(np.mean(losses[a:b])), 5)] for a, b in itertools.pairwise(edges)]


def iter_evaluate(
    export: Path,
    *,
    seed: int = 1,
    device: str = "auto",
    steps: int = DEFAULT_STEPS,
    size: int = 64,
    arms: tuple[str, ...] | None = None,
    threads: int | None = None,
    keep_predictions: bool = False,
) -> Generator[EvalProgress, None, dict]:
    """Train and judge every arm that applies to `export`; return the report (a JSON-able
    dict, see README "Evaluate"). Writes nothing: `save_report` does. `keep_predictions`
    adds "predictions" (the validation paths, labels and every arm's predicted labels) for
    callers that compare arms of several exports with a paired bootstrap (recipe search)."""
    if not 8 <= size <= 512:
        raise EvaluateError(f"input size {size}: use 8 to 512 pixels")
    if not 1 <= steps <= 1_000_000:
        raise EvaluateError(f"steps {steps}: use 1 to 1,000,000")
    data = read_export(Path(export))
    arm_list, notes = build_arms(data, arms)
    val = data.split("val")
    if not val:
        raise EvaluateError(
            f"{data.folder}: the export has no validation split to judge on; export again "
            "with one, e.g. --split 0.7,0.15,0.15"
        )
    try:
        dev = resolve_device(device)
    except ValueError as exc:
        raise EvaluateError(str(exc)) from exc
    config = TrainConfig(size, steps, seed, dev, threads or default_threads())
    k = len(data.classes)
    # Every training file of every arm, each decoded once; val separately. Never a val or
    # test row among the training rows (build_arms takes train rows only; checked again).
    train_rows = list(dict.fromkeys(r for a in arm_list for r in a.rows))
    if any(r.split != "train" for r in train_rows):
        raise EvaluateError("internal: a non-training row reached training")  # never
    index = {r: i for i, r in enumerate(train_rows)}
    with deterministic(config):
        train_x = yield from _load(data, train_rows, size)
        val_x = yield from _load(data, val, size)
        y_val = np.array([r.label for r in val], np.int64)
        results: dict[str, dict] = {}
        preds: dict[str, np.ndarray] = {}
        start = time.monotonic()
        total_steps = steps * len(arm_list)
        for n, arm in enumerate(arm_list):
            import torch

            x = train_x[torch.as_tensor([index[r] for r in arm.rows], dtype=torch.long)]
            losses: list[float] = []
            t0 = time.monotonic()
            gen = train_arm(x, arm.labels, k, config, arm.loss_weights, arm.sample_weights)
            while True:
                try:
                    step, loss = next(gen)
                except StopIteration as stop:
                    model = stop.value
                    break
                losses.append(loss)
                done = n * steps + step
                eta = (time.monotonic() - start) / done * (total_steps - done)
                yield EvalProgress(f"train {arm.name}", step, steps, arm.name, step, loss, eta,
                                   n + 1, len(arm_list))  # fmt: skip
            pred = predict(model, val_x, config)
            cm = confusion(y_val, pred, k)
            preds[arm.name] = pred
            results[arm.name] = {
                "what": ARM_HELP[arm.name],
                "n_train": len(arm.rows),
                "loss_weights": "balanced_original_train" if arm.loss_weights else None,
                "sampler": arm.sample_weights is not None,
                **scores(cm),
                "confusion": cm.tolist(),
                "curve": _curve(losses),
                "seconds": round(time.monotonic() - t0, 2),
            }
    report = _report(data, config, results, preds, y_val, notes)
    if keep_predictions:
        report["predictions"] = {
            "paths": [r.path for r in val],
            "labels": y_val.tolist(),
            "arms": {a: p.tolist() for a, p in preds.items()},
        }
    return report


def _report(data, config, results, preds, y_val, notes) -> dict:
    k = len(data.classes)
    val_counts = np.bincount(y_val, minlength=k)
    raw_rows = [r for r in data.split("train") if r.origin == "original"]
    train_counts = np.bincount([r.label for r in raw_rows], minlength=k)
    majority = int(np.argmax(train_counts))
    boot = bootstrap_balanced_accuracy(y_val, preds, config.seed)
    best = max(results, key=lambda a: (results[a]["balanced_accuracy"], a == "raw"))
    report = {
        "format": FORMAT,
        "version": 1,
        "export": str(data.folder),
        "split": "val",
        "classes": data.classes,
        "seed": config.seed,
        "model": config.describe(k),
        "val_counts": val_counts.tolist(),
        "train_original_counts": train_counts.tolist(),
        "majority_baseline": {
            "class": data.classes[majority],
            "accuracy": float(val_counts[majority] / max(1, val_counts.sum())),
        },
        "arms": results,
        "best": best,
        "interval": {
            "method": "bootstrap over the validation images (resampled with replacement, "
            "balanced accuracy over the classes each resample holds), paired across arms",
            "rounds": len(next(iter(boot.values()))),
            "level": 0.95,
            "balanced_accuracy": {a: interval(v) for a, v in boot.items()},
            "difference_from_best": {a: interval(boot[best] - v) for a, v in boot.items()},
        },
        "warnings": _val_warnings(data, data.split("val")),
        "notes": notes,
    }
    diffs = report["interval"]["difference_from_best"]
    # An arm whose paired difference from the best reaches 0 may be as good: say so.
    report["tied_with_best"] = [a for a in results if a != best and diffs[a][0] <= 0]
    report["within_noise"] = _within_noise(report)
    report["summary"] = summary(report)
    return report


def _within_noise(report: dict) -> bool:
    """The question asked: did balancing help? True when the best arm's lead over raw (or,
    when raw is best, over the runner-up) could be chance: the interval reaches 0."""
    arms, best = report["arms"], report["best"]
    diffs = report["interval"]["difference_from_best"]
    if best != "raw" and "raw" in arms:
        return diffs["raw"][0] <= 0
    others = sorted((a for a in arms if a != best), key=lambda a: -arms[a]["balanced_accuracy"])
    return bool(others) and diffs[others[0]][0] <= 0


def rare_class(report: dict) -> int | None:
    """The class with the fewest original training images among those validated."""
    present = [i for i, c in enumerate(report["val_counts"]) if c]
    if not present:
        return None
    return min(present, key=lambda i: (report["train_original_counts"][i], i))


def summary(report: dict) -> str:
    """One line: the best arm, by how much over raw, the rarest class's recall change, and
    whether it is within noise."""
    arms, best = report["arms"], report["best"]
    b = arms[best]["balanced_accuracy"]
    line = f"best: {best}, balanced accuracy {b:.3f}"
    if best != "raw" and "raw" in arms:
        r = arms["raw"]["balanced_accuracy"]
        lo, hi = report["interval"]["difference_from_best"]["raw"]
        line += f" vs raw {r:.3f} ({100 * (b - r):+.1f} points, 95% interval {100 * lo:+.1f} to "
        line += f"{100 * hi:+.1f})"
    if best == "raw" and len(arms) > 1:
        line += "; no balancing beat the original training images here"
    rare = rare_class(report)
    if rare is not None and best != "raw" and "raw" in arms:
        name = display_name(report["classes"][rare])
        before = arms["raw"]["per_class_recall"][rare]
        after = arms[best]["per_class_recall"][rare]
        n = report["val_counts"][rare]
        line += f"; rarest class {name}: recall {before:.2f} → {after:.2f} "
        line += f"({plural(n, 'validation image')})"
    if report["within_noise"]:
        line += "; within noise: the validation split is too small to call this a win"
    elif report["warnings"]:
        line += "; see the warnings on small classes"
    return line


def evaluate_and_save(export: Path, **options) -> Generator[EvalProgress, None, dict]:
    """`iter_evaluate`, then the report written next to the export (what the CLI and the
    Evaluate tab run); nothing is written when it is closed before the end."""
    from .output import save_report

    report = yield from iter_evaluate(Path(export), **options)
    try:
        save_report(report, Path(export))
    except OSError as exc:
        raise EvaluateError(
            f"{export}: cannot write the evaluation ({exc.strerror or exc})"
        ) from exc
    return report


def read_saved(export: Path) -> dict | None:
    """The evaluation.json saved in `export`, or None when there is none we can read."""
    from ..safe_read import InputFileError, load_json_bounded
    from .output import JSON_NAME

    try:
        report = load_json_bounded(Path(export) / JSON_NAME, 64 * 2**20, "an evaluation")
    except (InputFileError, OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("format") == FORMAT else None
