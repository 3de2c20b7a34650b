"""The transform catalogue: parameter specs generated from albumentations' own metadata.

Each transform's pydantic `InitSchema` gives the parameter types (ranges, Literal choices,
bools, numbers) and the bounds it declares (`Ge`/`Le`/`Gt` constraints and
`check_range_bounds` validators); the `__init__` signature gives the defaults, normalised by
letting albumentations serialise a default instance. Only where that metadata is missing or
opaque does `CURATED` (curated.py, which lists what it supplies) fill the gap, and every spec
records which of its fields came from there (`ParamSpec.curated`).

Beyond the article's groups (`GROUPS`, listed first), the catalogue offers every other
albumentations transform that works on one image alone (pixel-level and spatial), found in
the installed package and grouped by what it does (`extra_group`); `EXCLUDED` says why each
one left out is left out. Where a parameter declares no bounds, the slider gets a span around
its default (`_guess_bounds`), recorded in `ParamSpec.curated` as well.

ShiftScaleRotate is left out: albumentations 2.0.8 deprecates it in favour of Affine.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from .curated import CHOICE_LABELS, CURATED
from .offered import (
    EXCLUDED,
    EXTRA_GROUPS,
    FEATURED,
    GROUPS,
    extra_group,
    single_image_transforms,
)

Kind = Literal["float", "int", "bool", "choice", "range_float", "range_int", "pair_int"]
RANGE_KINDS = ("range_float", "range_int", "pair_int")

# Parameters that only matter for masks, keypoints or schema strictness: a classification
# stack never needs them, so they get no editor (their values are still kept in the stack).
HIDDEN = frozenset({"p", "strict", "mask_interpolation", "fill_mask", "keypoint_remapping_method"})
HIDDEN_PER_TRANSFORM = {"Affine": frozenset({"translate_px"})}

# Setting the key clears these parameters (albumentations refuses both being set).
CLEARS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Affine", "translate_percent"): ("translate_px",)
}


@dataclass(frozen=True)
class ParamSpec:
    """How to edit one transform parameter (Qt-free; the GUI builds its widgets from it)."""

    name: str
    kind: Kind
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    labels: tuple[str, ...] = ()  # display text per choice
    help: str = ""
    xy: bool = False  # the stored value may be albumentations' {"x": range, "y": range} form
    nullable: bool = False
    curated: tuple[str, ...] = ()  # the fields that came from CURATED, not from albumentations

    def coerce(self, value: Any) -> Any:
        """A stored parameter value in the shape this spec's editor shows."""
        if value is None:
            return self.default
        if self.xy and isinstance(value, dict):
            value = value.get("x", self.default)  # x and y differ only if set in code
        if self.kind in RANGE_KINDS:
            if isinstance(value, list | tuple) and len(value) == 2:
                cast = int if self.kind != "range_float" else float
                return (cast(value[0]), cast(value[1]))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return (-value, value) if self.kind == "range_float" else (value, value)
            return self.default
        if self.kind == "float" and isinstance(value, list | tuple):
            return float(value[0]) if value else self.default
        return value

    def label_of(self, choice: Any) -> str:
        if self.labels and choice in self.choices:
            return self.labels[self.choices.index(choice)]
        return str(choice)


@dataclass(frozen=True)
class TransformInfo:
    name: str
    group: str
    summary: str
    params: tuple[ParamSpec, ...]
    p: ParamSpec
    defaults: dict[str, Any] = field(default_factory=dict)  # every init arg, as A.to_dict has it

    def spec(self, name: str) -> ParamSpec | None:
        return next((s for s in self.params if s.name == name), None)


@cache
def catalogue() -> dict[str, TransformInfo]:
    """Every catalogue transform, in group order (imports albumentations on first call)."""
    from ._albu import albumentations

    A = albumentations()
    featured = {n: _build_info(A, n, g) for g, names in GROUPS.items() for n in names}
    extra = {}
    for name, module in single_image_transforms(A):
        if name in featured or name in EXCLUDED:
            continue
        try:
            extra[name] = _build_info(A, name, extra_group(name, module))
        except (ValueError, TypeError):
            continue  # a transform of a newer albumentations we cannot describe: left out
    # Group by group, the article's groups first; in each, its article transforms first.
    order = [*GROUPS, *EXTRA_GROUPS]
    ranked = sorted(
        [*featured.values(), *extra.values()],
        key=lambda i: (
            order.index(i.group),
            i.name not in featured,
            i.name if i.name not in featured else "",
        ),
    )
    return {i.name: i for i in ranked}


