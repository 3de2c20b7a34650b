"""The snapshot digest is built chunk by chunk (so a job never holds the GIL for long) and
must stay the digest saved projects hold: blake2b-128 of the sorted paths, each + NUL."""

import hashlib
import random

import pytest

from imbalance_studio.core import reconcile
from imbalance_studio.core.dataset import Dataset


def by_definition(paths: list[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(paths):
        h.update(p.encode("utf-8", "surrogateescape") + b"\x00")
    return h.hexdigest()


@pytest.mark.parametrize("n", [0, 1, 6, 7, 50])
@pytest.mark.parametrize("presorted", [False, True])
def test_digest_is_the_saved_one_whatever_the_chunking(monkeypatch, n, presorted):
    monkeypatch.setattr(reconcile, "_CHUNK", 3)  # many chunks, a partial last one
    rng = random.Random(n)
    paths = [f"cls/{rng.random():.8f}-\udc80é.png" for _ in range(n)]  # undecodable bytes too
    if presorted:
        paths.sort()
    assert reconcile._paths_digest(paths) == by_definition(paths)


def test_snapshot_groups_paths_by_class_in_any_listing_order(monkeypatch):
    monkeypatch.setattr(reconcile, "_CHUNK", 2)
    paths = ["b/2.png", "a/1.png", "b/1.png", "a/0.png", "b/0.png"]
    dataset = Dataset("/d", ["a", "b", "c"], paths=paths, labels=[1, 0, 1, 0, 1])
    snap = reconcile.snapshot_of(dataset)
    assert snap["a"].count == 2 and snap["a"].digest == by_definition(["a/0.png", "a/1.png"])
    assert snap["b"].count == 3 and snap["b"].digest == by_definition(paths[::2])
    assert snap["c"].count == 0 and snap["c"].digest == by_definition([])
