"""The plan's per-class warnings, in plain words, and kept short on big datasets.

A note about one class reads "class X: ..."; when more than ten classes share the same
kind of note they become one line naming the first few ("and N more"), so 2,000 classes
give a handful of lines, not thousands (the plan itself is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .text import plural, printable, summarize

if TYPE_CHECKING:
    from .plan import ClassSplitPlan

# Above this share of generated images in a class's training split, say so.
SYNTHETIC_WARNING = 0.8
# Undersampling that keeps less than this share of a class's training images is worth a word.
UNDERSAMPLE_WARNING = 0.5
# Held-out splits this small give per-class metrics too noisy to trust.
SMALL_HELD_OUT = 2

# Up to this many classes share a kind of note, each gets its own line (a ten-class dataset
# always gets the detail); beyond it, one line for the kind.
PER_CLASS_LIMIT = 10

# kind -> the line for many classes; {n} is the count, {names} the summarised names.
_MANY = {
    "no-source": "{n} classes have no kept training image to make new ones from: {names}",
    "undersample-up": "{n} classes have a target above their training count; undersampling "
    "cannot add images: {names}",
    "synthetic": "{n} classes will be mostly synthetic (over {pct:.0%} of their training "
    "images): {names}; look at them before training",
    "kept-few": "{n} classes keep less than {keep:.0%} of their training originals "
    "(removals and undersampling): {names}",
    "small-val": "{n} classes have only 1 or 2 images in the val split; their per-class "
    "metrics will be noisy: {names}",
    "small-test": "{n} classes have only 1 or 2 images in the test split; their per-class "
    "metrics will be noisy: {names}",
    "empty-val": "{n} classes have no image in the val split (removed, or too few to split); "
    "their validation metrics cannot be measured: {names}",
    "empty-test": "{n} classes have no image in the test split (removed, or too few to "
    "split); their test metrics cannot be measured: {names}",
}


@dataclass(frozen=True)
class ClassNote:
    kind: str  # a key of _MANY
    name: str  # the class
    text: str  # the note when it is about this class alone


def note(kind: str, name: str, text: str) -> ClassNote:
    """A note about class `name`; `text` follows "class NAME: "."""
    return ClassNote(kind, name, f"class {printable(name)}: {text}")


def grouped(notes: list[ClassNote], limit: int = PER_CLASS_LIMIT) -> list[str]:
    """Each kind's notes one per class when few, else one line for the kind (first-seen order)."""
    by_kind: dict[str, list[ClassNote]] = {}
    for n in notes:
        by_kind.setdefault(n.kind, []).append(n)
    out: list[str] = []
    for kind, items in by_kind.items():
        if len(items) <= limit:
            out.extend(n.text for n in items)
        else:
            out.append(
                _MANY[kind].format(
                    n=len(items),
                    names=summarize(n.name for n in items),
                    pct=SYNTHETIC_WARNING,
                    keep=UNDERSAMPLE_WARNING,
                )
            )
    return out


def drastic(names: tuple[str, ...], out: dict[str, tuple[ClassSplitPlan, ...]]) -> list[ClassNote]:
    """Notes on plans a user should look at twice."""
    notes = []
    for ci, name in enumerate(names):
        train = out["train"][ci]
        made = len(train.generate)
        if train.final and made / train.final > SYNTHETIC_WARNING:
            notes.append(
                note(
                    "synthetic",
                    name,
                    f"{made} of {train.final} training images will be synthetic, made from "
                    f"{len(train.kept)} originals; look at them before training",
                )
            )
        if train.original and len(train.kept) < UNDERSAMPLE_WARNING * train.original:
            notes.append(
                note(
                    "kept-few",
                    name,
                    f"{len(train.kept)} of {train.original} training originals are kept "
                    "(removals and undersampling)",
                )
            )
        for split in ("val", "test"):
            held = out[split][ci]
            n = held.final
            if not n and (held.original or train.original):
                # Louder than a small split: nothing of this class is measured there.
                why = (
                    f"its {plural(held.original, split + ' image')} "
                    f"{'is' if held.original == 1 else 'are'} marked removed"
                    if held.original
                    else "the class has too few images to give this split one"
                )
                notes.append(
                    note(
                        f"empty-{split}",
                        name,
                        f"the {split} split holds no image of it ({why}); its {split} "
                        "metrics cannot be measured",
                    )
                )
            if 0 < n <= SMALL_HELD_OUT:
                notes.append(
                    note(
                        f"small-{split}",
                        name,
                        f"the {split} split holds only {n} image{'s' if n > 1 else ''}; "
                        "its per-class metrics will be noisy",
                    )
                )
    return notes
