"""What goes where: the plan and the staged images turned into one ordered list of files.

Rows come out in ImageFolder order (split, class index, file name) so manifest.csv,
metadata.parquet and sampler_weights.csv line up with `ImageFolder(OUT/train).samples`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..names import json_text
from .destination import ExportError
from .naming import duplicate_name, flat_name, original_names, safe_name

SPLITS = ("train", "val", "test")

ORIGINAL = "original"
DUPLICATE = "duplicate"
AUGMENTED = "augmented"
CUTMIX = "cutmix"
SYNTHETIC = "synthetic"  # made by a generative model (diffusion img2img)


def params_json(params: dict) -> str:
    """Canonical JSON (sorted keys, no spaces): same parameters, same bytes (a name's
    undecodable bytes as \\udcNN escapes, see core/names.py)."""
    return json_text(params, indent=None, sort_keys=True, separators=(",", ":"))


@dataclass
class Layout:
    """Parallel lists, one item per exported file (compact and quick for 10^5+ files)."""

    classes: tuple[str, ...]
    split: list[str] = field(default_factory=list)
    class_index: list[int] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # relative to OUT, POSIX
    src: list[str] = field(default_factory=list)  # absolute source file
    link: list[bool] = field(default_factory=list)  # may be hard-linked (else copied)
    origin: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # ';'-joined, relative to dataset root
    generator: list[str] = field(default_factory=list)
    seed: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    before: dict[str, list[int]] = field(default_factory=dict)  # originals per split/class
    after: dict[str, list[int]] = field(default_factory=dict)  # files per split/class

    def __len__(self) -> int:
        return len(self.path)

    def drop(self, indices: Sequence[int]) -> None:
        """Remove the items at `indices` (files that could not be written)."""
        gone = set(indices)
        keep = [i for i in range(len(self.path)) if i not in gone]
        for name in (
            "split", "class_index", "path", "src", "link", "origin", "sources", "generator",
            "seed", "params",
        ):  # fmt: skip
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in keep])
        for split in self.after:
            self.after[split] = [0] * len(self.classes)
        for s, c in zip(self.split, self.class_index, strict=True):
            self.after[s][c] += 1

    def span(self, split: str) -> tuple[int, int]:
        """Index range of a split's files (splits are contiguous, in SPLITS order)."""
        start = 0
        for s in SPLITS:
            stop = start + sum(self.after.get(s, ()))
            if s == split:
                return start, stop
            start = stop
        raise KeyError(split)

    def counts(self, split: str) -> list[int]:
        return list(self.after[split])


def _origin(generator: str) -> str:
    if generator == CUTMIX:
        return CUTMIX
    return SYNTHETIC if generator.startswith("diffusion") else AUGMENTED


def _select_generated(plan, generated: Sequence, rejected: set[str]) -> dict[int, list]:
    """Per class index: the staged images the plan asks for (not rejected), in plan order."""
    index = {name: i for i, name in enumerate(plan.classes)}
    by_class: dict[int, list] = {}
    for g in generated:
        if g.status == "rejected" or g.id in rejected:
            continue
        ci = index.get(g.class_name)
        if ci is None:
            raise ExportError(f"generated image {g.id}: unknown class '{g.class_name}'")
        by_class.setdefault(ci, []).append(g)
    chosen: dict[int, list] = {}
    for cp in plan.splits["train"]:
        tasks = cp.generate
        if not tasks:
            continue
        pool = sorted(
            by_class.get(cp.class_index, []), key=lambda g: (getattr(g, "ordinal", -1), g.id)
        )
        # Each task takes the image made for its slot (ordinal; a replacement for a rejected
        # image has the same ordinal and a new seed); images the plan no longer names (kept
        # as spares when a rejection reduced the target) fill what is left, in slot order.
        by_ordinal: dict[int, object] = {}
        for g in pool:
            by_ordinal.setdefault(getattr(g, "ordinal", -1), g)
        picked = [by_ordinal[t.ordinal] for t in tasks if t.ordinal in by_ordinal]
        used = {g.id for g in picked}
        for g in pool:
            if len(picked) >= len(tasks):
                break
            if g.id not in used:
                picked.append(g)
                used.add(g.id)
        if len(picked) < len(tasks):
            raise ExportError(
                f"class '{plan.classes[cp.class_index]}' needs {len(tasks)} generated images "
                f"but {len(picked)} are ready: run Generate first"
            )
        chosen[cp.class_index] = picked
    return chosen


