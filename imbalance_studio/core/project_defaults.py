"""What a new project generates with before the user chooses anything.

The default stack is the label-safe preset `safe` (core/augment/presets.py). Besides, a new
project switches intra-class CutMix on for its smallest classes: every other new image of
such a class is a patch of one of its originals pasted into another (the label cannot
change: both are of the class). Measured on long-tailed digits (150 down to 8 images a
class, 200 steps at 32 px, judged on ~1,200 held-out digits), over the raw split:
- the stack alone: +2.1 / +2.3 balanced-accuracy points (8 training seeds; earlier, milder
  ranges / today's);
- with CutMix for the classes at most a quarter of the largest (5 of 10): +2.6 to +2.9;
- with CutMix for the classes at most an eighth of the largest (the 3 rarest): +3.5 on
  seeds 2-9, and +3.1 on seeds 10-17, which played no part in choosing it; every seed better
  than raw. So an eighth.
The user sees the choice in the Balance tab's CutMix column and can switch it off per
class; a saved project keeps what it says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dataset import Dataset
    from .project import Project

# A class is among the smallest when it has at most this share of the largest class's images.
CUTMIX_SHARE = 0.125


def smallest_classes(counts: Mapping[str, int]) -> list[str]:
    """The smallest classes: at most CUTMIX_SHARE of the largest, with two images or more
    (CutMix needs a donor)."""
    largest = max(counts.values(), default=0)
    return sorted(c for c, n in counts.items() if 2 <= n <= CUTMIX_SHARE * largest)


def apply_new_project_defaults(project: Project, dataset: Dataset) -> None:
    """Give a project just made for `dataset` (nothing chosen yet) its default CutMix classes."""
    counts = dict(zip(dataset.classes, dataset.counts(), strict=True))
    project.generation = project.generation.model_copy(
        update={"cutmix_classes": smallest_classes(counts)}
    )