def transform_info(name: str) -> TransformInfo | None:
    """Catalogue entry for a transform name (short or fully qualified), or None if not ours."""
    return catalogue().get(name.rsplit(".", 1)[-1])


def _build_info(A: Any, name: str, group: str) -> TransformInfo:
    cls = getattr(A, name)
    sig = inspect.signature(cls.__init__)
    fields = cls.InitSchema.model_fields
    curated_for = {**CURATED["*"], **CURATED.get(name, {})}
    required = {
        k: curated_for[k]["default"]
        for k, prm in sig.parameters.items()
        if prm.default is inspect.Parameter.empty and k in curated_for
    }
    if name not in FEATURED:  # curated defaults replace albumentations' (a 1024-px crop)
        required = {
            k: v["default"]
            for k, v in curated_for.items()
            if "default" in v and k in sig.parameters and k != "fill"
        }
    instance = cls(**required)
    defaults = A.to_dict(instance)["transform"]
    defaults.pop("__class_fullname__")
    p_default = defaults.pop("p")
    docs = _arg_docs(cls.__doc__ or "")
    hidden = HIDDEN | HIDDEN_PER_TRANSFORM.get(name, frozenset())
    specs = []
    for pname, finfo in fields.items():
        if pname in hidden or pname not in sig.parameters:
            continue
        spec = _spec_from_schema(pname, finfo, defaults.get(pname), docs.get(pname, ""))
        spec = _apply_curated(
            spec, pname, curated_for.get(pname), defaults.get(pname), docs.get(pname, "")
        )
        if spec is not None:
            specs.append(_guess_bounds(spec))
    p_spec = _spec_from_schema("p", fields["p"], p_default, docs.get("p", ""))
    assert p_spec is not None
    summary = (cls.__doc__ or name).strip().splitlines()[0]
    return TransformInfo(name, group, summary, tuple(specs), p_spec, defaults)


def _guess_bounds(spec: ParamSpec) -> ParamSpec:
    """A slider span for a number whose schema declares no bound: around its default (and a
    "none" choice where None is the default of a list of choices)."""
    if spec.kind == "choice" and spec.default is None and None not in spec.choices:
        labels = (*spec.labels, "none") if spec.labels else ()
        return _replace(spec, choices=(*spec.choices, None), labels=labels, nullable=True)
    if spec.kind in ("bool", "choice") or (spec.min is not None and spec.max is not None):
        return spec
    values = spec.default if isinstance(spec.default, tuple) else (spec.default,)
    nums = [float(v) for v in values if isinstance(v, int | float)] or [0.0]
    integer = spec.kind in ("int", "range_int", "pair_int")
    span = max(max(abs(v) for v in nums) * 3, 10.0 if integer else 1.0)
    lo = spec.min if spec.min is not None else (0 if min(nums) >= 0 else -span)
    hi = spec.max if spec.max is not None else span
    if hi <= lo:
        hi = lo + span
    if integer:
        lo, hi = int(lo), int(hi)
    guessed = tuple(k for k in ("min", "max") if getattr(spec, k) is None)
    return _replace(spec, min=lo, max=hi, curated=tuple(sorted({*spec.curated, *guessed})))


def _spec_from_schema(name: str, finfo: Any, default: Any, doc: str) -> ParamSpec | None:
    kind, choices, xy, nullable = _kind_of(finfo.annotation)
    if kind is None:
        return None  # opaque; only CURATED can describe it
    lo, hi = _bounds(finfo.metadata)
    spec = ParamSpec(name, kind, None, lo, hi, choices, help=doc, xy=xy, nullable=nullable)
    labels = CHOICE_LABELS.get(name)
    if labels and choices:
        spec = _replace(spec, labels=tuple(labels.get(c, str(c)) for c in choices))
    return _replace(spec, default=spec.coerce(default) if default is not None else None)


