"""The result of inspecting a dataset: duplicate groups, quality scores, and what the split
and the export need from them (groups to keep together, pairs to check for leaks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..dataset import Problem
from ..text import plural
from .features import Features
from .near import components, near_pairs
from .quality import DEFAULT_THRESHOLDS, QualityFlag, flags, score_table, traits

# A picture and its edited copies make near-duplicate groups of a few; groups of CHAIN_SIZE
# or more holding over LOOSE_SHARE of the images are chains of alike, not copied, pictures
# (the digits: groups of 64 and 34), and the CLI and the Inspect tab say so.
CHAIN_SIZE = 10
LOOSE_SHARE = 0.1
# Pictures this small (median longest side of a near group's members, in pixels) are scaled
# up to hash: the hash tells little apart, and groups of two or three distinct digits form
# (an 8 x 8 digits folder at the default threshold: 23 of 85 images in groups of 2-3).
SMALL_SIDE = 32

#: Default Hamming distance (of 64 bits) under which two pictures are near duplicates:
#: re-encodes, resizes and brightness changes land at 0-6, crops of 3-6 % mostly at 2-12,
#: distinct photographs at 14 and more (measured on scikit-image's photographs).
DEFAULT_NEAR_THRESHOLD = 10


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "exact" (same decoded pixels) or "near"
    paths: tuple[str, ...]  # dataset order
    classes: tuple[str, ...]  # the class of each path
    # In a near group, the copies it holds: each set of members with the same decoded pixels
    # (a file and its copy, with an edited third picture near them). () in an exact group.
    identical: tuple[tuple[str, ...], ...] = ()

    @property
    def copy_sets(self) -> tuple[tuple[str, ...], ...]:
        """Each set of members with the same decoded pixels: the whole of an exact group,
        the `identical` sets of a near one."""
        return (self.paths,) if self.kind == "exact" else self.identical

    @property
    def copies(self) -> int:
        """How many of the group's images are identical to another of them."""
        return sum(map(len, self.copy_sets))

    @property
    def conflict(self) -> bool:
        """The same picture under more than one label."""
        return len(set(self.classes)) > 1

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "paths": list(self.paths),
            "classes": list(self.classes),
            "identical": [list(paths) for paths in self.identical],
        }


