"""Resample the TRAINING vectors (only ever the training split) with imbalanced-learn.

Samplers: `smote` (default), `borderline-smote`, `svm-smote`, `adasyn`, `smote-tomek`,
`smote-enn` (SMOTE, then a cleaning step that may also drop originals), `random` (plain
duplication of originals) and `none`. Every synthetic row carries the two training rows it
was interpolated between (`sources`) and where on that segment it lies (`step`: x = a + step
(b - a); SVM-SMOTE's extrapolated "safe" samples have a negative step; a duplicate has a == b).

A k-neighbour sampler needs k + 1 members in every class it grows: `k_neighbors` is lowered
to fit the smallest such class, with a note, and a class of one image is grown by plain
duplication, with a note; imbalanced-learn's "Expected n_neighbors <= n_samples" never
reaches the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .featurize import SplitVectors
from .sources import nearest_pairs, recorded_pairs, recording, step_along

SAMPLERS: dict[str, str] = {
    "smote": "SMOTE: interpolate between a vector and one of its k nearest neighbours",
    "borderline-smote": "Borderline-SMOTE: interpolate only from vectors near other classes",
    "svm-smote": "SVM-SMOTE: interpolate (and extrapolate) around an SVM's support vectors",
    "adasyn": "ADASYN: more new vectors where the class is harder to learn",
    "smote-tomek": "SMOTE, then remove Tomek links (pairs of nearest neighbours of two classes)",
    "smote-enn": "SMOTE, then remove vectors their nearest neighbours mostly disagree with",
    "random": "duplicate random originals (no new vectors)",
    "none": "leave the training vectors as they are",
}
DEFAULT_SAMPLER = "smote"
K_NEIGHBORS = 5  # imbalanced-learn's default for every k-neighbour sampler
M_NEIGHBORS = 10  # Borderline-/SVM-SMOTE's neighbourhood that finds the "danger" vectors


class FeaturesError(Exception):
    """A feature export that cannot be done; the message is for the user."""


@dataclass
class Resampled:
    """The training rows after resampling: originals first (in the order given), then the
    synthetic rows; `sources` are rows of this very matrix (-1: an original, or a source
    original a cleaning step removed; `source_paths` names it either way)."""

    X: np.ndarray
    y: np.ndarray
    synthetic: np.ndarray  # bool
    paths: list[str]  # "" for synthetic rows
    sources: np.ndarray  # int64 (n, 2)
    source_paths: list[tuple[str, str]]  # per row; ("", "") for originals
    step: np.ndarray  # float64, NaN for originals
    sampler: str
    params: dict
    seed: int
    notes: list[str] = field(default_factory=list)


def default_targets(counts: list[int]) -> dict[int, int]:
    """Every class with images up to the largest class."""
    top = max(counts, default=0)
    return {c: top for c, n in enumerate(counts) if n}


def resample_train(
    train: SplitVectors,
    classes: tuple[str, ...],
    sampler: str = DEFAULT_SAMPLER,
    seed: int = 0,
    targets: dict[int, int] | None = None,
    k_neighbors: int = K_NEIGHBORS,
) -> Resampled:
    """Resample `train` towards `targets` ({class index: final count}; default: every class
    up to the largest). Deterministic for the same rows, sampler, targets and seed."""
    if sampler not in SAMPLERS:
        raise FeaturesError(f"unknown sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    X, y = train.X, train.y
    counts = np.bincount(y, minlength=len(classes)).tolist()
    targets = default_targets(counts) if targets is None else targets
    notes: list[str] = []
    grow = {c: t for c, t in targets.items() if t > counts[c]}
    for c in [c for c in grow if counts[c] == 0]:
        notes.append(f"{classes[c]}: no training image to make new vectors from")
        del grow[c]
    single = {c: t for c, t in grow.items() if counts[c] == 1}
    interpolate = {c: t for c, t in grow.items() if counts[c] > 1}
    if sampler == "none" or not grow:
        return _unchanged(train, sampler, seed, notes)
    if sampler == "random":
        interpolate, single = {}, grow
    elif single:
        names = ", ".join(classes[c] for c in single)
        notes.append(
            f"{names}: one training image, so nothing to interpolate with: duplicated instead"
        )
    k = k_neighbors
    if interpolate:
        smallest = min(counts[c] for c in interpolate)
        if smallest - 1 < k:
            k = smallest - 1
            who = ", ".join(classes[c] for c in interpolate if counts[c] == smallest)
            notes.append(
                f"k_neighbors lowered from {k_neighbors} to {k}: {who} has only {smallest} "
                f"training images ({sampler} needs k_neighbors + 1)"
            )
    rows = np.arange(len(y))
    kept = rows  # original rows kept (a cleaning step may drop some)
    syn_X: list[np.ndarray] = []
    syn_y: list[np.ndarray] = []
    syn_src: list[np.ndarray] = []
    params: dict = {}
    if interpolate:
        est = _sampler(sampler, seed, interpolate, k, len(y))
        params = _jsonable(est.get_params(deep=False), classes)
        try:
            X_res, _y_res = est.fit_resample(X, y)
        except (ValueError, RuntimeError) as exc:
            raise FeaturesError(
                f"{sampler} could not resample these vectors ({exc}); try smote"
            ) from exc
        y_res = np.asarray(_y_res, np.int64)
        cleaner = getattr(est, "tomek_", None) or getattr(est, "enn_", None)
        n0 = len(y)
        if cleaner is not None:
            X_in, y_in = est.cleaner_input_
            chosen = np.asarray(cleaner.sample_indices_)
            kept = np.sort(chosen[chosen < n0])
            new_rows = np.sort(chosen[chosen >= n0])
            X_new, y_new = X_in[new_rows], y_in[new_rows]
            recorded = est.smote_.recorded_
        else:
            X_new, y_new = X_res[n0:], y_res[n0:]
            recorded = getattr(est, "recorded_", None)
        if recorded is not None:
            pairs = recorded_pairs(recorded, X)
            new_c = np.ascontiguousarray(X_new)
            src = np.array([pairs.get(x.tobytes(), (-1, -1)) for x in new_c], np.int64)
            lost = np.flatnonzero(src[:, 0] < 0)  # not expected; found geometrically then
            if len(lost):
                src[lost] = nearest_pairs(X, y, new_c[lost], np.asarray(y_new)[lost], k)
        else:  # ADASYN interpolates inline: its pairs are found geometrically
            src = nearest_pairs(X, y, X_new, y_new, k)
        syn_X.append(np.asarray(X_new, np.float32))
        syn_y.append(np.asarray(y_new, np.int64))
        syn_src.append(src.reshape(-1, 2))
    if single:  # plain duplication: `random`, and classes of one image
        from imblearn.over_sampling import RandomOverSampler

        ros = RandomOverSampler(sampling_strategy=single, random_state=seed)
        ros.fit_resample(X, y)
        pick = np.asarray(ros.sample_indices_[len(y) :], np.int64)
        syn_X.append(X[pick])
        syn_y.append(y[pick])
        syn_src.append(np.stack([pick, pick], axis=1))
        duplicated = _jsonable(ros.get_params(deep=False), classes)
        if params:
            params["duplicated"] = duplicated
        else:
            params = duplicated
    return _assemble(
        train, kept, syn_X, syn_y, syn_src, sampler, params, seed, notes, classes, grow
    )


def _sampler(name: str, seed: int, strategy: dict[int, int], k: int, n: int):
    from imblearn import combine, over_sampling

    m = max(1, min(M_NEIGHBORS, n - 1))
    if name == "smote":
        return recording(over_sampling.SMOTE)(sampling_strategy=strategy, random_state=seed,
                                              k_neighbors=k)  # fmt: skip
    if name == "borderline-smote":
        return recording(over_sampling.BorderlineSMOTE)(
            sampling_strategy=strategy, random_state=seed, k_neighbors=k, m_neighbors=m
        )
    if name == "svm-smote":
        return recording(over_sampling.SVMSMOTE)(
            sampling_strategy=strategy, random_state=seed, k_neighbors=k, m_neighbors=m
        )
    if name == "adasyn":
        return over_sampling.ADASYN(sampling_strategy=strategy, random_state=seed, n_neighbors=k)
    inner = recording(over_sampling.SMOTE)(
        sampling_strategy=strategy, random_state=seed, k_neighbors=k
    )
    cls = combine.SMOTETomek if name == "smote-tomek" else combine.SMOTEENN
    return _keeping_input(cls)(smote=inner, random_state=seed)


def _keeping_input(cls: type) -> type:
    """SMOTE-Tomek / SMOTE-ENN keeping the SMOTE output its cleaner saw (`cleaner_input_`),
    so the cleaner's `sample_indices_` can be mapped back to originals and new rows."""

    class Keeping(cls):  # type: ignore[misc, valid-type]
        def _fit_resample(self, X, y):
            self._validate_estimator()
            X_res, y_res = self.smote_.fit_resample(X, y)
            self.cleaner_input_ = (np.asarray(X_res), np.asarray(y_res))
            cleaner = getattr(self, "tomek_", None) or self.enn_
            return cleaner.fit_resample(X_res, y_res)

    Keeping.__name__ = Keeping.__qualname__ = cls.__name__
    Keeping.__module__ = cls.__module__
    return Keeping


