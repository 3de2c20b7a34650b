"""Does the recipe search pick a recipe as good as the best one tried by hand?

Data: scikit-learn's handwritten digits as a long-tailed ImageFolder (150 of '0' down to 8 of
'9', tests/datasets.py `write_digits`). The search: `imbalance-studio recipes FOLDER --json`
(judged on the export's small validation split, as a user runs it). By hand: every recipe of
the grid exported with `imbalance-studio export` (the same seed, so the same split) and
judged with `iter_evaluate` (same model, training seeds, steps, size) on ~1,200 held-out
digits that never entered the folder (bench_evaluate.held_out_val), so the verdict is not
noise. Baseline: the `raw` recipe of the same run. Reports the held-out score of every recipe,
the gain of the default export (augment-safe, no stack chosen) over raw, and where the
search's winner ranks on held-out digits.
Bars (issue 15): the default export >= +3 points over raw; the search's winner does at least
as well as the best recipe tried by hand (held-out).
Run: .venv/bin/python benchmarks/bench_recipes.py [STEPS] [SIZE]
"""

from __future__ import annotations

import contextlib
import io
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

from bench_evaluate import held_out_val
from datasets import write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.progress import drive
from imbalance_studio.core.recipes import RECIPES

SEED = 1  # project seed: split and generation; training seeds SEED + 1, SEED + 2 (as the CLI)


def export(root: Path, out: Path, recipe) -> None:
    args = ["export", str(root), str(out), "--seed", str(SEED), "--quiet", "--workers", "2"]
    if recipe.method is not None:
        args += ["--policy", "oversample", "--method", recipe.method]
        if recipe.stack:
            args += ["--augment", recipe.stack]
    if run_cli(args) != 0:
        sys.exit(f"export for {recipe.name} failed")


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    base = Path(tempfile.mkdtemp(prefix="bench-recipes-"))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    grid = [r for r in RECIPES if r.stack != "own"]
    try:
        write_digits(base / "digits")
        t0 = time.monotonic()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = run_cli(["recipes", str(base / "digits"), "--json", "--seed", str(SEED),
                          "--steps", str(steps), "--size", str(size), "--budget", "60",
                          "--workers", "2", "--device", "cpu"])  # fmt: skip
        if rc != 0:
            sys.exit("recipes failed")
        table = json.loads(buf.getvalue())
        search_s = time.monotonic() - t0
        seeds = table["seeds"]
        held: dict[str, float] = {}
        exports: dict[str, Path] = {}
        for recipe in grid:
            key = "originals" if recipe.method is None else f"{recipe.method}-{recipe.stack}"
            if key not in exports:
                exports[key] = base / key
                export(base / "digits", exports[key], recipe)
                n_val = held_out_val(exports[key])
            kw = {"device": "cpu", "steps": steps, "size": size, "arms": (recipe.arm,)}
            vals = [
                drive(iter_evaluate(exports[key], seed=s, **kw))["arms"][recipe.arm][
                    "balanced_accuracy"
                ]
                for s in seeds
            ]
            held[recipe.name] = statistics.mean(vals)
        print(f"{steps} steps at {size} px, training seeds {seeds}; search took {search_s:.0f} s "
              f"on a shared 2-core CPU; held-out: {n_val} digits")  # fmt: skip
        print(f"  {'recipe':16} {'search (val)':>12} {'held-out':>9} {'vs raw':>7}")
        raw = held["raw"]
        for name, v in held.items():
            mark = "  <- search's winner" if name == table["winner"] else ""
            if name == table["best_on_validation"] and name != table["winner"]:
                mark = "  <- best on val (within noise of the default)"
            val = table["recipes"][name]["balanced_accuracy"]
            print(f"  {name:16} {val:12.3f} {v:9.3f} {100 * (v - raw):+7.1f}{mark}")
        gain = 100 * (held["augment-safe"] - raw)
        print(f"  default export (augment-safe) vs raw: {gain:+.1f} points (bar >= +3.0: "
              f"{'met' if gain >= 3 else 'NOT met'})")  # fmt: skip
        best = max(held, key=held.get)
        gap = 100 * (held[best] - held[table["winner"]])
        print(f"  search's winner {table['winner']} vs best by hand {best}: {-gap:+.1f} points "
              f"(bar >= 0: {'met' if gap <= 0 else 'NOT met'})")  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
