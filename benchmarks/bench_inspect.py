"""Inspect vs cleanvision on the same folder of real photographs (same run), and the
near-duplicate search on 100,000 hashes.

The folder: tiles of scikit-image's colour photographs (several scales, mirrored too) with
planted duplicates (byte copies, pixel-identical re-saves, JPEG re-encodes, resizes, small
crops, brightness changes) and planted dark / light / blurry / flat / odd-shape / odd-size /
grey images (tests/photo_corpus.py). Both tools run as a whole process with a cold cache:
`imbalance-studio inspect FOLDER --json` against
`cleanvision.Imagelab(data_path=FOLDER).find_issues()`.

Bars (issue 9): at most 0.5x cleanvision's time; at least its recall for near duplicates and
for each quality kind; 100,000 hashes searched in under 10 s (no all-pairs loop).
Needs cleanvision (`pip install cleanvision`; a benchmark tool only, not a dependency).
Run: .venv/bin/python benchmarks/bench_inspect.py [N_BASE]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

CLEANVISION = """
import json, sys
from cleanvision import Imagelab
lab = Imagelab(data_path=sys.argv[1])
lab.find_issues(verbose=False)
issues = lab.issues
out = {"flags": {}, "sets": []}
for col in issues.columns:
    if col.startswith("is_") and col.endswith("_issue"):
        kind = col[3:-6]
        out["flags"][kind] = [p for p, v in issues[col].items() if v]
for kind in ("exact_duplicates", "near_duplicates"):
    out["sets"] += [list(s) for s in lab.info.get(kind, {}).get("sets", [])]
