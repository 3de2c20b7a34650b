"""Near-duplicate search over 64-bit perceptual hashes without comparing every pair.

Multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with multi-index
hashing", CVPR 2012): the hash is cut into four 16-bit bands. Two hashes within Hamming
distance `t` differ in at most `t // 4` bits of at least one band (pigeonhole), so every such
pair is found by looking each hash's bands up in four direct-address tables of 65,536
buckets, probing every band value within `t // 4` bits. Each probe is a vectorised gather over
all hashes; candidates are then checked on the whole 64 bits. Identical hashes are collapsed
first, so a folder of a thousand copies of one picture costs no more than one.

A few thousand distinct hashes are instead compared all against all, a block of rows at a
time: for a thousand images that is two vectorised passes over half a million pairs (~5 ms),
where the index's ~550 probes, each a handful of small numpy calls, take ~25 ms. Both give
the same pairs (tests compare them).

Groups are the connected components of the pair graph (a union-find in rounds of numpy).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..arrays import sorted_unique

BANDS = 4
BAND_BITS = 16
#: The largest threshold searched with the index (radius 4 per band: 2,517 probes a band).
MAX_THRESHOLD = 16
# Images sharing one hash are listed pair by pair up to this many; a larger crowd (a folder
# of blank frames) is joined by a star, so the pairs (and the leak count) stay linear.
_ALL_PAIRS = 64
# Up to this many distinct hashes, every pair is compared (`_direct_pairs`); above it, the
# index. Measured at threshold 10 (random hashes): 1.5 vs 24 ms at 500, 4.6 vs 27 ms at
# 1,000, 19 vs 35 ms at 3,000, and the index ahead from about 3,500 on.
DIRECT_MAX = 3000
# Rows per block of the direct comparison: a block is DIRECT_ROWS x m distances (12 MiB of
# uint64 at m = DIRECT_MAX).
DIRECT_ROWS = 512


def _masks(bits: int, radius: int) -> np.ndarray:
    """Every `bits`-bit value with at most `radius` bits set."""
    out = [0]
    for r in range(1, radius + 1):
        out += [sum(1 << b for b in combo) for combo in combinations(range(bits), r)]
    return np.array(out, dtype=np.int64)


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x)


def near_pairs(hashes: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i, j), i < j, of `hashes` (uint64) within Hamming distance
    `threshold`, as two int64 arrays sorted by (i, j). Among more than 64 images with one
    hash, only a star of pairs is listed (enough to group them)."""
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"near-duplicate threshold must be 0 to {MAX_THRESHOLD} bits")
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = len(hashes)
    empty = np.empty(0, dtype=np.int64)
    if n < 2:
        return empty, empty
    uniq, inverse = np.unique(hashes, return_inverse=True)
    pi, pj = _unique_pairs(uniq, threshold)
    # Back from unique hashes to images: every image of hash a pairs with every image of
    # hash b, and images sharing one hash pair with each other.
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=len(uniq))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out_i, out_j = [], []
    for u in np.flatnonzero(counts > 1):
        members = order[starts[u] : starts[u] + counts[u]]
        if len(members) <= _ALL_PAIRS:
            a, b = np.triu_indices(len(members), 1)
            out_i.append(members[a])
            out_j.append(members[b])
        else:  # a star joins them just as well, without millions of pairs
            out_i.append(np.repeat(members[0], len(members) - 1))
            out_j.append(members[1:])
    for a, b in zip(pi.tolist(), pj.tolist(), strict=True):
        ma = order[starts[a] : starts[a] + counts[a]]
        mb = order[starts[b] : starts[b] + counts[b]]
        if len(ma) * len(mb) > _ALL_PAIRS**2 // 2:
            ma, mb = ma[:1], mb[:1]  # their own stars join the rest
        out_i.append(np.repeat(ma, len(mb)))
        out_j.append(np.tile(mb, len(ma)))
    if not out_i:
        return empty, empty
    i = np.concatenate(out_i).astype(np.int64)
    j = np.concatenate(out_j).astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = sorted_unique(lo * n + hi)
    return key // n, key % n


