"""Does the default stack `safe` earn its transforms? The default export over many seeds.

Data: scikit-learn's handwritten digits as a long-tailed ImageFolder (150 of '0' down to 8 of
'9', tests/datasets.py `write_digits`), exported as a user would with
`export FOLDER OUT --policy oversample` and no stack chosen (the default, `safe`), and once
more with `--augment` set to the stack `safe` was before perspective, blur and noise joined
it (the affine and brightness/contrast alone), the same seed, so the same split.
Judged on the ~1,200 held-out digits that never entered the folder (bench_evaluate's
`held_out_val`), per training seed: `raw` (the originals of the train split) and `balanced`
(the export's train split) with `iter_evaluate`, the product's code. Baseline: `raw` of the
same run and seed. Reports the mean gain over raw of each stack with the standard error of
the per-seed gains, per block of 8 seeds, and the paired gain of `safe` over the earlier
stack.
Bar (issue 15): the default export gains >= +3 points of balanced accuracy over raw.
Run: .venv/bin/python benchmarks/bench_default_stack.py [FIRST-LAST] [STEPS]
(default: training seeds 2-33 at 200 steps, 32 px: about 15 minutes on a 2-core CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_evaluate import held_out_val, paired_gain
from datasets import write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.augment.stack import entries_from_stack, stack_from_entries
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.progress import drive

EARLIER = {"Affine", "RandomBrightnessContrast"}  # `safe` before perspective, blur and noise


def export(root: Path, out: Path, *extra: str) -> None:
    args = ["export", str(root), str(out), "--policy", "oversample", "--seed", "1", "--quiet"]
    if run_cli([*args, *extra]) != 0:
        sys.exit(f"export {out.name} failed")
    held_out_val(out)


def main() -> None:
    first, last = map(int, (sys.argv[1] if len(sys.argv) > 1 else "2-33").split("-"))
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seeds = list(range(first, last + 1))
    base = Path(tempfile.mkdtemp(prefix="bench-default-stack-"))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")  # staging folders, not the user's
    try:
        write_digits(base / "digits")
        earlier = [e for e in entries_from_stack(PRESETS["safe"]) if e.name in EARLIER]
        stack_file = base / "earlier-safe.json"
        stack_file.write_text(json.dumps(stack_from_entries(earlier)))
        export(base / "digits", base / "safe")
        export(base / "digits", base / "earlier", "--augment", str(stack_file))
        rows: dict[str, list[float]] = {"raw": [], "safe": [], "earlier": []}
        t0 = time.monotonic()
        for seed in seeds:
            kw = {"seed": seed, "device": "cpu", "steps": steps, "size": 32}
            a = drive(iter_evaluate(base / "safe", arms=("raw", "balanced"), **kw))["arms"]
            b = drive(iter_evaluate(base / "earlier", arms=("balanced",), **kw))["arms"]
            rows["raw"].append(a["raw"]["balanced_accuracy"])
            rows["safe"].append(a["balanced"]["balanced_accuracy"])
            rows["earlier"].append(b["balanced"]["balanced_accuracy"])
            print(f"  seed {seed}: raw {rows['raw'][-1]:.3f}, safe {rows['safe'][-1]:.3f}, "
                  f"earlier {rows['earlier'][-1]:.3f}", flush=True)  # fmt: skip
        print(f"\n{steps} steps at 32 px, training seeds {first}-{last} "
              f"({time.monotonic() - t0:.0f} s of training); balanced accuracy on held-out "
              "digits")  # fmt: skip
        for name in ("safe", "earlier"):
            gains = [100 * (x - r) for x, r in zip(rows[name], rows["raw"], strict=True)]
            blocks = ", ".join(
                f"{statistics.mean(gains[i : i + 8]):+.1f}" for i in range(0, len(gains), 8)
            )
            wins = sum(g > 0 for g in gains)
            print(f"  {name:8} vs raw: {paired_gain(rows[name], rows['raw'])} points, better in "
                  f"{wins} of {len(gains)} seeds; per 8 seeds: {blocks}")  # fmt: skip
        print(f"  safe vs earlier (paired): {paired_gain(rows['safe'], rows['earlier'])} points")
        gain = 100 * (statistics.mean(rows["safe"]) - statistics.mean(rows["raw"]))
        print(f"  bar: the default export >= +3.0 over raw: {'met' if gain >= 3 else 'NOT met'}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