def _apply_curated(
    spec: ParamSpec | None, name: str, curated: dict[str, Any] | None, default: Any, doc: str
) -> ParamSpec | None:
    if not curated:
        return spec
    if spec is None:
        kind = curated.get("kind")
        if kind is None:
            return None
        spec = ParamSpec(name, kind, None, help=doc)
    # A curated bound only fills a gap; a bound albumentations declares always wins.
    updates = {
        k: v for k, v in curated.items() if k not in ("min", "max") or getattr(spec, k) is None
    }
    if "kind" in curated and curated["kind"] != spec.kind and "min" in curated:
        updates["min"] = curated["min"]  # a different kind: the schema bound does not apply
    spec = _replace(spec, **updates, curated=tuple(sorted(updates)))
    if spec.default is None or "kind" in updates:
        fallback = default if default is not None else spec.default
        spec = _replace(spec, default=spec.coerce(curated.get("default", fallback)))
    return spec


def _replace(spec: ParamSpec, **changes: Any) -> ParamSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _kind_of(annotation: Any) -> tuple[Kind | None, tuple[Any, ...], bool, bool]:
    """(kind, choices, accepts x/y dict, accepts None) of a schema field's type."""
    args = _union_args(annotation)
    nullable = type(None) in args
    args = [a for a in args if a is not type(None)]
    xy = any(typing.get_origin(a) is dict for a in args)
    args = [a for a in args if typing.get_origin(a) is not dict]
    literals = [a for a in args if typing.get_origin(a) is Literal]
    if literals:
        if len(literals) != len(args):
            return None, (), xy, nullable  # numbers mixed with mode names: opaque
        choices = tuple(c for lit in literals for c in typing.get_args(lit))
        nullable = nullable or None in choices
        return "choice", choices, xy, nullable
    pairs = [a for a in args if typing.get_origin(a) is tuple and len(typing.get_args(a)) == 2]
    pairs = [a for a in pairs if typing.get_args(a)[1] is not Ellipsis]
    if pairs:
        elems = {t for a in pairs for t in typing.get_args(a)}
        if elems == {float}:
            return "range_float", (), xy, nullable
        if elems == {int}:
            return "range_int", (), xy, nullable
        return None, (), xy, nullable
    scalars = [a for a in args if typing.get_origin(a) is not tuple]
    if scalars == [bool]:
        return "bool", (), xy, nullable
    if scalars == [int]:
        return "int", (), xy, nullable
    if scalars == [float] or scalars == [int, float]:
        return "float", (), xy, nullable
    return None, (), xy, nullable


def _union_args(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [x for a in typing.get_args(annotation) for x in _union_args(a)]
    return [annotation]


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = getattr(m, attr)
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi = getattr(m, attr)
        func = getattr(m, "func", None)
        qualname = getattr(func, "__qualname__", "")
        if qualname.startswith("check_range_bounds") and func.__closure__:
            cells = dict(
                zip(
                    func.__code__.co_freevars,
                    (c.cell_contents for c in func.__closure__),
                    strict=True,
                )
            )
            lo = cells.get("min_val", lo)
            hi = cells.get("max_val") if cells.get("max_val") is not None else hi
        elif qualname in ("process_non_negative_range", "convert_to_0plus_range"):
            lo = 0 if lo is None else lo
    return lo, hi


_ARG_LINE = re.compile(r"^(\s+)(\w+)\s*(\(.*\))?:\s*(.*)$")


def _arg_docs(doc: str) -> dict[str, str]:
    """First sentence of each parameter's description in a Google-style docstring."""
    out: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Args:")
    except StopIteration:
        return out
    indent = None
    current = None
    for ln in lines[start + 1 :]:
        if not ln.strip():
            continue
        m = _ARG_LINE.match(ln)
        if m and (indent is None or len(m.group(1)) == indent):
            indent = len(m.group(1))
            current = m.group(2)
            out[current] = m.group(4).strip()
        elif indent is not None and len(ln) - len(ln.lstrip()) > indent and current:
            out[current] = (out[current] + " " + ln.strip()).strip()
        else:
            break
    for k, v in out.items():
        first = re.split(r"(?<=\.)\s", v, maxsplit=1)[0]
        out[k] = first[:200]
    return out
