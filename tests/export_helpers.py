"""Shared helpers for the export tests: tree hashes, manifest reading, a curated project."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

from imbalance_studio.core.plan import make_plan, train_counts
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.project import ClassTarget, Mark, Method, Project
from imbalance_studio.core.scanning import check, scan


def tree_state(root: Path, skip: str | None = None) -> dict[str, tuple[str, int, int]]:
    """rel path -> (sha256, mode, mtime_ns) of every file and folder under root."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + dirnames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if skip and rel == skip:
                continue
            st = p.lstat()
            digest = ""
            if p.is_file() and not p.is_symlink():
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[rel] = (digest, st.st_mode, st.st_mtime_ns if not p.is_dir() else 0)
    return out


def read_manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def curated(root: Path, seed: int = 0, method: Method = Method.DUPLICATE):
    """A scanned digits dataset with marks and an oversample policy (closed by `method`),
    and the biggest class undersampled."""
    dataset = scan(root)
    dataset = check(dataset)
    project = Project(dataset_root=str(root), seed=seed)
    counts = train_counts(dataset, project)
    targets = apply_policy("median", counts, method)
    targets["digit_0"] = ClassTarget(target=90, method=Method.UNDERSAMPLE)
    project.targets = targets
    project.policy = "median"
    # A remove mark and a duplicate mark on training images.
    plan0 = make_plan(dataset, project)
    train9 = plan0.splits["train"][9].kept
    train1 = plan0.splits["train"][1].kept
    project.set_mark(train1[0], Mark(remove=True))
    project.set_mark(train9[0], Mark(duplicate=2))
    return dataset, project, make_plan(dataset, project)
