"""Export a training-ready dataset: ImageFolder splits, manifest, weights, stacks, report.

`iter_export` is a generator of `ExportProgress` whose return value is an `ExportReport`; the
CLI drives it with a tqdm bar, the GUI in a worker with Cancel. It builds everything in a
hidden temporary sibling of OUT and renames it into place only when complete: closing the
generator (Cancel), an error or a full disk remove the temporary folder and leave no OUT.
The dataset folder is only read.

What an export folder holds (all deterministic for the same project and seed, except the
marker's `created` time)::

    train/<class>/…, val/<class>/…, test/<class>/…   every class in every split, even empty;
        originals byte for byte (hard link or copy; those stored rotated written upright,
        see upright.py), duplicates `<stem>__dup<N><ext>`,
        generated images `<generator>_<id>.png`; names keep the original base name, files from
        class sub-folders are flattened as `sub__name.ext`, clashes get `_1`, `_2`, …
    <split>/metadata.parquet  Hugging Face imagefolder: file_name, label (a ClassLabel in
                            ImageFolder order, through the file's schema), origin, sources,
                            generator, seed, params; none in a split without images
    manifest.csv            path,split,class,class_index,origin,sources,generator,seed,params
                            (origin: original|duplicate|augmented|cutmix; sources relative to
                            the dataset root, ';'-separated; params JSON), ImageFolder order
    left_out.csv            path,split,class,reason: every original not exported (marked for
                            removal, undersampled, a problem file): with the manifest, every
                            file of the dataset
    weights.json            see core/weights.py for the format
    sampler_weights.csv     path,class_index,weight for train, in ImageFolder order
    augment.json            the default stack (albumentations.load); augment_classes/ holds
                            per-class overrides (<class>.json each, index.json maps them)
    mixing.json             torchvision v2.CutMix / v2.MixUp settings (num_classes, alpha)
    README.md, report/*.png the human report with before/after charts
    .imbalance-studio-export.json   the marker: format, version, created, dataset_root, seed,
                            manifest_sha256 (the export's identity), metadata and folders (what
                            it wrote besides the manifest's files: all a later --overwrite
                            may delete)

Class folder names keep the source's bytes; names with undecodable bytes are written in the
forms of core/names.py: `\\xNN` in CSV and Markdown, `\\udcNN` escapes in JSON.

The pieces live beside this module in `core/export/`: destination rules, file layout and
names, the link/copy engine, the metadata files, what the export says about itself
(summary.py), the README report and its charts.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import drive
from . import metadata, report
from .destination import (
    MARKER_NAME,
    ExportError,
    check_destination,
    check_free_space,
    is_disk_full,
    make_partial_dir,
    move_into_place,
    remove_partial,
    same_file_system,
)
from .files import UPRIGHT, FileWriter, write_all
from .layout import SPLITS, Layout, build_layout
from .previous import LATER_FILES
from .summary import (
    data_files,
    leak_rows,
    left_out_rows,
    scan_problems,
    settings_rows,
)
from .upright import count_rotated, describe_orientation, export_orientations, mark_upright

__all__ = [
    "ExportError",
    "ExportProgress",
    "ExportReport",
    "check_destination",
    "export",
    "iter_export",
]

_BLOCK = 4096


@dataclass(frozen=True, slots=True)
class ExportProgress:
    phase: str  # "checking", "writing", "finishing"
    done: int
    total: int | None
    message: str = ""


@dataclass
class ExportReport:
    out: Path
    files: int
    counts: dict[str, dict[str, list[int]]]  # {split: {"before": [...], "after": [...]}}
    linked: int
    copied: int
    origins: dict[str, int]  # origin -> files
    problems: list[tuple[str, str]]  # (path relative to the dataset root, reason) left out
    notes: list[str] = field(default_factory=list)
    weights: dict = field(default_factory=dict)
    upright: int = 0  # originals (and duplicates) stored rotated, written turned upright
    # {split: [classes without an image there]}: such a split loads with ImageFolder only
    # when given allow_empty=True (the README says so and its snippet does it).
    empty_classes: dict[str, list[str]] = field(default_factory=dict)
    # The originals not exported, counted by reason (each listed in left_out.csv).
    left_out: dict[str, int] = field(default_factory=dict)


def _blocks(n: int) -> int:
    return (n + _BLOCK - 1) // _BLOCK * _BLOCK


def estimate_bytes(lay: Layout, use_link: bool, n_problems: int = 0, left_out: int = 0) -> int:
    """Bytes the export will take on disk, from the real sizes: every file that is copied
    (originals unless hard-linked, and all generated images) rounded up to whole blocks,
    the folders, and the metadata files measured from the layout's own strings. `left_out`:
    the bytes of left_out.csv."""
    total = 0
    stat = os.stat
    for src, link in zip(lay.src, lay.link, strict=True):
        if use_link and link is True:
            continue  # a hard link takes a directory entry, counted below
        try:
            size = stat(src).st_size
        except OSError:
            continue  # reported as missing when written
        # An original turned upright is re-encoded: a JPEG at quality 95 without chroma
        # subsampling, a PNG with other settings, can take a few times its size.
        total += _blocks(size * 3 if link == UPRIGHT else size)
    n, k = len(lay), len(lay.classes)
    paths = sum(map(len, lay.path))
    # Rows of the class names (every file appears under its class in three CSV files).
    names = sum(
        len(name) * count
        for split in SPLITS
        for name, count in zip(lay.classes, lay.after[split], strict=True)
    )
    # Directory entries (name plus ~16 bytes each) and one block per folder at least.
    folders = _blocks(paths + 16 * n) + _BLOCK * (3 * k + 8)
    manifest = (
        paths + names + sum(map(len, lay.sources)) + sum(map(len, lay.params))
        + sum(map(len, lay.generator)) + sum(map(len, lay.seed)) + 40 * n
    )  # fmt: skip
    split_metadata, sampler = paths + names + 4 * n, paths + 32 * n
    # weights.json, mixing.json, stacks and README grow with the classes (and the README with
    # the problems it lists); the two charts take ~300 bytes a class each (measured), the
    # README's rows (counts, weights, the target's effect) ~400.
    small = 64 * 1024 + 1600 * k + 160 * n_problems
    files = (manifest, split_metadata, sampler, small, left_out)
    return total + folders + sum(map(_blocks, files))


def _each(pool: ThreadPoolExecutor | None, fn, items) -> None:
    """fn(item) for every item, in the pool when there is one (syscalls release the GIL)."""
    if pool is None:
        for item in items:
            fn(item)
    else:
        for _ in pool.map(fn, items):
            pass


def _threads(workers: int, link: bool) -> int:
    # Copies wait on the disk and gain from a few threads; hard links are quick metadata
    # updates where threads mostly fight over the GIL and directory locks (measured slower on
    # a busy 2-core machine), so links stay on one thread unless `workers` says otherwise.
    if workers > 0:
        return workers
    return 1 if link else min(4, os.cpu_count() or 1)


_EXTENSION = re.compile(r"\.[^./\x00]*(?=\x00)")


def extensions(paths: list[str]) -> set[str]:
    """The lower-cased extensions among `paths` (one regex pass, no per-path Python work)."""
    return {e.lower() for e in set(_EXTENSION.findall("\x00".join(paths) + "\x00"))}


def iter_export(
    dataset,
    project,
    plan,
    generated: Sequence,
    out: Path | str,
    link: bool,
    *,
    overwrite: bool = False,
    overwrite_all: bool = False,
    workers: int = 0,
    bad_sources: Mapping[str, str] | None = None,
    staging: Path | str | None = None,
    leak_check: Mapping | None = None,
    keep_exif_orientation: bool = False,
) -> Generator[ExportProgress, None, ExportReport]:
    """Write the export to `out`; yields progress, returns the report.

    `overwrite` replaces a previous export that holds only what it wrote; `overwrite_all`
    also deletes what was added to it since (otherwise such files are named in a refusal).

    Originals stored rotated (an EXIF orientation tag other than 1) are written turned
    upright (core/export/upright.py), never hard-linked; `keep_exif_orientation` writes their
    bytes unchanged instead, for loaders that apply the tag themselves.

    Raises ExportError (nothing written) for a refused destination, a plan that does not fit
    the dataset or the staged images, too little disk space, or a disk that fills up.
    `workers` threads write files (0: one for hard links, a few for copies).

    Originals found not to decode after the scan are left out and listed: those of
    `generated.bad_sources` (a GenerateResult carries them), of `bad_sources`, and those
    recorded in the `staging` folder by any earlier generation.

    `leak_check` (from `core.inspect.leak_check`) goes into `weights.json` and the README:
    how many near-duplicate pairs cross splits.
    """
    yield ExportProgress("checking", 0, None, "checking the destination")
    dest = check_destination(
        dataset.root, Path(out), overwrite, overwrite_all=overwrite_all,
        real_dirs=getattr(dataset, "real_dirs", ()),
    )  # fmt: skip
    rejected = set(project.generation.rejected)
    bad = unusable_sources(dataset, generated, bad_sources, staging)
    # The plan may predate the dataset's latest problems: none of them is ever exported.
    exclude = {p.path: p.reason for p in dataset.problems if p.excludes}
    lay = build_layout(dataset, plan, generated, rejected, {**exclude, **bad})
    # The problem files known before writing (those found while writing join them later).
    problems = scan_problems(dataset)
    listed = {path for path, _ in problems}
    problems += [
        (path, f"does not decode ({why})")
        for path, why in sorted(bad.items())
        if path not in listed
    ]
    if not len(lay):
        dropped = (p for s in SPLITS for cp in plan.splits[s] for p in cp.removed)
        left = len({*exclude, *bad, *dropped})
        raise ExportError(
            f"nothing to export: none of the dataset's images is usable or kept ({left} left "
            "out: removed, undersampled or problem files; see scan and plan)"
        )
    notes: list[str] = []
    orientations = export_orientations(
        dataset, lay, keep_exif_orientation, _threads(workers, False)
    )
    if keep_exif_orientation:
        orientation_text, note = describe_orientation(count_rotated(lay, orientations), kept=True)
    else:
        upright = mark_upright(lay, orientations or {}, UPRIGHT)
        orientation_text, note = describe_orientation(upright, kept=False)
    if note:
        notes.append(note)
    use_link = link
    if link and not same_file_system(dataset.root, dest.out.parent):
        use_link = False
        notes.append("hard links were asked for but OUT is on another file system: copied")
    n_problems = len(dataset.problems) + len(bad)
    # left_out.csv as far as known now, measured (files failing while written add a row each,
    # covered by the README's allowance per problem).
    left_out = left_out_rows(plan, project, problems)
    left_out_text = metadata.left_out_csv(left_out)
    need = estimate_bytes(lay, use_link, n_problems, len(left_out_text.encode("utf-8")))
    check_free_space(dest.out.parent, need)

    tmp = make_partial_dir(dest.out)
    threads = _threads(workers, use_link)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="export") if threads > 1 else None
    done = False
    try:
        for split in SPLITS:
            (tmp / split).mkdir()
        folders = [tmp / s / c for s in SPLITS for c in lay.classes]
        _each(pool, os.mkdir, folders)
        writer = FileWriter(use_link)
        tmp_s = str(tmp)
        dsts = [tmp_s + "/" + p for p in lay.path]
        total = len(dsts)
        writing = write_all(writer, lay.src, dsts, lay.link, pool=pool, folders=map(str, folders))
        try:
            next(writing)
            yield ExportProgress("writing", 0, total, f"writing {total} files")
            # While the pool writes, make the metadata assuming every file gets written
            # (remade below in the rare case that a source vanished meanwhile).
            counts, weights, files = data_files(lay, project, leak_check)
            for n in writing:
                yield ExportProgress("writing", n, total, f"wrote {n} of {total} files")
        finally:
            writing.close()
        del dsts
        if writer.link_failure:
            notes.append(f"some hard links failed ({writer.link_failure}): those files were copied")
        if writer.missing or writer.refused or writer.undecodable:
            for i in writer.missing:
                problems.append((lay.sources[i], "missing when exported"))
            for i, kind in sorted(writer.refused.items()):
                problems.append((lay.sources[i], f"not a regular file when exported ({kind})"))
            for i, why in sorted(writer.undecodable.items()):
                problems.append((lay.sources[i], f"does not decode when exported ({why})"))
            lay.drop([*writer.missing, *writer.refused, *writer.undecodable])
            counts, weights, files = data_files(lay, project, leak_check)
            # A failed copy of a generated image or duplicate names its source original,
            # which is exported: not a left-out original.
            exported = {s for s, o in zip(lay.sources, lay.origin, strict=True) if o == "original"}
            left_out = left_out_rows(plan, project, [p for p in problems if p[0] not in exported])
            left_out_text = metadata.left_out_csv(left_out)

        files["left_out.csv"] = left_out_text
        left_counts = report.left_out_counts([r[3] for r in left_out])
        yield ExportProgress("finishing", 0, None, "writing manifest, weights and report")
        origins = dict(sorted(Counter(lay.origin).items()))
        odd = sorted(extensions(lay.path) - set(report.KERAS_EXTENSIONS))
        if odd:
            notes.append(
                f"Keras' image_dataset_from_directory skips {', '.join(odd)} files "
                "(torchvision ImageFolder reads them)"
            )
        if writer.linked:
            notes.append(
                "originals are hard links to the dataset files: editing one in place edits "
                "the original too"
            )
        link_mode = "hard links (where possible)" if use_link else "copies"
        files["README.md"] = report.readme(
            dataset_root=str(dataset.root),
            classes=lay.classes,
            counts=counts,
            weights=weights,
            settings=settings_rows(project, plan, link_mode, orientation_text)
            + leak_rows(leak_check),
            problems=problems,
            notes=notes,
            origins=origins,
            left_out=left_counts,
        )
        extra_folders = sorted({rel.rpartition("/")[0] for rel in files} - {"", *SPLITS})
        for folder in extra_folders:
            (tmp / folder).mkdir()
        _each(pool, lambda item: metadata.write_file(tmp / item[0], item[1]), files.items())
        # The marker goes last: a folder holding it is a finished export. It lists what we
        # wrote, so a later --overwrite deletes nothing else.
        folders = [*SPLITS, *(f"{s}/{c}" for s in SPLITS for c in lay.classes), *extra_folders]
        marker = metadata.marker_json(str(dataset.root), plan.seed, len(lay), files, folders)
        metadata.write_file(tmp / MARKER_NAME, marker)
        evaluated = dest.replaces_previous and any(
            os.path.lexists(dest.out / name) for name in LATER_FILES
        )
        kept = move_into_place(tmp, dest)
        done = True
        if evaluated:
            notes.append(
                "the replaced export's evaluation (evaluation.json, evaluation.png) went "
                "with it: it measured the old files; evaluate this export to compare again"
            )
        if kept is not None:
            notes.append(
                f"files that appeared in the previous export while this one was written were "
                f"not deleted: they are in {kept}"
            )
    except OSError as exc:
        if is_disk_full(exc):
            raise ExportError(
                f"{dest.out.parent}: the disk filled up during the export; nothing was written"
            ) from exc
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # nothing writes after this
        if not done:
            remove_partial(tmp)
    yield ExportProgress("finishing", 1, 1, f"exported {len(lay)} files to {dest.out}")
    return ExportReport(
        out=dest.out,
        files=len(lay),
        counts=counts,
        linked=writer.linked,
        copied=writer.copied,
        origins=origins,
        problems=problems,
        notes=notes,
        weights=weights,
        upright=writer.upright,
        empty_classes=report.empty_classes(lay.classes, counts),
        left_out=left_counts,
    )


def unusable_sources(
    dataset,
    generated: Sequence = (),
    bad_sources: Mapping[str, str] | None = None,
    staging: Path | str | None = None,
) -> dict[str, str]:
    """Originals of the dataset found not to decode after the scan (rel path -> reason),
    from every place that knows: a generation result, a caller, the staging folder's record."""
    bad = dict(getattr(generated, "bad_sources", None) or {})
    bad.update(bad_sources or {})
    if staging is not None:
        from ..generation.badsources import read_bad_sources

        for rel, why in read_bad_sources(staging, dataset.root).bad.items():
            bad.setdefault(rel, why)
    if not bad:
        return bad
    # A file the dataset never had is not "left out" by the export (an edited record).
    listed = set(dataset.paths).union(p.path for p in dataset.problems)
    return {rel: why for rel, why in bad.items() if rel in listed}


def export(
    dataset, project, plan, generated: Sequence, out: Path | str, link: bool, **kw
) -> ExportReport:
    """`iter_export` run to its end (no progress)."""
    return drive(iter_export(dataset, project, plan, generated, out, link, **kw))
