"""README.md of an export: charts, counts, settings, weights, problems, and how to load it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..dataset import imbalance_ratio
from ..names import display_name
from ..text import plural
from .charts import MANY, bar_chart
from .labels import label
from .metadata import MARKED, UNDERSAMPLED

CHART_BEFORE = "report/train_before.png"
CHART_AFTER = "report/train_after.png"

PYTORCH_SNIPPET = """\
import csv
import json
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network call on import
import albumentations as A
import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler
from torchvision import datasets, transforms

OUT = "."  # the folder holding this README
to_tensor = transforms.ToTensor()
aug = A.load(os.path.join(OUT, "augment.json"))  # training-time augmentation


def train_transform(img):
    return to_tensor(aug(image=np.array(img.convert("RGB")))["image"])


def eval_transform(img):
    return to_tensor(img.convert("RGB"))


# allow_empty: every class has a folder in every split, even where it has no image there.
def load(split, transform):
    return datasets.ImageFolder(os.path.join(OUT, split), transform=transform, allow_empty=True)


train = load("train", train_transform)
val = load("val", eval_transform)
test = load("test", eval_transform)
with open(os.path.join(OUT, "weights.json"), encoding="utf-8") as fh:
    cfg = json.load(fh)
assert train.class_to_idx == val.class_to_idx == test.class_to_idx == cfg["class_to_idx"]

# Correct what imbalance train/ still has in ONE of two ways (see "Which weights" in the
# README): a weighted loss over shuffled batches, or balanced batches drawn by a sampler with
# a plain loss. Both at once corrects twice and over-predicts the rarest classes.
BALANCE_WITH = "loss"  # or "sampler"
if BALANCE_WITH == "loss":
    weight = torch.tensor(cfg["class_weight"]["balanced_train"], dtype=torch.float)
    criterion = torch.nn.CrossEntropyLoss(weight=weight)
    loader = DataLoader(train, batch_size=32, shuffle=True)
elif BALANCE_WITH == "sampler":
    # One weight per training image, rows in ImageFolder order.
    with open(os.path.join(OUT, "sampler_weights.csv"), encoding="utf-8") as fh:
        sample_weights = [float(row["weight"]) for row in csv.DictReader(fh)]
    sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights))
    criterion = torch.nn.CrossEntropyLoss()
    loader = DataLoader(train, batch_size=32, sampler=sampler)
else:
    raise ValueError(f"BALANCE_WITH must be 'loss' or 'sampler', not {BALANCE_WITH!r}")

