"""The Inspect panel: after every scan it inspects the folder in the background (progress,
Cancel; one decode per changed file, the rest from the cache), shows duplicate groups and
flagged images, hands the groups to the plan's split, and turns "mark all but one" and "mark
all flagged" into one undoable mark edit each. Declares its actions; installed by
`window.install`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, SignalInstance

from ...core.project import Mark
from ...core.text import plural
from ..actions import PanelAction
from .panel import InspectPanel

if TYPE_CHECKING:
    from ..curation.controller import CurationController
    from ..main_window import MainWindow


def _per_class_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _conflicts_text(conflicts: int) -> str:
    if not conflicts:
        return ""
    return (
        f"; {plural(conflicts, 'label-conflict group')} "
        f"{'keeps' if conflicts == 1 else 'keep'} one image per class: which label is right "
        "is yours to say"
    )


class Inspection(QObject):
    changed = Signal()  # a report arrived, or a job started or ended

    def __init__(self, window: MainWindow, controller: CurationController) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self.panel = InspectPanel(window.loader)
        self.tab = window.add_panel(self.panel, "Inspect")
        self.report: Any = None
        self.dataset: Any = None
        self.running = False
        self._key = ("inspect", id(self))
        self._started = 0  # counts starts: only the newest job's end ends the inspection
        self._syncing = False
        p = self.panel
        p.inspectRequested.connect(lambda: self.start())
        p.cancelRequested.connect(self.cancel)
        p.settingsChanged.connect(self._on_settings)
        p.thresholdsChanged.connect(self._on_thresholds)
        p.markGroupsRequested.connect(self.mark_all_but_one)
        p.markFlaggedRequested.connect(self.mark_flagged)
        window.session.scanFinished.connect(self.start)
        controller.projectChanged.connect(self._show_settings)
        self._show_settings()
        if window.session.checked and window.current_dataset() is not None:
            self.start(window.current_dataset())

    # -- declared actions ---------------------------------------------------------------
    def panel_actions(self) -> list[PanelAction]:
        def has_report() -> bool:
            return self.report is not None and self.controller.project is not None

        return [
            PanelAction(
                "edit.all_but_one", "Mark All but One in Every Duplicate Group",
                lambda: self.mark_all_but_one(True), menu="Edit", section="marks",
                tip="Keep the largest (then sharpest) image of each duplicate group; the rest "
                "are marked removed (a label conflict keeps one per class: its label is yours "
                "to settle)", enabled_when=lambda: has_report() and bool(self.report.groups),
            ),
            PanelAction(
                "edit.remove_flagged", "Mark All Flagged Images as Removed", self.mark_flagged,
                menu="Edit", section="marks",
                tip="Every image the Inspect tab lists under the current thresholds and filter",
                enabled_when=has_report,
            ),
            PanelAction(
                "tools.inspect", "&Inspect Again", lambda: self.start(), menu="Tools",
                section="work", tip="Find duplicates and dark, blurry or odd images again",
                enabled_when=lambda: self.dataset is not None and not self.running,
            ),
        ]  # fmt: skip

    def state_signals(self) -> list[SignalInstance]:
        return [self.changed]

    @property
    def busy(self) -> bool:
        return self.running

    @property
    def grouping(self) -> bool:
        """Whether the plan's split keeps the duplicate groups found here together."""
        return self._settings().group_duplicates

    # -- the job ------------------------------------------------------------------------
    def start(self, dataset: Any = None) -> None:
        from ...core.inspect import iter_split_groups
        from ..jobs import start_job

        dataset = dataset if dataset is not None else self.dataset
        if dataset is None:
            return
        if self.dataset is not None and dataset.root != self.dataset.root:
            self.report = None  # another folder: nothing of the last one stays on show
            self.panel.groups_model.set_groups("", [])
            self.panel.flags_model.set_flags("", [])
        self.dataset = dataset
        settings = self._settings()
        self.running = True
        self.panel.show_running(True)
        self.panel.status.setText(f"Inspecting {len(dataset.samples):,} images…")
        self._started += 1
        started = self._started
        self.changed.emit()
        start_job(
            iter_split_groups, dataset, owner=self, key=self._key, progress=self._progress,
            done=self._done, error=self._error, finished=lambda: self._finished(started),
            group_duplicates=settings.group_duplicates, near_threshold=settings.near_threshold,
            identical=False,  # the curation controller finds those on every listing
        )  # fmt: skip

    def cancel(self) -> None:
        from ..jobs import runner

        runner().cancel(self._key)
        self.panel.status.setText("Inspection cancelled: duplicates are not kept together.")

    def _progress(self, event: Any) -> None:
        bar = self.panel.progress
        if event.total:
            bar.setRange(0, event.total)
            bar.setValue(event.done)
        else:
            bar.setRange(0, 0)
        if event.message:
            self.panel.status.setText(f"Inspecting: {event.message}")

    def _done(self, found: Any) -> None:
        if self.dataset is None or found.report.root != self.dataset.root:
            return
        self.report = found.report
        self.controller.set_duplicate_groups(self.report.split_groups() if found.grouped else None)
        self._refresh()

    def _error(self, exc: BaseException) -> None:
        self.panel.status.setText(f"Could not inspect the folder: {exc}")

    def _finished(self, started: int) -> None:
        # A job replaced by a newer one (a rescan, another threshold) may end while the newer
        # one runs, or after it: only the newest job's end is the inspection's end.
        if started != self._started:
            return
        self.running = False
        self.panel.show_running(False)
        self.changed.emit()

    # -- settings (kept in the project) ---------------------------------------------------
    def _settings(self) -> Any:
        from ...core.project import InspectSettings

        project = self.controller.project
        return project.inspect if project is not None else InspectSettings()

    def _show_settings(self) -> None:
        s = self._settings()
        self._syncing = True
        try:
            self.panel.near.setValue(s.near_threshold)
            self.panel.grouping.setChecked(s.group_duplicates)
            for issue, box in self.panel.thresholds.items():
                if issue in s.quality_thresholds:
                    box.setValue(s.quality_thresholds[issue])
        finally:
            self._syncing = False

    def _on_settings(self) -> None:
        project = self.controller.project
        if self._syncing or project is None:
            return
        old = project.inspect
        new = old.model_copy(
            update={
                "near_threshold": self.panel.near.value(),
                "group_duplicates": self.panel.grouping.isChecked(),
            }
        )
        if new == old:
            return
        project.inspect = new
        self.controller.project_edited(replan=False)
        if new.near_threshold != old.near_threshold:
            self.start()  # regrouped from the cache: nothing is decoded again
        elif self.report is not None:
            grouped = self.report.split_groups() if new.group_duplicates else None
            self.controller.set_duplicate_groups(grouped)
            self._refresh()

    def _on_thresholds(self) -> None:
        project = self.controller.project
        if not self._syncing and project is not None:
            values = self.panel.threshold_values()
            project.inspect = project.inspect.model_copy(update={"quality_thresholds": values})
            self.controller.project_edited(replan=False)
        self._refresh()

    # -- views ----------------------------------------------------------------------------
    def _shown_flags(self) -> list:
        if self.report is None:
            return []
        issue = self.panel.issue()
        flags = self.report.quality(self.panel.threshold_values(), issue)
        return [f for f in flags if not issue or issue in f.issues]

    def _refresh(self) -> None:
        from ...core.inspect.choices import all_but_one, per_class

        p, report = self.panel, self.report
        if report is None:
            return
        root = str(report.root)
        groups = report.groups
        flags = self._shown_flags()
        p.groups_model.set_groups(root, groups)
        p.flags_model.set_flags(root, flags)
        conflicts = sum(g.conflict for g in groups)
        p.groups_title.setText(
            f"<b>Duplicate groups: {len(groups)}</b> ({plural(conflicts, 'label conflict')}, "
            "shown first;"
            f" threshold {report.near_threshold} bits)"
        )
        common = report.traits(p.threshold_values())
        traits = (
            " · not flagged, as most images have it: "
            + ", ".join(f"{k.replace('_', ' ')} ({v:,})" for k, v in common.items())
            if common
            else ""
        )
        p.flags_title.setText(f"<b>Flagged images: {len(flags)}</b>{traits}")
        gone = all_but_one(report, groups)
        p.groups_counts.setText(
            f"All but one in every group: {plural(len(gone), 'image')} would go"
            + (f" ({_per_class_text(per_class(report, gone))})" if gone else "")
            + _conflicts_text(conflicts)
        )
        loose = report.loose_groups_note()
        p.groups_warning.setText(f"⚠ {loose[:1].upper()}{loose[1:]}" if loose else "")
        p.groups_warning.setVisible(bool(loose))
        shown = [f.path for f in flags]
        p.flags_counts.setText(
            f"{plural(len(shown), 'image')} would go"
            + (f":\n{_per_class_text(per_class(report, shown))}" if shown else "")
        )
        kept = "kept in one split" if self._settings().group_duplicates else "NOT kept together"
        cached = f", {report.cached:,} from the cache" if report.cached else ""
        p.status.setText(
            f"{len(report.paths):,} images inspected{cached}. Duplicate groups are {kept}."
        )
        # A count in the title, as the Problems tab has; the words go in the tooltip: the
        # longer title pushed the last tabs behind the tab bar's arrows at the default width.
        tabs, index = self.window.panels, self.window.panels.indexOf(p)
        tabs.setTabText(index, f"Inspect ({len(groups) + len(flags)})")
        tabs.setTabToolTip(
            index,
            f"{plural(len(groups), 'duplicate group')} · {plural(len(flags), 'image')} flagged",
        )
        self.changed.emit()

    def leak_check(self, plan: Any) -> dict | None:
        """Near-duplicate pairs `plan` puts in different splits, for the export (None before
        the first inspection of this folder has finished)."""
        from ...core.inspect import SplitGroups, leak_check

        report = self.report
        if report is None or plan is None or self.dataset is None:
            return None
        grouped = self._settings().group_duplicates
        return leak_check(SplitGroups({}, report, grouped), plan.kept_split_of)

    # -- marks (undoable, through the curation controller) -------------------------------
    def mark_all_but_one(self, every: bool = True) -> None:
        from ...core.inspect.choices import all_but_one, conflicts_left

        if self.report is None:
            return
        groups = self.report.groups if every else self.panel.selected_groups()
        paths = all_but_one(self.report, groups)
        if paths:
            self.controller.set_marks(
                paths, Mark(remove=True),
                f"Remove all but one of {plural(len(groups), 'duplicate group')}",
            )  # fmt: skip
        left = conflicts_left(groups)
        if left:
            self.window.statusBar().showMessage(
                f"{plural(left, 'label-conflict group')}: one image kept per class; which "
                "label is right is yours to say (mark the wrongly labelled copies in the "
                "gallery).",
                15000,
            )

    def mark_flagged(self) -> None:
        paths = [f.path for f in self._shown_flags()]
        self.controller.set_marks(paths, Mark(remove=True), f"Remove {len(paths)} flagged images")


def install_inspect(window: MainWindow, controller: CurationController) -> Inspection:
    """The Inspect tab and its actions in the window's menus."""
    inspection = Inspection(window, controller)
    window.install(inspection)
    return inspection
