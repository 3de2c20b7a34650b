"""Balancing policies: fill the per-class target table in one step.

A policy looks only at the TRAINING counts after removals (see `plan.train_counts`) and
returns a `ClassTarget` per class; the user may then edit any cell. Empty classes (count 0)
take no part in the statistics (an empty class would otherwise undersample everything to 0).
"""

from __future__ import annotations

import math
import statistics

from .project import MAX_TARGET, ClassTarget, Method, target_limit_message

POLICY_HELP = "oversample, undersample, median, target:N or cap:K"
# target:N may ask for at most this many times the largest class: beyond it a class would be
# over 99% synthetic, made from the same few originals again and again.
TARGET_FACTOR = 100


def parse_policy(policy: str) -> tuple[str, float | None]:
    """Split `"cap:2.5"` into ("cap", 2.5); raises ValueError with a clear message."""
    text = policy.strip().lower()
    name, sep, arg = text.partition(":")
    name = name.strip()
    if name in ("oversample", "undersample", "median"):
        if sep:
            raise ValueError(f"policy {policy!r}: {name} takes no value")
        return name, None
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
                "(the majority is capped at K × the minority)"
            )
        return name, k
    raise ValueError(f"unknown policy {policy!r}: expected {POLICY_HELP}")


def apply_policy(
    policy: str, train_counts: dict[str, int], method: Method = Method.AUGMENT
) -> dict[str, ClassTarget]:
    """Targets for every class of `train_counts` (class name -> training count after removals).

    - `oversample`: every class up to the largest, gaps closed by `method`.
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
        target = max(counts)
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