def _unique_pairs(uniq: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b), a < b, of distinct hashes within `threshold`, sorted by (a, b)."""
    m = len(uniq)
    empty = np.empty(0, dtype=np.int64)
    if m < 2 or threshold == 0:
        return empty, empty
    if m <= DIRECT_MAX:
        return _direct_pairs(uniq, threshold)
    return _index_pairs(uniq, threshold)


def _direct_pairs(uniq: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair compared, DIRECT_ROWS rows at a time against the hashes after them."""
    m = len(uniq)
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    for start in range(0, m - 1, DIRECT_ROWS):
        rows = uniq[start : start + DIRECT_ROWS]
        # Rows against the hashes from the block's first on; of the block's own square only
        # the pairs above the diagonal are kept (filtered after `nonzero`: hits are few).
        r, c = np.nonzero(_popcount(rows[:, None] ^ uniq[None, start:]) <= threshold)
        keep = c > r
        found_i.append(r[keep] + start)
        found_j.append(c[keep] + start)
    return np.concatenate(found_i).astype(np.int64), np.concatenate(found_j).astype(np.int64)


def _index_pairs(uniq: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """The multi-index search (see the module's docstring)."""
    m = len(uniq)
    empty = np.empty(0, dtype=np.int64)
    masks = _masks(BAND_BITS, threshold // BANDS)
    found: list[np.ndarray] = []
    size = 1 << BAND_BITS
    everyone = np.arange(m, dtype=np.int64)
    for band in range(BANDS):
        keys = ((uniq >> np.uint64(band * BAND_BITS)) & np.uint64(size - 1)).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=size)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # A pair in buckets k and k ^ mask is found from one end only: the hash whose key has
        # the mask's top bit clear. Hashes sharing a bucket (mask 0) are found from both.
        clear = [everyone[(keys >> bit) & 1 == 0] for bit in range(BAND_BITS)]
        for mask in masks.tolist():
            probers = clear[mask.bit_length() - 1] if mask else everyone
            probe = keys[probers] ^ mask
            hits = counts[probe]
            sel = hits > 0
            if not sel.any():
                continue
            ids, c, first = probers[sel], hits[sel], starts[probe[sel]]
            rows, cols = _expand(ids, c, first, order)
            if not mask:
                keep = rows < cols  # found from both ends: once
                rows, cols = rows[keep], cols[keep]
            close = _popcount(uniq[rows] ^ uniq[cols]) <= threshold
            if close.any():
                r, q = rows[close], cols[close]
                found.append(np.minimum(r, q) * m + np.maximum(r, q))
    if not found:
        return empty, empty
    key = sorted_unique(np.concatenate(found))
    return key // m, key % m


def _expand(ids, counts, first, order):
    """Every (prober, member of its probed bucket) pair, as two index arrays."""
    total = int(counts.sum())
    rows = np.repeat(ids, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, order[np.repeat(first, counts) + offsets]


def components(n: int, i: np.ndarray, j: np.ndarray) -> list[list[int]]:
    """Connected components with at least two members, each sorted, in order of their
    smallest member."""
    if not len(i):
        return []
    labels = _component_labels(n, np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))
    involved = sorted_unique(np.concatenate([i, j]))
    by_label: dict[int, list[int]] = {}
    for k in involved.tolist():
        by_label.setdefault(int(labels[k]), []).append(k)
    groups = [members for members in by_label.values() if len(members) > 1]
    groups.sort(key=lambda g: g[0])
    return groups


def _component_labels(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Each node's component, named by its smallest node: union-find in rounds of numpy.

    Every round hooks the larger root of each edge whose ends differ onto the smaller one,
    then compresses every path to its root; the roots only ever point down, so no cycle forms
    and each round removes a root. Written in numpy rather than with scipy's
    `connected_components`, whose import (~300 ms of CPU) cost more than the whole
    inspection of a cached folder.
    """
    labels = np.arange(n, dtype=np.int64)
    while True:
        a, b = labels[i], labels[j]
        apart = a != b
        if not apart.any():
            return labels
        low, high = np.minimum(a[apart], b[apart]), np.maximum(a[apart], b[apart])
        np.minimum.at(labels, high, low)
        while True:
            up = labels[labels]
            if np.array_equal(up, labels):
                break
            labels = up
