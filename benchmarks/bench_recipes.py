"""Does the recipe search pick a recipe as good as the best one tried by hand?

Data: scikit-learn's handwritten digits as a long-tailed ImageFolder (150 of '0' down to 8 of
'9', tests/datasets.py `write_digits`). The search: `imbalance-studio recipes FOLDER --json`
(judged on the export's small validation split, as a user runs it). By hand: every recipe of
the grid exported with `imbalance-studio export` (the same seed, so the same split) and
judged with `iter_evaluate` (same model, training seeds, steps, size) on ~1,200 held-out
digits that never entered the folder (bench_evaluate.held_out_val), so the verdict is not
noise. Baseline: the `raw` recipe of the same run. Reports the held-out score of every recipe,
the gain of the default export (`export --policy oversample`, nothing chosen: the safe stack,
no CutMix) over raw, and where the search's winner
ranks on held-out digits.
Bars (issue 15): the default export >= +3 points over raw; the search's winner does at least
as well as the best recipe tried by hand (held-out).
By hand means what a user would type: `plan FOLDER --policy P --method M --augment S
--save-project`, CutMix switched on for the recipe's classes in the project, `export`.
Run: .venv/bin/python benchmarks/bench_recipes.py [STEPS] [SIZE] [HELD_OUT_SEEDS]
(HELD_OUT_SEEDS: training seeds for the held-out verdict, default 4: seeds 2, 3, 4, 5; the
search itself trains with its own 2.)
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

from bench_evaluate import held_out_val, paired_gain
from datasets import write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.progress import drive

SEED = 1  # project seed: split and generation; training seeds SEED + 1, SEED + 2 (as the CLI)


def export(root: Path, out: Path, apply: dict) -> None:
    """The recipe made by hand: no policy -> `export`; else plan + project + export."""
    tail = ["--quiet", "--workers", "2"]
    if apply["policy"] is None:
        with contextlib.redirect_stdout(io.StringIO()):
            rc = run_cli(["export", str(root), str(out), "--seed", str(SEED), *tail])
        if rc != 0:
            sys.exit(f"export {out.name} failed")
        return
    project = out.parent / f"{out.name}.isproj.json"
    args = ["plan", str(root), "--policy", apply["policy"], "--method", apply["method"]]
    if apply["stack"]:
        args += ["--augment", apply["stack"]]
    args += ["--save-project", str(project), "--seed", str(SEED), "--workers", "2", "--json"]
    with contextlib.redirect_stdout(io.StringIO()):
        rc = run_cli(args)
    if rc != 0:
        sys.exit(f"plan {out.name} failed")
    saved = json.loads(project.read_text())
    saved["generation"]["cutmix_classes"] = apply["cutmix_classes"]
    project.write_text(json.dumps(saved))
    with contextlib.redirect_stdout(io.StringIO()):
        rc = run_cli(["export", str(project), str(out), *tail])
    if rc != 0:
        sys.exit(f"export {out.name} failed")


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    n_held = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    base = Path(tempfile.mkdtemp(prefix="bench-recipes-"))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
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
        seeds = list(range(SEED + 1, SEED + 1 + n_held))
        held: dict[str, list[float]] = {}
        exports: dict[str, Path] = {}
        for name, row in table["recipes"].items():
            apply = row["apply"]
            key = json.dumps({k: v for k, v in apply.items() if k != "loss"}, sort_keys=True)
            if key not in exports:
                exports[key] = base / f"by-hand-{len(exports)}"
                export(base / "digits", exports[key], apply)
                n_val = held_out_val(exports[key])
            kw = {"device": "cpu", "steps": steps, "size": size, "arms": (row["arm"],)}
            held[name] = [
                drive(iter_evaluate(exports[key], seed=s, **kw))["arms"][row["arm"]][
                    "balanced_accuracy"
                ]
                for s in seeds
            ]
        # The default export as a user makes it: `export FOLDER OUT --policy oversample`, no
        # stack and no CutMix chosen (a new project: the safe stack, no CutMix).
        default_out = base / "default-export"
        with contextlib.redirect_stdout(io.StringIO()):
            rc = run_cli(["export", str(base / "digits"), str(default_out), "--policy",
                          "oversample", "--seed", str(SEED), "--quiet", "--workers", "2"])  # fmt: skip
        if rc != 0:
            sys.exit("the default export failed")
        held_out_val(default_out)
        kw = {"device": "cpu", "steps": steps, "size": size, "arms": ("balanced",)}
        held["default export"] = [
            drive(iter_evaluate(default_out, seed=s, **kw))["arms"]["balanced"]["balanced_accuracy"]
            for s in seeds
        ]
        print(f"{steps} steps at {size} px; the search (seeds {table['seeds']}) took "
              f"{search_s:.0f} s on a shared 2-core CPU; held-out: {n_val} digits, training "
              f"seeds {seeds}; CutMix classes {table['cutmix_classes']}, cap {table['cap']}")  # fmt: skip
        print(f"  {'recipe':22} {'search (val)':>12} {'held-out':>9} {'spread':>7} {'vs raw':>7}")
        raw = statistics.mean(held["raw"])
        for name, vals in held.items():
            v = statistics.mean(vals)
            mark = "  <- search's winner" if name == table["winner"] else ""
            if name == table["best_on_validation"] and name != table["winner"]:
                mark = "  <- best on val (within noise of the default)"
            row = table["recipes"].get(name)  # the default export is not one of the grid's
            val = f"{row['balanced_accuracy']:.3f}" if row else "-"
            print(f"  {name:22} {val:>12} {v:9.3f} {max(vals) - min(vals):7.3f} "
                  f"{100 * (v - raw):+7.1f}{mark}")  # fmt: skip
        gain = 100 * (statistics.mean(held["default export"]) - raw)
        wins = sum(a > r for a, r in zip(held["default export"], held["raw"], strict=True))
        print(f"  default export (--policy oversample, nothing chosen: the safe stack, no "
              f"CutMix) vs raw: {paired_gain(held['default export'], held['raw'])} points "
              f"(± standard error over seeds), better in {wins} of {len(seeds)} seeds "
              f"(bar >= +3.0: {'met' if gain >= 3 else 'NOT met'})")  # fmt: skip
        means = {n: statistics.mean(v) for n, v in held.items() if n != "default export"}
        best = max(means, key=means.get)
        gap = 100 * (means[best] - means[table["winner"]])
        print(f"  search's winner {table['winner']} vs best by hand {best}: {-gap:+.1f} points "
              f"(bar >= 0: {'met' if gap <= 0 else 'NOT met'})")  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
