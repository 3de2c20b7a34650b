"""Which two originals each synthetic vector was interpolated between.

imbalanced-learn does not expose the pairs. The SMOTE family (SMOTE, Borderline-SMOTE,
SVM-SMOTE, and the SMOTE inside SMOTE-Tomek / SMOTE-ENN) makes every new vector in one
method, `_generate_samples(X, nn_data, nn_num, rows, cols, steps, …)`, as
`X[rows] + steps * (nn_data[nn_num[rows, cols]] - X[rows])`: a subclass records the two
vectors of each pair there, and they are found back among the training rows by their exact
bytes. ADASYN interpolates inline (same maths, pairs among a class's k nearest neighbours),
so its pairs are found geometrically: the pair (a, b) with b one of a's k nearest
neighbours in its class whose segment passes closest to the synthetic vector.
"""

from __future__ import annotations

import numpy as np


def recording(cls: type) -> type:
    """`cls` (a SMOTE-family sampler) recording (base, partner, new) vectors as it makes them,
    in `recorded_` (a list of array triples), reset by every fit."""

    class Recording(cls):  # type: ignore[misc, valid-type]
        def _fit_resample(self, X, y):
            self.recorded_ = []
            return super()._fit_resample(X, y)

        def _generate_samples(self, X, nn_data, nn_num, rows, cols, steps, y_type=None, y=None):
            new = super()._generate_samples(X, nn_data, nn_num, rows, cols, steps, y_type, y)
            self.recorded_.append(
                (np.asarray(X[rows]), np.asarray(nn_data[nn_num[rows, cols]]), np.asarray(new))
            )
            return new

    Recording.__name__ = Recording.__qualname__ = cls.__name__
    Recording.__module__ = cls.__module__
    return Recording


def row_index(X: np.ndarray) -> dict[bytes, int]:
    """{row bytes: first row index} of a matrix (exact-match lookup of vectors)."""
    out: dict[bytes, int] = {}
    for i in range(len(X) - 1, -1, -1):
        out[X[i].tobytes()] = i
    return out


def recorded_pairs(recorded: list, X: np.ndarray) -> dict[bytes, tuple[int, int]]:
    """{synthetic row bytes: (base row, partner row) in X} from a recording sampler."""
    index = row_index(np.ascontiguousarray(X))
    out: dict[bytes, tuple[int, int]] = {}
    for base, partner, new in recorded:
        base = np.ascontiguousarray(base, X.dtype)
        partner = np.ascontiguousarray(partner, X.dtype)
        new = np.ascontiguousarray(new, X.dtype)
        for a, b, x in zip(base, partner, new, strict=True):
            out.setdefault(x.tobytes(), (index[a.tobytes()], index[b.tobytes()]))
    return out


def nearest_pairs(
    X: np.ndarray, y: np.ndarray, synthetic: np.ndarray, labels: np.ndarray, k: int
) -> np.ndarray:
    """For each synthetic row (class `labels[i]`), the (a, b) rows of X of that class, b among
    a's `k` nearest neighbours in the class, whose segment passes closest to it (n x 2)."""
    from sklearn.neighbors import NearestNeighbors

    out = np.full((len(synthetic), 2), -1, np.int64)
    for c in np.unique(labels):
        members = np.flatnonzero(y == c)
        Xc = X[members].astype(np.float64)
        kk = min(k, len(members) - 1)
        if kk < 1:
            out[labels == c] = members[0]
            continue
        nn = NearestNeighbors(n_neighbors=kk + 1).fit(Xc)
        neigh = nn.kneighbors(Xc, return_distance=False)[:, 1:]  # (m, kk)
        a = np.repeat(np.arange(len(members)), kk)
        b = neigh.ravel()
        A, D = Xc[a], Xc[b] - Xc[a]
        dd = np.einsum("ij,ij->i", D, D)
        for i in np.flatnonzero(labels == c):
            v = synthetic[i].astype(np.float64) - A
            t = np.clip(np.einsum("ij,ij->i", v, D) / np.where(dd > 0, dd, 1), 0, 1)
            resid = np.einsum("ij,ij->i", v, v) - 2 * t * np.einsum("ij,ij->i", v, D) + t * t * dd
            j = int(np.argmin(resid))
            out[i] = members[a[j]], members[b[j]]
    return out


def step_along(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """t with x ≈ a + t (b - a), row by row (0 where a == b)."""
    d = (b - a).astype(np.float64)
    dd = np.einsum("ij,ij->i", d, d)
    t = np.einsum("ij,ij->i", (x - a).astype(np.float64), d)
    return np.divide(t, dd, out=np.zeros_like(t), where=dd > 0)
