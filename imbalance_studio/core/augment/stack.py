"""The stack model: an ordered list of transforms, stored as an albumentations `A.to_dict` dict.

A stack dict is exactly what `A.to_dict(A.Compose([...]))` gives (JSON-shaped: lists, not
tuples), so `A.from_dict` and `A.load` read it as is. albumentations has no notion of a
disabled transform, so disabled entries live beside the pipeline under `STUDIO_KEY` with
their position; albumentations ignores that key and applies only the enabled transforms.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STUDIO_KEY = "imbalance_studio"
COMPOSE_KEYS = {
    "bbox_params": None,
    "keypoint_params": None,
    "additional_targets": {},
    "is_check_shapes": True,
}


class StackError(ValueError):
    """A stack that albumentations cannot build; `errors` maps entry index -> param -> message."""

    def __init__(self, message: str, errors: dict[int, dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


# Transforms that mirror the image: they change the meaning of text, digits (a mirrored 2)
# and left/right classes, which a stack's author may not have in mind.
FLIPS = frozenset({"HorizontalFlip", "VerticalFlip", "Transpose", "D4", "SquareSymmetry"})
FLIP_WARNING = "Flips change the meaning of text, digits and left/right classes."


def flips_in(entries: list[StackEntry]) -> list[str]:
    """The flipping transforms a stack applies (enabled, with a chance above 0)."""
    return [e.name for e in entries if e.enabled and e.p > 0 and e.name.rsplit(".", 1)[-1] in FLIPS]


@dataclass
class StackEntry:
    """One transform of a stack; `params` excludes `p`."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    p: float = 0.5
    enabled: bool = True

    def transform_dict(self) -> dict[str, Any]:
        return {"__class_fullname__": self.name, "p": self.p, **copy.deepcopy(self.params)}

    @classmethod
    def from_transform_dict(cls, d: dict[str, Any], enabled: bool = True) -> StackEntry:
        if not isinstance(d, dict) or not isinstance(d.get("__class_fullname__"), str):
            raise StackError(f"not an albumentations transform: {str(d)[:80]}")
        params = {k: copy.deepcopy(v) for k, v in d.items() if k not in ("__class_fullname__", "p")}
        p = d.get("p", 0.5)
        return cls(d["__class_fullname__"].rsplit(".", 1)[-1], params, p, enabled)


def set_param(entry: StackEntry, name: str, value: Any) -> StackEntry:
    """A copy of `entry` with one parameter (or "p") changed; values are not checked here."""
    params = copy.deepcopy(entry.params)
    if name == "p":
        return StackEntry(entry.name, params, value, entry.enabled)
    params[name] = jsonable(value)
    from .catalogue import CLEARS

    for other in CLEARS.get((entry.name, name), ()):
        params[other] = None
    return StackEntry(entry.name, params, entry.p, entry.enabled)


@functools.cache
def albumentations_version() -> str:
    """Once per process: reading the installed metadata costs about a millisecond, and every
    slider tick of the stack editor writes the stack anew."""
    from importlib.metadata import version

    return version("albumentations")  # no import of the package itself


def new_entry(name: str) -> StackEntry:
    """A catalogue transform with albumentations' defaults."""
    from .catalogue import transform_info

    info = transform_info(name)
    if info is None:
        raise StackError(f"{name!r} is not in the catalogue")
    return StackEntry(info.name, jsonable(info.defaults), info.p.default, True)


def empty_stack() -> dict[str, Any]:
    return stack_from_entries([])


def stack_from_entries(entries: list[StackEntry]) -> dict[str, Any]:
    """The A.to_dict-shaped dict of entries (disabled ones kept under STUDIO_KEY)."""
    enabled = [e.transform_dict() for e in entries if e.enabled]
    disabled = [
        {"index": i, "transform": e.transform_dict()}
        for i, e in enumerate(entries)
        if not e.enabled
    ]
    out: dict[str, Any] = {
        "__version__": albumentations_version(),
        "transform": {
            "__class_fullname__": "Compose",
            "p": 1.0,
            "transforms": enabled,
            **copy.deepcopy(COMPOSE_KEYS),
        },
    }
    if disabled:
        out[STUDIO_KEY] = {"disabled": disabled}
    return jsonable(out)


