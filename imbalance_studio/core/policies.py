"""Balancing policies: fill the per-class target table in one step.

A policy looks only at the TRAINING counts after removals (see `plan.train_counts`) and
returns a `ClassTarget` per class; the user may then edit any cell. Empty classes (count 0)
take no part in the statistics (an empty class would otherwise undersample everything to 0).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection

from .project import MAX_TARGET, ClassTarget, Method, target_limit_message

POLICY_HELP = (
    "oversample[:F] (every class to F x the largest; F defaults to 1.5 when augmentation "
    "fills the gaps, else 1), undersample, median, target:N or cap:K"
)
# `oversample` filled by augmentation fills every class to this multiple of the largest, so
# the largest class gets new images too. Filled only up to the largest, new images exist only
# in the smaller classes, and "looks augmented" becomes a sign of a rare class that a model
# can learn in place of the class itself. On long-tailed digits (held-out verdict, 200 steps
# at 32 px, 32 training seeds): +3.0 points of balanced accuracy over raw where filling to
# the largest gave +2.5 (+0.55 +- 0.16 paired); 2 x the largest gave +3.1 for more images.
# Not for diffusion (no measurement, and each image costs seconds of a GPU) nor duplicates (a
# copy looks like its original). `oversample:1` fills to the largest only.
NEW_IMAGES_FACTOR = 1.5
# Classes this close to level (the smallest at least this share of the largest) are filled to
# the largest: the few new images then say little about any class.
NEARLY_LEVEL = 0.9
MAX_OVERSAMPLE_FACTOR = 10.0
# target:N may ask for at most this many times the largest class: beyond it a class would be
# over 99% synthetic, made from the same few originals again and again.
TARGET_FACTOR = 100


def parse_policy(policy: str) -> tuple[str, float | None]:
    """Split `"cap:2.5"` into ("cap", 2.5); raises ValueError with a clear message."""
    text = policy.strip().lower()
    name, sep, arg = text.partition(":")
    name = name.strip()
    if name in ("undersample", "median"):
        if sep:
            raise ValueError(f"policy {policy!r}: {name} takes no value")
        return name, None
    if name == "oversample":
        if not sep:
            return name, None
        try:
            f = float(arg)
        except ValueError:
            raise ValueError(
                f"policy {policy!r}: expected oversample:F with a number F (e.g. oversample:1 "
                "to fill every class up to the largest only)"
            ) from None
        if not math.isfinite(f) or not 1 <= f <= MAX_OVERSAMPLE_FACTOR:
            raise ValueError(
                f"policy {policy!r}: F must be from 1 (every class up to the largest) to "
                f"{MAX_OVERSAMPLE_FACTOR:g}"
            )
        return name, f
    if name == "target":
        try:
            n = int(arg)
        except ValueError:
            raise ValueError(
                f"policy {policy!r}: expected target:N with a whole number N"
            ) from None
        if n < 1:
            raise ValueError(
                f"policy {policy!r}: the target must be at least 1 image per class "
                "(use remove marks to drop a class's images)"
            )
        if n > MAX_TARGET:  # refused before any scan: never minutes of silent work
            raise ValueError(f"policy {policy!r}: {target_limit_message(n)}")
        return name, float(n)
    if name == "cap":
        try:
            k = float(arg)
        except ValueError:
            raise ValueError(
                f"policy {policy!r}: expected cap:K with a number K (e.g. cap:3)"
            ) from None
        if not math.isfinite(k) or k < 1:
            raise ValueError(
                f"policy {policy!r}: K must be at least 1 "
                "(every class above K × the smallest is undersampled to it)"
            )
        return name, k
    raise ValueError(f"unknown policy {policy!r}: expected {POLICY_HELP}")


def apply_policy(
    policy: str, train_counts: dict[str, int], method: Method = Method.AUGMENT
) -> dict[str, ClassTarget]:
    """Targets for every class of `train_counts` (class name -> training count after removals).

    - `oversample`: every class up to the largest, gaps closed by `method`; by augmentation
      up to `NEW_IMAGES_FACTOR` × the largest (every class then gets new images) unless the
      classes are nearly level. `oversample:F`: F × the largest.
    - `undersample`: every class down to the smallest (non-empty) class.
    - `median`: every class to the median count (rounded half up): big ones undersampled,
      small ones closed by `method`.
    - `target:N`: every class to N (ValueError above `TARGET_FACTOR` × the largest class).
    - `cap:K`: classes above floor(K × smallest) are undersampled to it; the others keep
      their count (no target).
    Classes brought down get `Method.UNDERSAMPLE`; classes raised get `method`.
    """
    if method not in (Method.AUGMENT, Method.DUPLICATE, Method.DIFFUSION):
        raise ValueError(
            f"method {method!r}: a gap is closed by augment or duplicate, or by diffusion"
        )
    name, arg = parse_policy(policy)
    counts = [n for n in train_counts.values() if n > 0]
    if not counts:
        return {c: ClassTarget(target=None, method=Method.KEEP) for c in train_counts}
    if name == "cap":
        assert arg is not None
        cap = math.floor(arg * min(counts))
        return {
            c: ClassTarget(target=cap, method=Method.UNDERSAMPLE)
            if n > cap
            else ClassTarget(target=None, method=Method.KEEP)
            for c, n in train_counts.items()
        }
    if name == "oversample":
        target = math.floor(oversample_factor(arg, counts, method) * max(counts) + 0.5)
        if target > MAX_TARGET:
            raise ValueError(
                f"policy {policy!r}: {target_limit_message(target)} (oversample:1 fills every "
                "class to the largest only)"
            )
    elif name == "undersample":
        target = min(counts)
    elif name == "median":
        target = math.floor(statistics.median(counts) + 0.5)
    else:
        assert arg is not None
        target = int(arg)
        largest = max(counts)
        if target > TARGET_FACTOR * largest:
            raise ValueError(
                f"policy {policy!r}: {target:,} is more than {TARGET_FACTOR} × the largest "
                f"class ({largest:,} training images), so nearly every image would be "
                f"synthetic; use at most target:{TARGET_FACTOR * largest}"
            )
    return {
        c: ClassTarget(target=target, method=Method.UNDERSAMPLE if n > target else method)
        for c, n in train_counts.items()
    }


def oversample_factor(arg: float | None, counts: list[int], method: Method) -> float:
    """The multiple of the largest class `oversample` fills every class to: F of
    `oversample:F`; else `NEW_IMAGES_FACTOR` when augmentation closes the gaps and the
    classes are not nearly level (see `NEARLY_LEVEL`), else 1."""
    if arg is not None:
        return arg
    uneven = min(counts) < NEARLY_LEVEL * max(counts)
    return NEW_IMAGES_FACTOR if method == Method.AUGMENT and uneven else 1.0


def describe_policy(policy: str | None, largest: int, finals: Collection[int]) -> str:
    """The policy as the export's README names it. For oversampling, what it did, from the
    plan (`largest`: the largest class's training count; `finals`: the classes' final
    training counts), not from what `oversample` means today: a project keeps its targets."""
    if not policy:
        return "none"
    try:
        name, _ = parse_policy(policy)
    except ValueError:
        return policy
    levels = set(finals)
    if name != "oversample" or len(levels) != 1 or largest < 1:
        return policy
    (target,) = levels
    if target == largest:
        return f"{policy} (every class to the largest, {target:,} training images)"
    return (
        f"{policy} (every class to {target:,} training images, {target / largest:.3g} × the "
        f"largest class's {largest:,}: the largest class gets new images too, so a new image "
        "is no sign of a rare class)"
    )
