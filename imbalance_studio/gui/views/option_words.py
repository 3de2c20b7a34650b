"""Core's refusals name the command line's options ("--overwrite"); a dialog names the check
box that does the same, so the user is told what to click rather than what to type."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QAbstractButton


def in_dialog_words(message: str, boxes: Mapping[str, QAbstractButton | str]) -> str:
    """`message` with each "(--option)" of `boxes` replaced by the box to tick (or, for a
    str, by that text: what to do where the dialog has no such box)."""
    for option, box in boxes.items():
        said = box if isinstance(box, str) else f"tick “{box.text()}”"
        # "(--overwrite)" never matches inside "(--overwrite-all)": the parentheses bound it.
        message = message.replace(f"({option})", f"({said})")
    return message
