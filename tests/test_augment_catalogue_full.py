"""The catalogue offers every albumentations 2.0.x transform that works on one image alone
(pixel-level and spatial), each with a usable editor spec and defaults that run, grouped;
the ones left out are named with the reason."""

from __future__ import annotations

import os

import numpy as np

from imbalance_studio.core.augment.apply import apply_stack
from imbalance_studio.core.augment.catalogue import RANGE_KINDS, catalogue
from imbalance_studio.core.augment.offered import EXCLUDED, GROUPS, single_image_transforms
from imbalance_studio.core.augment.stack import new_entry, stack_from_entries

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def test_every_single_image_transform_is_offered_or_left_out_with_a_reason():
    from imbalance_studio.core.augment._albu import albumentations

    cat = catalogue()
    found = {name for name, _module in single_image_transforms(albumentations())}
    assert found - set(EXCLUDED) == set(cat), "offered = found minus the excluded"
    assert len(cat) >= 85  # not a hand-picked twenty
    for name in ("Solarize", "RandomRain", "CenterCrop", "Perspective", "ZoomBlur", "D4"):
        assert name in cat, name
    for name in ("Mosaic", "MaskDropout", "Normalize", "ShiftScaleRotate"):
        assert name not in cat and EXCLUDED[name], name
    # Group by group, the article's groups first, each with its article transforms first.
    groups = list(dict.fromkeys(i.group for i in cat.values()))
    assert groups[: len(GROUPS)] == list(GROUPS)
    for group, names in GROUPS.items():
        assert [n for n, i in cat.items() if i.group == group][: len(names)] == list(names)
    assert {i.group for i in cat.values()} >= {"weather", "crop & resize", *GROUPS}


def test_every_offered_transform_has_an_editor_and_runs_with_its_defaults():
    yy, xx = np.mgrid[0:48, 0:64]
    base = ((xx * 4 + yy * 2) % 256).astype(np.uint8)
    image = np.dstack([base, base[::-1], np.roll(base, 7, axis=1)])
    failures = []
    for name, info in catalogue().items():
        for spec in (*info.params, info.p):
            if spec.kind == "choice":
                ok = spec.default in spec.choices
            elif spec.kind == "bool":
                ok = True
            else:
                values = spec.default if spec.kind in RANGE_KINDS else (spec.default,)
                ok = spec.min is not None and spec.max is not None and spec.min < spec.max
                ok = ok and (spec.default is None or all(spec.min <= v <= spec.max for v in values))
            if not ok:
                failures.append((name, spec.name))
        entry = new_entry(name)
        entry.p = 1.0
        try:
            out, _params = apply_stack(stack_from_entries([entry]), image, seed=1)
        except Exception as exc:  # every failure is listed
            failures.append((name, repr(exc)[:120]))
            continue
        if out.dtype != np.uint8 or out.shape[2:] != image.shape[2:]:
            failures.append((name, out.dtype, out.shape))
    assert not failures