def _unchanged(train: SplitVectors, sampler: str, seed: int, notes: list[str]) -> Resampled:
    n = len(train.y)
    return Resampled(
        train.X, train.y, np.zeros(n, bool), list(train.paths), np.full((n, 2), -1, np.int64),
        [("", "")] * n, np.full(n, np.nan), sampler, {}, seed, notes,
    )  # fmt: skip


def _assemble(train, kept, syn_X, syn_y, syn_src, sampler, params, seed, notes, classes,
              targets):  # fmt: skip
    X0, y0 = train.X[kept], train.y[kept]
    n_new = sum(len(a) for a in syn_y)
    d = train.X.shape[1]
    X_new = np.concatenate(syn_X) if syn_X else np.zeros((0, d), np.float32)
    y_new = np.concatenate(syn_y) if syn_y else np.zeros(0, np.int64)
    src_old = np.concatenate(syn_src) if syn_src else np.zeros((0, 2), np.int64)
    # Sources as rows of the output: original row i sits at position pos[i] (-1: dropped).
    pos = np.full(len(train.y), -1, np.int64)
    pos[kept] = np.arange(len(kept))
    n0 = len(kept)
    src_paths = [("", "")] * n0 + [(train.paths[a], train.paths[b]) for a, b in src_old.tolist()]
    step = np.concatenate(
        [np.full(n0, np.nan), step_along(X_new, train.X[src_old[:, 0]], train.X[src_old[:, 1]])]
    ) if n_new else np.full(n0, np.nan)  # fmt: skip
    dropped = len(train.y) - n0
    if dropped:
        notes.append(f"{sampler}: its cleaning step removed {dropped} original training vectors")
    made = np.bincount(y_new, minlength=len(classes))
    short = [
        f"{classes[c]} ({int(made[c])} of {t - int(np.sum(train.y == c))})"
        for c, t in sorted(targets.items())
        if made[c] < t - int(np.sum(train.y == c))
    ]
    if short:
        notes.append(
            f"{sampler} made fewer new vectors than the targets ask for: " + ", ".join(short)
        )
    return Resampled(
        X=np.concatenate([X0, X_new]).astype(np.float32, copy=False),
        y=np.concatenate([y0, y_new]).astype(np.int64, copy=False),
        synthetic=np.concatenate([np.zeros(n0, bool), np.ones(n_new, bool)]),
        paths=[train.paths[i] for i in kept] + [""] * n_new,
        sources=np.concatenate([np.full((n0, 2), -1, np.int64), pos[src_old]]),
        source_paths=src_paths,
        step=step,
        sampler=sampler,
        params=params,
        seed=seed,
        notes=notes,
    )


def _jsonable(params: dict, classes: tuple[str, ...]) -> dict:
    """A sampler's parameters as JSON: class indices named, estimators as their parameters."""
    out: dict = {}
    for key, value in sorted(params.items()):
        if key == "sampling_strategy" and isinstance(value, dict):
            out[key] = {classes[int(c)]: int(n) for c, n in sorted(value.items())}
        elif hasattr(value, "get_params"):
            out[key] = {"estimator": type(value).__name__,
                        **_jsonable(value.get_params(deep=False), classes)}  # fmt: skip
        elif value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        else:
            out[key] = repr(value)
    return out