@dataclass
class InspectReport:
    root: Path
    classes: tuple[str, ...]
    paths: tuple[str, ...]  # decodable samples, dataset order
    labels: np.ndarray  # class index of each path
    features: list[Features]
    problems: list[Problem]  # samples that did not decode
    near_threshold: int = DEFAULT_NEAR_THRESHOLD
    groups: list[DuplicateGroup] = field(default_factory=list)
    pairs: tuple[np.ndarray, np.ndarray] = field(default=(np.empty(0, int), np.empty(0, int)))
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    cached: int = 0  # files answered from the cache

    @classmethod
    def build(
        cls,
        root: Path,
        classes: tuple[str, ...],
        paths: Sequence[str],
        labels: Sequence[int],
        features: list[Features],
        problems: list[Problem],
        near_threshold: int = DEFAULT_NEAR_THRESHOLD,
        cached: int = 0,
    ) -> InspectReport:
        report = cls(
            root, classes, tuple(paths), np.asarray(labels, dtype=np.int32), features, problems,
            near_threshold, cached=cached,
        )  # fmt: skip
        report.scores = score_table(features)
        report.regroup(near_threshold)
        return report

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each path in `paths`."""
        return {p: i for i, p in enumerate(self.paths)}

    def regroup(self, near_threshold: int) -> None:
        """Find the duplicate groups again with another Hamming threshold (no decoding)."""
        hashes = np.fromiter((f.phash for f in self.features), dtype=np.uint64)
        i, j = near_pairs(hashes, near_threshold)
        self.near_threshold = near_threshold
        self.pairs = (i, j)
        groups = []
        for members in components(len(self.paths), i, j):
            by_digest: dict[bytes, list[str]] = {}
            for k in members:
                by_digest.setdefault(self.features[k].digest, []).append(self.paths[k])
            near = len(by_digest) > 1
            groups.append(
                DuplicateGroup(
                    "near" if near else "exact",
                    tuple(self.paths[k] for k in members),
                    tuple(self.classes[self.labels[k]] for k in members),
                    tuple(tuple(c) for c in by_digest.values() if len(c) > 1) if near else (),
                )
            )
        # Label conflicts first (the same picture labelled twice), then dataset order.
        groups.sort(key=lambda g: not g.conflict)
        self.groups = groups

    def quality(
        self, thresholds: Mapping[str, float] | None = None, issue: str = ""
    ) -> list[QualityFlag]:
        """Images with at least one issue under `thresholds` (defaults for those not given);
        an `issue` asked for by name is flagged even where it is a trait of the dataset."""
        keep = (issue,) if issue else ()
        return flags(self.paths, self.scores, thresholds or DEFAULT_THRESHOLDS, keep)

    def traits(self, thresholds: Mapping[str, float] | None = None) -> dict[str, int]:
        """{issue: images with it} for issues most images have: not flagged one by one."""
        return traits(self.scores, thresholds or DEFAULT_THRESHOLDS)

    def loose_groups_note(self) -> str:
        """A warning when large near-duplicate groups hold a good share of the images: a
        copy and its edits make groups of a few; on small or very alike pictures (8 x 8
        digits, icons) a perceptual hash within the threshold chains different images into
        groups of dozens, and "all but one" would remove them. (Exact groups are copies.)"""
        big = [g for g in self.groups if g.kind == "near" and len(g.paths) >= CHAIN_SIZE]
        held, n = sum(len(g.paths) for g in big), len(self.paths)
        if not n:
            return ""
        small = self._small_pictures_note()  # about every group, not only the large ones
        if small or held <= LOOSE_SHARE * n:
            return small
        return (
            f"{plural(len(big), 'near-duplicate group')} of {CHAIN_SIZE} or more images "
            f"{'holds' if len(big) == 1 else 'hold'} {held:,} "
            f"of {n:,} images ({held / n:.0%}): groups this large usually chain different "
            "but alike pictures (small or simple images), not copies. Look at them, or lower "
            "the near-duplicate threshold, before marking all but one."
        )

    def _small_pictures_note(self) -> str:
        """The warning for groups of any size when their pictures are tiny ("" otherwise)."""
        near = [p for g in self.groups if g.kind == "near" for p in g.paths]
        n = len(self.paths)
        if len(near) <= LOOSE_SHARE * n:
            return ""
        index = self.index
        side = int(np.median([max(self.features[index[p]].width, self.features[index[p]].height)
                              for p in near]))  # fmt: skip
        if side > SMALL_SIDE:
            return ""
        return (
            f"near-duplicate groups hold {len(near):,} of {n:,} images ({len(near) / n:.0%}) "
            f"and the pictures are small (median longest side {side} px): a perceptual hash "
            "tells little apart at this size, so these groups may join different pictures, "
            "not copies. Look at them, or lower the near-duplicate threshold, before marking "
            "all but one."
        )

    def split_groups(self) -> dict[str, str]:
        """{path: group key} for every member of a duplicate group: what `make_split` keeps
        in one split (the key is the group's first path)."""
        return {p: f"dup:{g.paths[0]}" for g in self.groups for p in g.paths}

    def crossing_pairs(self, split_of: Callable[[str], str | None]) -> int:
        """How many near-duplicate pairs (exact ones included) have their two images in
        different splits; images the split does not know (left out) are not counted."""
        i, j = self.pairs
        n = 0
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            sa, sb = split_of(self.paths[a]), split_of(self.paths[b])
            if sa is not None and sb is not None and sa != sb:
                n += 1
        return n

    def held_out_copies(self, split_of: Callable[[str], str | None]) -> dict[str, int]:
        """{"val": n, "test": n}: images of a held-out split that are copies (same decoded
        pixels) of another image of the same split. The split keeps copies together, which
        stops leaks, but a held-out split then scores one picture several times."""
        extra = {"val": 0, "test": 0}
        for paths in (c for g in self.groups for c in g.copy_sets):
            per_split: dict[str, int] = {}
            for p in paths:
                split = split_of(p)
                if split in extra:
                    per_split[split] = per_split.get(split, 0) + 1
            for split, n in per_split.items():
                extra[split] += n - 1
        return extra

    def to_json(self, thresholds: Mapping[str, float] | None = None) -> dict:
        """The `imbalance-studio inspect --json` object."""
        return {
            "root": str(self.root),
            "duplicates": [g.to_json() for g in self.groups],
            "quality": [
                {"path": f.path, "issues": list(f.issues), "scores": f.scores}
                for f in self.quality(thresholds)
            ],
            "traits": self.traits(thresholds),
        }
