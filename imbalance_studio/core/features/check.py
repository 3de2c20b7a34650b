"""Did resampling help an SVM? `svc_check` trains scikit-learn's `SVC()` (default settings)
on the original training vectors and on the resampled ones and scores both on the
validation vectors with the metrics an imbalanced problem needs: balanced accuracy, macro-F1,
per-class recall and imbalanced-learn's geometric mean (never plain accuracy).

`projection` gives the 2-D PCA view of the training vectors before and after resampling
(fitted on the originals, so both views share one set of axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    balanced_accuracy: float
    macro_f1: float
    geometric_mean: float
    recall: list[float]  # per class, in class order (NaN: no validation vector of the class)


@dataclass(frozen=True)
class SvcCheck:
    original: Scores
    resampled: Scores
    n_val: int

    @property
    def helped(self) -> bool:
        return self.resampled.balanced_accuracy > self.original.balanced_accuracy


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> Scores:
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    present = np.unique(y_true)
    labels = list(range(n_classes))
    recall = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    recall = [float(r) if c in present else float("nan") for c, r in enumerate(recall)]
    return Scores(
        balanced_accuracy=float(balanced_accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        geometric_mean=float(geometric_mean_score(y_true, y_pred, labels=present)),
        recall=recall,
    )


def svc_check(original, resampled, val, n_classes: int) -> SvcCheck:
    """`SVC()` on `original` (SplitVectors of train) vs on `resampled` (a `Resampled`),
    both judged on `val`. ValueError when validation is empty or train has one class."""
    from sklearn.svm import SVC

    if len(val.y) == 0:
        raise ValueError("the validation split is empty: nothing to judge the SVM on")
    if len(np.unique(original.y)) < 2:
        raise ValueError("the training split holds one class: an SVM needs two")
    before = SVC().fit(original.X, original.y).predict(val.X)
    after = SVC().fit(resampled.X, resampled.y).predict(val.X)
    return SvcCheck(scores(val.y, before, n_classes), scores(val.y, after, n_classes), len(val.y))


@dataclass(frozen=True)
class Projection:
    before: np.ndarray  # (n_original, 2)
    after: np.ndarray  # (n_resampled, 2)
    explained: tuple[float, float]  # share of variance of each axis


def projection(original: np.ndarray, resampled: np.ndarray, seed: int = 0) -> Projection:
    """2-D PCA of the training vectors, fitted on the originals, applied to both."""
    from sklearn.decomposition import PCA

    n = min(2, original.shape[0], original.shape[1])
    pca = PCA(n_components=n, random_state=seed).fit(original)
    pad = (lambda a: np.pad(a, ((0, 0), (0, 2 - n)))) if n < 2 else (lambda a: a)
    ratio = list(pca.explained_variance_ratio_) + [0.0] * (2 - n)
    return Projection(
        pad(pca.transform(original)), pad(pca.transform(resampled)), (ratio[0], ratio[1])
    )
