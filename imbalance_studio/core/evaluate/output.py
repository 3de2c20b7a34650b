"""Writing an evaluation next to the export: evaluation.json, evaluation.png, and an
"Evaluation" section in the export's README.md (replaced by the next evaluation). Every
write is atomic; the dataset is never touched (the export is a folder we wrote)."""

from __future__ import annotations

from pathlib import Path

from ..fileio import atomic_write_text
from ..names import display_name, json_text
from ..safe_read import InputFileError, read_bounded_text
from .chart import render

JSON_NAME = "evaluation.json"
PNG_NAME = "evaluation.png"
SECTION = "## Evaluation"
README_MAX_BYTES = 64 * 2**20


def save_report(report: dict, folder: Path) -> list[Path]:
    """Write the report's files into the export `folder`; returns the paths written."""
    from ..generation.records import atomic_write

    folder = Path(folder)
    png = render(report)
    written = [folder / JSON_NAME, folder / PNG_NAME]
    atomic_write_text(written[0], json_text(report) + "\n")
    atomic_write(written[1], lambda f: f.write(png))
    readme = folder / "README.md"
    try:
        text = read_bounded_text(readme, README_MAX_BYTES, "the export's README")
    except (InputFileError, OSError, ValueError):
        return written  # no README of ours to add to
    atomic_write_text(readme, with_section(text, readme_section(report)))
    written.append(readme)
    return written


def with_section(text: str, section: str) -> str:
    """`text` with its Evaluation section (if any) replaced by `section`, else appended."""
    start = text.find("\n" + SECTION + "\n")
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + 1)
    rest = "" if end < 0 else text[end:]
    return text[: start + 1] + section + rest


def readme_section(report: dict) -> str:
    m = report["model"]
    out = [
        SECTION,
        "",
        f"Made by `imbalance-studio evaluate`: the same small CNN ({m['parameters']:,} "
        f"parameters, {m['input_size']} px, {m['steps']} steps, seed {report['seed']}) trained "
        "several ways and judged on `val/` (the test split is left for your final number). "
        f"Details in `{JSON_NAME}`; charts in `{PNG_NAME}`.",
        "",
        f"**{report['summary']}**",
        "",
        "| arm | trained on | balanced accuracy | macro-F1 | plain accuracy |",
        "|---|---|---|---|---|",
    ]
    for name, a in report["arms"].items():
        lo, hi = report["interval"]["balanced_accuracy"][name]
        out.append(
            f"| {name} | {a['what']} ({a['n_train']} images) | {a['balanced_accuracy']:.3f} "
            f"({lo:.3f}–{hi:.3f}) | {a['macro_f1']:.3f} | {a['accuracy']:.3f} |"
        )
    base = report["majority_baseline"]
    out += [
        "",
        f"Plain accuracy flatters the majority: always answering "
        f"`{display_name(base['class'])}` scores {base['accuracy']:.3f} on this split.",
        "",
        f"![evaluation]({PNG_NAME})",
        "",
    ]
    out += [f"- warning: {w}" for w in report["warnings"]]
    out += [f"- note: {n}" for n in report["notes"]]
    return "\n".join(out).rstrip("\n") + "\n"
