"""From the plan's generation tasks to concrete work: ids, sources, seeds, replacements.

Every plan task is a *slot* of its class. A slot's image id is a digest of what decides its
pixels (class, ordinal, seed, source, generator and the stack or CutMix fingerprint), so a
change of stack or seed gives new ids only where it changes pixels, and an image whose id
already has a complete file and record is reused as is.

A rejected image's slot takes its next *attempt*: same source, a fresh seed derived from
(task seed, class, ordinal, attempt). In "reduce" mode the project's target drops by one
instead; the slot of an image rejected that way is then filled only if the class's count
cannot be met otherwise (by an image the plan no longer asks for, e.g. the old last one).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from .badsources import Signature, signature
from .diffusion import GENERATOR as DIFFUSION
from .records import GeneratedImage, image_from_record
from .work import WorkItem

# Bump when a change in this package changes the pixels made from the same inputs.
GENERATOR_VERSION = 1


def _digest(*parts: object, size: int = 8) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=size).hexdigest()


def stack_fingerprint(stack: dict | None) -> str:
    """What of a stack decides the pixels: the enabled pipeline and albumentations' version
    (disabled entries kept for the editor do not count)."""
    from ..augment import STUDIO_KEY

    relevant = {k: v for k, v in (stack or {}).items() if k != STUDIO_KEY}
    text = json.dumps(relevant, sort_keys=True, default=str)
    return "aug-" + _digest(GENERATOR_VERSION, text)


def cutmix_fingerprint(pool: tuple[str, ...]) -> str:
    """CutMix draws its donor from the class's kept training images: a change there changes
    which donor a seed picks."""
    return "cutmix-" + _digest(GENERATOR_VERSION, *sorted(pool))


def diffusion_fingerprint(spec: Any) -> str:
    """A diffusion image is decided by the model's weights, prompts, strength, steps,
    guidance and size (`DiffusionSpec.key`), and by the diffusers version drawing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        drawn_by = version("diffusers")
    except PackageNotFoundError:
        drawn_by = "none"
    return "diff-" + _digest(GENERATOR_VERSION, spec.key(), drawn_by)


def replacement_seed(task_seed: int, class_name: str, ordinal: int, attempt: int) -> int:
    """The seed of the `attempt`-th replacement of a slot (attempt 0 is the task's own)."""
    if attempt == 0:
        return task_seed
    return int(_digest(task_seed, "replace", class_name, ordinal, attempt, size=4), 16)


def image_id(
    class_name: str, ordinal: int, seed: int, source: str, generator: str, fingerprint: str
) -> str:
    return f"{ordinal:05d}-" + _digest(class_name, ordinal, seed, source, generator, fingerprint)


@dataclass(frozen=True)
class Slot:
    job: ClassJob
    ordinal: int
    attempt: int
    seed: int
    id: str
    source: str
    generator: str
    fingerprint: str
    reducible: bool  # an earlier image of this slot was rejected with "reduce"

    def item(self) -> WorkItem:
        job = self.job
        donors: tuple[str, ...] = ()
        if self.generator == "cutmix":
            import random

            # Every other kept original, whatever is known to fail so far: the worker skips
            # donors that do not decode, so the choice never depends on timing.
            pool = [s for s in job.order if s != self.source]
            donors = tuple(random.Random(self.seed).sample(pool, len(pool)))
        return WorkItem(
            id=self.id,
            class_name=job.name,
            ordinal=self.ordinal,
            seed=self.seed,
            generator=self.generator,
            fingerprint=self.fingerprint,
            source=self.source,
            planned_source=job.tasks[self.ordinal].source,
            root=job.root,
            staging=job.staging,
            stack=job.stack if self.generator == "augment" else None,
            donors=donors,
            diffusion=job.diffusion if self.generator == DIFFUSION else None,
        )


