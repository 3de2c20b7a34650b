"""Metrics from a confusion matrix, and a bootstrap interval over the validation images.

Every number comes from `confusion[i][j]` (validation images of class i predicted as j), so
the report can be checked by hand. Classes absent from the validation split have no recall;
balanced accuracy and macro-F1 average over the classes present (as scikit-learn does with
`labels=` the classes present).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

BOOTSTRAP_ROUNDS = 1000
LEVEL = 0.95


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """confusion[i, j] = how many of class i were predicted as j."""
    flat = np.asarray(y_true, np.int64) * n_classes + np.asarray(y_pred, np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def scores(cm: np.ndarray) -> dict:
    """balanced_accuracy, macro_f1, accuracy and per_class_recall (None for a class with no
    validation image) of one confusion matrix."""
    cm = np.asarray(cm, np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    hits = np.diag(cm)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=present)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(hits), where=denom > 0)
    total = cm.sum()
    return {
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "accuracy": float(hits.sum() / total) if total else 0.0,
        "per_class_recall": [float(r) if p else None for r, p in zip(recall, present, strict=True)],
    }


def bootstrap_balanced_accuracy(
    y_true: np.ndarray, preds: Mapping[str, np.ndarray], seed: int, rounds: int = BOOTSTRAP_ROUNDS
) -> dict[str, np.ndarray]:
    """Balanced accuracy of every arm on `rounds` resamples (with replacement) of the
    validation images, over the classes each resample holds. The same resamples for every
    arm, so differences between arms are paired. Not stratified on purpose: a class with one
    validation image then drops out of about a third of the resamples, and the interval
    shows how much a verdict leans on it.

    An arm's predictions may be one row per training seed (seeds x images): an image then
    scores the share of seeds that got it right, and resamples draw images, not (seed,
    image) pairs: two seeds judged on the same 83 images are not 166 images of evidence."""
    rng = np.random.default_rng(seed)
    y_true = np.asarray(y_true, np.int64)
    n = len(y_true)
    k = int(y_true.max()) + 1 if n else 1
    draw = rng.integers(0, n, size=(rounds, n))
    truth = y_true[draw]
    # support[b, c]: images of class c in resample b (same for every arm).
    offsets = (np.arange(rounds) * k)[:, None]
    support = np.bincount((truth + offsets).ravel(), minlength=rounds * k).reshape(rounds, k)
    present = support > 0
    out = {}
    for arm, pred in preds.items():
        per_image = (np.atleast_2d(np.asarray(pred)) == y_true).mean(axis=0)
        hit = per_image[draw]
        hits = np.bincount((truth + offsets).ravel(), weights=hit.ravel(), minlength=rounds * k)
        recall = np.divide(
            hits.reshape(rounds, k), support, out=np.zeros((rounds, k)), where=present
        )
        out[arm] = recall.sum(axis=1) / present.sum(axis=1)
    return out


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)
