"""Class weights against scikit-learn and the article's worked example."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from imbalance_studio.core import weights as W


def labels_of(counts):
    return np.repeat(np.arange(len(counts)), counts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 500), min_size=2, max_size=12))
def test_balanced_equals_sklearn(counts):
    y = labels_of(counts)
    expected = compute_class_weight("balanced", classes=np.arange(len(counts)), y=y)
    np.testing.assert_allclose(W.balanced(counts), expected, rtol=1e-12)


def test_inverse_frequency_matches_article_example():
    # The article: counts [900, 80, 20] -> normalised [0.0175, 0.1965, 0.7860].
    w = W.inverse_frequency([900, 80, 20])
    np.testing.assert_allclose(w, [0.0175, 0.1965, 0.7860], atol=5e-5)
    assert sum(w) == pytest.approx(1.0)


def test_effective_number_cui_formula():
    counts = [1000, 100, 10]
    beta = 0.999
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    expected = np.array(raw) / sum(raw) * 3
    w = W.effective_number(counts, beta)
    np.testing.assert_allclose(w, expected)
    assert sum(w) == pytest.approx(3.0)
    # Rarer classes weigh more, but less than under inverse frequency (the point of it).
    assert w[2] > w[1] > w[0]
    inv = W.inverse_frequency(counts)
    assert w[2] / w[0] < inv[2] / inv[0]
    with pytest.raises(ValueError):
        W.effective_number(counts, 1.0)


def test_zero_count_gets_weight_zero_and_a_warning():
    counts = [50, 0, 10]
    assert W.balanced(counts)[1] == 0.0
    assert W.inverse_frequency(counts)[1] == 0.0
    assert W.effective_number(counts)[1] == 0.0
    assert all(np.isfinite(W.balanced(counts)))
    warnings = W.weight_warnings(["a", "b", "c"], counts, counts)
    assert any("'b' has no training images" in w for w in warnings)


def test_pos_weight_uses_original_minority_and_exported_counts():
    # Original train 900 healthy / 100 sick; exported after oversampling 900 / 450.
    pw = W.pos_weight(["healthy", "sick"], [900, 450], [900, 100])
    assert pw == {
        "value": 2.0,
        "positive_class": "sick",
        "positive_index": 1,
        "original_value": 9.0,
    }
    pw0 = W.pos_weight(["rare", "common"], [30, 300], [30, 300])
    assert pw0["positive_class"] == "rare" and pw0["value"] == 10.0
    assert W.pos_weight(["a", "b", "c"], [1, 2, 3], [1, 2, 3]) is None


def test_weights_object_and_warnings_for_balanced_split():
    counts = {
        "train": {"before": [100, 10], "after": [100, 100]},
        "val": {"before": [20, 2], "after": [20, 2]},
        "test": {"before": [20, 2], "after": [20, 2]},
    }
    obj = W.compute_weights(("cat", "dog"), counts)
    assert obj["format"] == W.WEIGHTS_FORMAT and obj["version"] == 1
    assert obj["class_to_idx"] == {"cat": 0, "dog": 1}
    assert obj["class_weight"]["balanced_train"] == [1.0, 1.0]
    np.testing.assert_allclose(
        obj["class_weight"]["balanced_original_train"],
        compute_class_weight("balanced", classes=np.arange(2), y=labels_of([100, 10])),
    )
    assert obj["keras_class_weight"] == {"0": 1.0, "1": 1.0}
    assert obj["pos_weight"]["positive_class"] == "dog"
    assert any("already balanced" in w and "double-corrects" in w for w in obj["warnings"])
    assert set(obj["notes"]) >= {"balanced_train", "balanced_original_train", "effective_number"}


def test_sampler_weights_balance_the_expected_draws():
    counts = [300, 30, 3]
    per = W.sampler_weight_per_class(counts)
    # Each class's total sampling mass is equal: the sampler draws classes uniformly.
    mass = [c * w for c, w in zip(counts, per, strict=True)]
    np.testing.assert_allclose(mass, [1.0, 1.0, 1.0])
