"""Class weights, pos_weight and per-sample weights for the exported training split.

Everything is computed from per-class counts (ImageFolder order), so the numbers written to
`weights.json` can be checked by hand. No scikit-learn or torch import here: the tests compare
`balanced` to `sklearn.utils.class_weight.compute_class_weight`.

`weights.json` (format "imbalance-studio-weights", version 1)::

    {
      "format": "imbalance-studio-weights", "version": 1,
      "classes": [names in ImageFolder order], "class_to_idx": {name: index},
      "counts": {SPLIT: {"before": [per class], "after": [per class]}},
          # before = originals of the class assigned to the split,
          # after  = files exported (train: kept + duplicates + generated)
      "class_weight": {
        "balanced_train": [...],          # sklearn 'balanced' on the EXPORTED train split
        "balanced_original_train": [...], # sklearn 'balanced' on the ORIGINAL train split
        "inverse_frequency": [...],       # 1/count, normalised to sum to 1 (exported train)
        "effective_number": {"beta": b, "weights": [...]}  # Cui et al. 2019 (exported train)
      },
      "keras_class_weight": {"0": w, ...},  # = balanced_train, keys are str(class index)
      "pos_weight": {"value": neg/pos, "positive_class": name, "positive_index": i,
                     "original_value": neg/pos on the original train split} | null,
      "sampler_weights": {"file": "sampler_weights.csv", "split": "train",
                          "num_samples": n, "replacement": true},
      "warnings": [...], "notes": {key: which distribution the number came from}
    }

A class with no images gets weight 0 (a loss weight for a class that never occurs has no
effect, and an infinite weight would poison the loss) and a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

WEIGHTS_FORMAT = "imbalance-studio-weights"
WEIGHTS_VERSION = 1

# Cui et al. (CVPR 2019) report beta = 0.999 as a good default for long-tailed image sets;
# with it, classes below ~100 images are weighted almost by inverse frequency and classes above
# a few thousand saturate, which is the point of the "effective number".
DEFAULT_BETA = 0.999

# The exported split counts as balanced when its largest class is at most this much larger
# than its smallest.
BALANCED_RATIO = 1.05


def balanced(counts: Sequence[int]) -> list[float]:
    """scikit-learn's 'balanced' weights: n_samples / (n_classes * count); 0 for empty classes.

    n_classes is the number of classes of the model (every ImageFolder class, empty or not).
    """
    n = sum(counts)
    k = len(counts)
    return [n / (k * c) if c > 0 else 0.0 for c in counts]


def inverse_frequency(counts: Sequence[int]) -> list[float]:
    """1/count normalised to sum to 1, as in the article's example ([900, 80, 20] ->
    [0.0175, 0.1965, 0.7860]); 0 for empty classes."""
    inv = [1.0 / c if c > 0 else 0.0 for c in counts]
    total = sum(inv)
    return [w / total for w in inv] if total > 0 else inv


def effective_number(counts: Sequence[int], beta: float = DEFAULT_BETA) -> list[float]:
    """Cui et al. 2019 class-balanced weights: (1 - beta) / (1 - beta**n), normalised so the
    weights sum to the number of classes (as in the paper's code); 0 for empty classes."""
    if not 0.0 <= beta < 1.0:
        raise ValueError("beta must be in [0, 1)")
    raw = [(1.0 - beta) / (1.0 - beta**c) if c > 0 else 0.0 for c in counts]
    total = sum(raw)
    return [w * len(counts) / total for w in raw] if total > 0 else raw


def keras_class_weight(weights: Sequence[float]) -> dict[str, float]:
    """Keras `model.fit(class_weight=...)` mapping; JSON keys are strings, convert with int()."""
    return {str(i): float(w) for i, w in enumerate(weights)}


def pos_weight(
    classes: Sequence[str], counts: Sequence[int], original_counts: Sequence[int]
) -> dict | None:
    """`BCEWithLogitsLoss(pos_weight=...)` for two classes, else None.

    The positive class is the minority of the ORIGINAL training split (the one the user cares
    about finding; after balancing both may be equal). On a tie, class index 1 is positive, the
    usual binary convention. value = negatives / positives on the exported train split.
    """
    if len(classes) != 2:
        return None
    pos = 0 if original_counts[0] < original_counts[1] else 1
    neg = 1 - pos

    def ratio(c: Sequence[int]) -> float | None:
        return c[neg] / c[pos] if c[pos] > 0 else None

    return {
        "value": ratio(counts),
        "positive_class": classes[pos],
        "positive_index": pos,
        "original_value": ratio(original_counts),
    }


def sampler_weight_per_class(counts: Sequence[int]) -> list[float]:
    """Per-sample weight of an image of each class for `WeightedRandomSampler`: 1 / count."""
    return [1.0 / c if c > 0 else 0.0 for c in counts]


def weight_warnings(
    classes: Sequence[str], counts: Sequence[int], original_counts: Sequence[int]
) -> list[str]:
    """Plain-language warnings about which numbers to use (and which not to combine)."""
    out: list[str] = []
    for name, c in zip(classes, counts, strict=True):
        if c == 0:
            out.append(
                f"class '{name}' has no training images: its weights are 0 and the model "
                "cannot learn it"
            )
    present = [c for c in counts if c > 0]
    oversampled = any(a > b for a, b in zip(counts, original_counts, strict=True))
    if present and max(present) <= BALANCED_RATIO * min(present):
        out.append(
            "the exported training split is already balanced, so balanced_train weights are "
            "all ~1: train with an unweighted loss (or balanced_train). Do not use "
            "balanced_original_train, inverse_frequency or effective_number on this split: "
            "re-weighting on top of balancing double-corrects and over-predicts the minority"
        )
    elif oversampled:
        out.append(
            "the training split was oversampled and is still imbalanced: balanced_train "
            "corrects what is left; weights from the original distribution "
            "(balanced_original_train) would double-correct"
        )
    if oversampled:
        out.append(
            "WeightedRandomSampler with sampler_weights.csv balances batches by itself: use it "
            "OR a weighted loss, not both"
        )
    return out


def weights_notes(beta: float) -> dict[str, str]:
    return {
        "counts": "before = originals assigned to the split; after = files exported",
        "balanced_train": "n_samples / (n_classes * count) on the exported train split "
        "(scikit-learn compute_class_weight('balanced')); for CrossEntropyLoss(weight=...)",
        "balanced_original_train": "the same formula on the original train split, before "
        "balancing: use it only when training on the original, un-balanced split",
        "inverse_frequency": "1 / count on the exported train split, normalised to sum to 1",
        "effective_number": f"Cui et al. 2019, (1 - beta) / (1 - beta^count) on the exported "
        f"train split with beta = {beta}, normalised to sum to n_classes",
        "keras_class_weight": "balanced_train keyed by str(class index) (JSON keys are "
        "text): model.fit(class_weight={int(k): v for k, v in w['keras_class_weight'].items()})",
        "pos_weight": "negatives / positives on the exported train split for "
        "BCEWithLogitsLoss; targets must be 1 for positive_class, i.e. "
        "(label == positive_index); original_value is the same on the original train split",
        "sampler_weights": "sampler_weights.csv: one row per exported train file in "
        "ImageFolder order (path relative to the export, class_index, weight = 1 / count of "
        "its class in the exported train split), for WeightedRandomSampler",
        "zero_counts": "a class with no images gets weight 0",
    }


def compute_weights(
    classes: Sequence[str],
    counts: dict[str, dict[str, list[int]]],
    beta: float = DEFAULT_BETA,
) -> dict:
    """The `weights.json` object. `counts` is {split: {"before": [...], "after": [...]}} and
    must hold "train"; the weights use train "after" (exported) and "before" (original)."""
    after = list(counts["train"]["after"])
    before = list(counts["train"]["before"])
    bal = balanced(after)
    return {
        "format": WEIGHTS_FORMAT,
        "version": WEIGHTS_VERSION,
        "classes": list(classes),
        "class_to_idx": {name: i for i, name in enumerate(classes)},
        "counts": {
            s: {"before": list(c["before"]), "after": list(c["after"])} for s, c in counts.items()
        },
        "class_weight": {
            "balanced_train": bal,
            "balanced_original_train": balanced(before),
            "inverse_frequency": inverse_frequency(after),
            "effective_number": {"beta": beta, "weights": effective_number(after, beta)},
        },
        "keras_class_weight": keras_class_weight(bal),
        "pos_weight": pos_weight(classes, after, before),
        "sampler_weights": {
            "file": "sampler_weights.csv",
            "split": "train",
            "num_samples": sum(after),
            "replacement": True,
        },
        "warnings": weight_warnings(classes, after, before),
        "notes": weights_notes(beta),
    }
