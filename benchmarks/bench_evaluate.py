"""Did the default export help? Balanced accuracy of `balanced` vs `raw` on long-tailed digits.

Data: scikit-learn's handwritten digits written as a long-tailed ImageFolder (150 of '0' down
to 8 of '9', 32 px, tests/datasets.py `write_digits`), exported with
`export FOLDER OUT --policy oversample` and NO stack chosen (the default, `safe`), and once
more with `--augment medium` (the default before, with flips and hue shifts).
Judged on held-out digits: the export's small validation split (1 image of '9') is replaced
by every digit of scikit-learn's set that never entered the folder (~1,200 images), so the
verdict is not noise. The test split is untouched.
Arms: `iter_evaluate` (the product's code) with the same model, seed, input size and steps;
raw / weighted come from the default export (the same originals are in both exports).
Baseline: `raw` of the same run and seed. Reported per step budget as the mean over seeds,
in points. The step budget matters: a small CNN trained long enough memorises the six
training images of the rarest digit whatever the arm, and balancing then changes little.
Bar (issue 10 / 15): `balanced` with the default stack beats `raw` (issue 15: by >= 3).
Run: .venv/bin/python benchmarks/bench_evaluate.py [STEPS,STEPS,...] [SIZE] [SEEDS]
"""

from __future__ import annotations

import csv
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np
from datasets import DIGIT_COUNTS, write_digits
from PIL import Image

from imbalance_studio.cli import run_cli
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.progress import drive


def held_out_val(out: Path) -> int:
    """Replace the export's val split by the digits that never entered the folder."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    shutil.rmtree(out / "val")
    with open(out / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] != "val"]
    n = 0
    for label, used in enumerate(DIGIT_COUNTS):
        name = f"digit_{label}"
        (out / "val" / name).mkdir(parents=True)
        for i, img in enumerate(digits.images[digits.target == label][used:]):
            arr = (img * (255 / 16)).astype(np.uint8)
            rel = f"val/{name}/held_{i:03d}.png"
            Image.fromarray(arr, "L").resize((32, 32), Image.Resampling.NEAREST).save(out / rel)
            rows.append({"path": rel, "split": "val", "class": name, "class_index": str(label),
                         "origin": "original", "sources": "", "generator": "", "seed": "",
                         "params": "{}"})  # fmt: skip
            n += 1
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return n


def paired_gain(arm: list[float], raw: list[float]) -> str:
    """Mean gain of `arm` over `raw` in points (same training seeds, paired), with the
    standard error of the per-seed gains: "+3.02 ± 0.22" (no error from one seed)."""
    gains = [100 * (a - r) for a, r in zip(arm, raw, strict=True)]
    mean = statistics.mean(gains)
    if len(gains) < 2:
        return f"{mean:+.2f}"
    return f"{mean:+.2f} ± {statistics.stdev(gains) / len(gains) ** 0.5:.2f}"


def export(root: Path, out: Path, *extra: str) -> None:
    args = ["export", str(root), str(out), "--policy", "oversample", "--seed", "1", "--quiet"]
    if run_cli([*args, *extra]) != 0:
        sys.exit(f"export {extra} failed")


def main() -> None:
    steps_list = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "100,200,300").split(",")]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    seeds = range(1, 1 + (int(sys.argv[3]) if len(sys.argv) > 3 else 2))
    base = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")  # staging folders, not the user's
    try:
        write_digits(base / "digits")
        t0 = time.monotonic()
        export(base / "digits", base / "safe")
        export(base / "digits", base / "medium", "--augment", "medium")
        n_val = held_out_val(base / "safe")
        held_out_val(base / "medium")
        print(f"exports made in {time.monotonic() - t0:.0f} s; {n_val} held-out digits judge",
              flush=True)  # fmt: skip
        for steps in steps_list:
            rows: dict[str, list[float]] = {}
            t0 = time.monotonic()
            for seed in seeds:
                kw = {"seed": seed, "device": "cpu", "steps": steps, "size": size}
                arms = ("raw", "balanced", "weighted")
                a = drive(iter_evaluate(base / "safe", arms=arms, **kw))["arms"]
                m = drive(iter_evaluate(base / "medium", arms=("balanced",), **kw))["arms"]
                got = {name: arm["balanced_accuracy"] for name, arm in a.items()}
                got["balanced, medium stack"] = m["balanced"]["balanced_accuracy"]
                for name, v in got.items():
                    rows.setdefault(name, []).append(v)
            took = time.monotonic() - t0
            print(f"\n{steps} steps at {size} px, {len(seeds)} seeds ({took:.0f} s of training "
                  f"on a shared CPU); balanced accuracy on {n_val} held-out digits")  # fmt: skip
            raw = statistics.mean(rows["raw"])
            print(f"  {'arm':26} {'mean':>6} {'min':>6} {'max':>6} {'vs raw':>7}")
            for name, vals in rows.items():
                mean = statistics.mean(vals)
                print(f"  {name:26} {mean:6.3f} {min(vals):6.3f} {max(vals):6.3f} "
                      f"{100 * (mean - raw):+6.1f}")  # fmt: skip
            gain = 100 * (statistics.mean(rows["balanced"]) - raw)
            wins = sum(b > r for b, r in zip(rows["balanced"], rows["raw"], strict=True))
            verdict = "met" if gain >= 3 else "better" if gain > 0 else "NOT met"
            print(f"  balanced (default stack) vs raw: {paired_gain(rows['balanced'], rows['raw'])}"
                  f" points (± standard error over seeds), better in {wins} of {len(seeds)} "
                  f"seeds; bar balanced > raw (issue 15: >= +3.0): {verdict}",
                  flush=True)  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