images, labels = next(iter(loader))
loss = criterion(torch.zeros(len(labels), len(train.classes)), labels)
"""

# Keras' image_dataset_from_directory reads only these extensions.
KERAS_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def charts(classes: Sequence[str], before: list[int], after: list[int]) -> dict[str, bytes]:
    scale = max([*before, *after, 1])
    return {
        CHART_BEFORE: bar_chart("Training split before balancing", classes, before, scale),
        CHART_AFTER: bar_chart(
            "Training split exported (orange: duplicates and generated images)",
            classes,
            after,
            scale,
            base=before,
        ),
    }


def _md(text: object) -> str:
    """Escape what would break a Markdown table cell; undecodable bytes of names in the text
    form of core/names.py (`\\xNN`), so the README is valid UTF-8; control characters (which
    would not show) as escapes too."""
    return display_name(str(text).replace("\n", " ")).replace("|", "\\|")


def _escaped_labels_note(classes: Sequence[str]) -> list[str]:
    """A line under the charts when some label shows escapes instead of characters."""
    if len(classes) > MANY or not any(label(c).escaped for c in classes):
        return []
    return [
        "Chart labels show `\\uXXXX` escapes for characters no font on the exporting machine "
        "draws; the real class names are in the table below.",
        "",
    ]


# A training split this close to even needs no warning that it was left as it was.
NEARLY_EVEN = 1.5
# An export counts as balanced when it brings the split near even, or cuts its imbalance
# ratio by at least this factor (dropping a few duplicates of the majority does not).
CLEAR_CUT = 1.5


def _ratio(counts: Sequence[int]) -> float:
    """Largest over smallest class among the classes the split has images of: a class with
    no training image at all is its own warning (see `empty_classes`), not imbalance."""
    present = [c for c in counts if c > 0]
    return imbalance_ratio(present) if present else 0.0


def rebalanced(before: Sequence[int], after: Sequence[int]) -> bool:
    """Whether the export made the training split clearly more even."""
    rb, ra = _ratio(before), _ratio(after)
    return (ra <= NEARLY_EVEN < rb) or ra * CLEAR_CUT <= rb


def left_imbalanced(before: Sequence[int], after: Sequence[int]) -> bool:
    """An imbalanced training split that this export left about as imbalanced (the README
    and the CLI say so, with what to do)."""
    return not rebalanced(before, after) and _ratio(after) > NEARLY_EVEN


def imbalance_text(counts: Sequence[int]) -> str:
    return f"{_ratio(counts):,.1f} : 1"


def _not_rebalanced_note(before: Sequence[int], after: Sequence[int]) -> list[str]:
    """Said first when an imbalanced training split was left about as it was: nothing here
    is balanced until the loss or the sampler does it."""
    if not left_imbalanced(before, after):
        return []
    return [
        f"**The training split is still imbalanced** (imbalance ratio {imbalance_text(after)}, "
        "largest over smallest class): this export did not rebalance it. Correct for it in "
        "training with the class weights (`weights.json`) or the sampler weights "
        "(`sampler_weights.csv`) below, or export again with a policy (for example "
        "`--policy oversample`, or targets in the window's Balance tab).",
        "",
    ]


def _fmt(w: float) -> str:
    return f"{w:.4f}"


def readme(
    *,
    dataset_root: str,
    classes: Sequence[str],
    counts: dict[str, dict[str, list[int]]],
    weights: dict,
    settings: list[tuple[str, str]],
    problems: list[tuple[str, str]],
    notes: list[str],
    origins: dict[str, int],
    left_out: dict[str, int] | None = None,
) -> str:
    """The README's text; `left_out` counts left_out.csv's rows (`left_out_counts`)."""
    name = _md(Path(dataset_root).name or dataset_root)
    added = any(origins.get(k) for k in ("duplicate", "augmented", "cutmix"))
    tr = counts["train"]
    balanced = rebalanced(tr["before"], tr["after"])
    out: list[str] = [
        f"# {'Balanced export' if balanced else 'Export'} of `{name}`",
        "",
        f"Made by Imbalance Studio from `{_md(dataset_root)}`. Validation and test hold only "
        "original images in their original distribution; "
        + (
            "duplicates and generated images were made from training images only and are in "
            "`train/` only."
            if added
            else "no duplicates or generated images were added."
        ),
        "",
        *_not_rebalanced_note(tr["before"], tr["after"]),
        "## Training split, before and after",
        "",
        f"![train before]({CHART_BEFORE})",
        "",
        f"![train after]({CHART_AFTER})",
        "",
        *_escaped_labels_note(classes),
        "## Counts",
        "",
        "| idx | class | train before | train after | val | test |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    va, te = counts["val"], counts["test"]
    for i, c in enumerate(classes):
        out.append(
            f"| {i} | {_md(c)} | {tr['before'][i]} | {tr['after'][i]} | "
            f"{va['after'][i]} | {te['after'][i]} |"
        )
    out.append(
        f"| | **total** | {sum(tr['before'])} | {sum(tr['after'])} | "
        f"{sum(va['after'])} | {sum(te['after'])} |"
    )
    out += ["", "Exported files by origin: " + ", ".join(f"{k} {v}" for k, v in origins.items())]
    out += ["", "## Settings", ""]
    out += [f"- {k}: {_md(v)}" for k, v in settings]
    cw = weights["class_weight"]
    out += [
        "",
        "## Class weights (`weights.json`)",
        "",
        "| class | balanced_train | balanced_original_train | inverse_frequency | "
        f"effective_number (β={cw['effective_number']['beta']}) |",
        "|---|---:|---:|---:|---:|",
    ]
    for i, c in enumerate(classes):
        out.append(
            f"| {_md(c)} | {_fmt(cw['balanced_train'][i])} | "
            f"{_fmt(cw['balanced_original_train'][i])} | {_fmt(cw['inverse_frequency'][i])} | "
            f"{_fmt(cw['effective_number']['weights'][i])} |"
        )
    pw = weights.get("pos_weight")
    if pw:
        out += [
            "",
            f"`pos_weight` for `BCEWithLogitsLoss`: {pw['value']} with positive class "
            f"`{_md(pw['positive_class'])}` (target = `label == {pw['positive_index']}`).",
        ]
    out += [
        "",
        "### Which weights",
        "",
        first_advice(counts["train"]["before"], counts["train"]["after"]),
        original_advice(counts["train"]["before"], counts["train"]["after"]),
        "- `sampler_weights.csv` (for `WeightedRandomSampler`) balances batches by itself: use "
        "it or a weighted loss, not both.",
        "- Judge the model by balanced accuracy, macro-F1 and per-class recall, never plain "
        "accuracy.",
    ]
    if weights["warnings"]:
        out += ["", "Warnings:", ""] + [f"- {_md(w)}" for w in weights["warnings"]]
    out += ["", "## Problems", ""]
    if problems:
        out.append("These files were left out of the export:")
        out.append("")
        out += [f"- `{_md(p)}`: {_md(r)}" for p, r in problems]
    else:
        out.append("No file was left out for being unreadable.")
    if notes:
        out += ["", "Notes:", ""] + [f"- {_md(n)}" for n in notes]
    out += [
        "",
        "## Files",
        "",
        "- `train/`, `val/`, `test/`: one folder per class (every class in every split, so "
        "class indices agree). " + loading_note(classes, counts),
        "- `metadata.parquet` in each split that holds images is for Hugging Face: "
        '`datasets.load_dataset("imagefolder", data_dir=OUT)` gives `train`, `validation` and '
        "`test` with `label` a `ClassLabel` in the class order above (integer labels) and the "
        "manifest's provenance columns (origin, sources, generator, seed, params)"
        + hf_empty_note(counts)
        + ".",
        "- `manifest.csv`: one row per file: path, split, class, class_index, origin "
        "(original, duplicate, augmented, cutmix), sources (relative to the dataset root, "
        "`;`-separated), generator, seed, params (JSON).",
        "- `left_out.csv`: every original image (and problem file) not exported, with its "
        "split, class and reason: " + left_out_text(left_out or {}) + ".",
        "- `weights.json`: class weights, `keras_class_weight` (its keys are text, as JSON's "
        "are: pass `{int(k): v for k, v in ...items()}` to `model.fit`), `pos_weight`, with notes on "
        "which distribution each number came from; `sampler_weights.csv`: per-sample "
        "weights in `ImageFolder(train)` order.",
        "- `augment.json`: the training-time augmentation stack (`albumentations.load`); "
        "per-class stacks, if any, in `augment_classes/`.",
        "- `mixing.json`: a torchvision `v2.CutMix` / `v2.MixUp` configuration.",
        "",
        "## Load it in PyTorch",
        "",
        "```python",
        PYTORCH_SNIPPET.rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(out)


PROBLEM_FILES = "problem files"


def left_out_counts(reasons: Sequence[str]) -> dict[str, int]:
    """left_out.csv's rows counted by reason, the problem files (whatever their problem: the
    README lists them) as one kind."""
    kinds = (r if r in (MARKED, UNDERSAMPLED) else PROBLEM_FILES for r in reasons)
    return dict(Counter(kinds).most_common())


def left_out_text(counts: dict[str, int]) -> str:
    said = (
        plural(n, "problem file") if why == PROBLEM_FILES else f"{n:,} {why}"
        for why, n in counts.items()
    )
    return ", ".join(said) or "none"


def empty_classes(classes: Sequence[str], counts: dict[str, dict[str, list[int]]]) -> dict:
    """{split: [classes without an image in it]} for the splits that have such classes."""
    out = {}
    for split, c in counts.items():
        missing = [name for name, n in zip(classes, c["after"], strict=True) if n == 0]
        if missing:
            out[split] = missing
    return out


def hf_empty_note(counts: dict[str, dict[str, list[int]]]) -> str:
    empty = [split for split, c in counts.items() if not sum(c["after"])]
    if not empty:
        return ""
    names = ", ".join(f"`{s}/`" for s in empty)
    return f"; {names} holds no image, so it has no metadata file and `datasets` leaves it out"


def loading_note(classes: Sequence[str], counts: dict[str, dict[str, list[int]]]) -> str:
    """How the split folders load, as the counts make it true."""
    empty = empty_classes(classes, counts)
    if not empty:
        return (
            "Each loads with `torchvision.datasets.ImageFolder` and Keras' "
            "`image_dataset_from_directory`."
        )
    lines = []
    for split, missing in empty.items():
        if len(missing) == len(classes):
            lines.append(
                f"`{split}/` holds no image at all (Keras' `image_dataset_from_directory` "
                "refuses it; `ImageFolder(..., allow_empty=True)` gives an empty dataset)"
            )
        else:
            lines.append(f"`{split}/` has no image of {', '.join(f'`{_md(c)}`' for c in missing)}")
    return (
        "; ".join(lines)
        + ". An empty class folder keeps the class indices equal across splits, but "
        "`torchvision.datasets.ImageFolder` refuses one unless given `allow_empty=True` "
        "(torchvision 0.17 or later; the snippet below does); Keras' "
        "`image_dataset_from_directory` lists it as a class."
    )


def original_advice(before: list[int], after: list[int]) -> str:
    """What `balanced_original_train` is for, given what was done to the training split."""
    grew = any(a > b for a, b in zip(after, before, strict=True))
    if grew:
        return (
            "- `balanced_original_train` is for training on the original, un-balanced split "
            "instead; using it (or any re-weighting) on top of this oversampled split "
            "double-corrects and makes the model over-predict the minority."
        )
    if list(after) == list(before):
        return (
            "- Nothing was added to or left out of the training split: "
            "`balanced_original_train` equals `balanced_train`."
        )
    return (
        "- `balanced_original_train` comes from the training split before files were "
        "undersampled or removed; `balanced_train` matches the files exported here."
    )


def first_advice(before: list[int], after: list[int]) -> str:
    grew = any(a > b for a, b in zip(after, before, strict=True))
    shrank = any(a < b for a, b in zip(after, before, strict=True))
    if grew:
        how = "oversampled, and undersampled where classes were cut" if shrank else "oversampled"
        return (
            f"- The training split here was rebalanced ({how}): train with a plain "
            "`CrossEntropyLoss()` or with `balanced_train` (≈1 where classes are equal)."
        )
    return (
        "- The training split here was not oversampled: `balanced_train` re-weights what "
        "imbalance is left; use it with `CrossEntropyLoss(weight=...)`."
    )