def entries_from_stack(stack: dict[str, Any] | None) -> list[StackEntry]:
    """The entries of a stack dict, disabled ones back in their places."""
    if not stack:
        return []
    top = _top_transform(stack)
    children = top.get("transforms") if _is_compose(top) else [top]
    if not isinstance(children, list):
        raise StackError("the pipeline's 'transforms' is not a list")
    entries = [StackEntry.from_transform_dict(d) for d in children]
    studio = stack.get(STUDIO_KEY) or {}
    for item in sorted(studio.get("disabled", []), key=lambda it: it.get("index", 0)):
        entry = StackEntry.from_transform_dict(item.get("transform"), enabled=False)
        entries.insert(min(int(item.get("index", len(entries))), len(entries)), entry)
    return entries


def _top_transform(stack: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(stack, dict):
        raise StackError("a stack must be a JSON object")
    top = stack.get("transform")
    if not isinstance(top, dict) or "__class_fullname__" not in top:
        raise StackError("no 'transform' object with '__class_fullname__' (not an A.save file?)")
    return top


def _is_compose(top: dict[str, Any]) -> bool:
    return str(top.get("__class_fullname__", "")).rsplit(".", 1)[-1] == "Compose"


def validate_entry(entry: StackEntry) -> dict[str, str]:
    """Per-parameter error messages for one entry ('' = the transform as a whole); {} if valid."""
    import pydantic

    from ._albu import albumentations

    A = albumentations()
    cls = getattr(A, entry.name, None)
    if cls is None or not isinstance(cls, type):
        return {"": f"unknown transform {entry.name!r}"}
    schema = getattr(cls, "InitSchema", None)
    if schema is not None:
        # The schema's fields are all required; albumentations fills them from __init__ first.
        kwargs = {**_init_defaults(cls), "strict": False, **entry.params, "p": entry.p}
        known = {k: v for k, v in kwargs.items() if k in schema.model_fields}
        try:
            schema(**known)
        except pydantic.ValidationError as exc:
            return _schema_errors(exc)
    try:
        transform = A.from_dict({"transform": entry.transform_dict()})
        _dry_run(A, transform)
    except Exception as exc:
        return {"": _message(exc)}
    return {}


def _init_defaults(cls: type) -> dict[str, Any]:
    import inspect

    return {
        k: prm.default
        for k, prm in inspect.signature(cls.__init__).parameters.items()
        if prm.default is not inspect.Parameter.empty
    }


def _schema_errors(exc: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err.get("loc") else ""
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        errors.setdefault(key, msg)  # unions report one error per branch; the first is enough
    return errors


def _dry_run(A: Any, transform: Any) -> None:
    """Some values pass the schema and only fail when applied (e.g. an even kernel size)."""
    import numpy as np

    if not hasattr(transform, "apply"):
        return
    probe = copy.deepcopy(transform)
    probe.p = 1.0
    image = (np.arange(48 * 40 * 3, dtype=np.uint32) % 251).astype(np.uint8).reshape(48, 40, 3)
    A.Compose([probe], seed=0)(image=image)


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "errors.pydantic" not in ln]
    return " ".join(lines)[:300].removeprefix("Value error, ")


def validate_stack(stack: dict[str, Any]) -> dict[int, dict[str, str]]:
    """Errors of every invalid entry (enabled or not) by entry index; {} if all are valid."""
    try:
        entries = entries_from_stack(stack)
    except StackError as exc:
        return {-1: {"": str(exc)}}
    return {i: errs for i, e in enumerate(entries) if (errs := validate_entry(e))}


def normalize_stack(stack: dict[str, Any] | None) -> dict[str, Any]:
    """The canonical form: every entry as albumentations serialises it (all init args)."""
    from ._albu import albumentations

    A = albumentations()
    entries = entries_from_stack(stack)
    out = []
    for i, e in enumerate(entries):
        try:
            td = A.to_dict(A.from_dict({"transform": e.transform_dict()}))["transform"]
        except Exception as exc:
            raise _stack_error(entries, {i: validate_entry(e) or {"": _message(exc)}}) from exc
        out.append(StackEntry.from_transform_dict(jsonable(td), e.enabled))
    return stack_from_entries(out)


def build_compose(
    stack: dict[str, Any] | None,
    seed: int | None = None,
    *,
    save_applied_params: bool = False,
    make_transform: Callable[[dict[str, Any]], Any] | None = None,
) -> Any:
    """An `A.Compose` of the enabled transforms, seeded; raises StackError naming the bad values.

    `make_transform(transform_dict)` builds one transform (default `A.from_dict`): the preview
    passes a cached one, so it runs the same pipeline as generation without rebuilding it."""
    from ._albu import albumentations

    A = albumentations()
    if make_transform is None:
        make_transform = lambda d: A.from_dict({"transform": d})  # noqa: E731
    entries = entries_from_stack(stack)
    transforms = []
    for i, e in enumerate(entries):
        if not e.enabled:
            continue
        try:
            transforms.append(make_transform(e.transform_dict()))
        except Exception as exc:
            raise _stack_error(entries, {i: validate_entry(e) or {"": _message(exc)}}) from exc
    top = _top_transform(stack) if stack else {}
    extra = {k: top[k] for k in ("p", "is_check_shapes") if _is_compose(top) and k in top}
    compose = A.Compose(transforms, save_applied_params=save_applied_params, **extra)
    if seed is not None:
        reseed(compose, seed)
    return compose


def reseed(compose: Any, seed: int) -> None:
    """Seed a Compose so every transform draws from its own stream.

    albumentations 2.0.x (`Compose(seed=…)`, `set_random_seed`) hands every transform the
    *same* seed, so their random streams are identical: the p-gates fire together (all of
    HorizontalFlip, Affine and RandomBrightnessContrast at p=0.5, or none of them) and about
    half the "augmented" images come out untouched. Each transform gets a stream derived
    from `seed` instead; the same seed still gives the same pixels.
    """
    transforms = compose.transforms
    # The Compose's own streams only: `set_random_seed` would also seed every child with
    # `seed`, each overwritten just below (half the cost of a reseed, which the preview pays
    # once per variant). The pixels are the same either way.
    compose.transforms = []
    try:
        compose.set_random_seed(seed)
    finally:
        compose.transforms = transforms
    for transform, child in zip(transforms, _child_seeds(seed, len(transforms)), strict=True):
        transform.set_random_seed(child)


@functools.lru_cache(maxsize=4096)
def _child_seeds(seed: int, n: int) -> tuple[int, ...]:
    # Cached: a preview grid re-rendered after a slider move reseeds with the same seeds.
    import numpy as np

    return tuple(int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(n))


def _stack_error(entries: list[StackEntry], errors: dict[int, dict[str, str]]) -> StackError:
    parts = []
    for i, errs in errors.items():
        detail = "; ".join(f"{k}: {v}" if k else v for k, v in errs.items())
        parts.append(f"transform {i + 1} ({entries[i].name}): {detail}")
    return StackError("; ".join(parts), errors)


def stack_for_class(project: Any, class_name: str) -> dict[str, Any] | None:
    """The class's own stack if it has one, else the project's default stack (or None)."""
    augment = getattr(project, "augment", None)
    if augment is None and isinstance(project, dict):
        augment = project.get("augment")
    if isinstance(augment, dict):
        class_stacks, default = augment.get("class_stacks") or {}, augment.get("default_stack")
    else:
        class_stacks = getattr(augment, "class_stacks", None) or {}
        default = getattr(augment, "default_stack", None)
    return class_stacks.get(class_name) or default


def jsonable(value: Any) -> Any:
    """Tuples to lists, numpy scalars to Python numbers: the shape a JSON round trip gives."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value
