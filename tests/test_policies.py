import pytest
from hypothesis import given
from hypothesis import strategies as st

from imbalance_studio.core.policies import apply_policy, describe_policy, parse_policy
from imbalance_studio.core.project import ClassTarget, Method

COUNTS = {"a": 100, "b": 40, "c": 10, "d": 25}


def targets(result: dict[str, ClassTarget]) -> dict[str, int | None]:
    return {c: t.target for c, t in result.items()}


def test_oversample_raises_every_class_to_the_largest_by_the_chosen_method():
    dup = apply_policy("oversample", COUNTS, Method.DUPLICATE)
    assert targets(dup) == dict.fromkeys(COUNTS, 100)
    assert {t.method for t in dup.values()} == {Method.DUPLICATE}
    plain = apply_policy("oversample:1", COUNTS)
    assert targets(plain) == dict.fromkeys(COUNTS, 100)
    assert {t.method for t in plain.values()} == {Method.AUGMENT}


def test_oversample_by_augmentation_gives_the_largest_class_new_images_too():
    """Filled only up to the largest, new images would exist only in the smaller classes."""
    result = apply_policy("oversample", COUNTS)
    assert targets(result) == dict.fromkeys(COUNTS, 150)
    assert {t.method for t in result.values()} == {Method.AUGMENT}
    assert targets(apply_policy("oversample", {"a": 7, "b": 2})) == {"a": 11, "b": 11}  # 10.5 up
    # Level or nearly level classes (within 10%) are filled to the largest only.
    for level in ({"a": 40, "b": 40, "empty": 0}, {"a": 100, "b": 91}):
        assert targets(apply_policy("oversample", level)) == dict.fromkeys(
            level, max(level.values())
        )
    assert targets(apply_policy("oversample", {"a": 100, "b": 89}))["b"] == 150
    # Diffusion (unmeasured, seconds of a GPU an image) and duplicates: to the largest.
    for method in (Method.DIFFUSION, Method.DUPLICATE):
        assert targets(apply_policy("oversample", COUNTS, method)) == dict.fromkeys(COUNTS, 100)


def test_oversample_takes_the_multiple_of_the_largest():
    assert targets(apply_policy("oversample:2", COUNTS)) == dict.fromkeys(COUNTS, 200)
    assert targets(apply_policy("oversample:1.25", COUNTS, Method.DUPLICATE)) == dict.fromkeys(
        COUNTS, 125
    )
    assert parse_policy(" Oversample:1.5 ") == ("oversample", 1.5)
    for bad in ("oversample:", "oversample:x", "oversample:0.5", "oversample:11", "oversample:nan"):
        with pytest.raises(ValueError, match="oversample"):
            parse_policy(bad)
    with pytest.raises(ValueError, match=r"limit.*oversample:1 fills"):
        apply_policy("oversample", {"a": 900_000, "b": 1})


def test_the_report_says_what_oversample_did_from_the_plan_not_from_today_s_rule():
    text = describe_policy("oversample", 630, [945, 945, 945])
    assert "every class to 945 training images, 1.5 × the largest class's 630" in text
    # A project saved when oversample filled to the largest keeps its targets: said so.
    assert describe_policy("oversample", 630, [630, 630]) == (
        "oversample (every class to the largest, 630 training images)"
    )
    assert describe_policy("oversample", 630, [630, 700]) == "oversample"  # edited by hand
    assert describe_policy(None, 5, [5]) == "none"
    assert describe_policy("cap:3", 30, [10]) == "cap:3"


def test_undersample_lowers_every_class_to_the_smallest():
    result = apply_policy("undersample", COUNTS)
    assert targets(result) == dict.fromkeys(COUNTS, 10)
    assert result["a"].method == Method.UNDERSAMPLE
    assert result["c"].method == Method.AUGMENT  # already there: nothing to do either way


def test_median_meets_in_the_middle_rounding_half_up():
    result = apply_policy("median", COUNTS)  # median of 10, 25, 40, 100 = 32.5 -> 33
    assert targets(result) == dict.fromkeys(COUNTS, 33)
    assert result["a"].method == Method.UNDERSAMPLE and result["b"].method == Method.UNDERSAMPLE
    assert result["c"].method == Method.AUGMENT and result["d"].method == Method.AUGMENT


def test_fixed_target():
    result = apply_policy("target:50", COUNTS, Method.DUPLICATE)
    assert targets(result) == dict.fromkeys(COUNTS, 50)
    assert result["a"].method == Method.UNDERSAMPLE and result["b"].method == Method.DUPLICATE


def test_cap_limits_only_classes_above_k_times_the_smallest():
    result = apply_policy("cap:3", COUNTS)  # cap = 30
    assert result["a"] == ClassTarget(target=30, method=Method.UNDERSAMPLE)
    assert result["b"] == ClassTarget(target=30, method=Method.UNDERSAMPLE)
    assert result["c"] == ClassTarget(target=None, method=Method.KEEP)
    assert result["d"] == ClassTarget(target=None, method=Method.KEEP)
    assert targets(apply_policy("cap:2.5", COUNTS))["a"] == 25


def test_empty_classes_take_no_part_in_the_statistics():
    counts = {"a": 30, "b": 0, "c": 10}
    assert targets(apply_policy("undersample", counts)) == dict.fromkeys(counts, 10)
    assert targets(apply_policy("cap:2", counts))["a"] == 20
    assert all(t.method == Method.KEEP for t in apply_policy("median", {"a": 0}).values())


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("balance", "unknown policy"),
        ("target:", "whole number"),
        ("target:abc", "whole number"),
        ("target:-3", "at least 1"),
        ("target:0", "at least 1"),
        ("cap:x", "number K"),
        ("cap:0.5", "at least 1"),
        ("median:3", "takes no value"),
    ],
)
def test_parse_errors_are_clear(policy, message):
    with pytest.raises(ValueError, match=message):
        apply_policy(policy, COUNTS)


def test_parse_is_forgiving_about_case_and_spaces():
    assert parse_policy(" Target:12 ") == ("target", 12.0)
    assert parse_policy("CAP:2") == ("cap", 2.0)


def test_method_must_close_a_gap_upwards():
    with pytest.raises(ValueError, match="augment or duplicate"):
        apply_policy("oversample", COUNTS, Method.KEEP)


@given(
    counts=st.dictionaries(
        st.text("abcdef", min_size=1, max_size=3), st.integers(0, 500), min_size=1
    ),
    policy=st.sampled_from(
        ["oversample", "oversample:1", "undersample", "median", "target:7", "cap:1", "cap:4"]
    ),
)
def test_every_class_gets_a_target_and_undersample_only_lowers(counts, policy):
    result = apply_policy(policy, counts)
    assert set(result) == set(counts)
    for name, t in result.items():
        if t.method == Method.UNDERSAMPLE:
            assert t.target is not None and t.target < counts[name]
        if t.method == Method.AUGMENT:
            assert t.target is not None and t.target >= counts[name]


def test_the_readme_says_that_median_also_undersamples_the_classes_above_it():
    from pathlib import Path

    targets = apply_policy("median", {"big": 100, "mid": 20, "small": 5})
    assert targets["big"] == ClassTarget(target=20, method=Method.UNDERSAMPLE)  # cut to median
    assert targets["small"].target == 20 and targets["small"].method == Method.AUGMENT
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "classes above it are **undersampled** down to it" in readme