def _permute(order: list[int], *columns: list) -> list[list]:
    return [[col[i] for i in order] for col in columns]


def build_layout(
    dataset, plan, generated: Sequence, rejected: set[str], exclude: dict[str, str] | None = None
) -> Layout:
    """Every file of the export, in ImageFolder order. Raises ExportError on leakage.

    `exclude` maps originals found not to decode (e.g. by generation) to the reason; they
    and their duplicates are left out. Bulk list operations per class rather than work per
    file: for 10^4-10^5 originals this step must cost little next to the syscalls.
    """
    exclude = exclude or {}
    classes = tuple(plan.classes)
    if classes != tuple(dataset.classes):
        raise ExportError("the plan was made for other classes than the dataset has; re-plan")
    root = str(dataset.root).rstrip("/") + "/"
    chosen = _select_generated(plan, generated, rejected)
    lay = Layout(classes)
    for split in SPLITS:
        lay.before[split] = [0] * len(classes)
        lay.after[split] = [0] * len(classes)
        for cp in plan.splits[split]:
            ci = cp.class_index
            cls = classes[ci]
            lay.before[split][ci] = cp.original
            cut = len(cls) + 1
            kept = list(cp.kept)
            if exclude:
                kept = [rel for rel in kept if rel not in exclude]
            n = len(kept)
            names, taken = original_names([rel[cut:] for rel in kept])
            src = [root + rel for rel in kept]
            link = [True] * n
            origin = [ORIGINAL] * n
            sources = kept
            generator = [""] * n
            seed = [""] * n
            params = ["{}"] * n
            if (cp.duplicates or cp.generate) and split != "train":
                raise ExportError(f"the plan puts copies into the {split} split; re-plan")
            given = dict(zip(kept, names, strict=True)) if cp.duplicates else {}
            for d in cp.duplicates:
                if d.source in exclude:
                    continue
                if plan.split_of(d.source) != "train":
                    raise ExportError(f"{d.source}: a duplicate's source is not a training image")
                base = given.get(d.source) or flat_name(d.source.split("/", 1)[-1])
                names.append(taken.claim(duplicate_name(base, d.copy)))
                src.append(root + d.source)
                link.append(True)
                origin.append(DUPLICATE)
                sources.append(d.source)
                generator.append("")
                seed.append("")
                params.append(params_json({"copy": d.copy}))
            for g in chosen.get(ci, ()) if split == "train" else ():
                for s in g.sources:
                    if plan.split_of(s) != "train":
                        raise ExportError(
                            f"generated image {g.id}: its source {s} is not a training image"
                        )
                ext = os.path.splitext(str(g.file))[1]
                names.append(taken.claim(safe_name(f"{g.generator}_{g.id}{ext}")))
                src.append(str(g.file))
                link.append(False)
                origin.append(_origin(g.generator))
                sources.append(";".join(g.sources))
                generator.append(g.generator)
                seed.append(str(g.seed))
                params.append(params_json(g.params))
            m = len(names)
            if names != sorted(names):  # usually sorted already: the scan lists in name order
                order = sorted(range(m), key=names.__getitem__)
                names, src, link, origin, sources, generator, seed, params = _permute(
                    order, names, src, link, origin, sources, generator, seed, params
                )
            prefix = f"{split}/{cls}/"
            lay.after[split][ci] = m
            lay.split.extend([split] * m)
            lay.class_index.extend([ci] * m)
            lay.path.extend([prefix + name for name in names])
            lay.src.extend(src)
            lay.link.extend(link)
            lay.origin.extend(origin)
            lay.sources.extend(sources)
            lay.generator.extend(generator)
            lay.seed.extend(seed)
            lay.params.extend(params)
    return lay