@dataclass
class ClassJob:
    """One class's generation: its tasks, stack, sources and what is staged already."""

    name: str
    index: int
    tasks: tuple[Any, ...]  # plan GenerationTasks
    kept: tuple[str, ...]  # the class's kept training originals
    stack: dict
    cutmix: bool
    root: str
    staging: str
    rejected: set[str]
    records: dict[str, dict] = field(default_factory=dict)  # id -> valid record
    bad: dict[str, str] = field(default_factory=dict)  # rel path -> why it does not decode
    # Sources recorded as bad whose file changed since: not inferred bad from old records.
    recheck: frozenset[str] = frozenset()
    _stats: dict[str, Signature | None] = field(default_factory=dict, repr=False)
    diffusion: Any = None  # a `DiffusionSpec` when the class's method is diffusion

    def __post_init__(self) -> None:
        self.stack_fp = stack_fingerprint(self.stack)
        self.cutmix_fp = cutmix_fingerprint(self.kept)
        self.diffusion_fp = diffusion_fingerprint(self.diffusion) if self.diffusion else ""
        # Round-robin order: the plan's own order of sources first, then any kept original
        # the plan did not need (a fallback when a planned source fails to decode).
        seen = dict.fromkeys(t.source for t in self.tasks)
        self.order = tuple(seen) + tuple(p for p in self.kept if p not in seen)
        # A source that failed in an earlier run is known from its substitutes' records.
        for rec in self.records.values():
            planned = rec.get("planned_source")
            sources = rec.get("sources")
            if planned and sources and planned != sources[0] and planned not in self.recheck:
                self.bad.setdefault(planned, "failed to decode in an earlier run")

    def usable(self) -> list[str]:
        return [p for p in self.order if p not in self.bad]

    def source_for(self, ordinal: int) -> str | None:
        """The planned source, or if it does not decode the next usable one round-robin: the
        m-th slot planned on a bad source takes the m-th usable source after it."""
        planned = self.tasks[ordinal].source
        if planned not in self.bad:
            return planned
        usable = self.usable()
        if not usable:
            return None
        start = self.order.index(planned) if planned in self.order else 0
        after = [p for p in self.order[start + 1 :] + self.order[: start + 1] if p in usable]
        m = sum(1 for t in self.tasks[:ordinal] if t.source == planned)
        return after[m % len(after)]

    def generator_for(self, ordinal: int) -> str:
        if self.diffusion is not None:
            return DIFFUSION
        # With CutMix on, every other image of the class is a CutMix (it needs a donor).
        # Decided from the kept originals, not from what failed so far (timing-dependent).
        if self.cutmix and ordinal % 2 == 1 and len(self.kept) >= 2:
            return "cutmix"
        return "augment"

    def slot(self, ordinal: int) -> Slot | None:
        """The slot's current image (first attempt not rejected); None without a source."""
        source = self.source_for(ordinal)
        if source is None:
            return None
        generator = self.generator_for(ordinal)
        if generator == "cutmix" and all(p == source or p in self.bad for p in self.kept):
            # Every donor failed to decode (a CutMix try of this slot always finds that, so
            # the fallback does not depend on timing); without it the slot would retry forever.
            generator = "augment"
        fp = {"cutmix": self.cutmix_fp, DIFFUSION: self.diffusion_fp}.get(generator, self.stack_fp)
        task_seed = self.tasks[ordinal].seed
        reducible = False
        for attempt in count():
            seed = replacement_seed(task_seed, self.name, ordinal, attempt)
            iid = image_id(self.name, ordinal, seed, source, generator, fp)
            rec = self.records.get(iid)
            if iid not in self.rejected and (rec is None or rec.get("status") != "rejected"):
                return Slot(self, ordinal, attempt, seed, iid, source, generator, fp, reducible)
            if rec is not None and rec.get("reject_mode") == "reduce":
                reducible = True
        raise AssertionError("unreachable")

    def done(self, slot: Slot) -> GeneratedImage | None:
        """The slot's staged image, unless missing or made from a source that changed since."""
        rec = self.records.get(slot.id)
        if rec is None or not self._sources_unchanged(rec):
            return None
        return image_from_record(rec, self._folder())

    def _sources_unchanged(self, rec: dict) -> bool:
        """False when a source's size or mtime differs from when the image was made (a file
        corrupted or replaced since must be read again). Records written before sources were
        stat'ed have no `source_stats` and are trusted."""
        stats = rec.get("source_stats")
        if not stats:
            return True
        sources = rec.get("sources") or ()
        if not isinstance(stats, list) or len(stats) != len(sources):
            return False
        for rel, recorded in zip(sources, stats, strict=True):
            if rel not in self._stats:
                self._stats[rel] = signature(self.root, rel)
            now = self._stats[rel]
            if now is None or recorded != list(now):
                return False
        return True

    def spares(self, taken: set[str]) -> list[GeneratedImage]:
        """Staged, unrejected images of this class made with the current settings that no
        slot uses (the plan once asked for them), oldest ordinal first."""
        kept = set(self.kept) - set(self.bad)
        out = []
        for iid, rec in self.records.items():
            if iid in taken or iid in self.rejected or rec.get("status") == "rejected":
                continue
            mine = (self.diffusion_fp,) if self.diffusion else (self.stack_fp, self.cutmix_fp)
            if rec.get("fingerprint") not in mine:
                continue
            if not rec.get("sources") or not set(rec["sources"]) <= kept:
                continue
            if not self._sources_unchanged(rec):
                continue
            out.append(image_from_record(rec, self._folder()))
        out.sort(key=lambda g: (g.ordinal, g.id))
        return out

    def _folder(self) -> Path:
        return Path(self.staging) / self.name