json.dump(out, open(sys.argv[2], "w"))
"""

QUALITY = (
    "dark",
    "light",
    "blurry",
    "low_information",
    "odd_aspect_ratio",
    "odd_size",
    "grayscale",
)


def build(root: Path, n_base: int):
    from photo_corpus import build_corpus, photo_tiles

    tiles = photo_tiles(96, stride=48, scales=(1.5, 1.3, 1.15, 1.0, 0.8, 0.62), flips=True)
    n_flagged = 7 * 25
    n_base = min(n_base, len(tiles) - n_flagged)
    return build_corpus(
        root, n_base=n_base, n_groups=n_base // 8, n_flagged=n_flagged, size=96, tiles=tiles
    )


def timed(cmd: list[str], env: dict, stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and every process it started). On a shared,
    loaded machine the CPU time is the steadier measure of the work each tool does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def recall_table(corpus, found_sets: list[set[str]], flags: dict[str, set[str]]) -> dict:
    out = {}
    kinds: dict[str, list[list[str]]] = {}
    for kind, members in corpus.groups:
        kinds.setdefault(kind, []).append(members)
    for kind, groups in sorted(kinds.items()):
        hit = sum(1 for g in groups if any(set(g) <= s for s in found_sets))
        out[f"dup:{kind}"] = hit / len(groups)
    for kind in QUALITY:
        planted = {p for p, k in corpus.flagged.items() if k == kind}
        out[kind] = len(planted & flags.get(kind, set())) / len(planted)
    return out


def near_search_100k() -> tuple[float, float, float]:
    """(wall and CPU seconds for 100,000 hashes, all-pairs baseline CPU seconds extrapolated
    from 10,000)."""
    import numpy as np

    from imbalance_studio.core.inspect.near import components, near_pairs

    rng = np.random.default_rng(0)
    n = 100_000
    hashes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    for k in range(1000):  # planted near copies, 1..8 bits away
        flip = np.uint64(0)
        for b in rng.choice(64, 1 + k % 8, replace=False):
            flip |= np.uint64(1) << np.uint64(int(b))
        hashes[n - 1 - k] = hashes[k] ^ flip
    t0, c0 = time.perf_counter(), time.process_time()
    i, j = near_pairs(hashes, 10)
    groups = components(n, i, j)
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(groups) >= 1000, len(groups)
    m = 10_000
    sub = hashes[:m]
    c0 = time.process_time()
    for a in range(0, m, 1000):  # blocked numpy all-pairs: the O(n^2) baseline
        _ = np.nonzero(np.bitwise_count(sub[a : a + 1000, None] ^ sub[None, :]) <= 10)
    baseline = (time.process_time() - c0) * (n / m) ** 2
    return ours, ours_cpu, baseline


def main() -> None:
    import importlib.util

    n_base = int(sys.argv[1]) if len(sys.argv) > 1 else 2400
    if importlib.util.find_spec("cleanvision") is None:
        print("cleanvision is not installed (pip install cleanvision): comparison skipped")
    else:
        compare(n_base)
    t_search, c_search, c_all = near_search_100k()
    print(f"\nnear-duplicate search, 100,000 hashes, threshold 10: wall {t_search:.2f} s, "
          f"CPU {c_search:.2f} s (bar < 10 s); numpy all-pairs: ~{c_all:.0f} s CPU "
          f"({c_all / c_search:.0f}x)")  # fmt: skip


def compare(n_base: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp:
        root = Path(tmp) / "data"
        t0 = time.perf_counter()
        corpus = build(root, n_base)
        n = sum(1 for _ in root.rglob("*.*"))
        print(f"folder: {n} images ({len(corpus.base)} base tiles, {len(corpus.groups)} planted "
              f"duplicate groups, {len(corpus.flagged)} planted quality problems), built in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", XDG_CACHE_HOME=f"{tmp}/cache")
        ours_json = Path(tmp) / "ours.json"
        cv_json = Path(tmp) / "cv.json"
        cmd = [sys.executable, "-m", "imbalance_studio", "inspect", str(root), "--json"]
        with open(ours_json, "w") as f:
            t_ours, c_ours = timed(cmd, env, stdout=f)
        t_warm, c_warm = timed(cmd, env)
        t_cv, c_cv = timed([sys.executable, "-c", CLEANVISION, str(root), str(cv_json)], env)

        ours = json.loads(ours_json.read_text())
        our_sets = [set(g["paths"]) for g in ours["duplicates"]]
        our_flags: dict[str, set[str]] = {}
        for q in ours["quality"]:
            for issue in q["issues"]:
                our_flags.setdefault(issue, set()).add(q["path"])
        cv = json.loads(cv_json.read_text())
        prefix = str(root) + os.sep

        def rel(p: str) -> str:
            return p[len(prefix) :] if p.startswith(prefix) else p

        cv_sets = [{rel(p) for p in s} for s in cv["sets"]]
        cv_flags = {k: {rel(p) for p in v} for k, v in cv["flags"].items()}
        r_ours = recall_table(corpus, our_sets, our_flags)
        r_cv = recall_table(corpus, cv_sets, cv_flags)
        print(
            f"\ncold, whole process, wall: ours {t_ours:.1f} s, cleanvision {t_cv:.1f} s, "
            f"ratio {t_ours / t_cv:.2f}x (bar <= 0.5x)"
        )
        print(
            f"cold, whole process, CPU:  ours {c_ours:.1f} s, cleanvision {c_cv:.1f} s, "
            f"ratio {c_ours / c_cv:.2f}x"
        )
        print(f"ours warm (every file from the cache): wall {t_warm:.1f} s, CPU {c_warm:.1f} s")  # fmt: skip
        print(f"\n{'recall':<22}{'ours':>8}{'cleanvision':>13}")
        worse = []
        for key in r_ours:
            print(f"{key:<22}{r_ours[key]:>8.2f}{r_cv[key]:>13.2f}")
            if r_ours[key] < r_cv[key]:
                worse.append(key)
        planted_pairs = {frozenset(g) for _, g in corpus.groups}
        extra = [s for s in our_sets if not any(s <= set(g) or set(g) <= s for g in planted_pairs)]
        print(f"groups reported: ours {len(our_sets)} ({len(extra)} not planted), "
              f"cleanvision {len(cv_sets)}")  # fmt: skip
        print("recall at least cleanvision's for every kind" if not worse else f"BELOW: {worse}")


if __name__ == "__main__":
    main()
