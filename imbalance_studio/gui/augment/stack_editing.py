"""The edited stack's entries: the list (add, remove, enable, reorder, presets) and the
parameter form of the selected entry, with each entry's errors.

Checking an entry builds the transform and applies it to a small image (some values pass the
schema and fail only when applied), which takes too long for the GUI thread: the list shows at
once and the errors follow from one background job; a newer check replaces an older one.
"""

from __future__ import annotations

import copy
from typing import Any

from ...core.augment.catalogue import TransformInfo
from ...core.augment.stack import StackEntry, set_param, validate_entry
from ..jobs import runner, start_job


def validate_entries(entries: list[StackEntry]) -> list[dict[str, str]]:
    """Runs in a worker: each entry's errors ({} when it is valid), in order."""
    return [validate_entry(entry) for entry in entries]


class StackEditing:
    """The entry half of `AugmentEditor` (which owns the widgets `stack_list`, `params`,
    `catalogue`, `presets`, and calls `_install_stack_editing()` once they exist)."""

    _infos: dict[str, TransformInfo]
    _entries: list[StackEntry]
    _ids: list[int]

    def _install_stack_editing(self) -> None:
        self._next_id = 0
        self._error_ids: dict[int, dict[str, str]] = {}  # entry id -> its errors
        self._validate_key = object()
        self.stack_list.currentRowChanged.connect(self._row_selected)
        self.stack_list.enabledToggled.connect(self._enabled_toggled)
        self.stack_list.orderChanged.connect(self._order_changed)
        self.params.paramChanged.connect(self._param_changed)
        self.add_button.clicked.connect(self._add_selected)
        self.remove_button.clicked.connect(self.remove_current)
        self.presets.activated.connect(self._preset_chosen)

    # -- public ----------------------------------------------------------------------------
    @property
    def validating(self) -> bool:
        """Whether the entries' errors are still being checked."""
        return runner().running(self._validate_key)

    def add_transform(self, name: str) -> None:
        if not self._editable() or name not in self._infos:
            return
        info = self._infos[name]
        self._entries.append(StackEntry(name, copy.deepcopy(info.defaults), info.p.default))
        self._ids.append(self._new_id())
        self._revalidate()
        self.stack_list.setCurrentRow(len(self._entries) - 1)
        self._changed()

    def remove_current(self) -> None:
        row = self.stack_list.currentRow()
        if not self._editable() or not 0 <= row < len(self._entries):
            return
        del self._entries[row]
        del self._ids[row]
        self._revalidate()
        self._changed()

    def entry_errors(self) -> dict[int, dict[str, str]]:
        """Errors by entry index, as the last finished check found them."""
        return {i: e for i, ident in enumerate(self._ids) if (e := self._error_ids.get(ident))}

    # -- entries -----------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _set_entries(self, entries: list[StackEntry]) -> None:
        self._entries = entries
        self._ids = [self._new_id() for _ in entries]
        self._revalidate()
        self.stack_list.setCurrentRow(0 if entries else -1)
        self._row_selected(self.stack_list.currentRow())
        self.preview.request()

    def _revalidate(self, refill: bool = True) -> None:
        """Show the entries now (with the errors known so far); check them in the background."""
        if refill:
            self.stack_list.fill(self._entries, self._ids, self.entry_errors())
        self._update_flip_warning()
        if not self._infos:
            return
        ids = list(self._ids)
        start_job(
            validate_entries, copy.deepcopy(self._entries), owner=self, key=self._validate_key,
            done=lambda errors: self._validated(ids, errors),
        )  # fmt: skip

    def _validated(self, ids: list[int], errors: list[dict[str, str]]) -> None:
        if ids != self._ids:
            return  # the entries were reordered or replaced since: a newer check follows
        self._error_ids = {i: e for i, e in zip(ids, errors, strict=True) if e}
        for row, (entry, errs) in enumerate(zip(self._entries, errors, strict=True)):
            self.stack_list.update_row(row, entry, errs)
        row = self.stack_list.currentRow()
        if 0 <= row < len(errors):
            self.params.set_errors(errors[row])

    def _row_selected(self, row: int) -> None:
        if 0 <= row < len(self._entries) and self._infos:
            entry = self._entries[row]
            self.params.show_entry(entry, self._infos.get(entry.name))
            self.params.set_errors(self._error_ids.get(self._ids[row], {}))
        else:
            self.params.show_entry(None, None)

    def _param_changed(self, name: str, value: Any) -> None:
        row = self.stack_list.currentRow()
        if not 0 <= row < len(self._entries):
            return
        entry = set_param(self._entries[row], name, value)
        self._entries[row] = entry
        self.stack_list.update_row(row, entry, self._error_ids.get(self._ids[row]))
        self._revalidate(refill=False)
        self._changed()

    def _enabled_toggled(self, row: int, enabled: bool) -> None:
        if 0 <= row < len(self._entries):
            self._entries[row].enabled = enabled
            self._changed()

    def _order_changed(self, ids: list[int]) -> None:
        by_id = dict(zip(self._ids, self._entries, strict=True))
        self._entries = [by_id[i] for i in ids]
        self._ids = list(ids)
        self._revalidate()
        self._changed()

    def _add_selected(self) -> None:
        name = self.catalogue.selected_name()
        if name:
            self.add_transform(name)

    def _preset_chosen(self, index: int) -> None:
        from ...core.augment.presets import PRESETS
        from ...core.augment.stack import normalize_stack

        name = self.presets.itemData(index)
        self.presets.setCurrentIndex(0)
        if name and self._editable():
            self.set_stack(normalize_stack(PRESETS[name]))
            self._changed()
            self._say(f"Preset '{name}' applied.")
