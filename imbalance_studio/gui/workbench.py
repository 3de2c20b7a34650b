"""Puts the work panels into the main window: curation (Balance tab, marks, undo), the
app-level project handling (File ▸ Open / Save Project), augmentation (Augment tab),
generation (Generate tab, Tools ▸ Generate) and export (Tools / File ▸ Export…). Each panel
declares its actions; `window.install(panel)` lays them out.

Panels share one `Project` through the curation controller; each panel is built so that the
window is on screen before albumentations or torch are imported (the Augment tab builds its
editor the first time it is shown).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from ..core.project import ProjectError
from ..core.text import plural
from . import next_steps
from .actions import PanelAction
from .app_session import AppSession, install_app_session
from .curation import Curation, install_curation
from .curation.controller import snapshot
from .lazy_tab import LazyTab
from .plan_wait import PlanWait

if TYPE_CHECKING:
    from .main_window import MainWindow


class Workbench(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        # The panels, in the order their actions are laid out within a menu section.
        self.curation: Curation = install_curation(window)
        self.controller = self.curation.controller
        self.app_session: AppSession = install_app_session(window, self.controller)
        from .inspect import install_inspect

        self.inspection = install_inspect(window, self.controller)  # the Inspect tab
        # Export and Generate wait for the duplicate groups and an edit's plan.
        self.plan_wait = PlanWait(window, self.controller, self.inspection, self._wait_ended)
        self.augment_tab = LazyTab(self._make_editor, "Loading the augmentation catalogue…")
        window.add_panel(self.augment_tab, "Augment")
        self.generate_tab = LazyTab(self._make_generation, "")
        window.add_panel(self.generate_tab, "Generate")
        # The export waiting for the Generate panel's job: (dataset, project, plan, staging).
        self._export_pending: tuple | None = None
        # The folder of an export asked for while its images were checked (None: none).
        self._export_after_check: Any = None
        self._synced: Any = None  # the project whose stacks the editor shows
        self.export_dialog: Any = None

        window.install(self)
        from .features import FeaturesPanel

        self.features_panel = FeaturesPanel(window, self.controller)
        window.install(self.features_panel)
        from .evaluate import install_evaluate

        self.evaluate = install_evaluate(
            window, self.controller
        )  # the Evaluate tab, after Generate

        self._saved_sizes: list[int] | None = None
        window.panels.currentChanged.connect(self._on_tab)

        c = self.controller
        c.planChanged.connect(self._on_plan)
        # After the window's own slot has put the scan's hint up: a reopened project whose
        # targets are set (its plan came before the check ended) says what comes next.
        window.session.scanFinished.connect(lambda _d: self._next_step(c.plan))
        c.projectChanged.connect(self._on_project)
        c.stacksChanged.connect(self._on_stacks)
        window.sampleSelectionChanged.connect(self._on_sample)
        window.gallery.currentRowChanged.connect(lambda _row: self._on_sample())
        if window.current_dataset() is not None:  # opened before the panels were built
            c.set_dataset(window.current_dataset())

    # -- declared actions ---------------------------------------------------------------
    def _generate_tip(self) -> str:
        """What Generate does, or why it is greyed out (a disabled button that says nothing
        leaves a new user guessing)."""
        c = self.controller
        if self._generation_running():
            return "Generation is running (see the Generate tab)"
        if c.plan is None:
            return "Generate: open a folder first; its plan says which images to make"
        if not any(cp.generate for cp in c.plan.splits["train"]):
            return (
                "Nothing to generate: the plan makes no new image. Set a policy or a class "
                "target above its count in the Balance tab (method augment or diffusion)"
            )
        return "Make the new minority images the plan asks for, in the background"

    def panel_actions(self) -> list[PanelAction]:
        from .generation.review_actions import review_actions

        c = self.controller
        return [
            PanelAction(
                "tools.generate",
                "&Generate Planned Images",
                self.generate,
                menu="Tools",
                section="work",
                shortcuts=("Ctrl+G",),
                tip=self._generate_tip,
                icon_text="Generate",
                toolbar=True,
                enabled_when=lambda: (
                    not self._generation_running()
                    and c.plan is not None
                    and any(cp.generate for cp in c.plan.splits["train"])
                ),
            ),
            PanelAction(
                "tools.export",
                "&Export Balanced Dataset…",
                self.export,
                menu="Tools",
                section="work",
                also_in=(("File", "export"),),
                shortcuts=("Ctrl+E",),
                tip="Write train/val/test folders, manifest, class weights and the "
                "augmentation stack",
                icon_text="Export…",
                toolbar=True,
                enabled_when=lambda: (
                    not self._generation_running() and c.project is not None and c.plan is not None
                ),
            ),
            *review_actions(lambda: self.generate_tab.widget, scope=self.generate_tab),
        ]

    def state_signals(self) -> list[SignalInstance]:
        return [self.controller.planChanged, self.controller.projectChanged]

    @property
    def generate_action(self) -> QAction:
        return self.window.action("tools.generate")

    @property
    def export_action(self) -> QAction:
        return self.window.action("tools.export")

    def _on_tab(self, _index: int) -> None:
        # The Augment and Generate tabs show images themselves and need the width: fold the
        # "Selected image" column away and narrow the class column while they are open, and
        # put the columns back after.
        wide = self.window.panels.currentWidget() in (self.augment_tab, self.generate_tab)
        splitter = self.window.splitter
        sizes = splitter.sizes()
        if len(sizes) != 3:
            return
        if wide and self._saved_sizes is None:
            self._saved_sizes = sizes
            left = min(sizes[0], 250)
            splitter.setSizes([left, sum(sizes) - left, 0])
        elif not wide and self._saved_sizes is not None:
            splitter.setSizes(self._saved_sizes)
            self._saved_sizes = None

    # -- augmentation -------------------------------------------------------------------
    def _make_editor(self) -> QWidget:
        from .augment import AugmentEditor

        editor = AugmentEditor()
        editor.settingsChanged.connect(self._on_augment_settings)
        editor.class_images = self._class_images
        editor.files_folder = self.app_session.dialog_folder  # by the project or the dataset
        self._sync_editor(editor)
        self._on_sample(editor)  # the selection, or an image of the edited class, at once
        return editor

    def _class_images(self, name: str, limit: int = 200) -> list[str]:
        """Up to `limit` image files of a class, for the Augment tab's preview."""
        import numpy as np

        dataset = self.controller.dataset
        if dataset is None or name not in dataset.classes:
            return []
        # From the label array: a Python walk over a million samples would stall the GUI.
        rows = np.flatnonzero(dataset.label_array() == dataset.classes.index(name))[:limit]
        paths = dataset.paths
        return [str(dataset.abspath(paths[int(i)])) for i in rows]

    def _sync_editor(self, editor: Any) -> None:
        c = self.controller
        if c.dataset is None or c.project is None:
            return
        from ..core.augment import default_preset_stack

        minority = {info.name for info in c.dataset.class_infos() if info.is_minority}
        editor.set_classes(list(c.dataset.classes), minority)
        editor.dataset_root = c.dataset.root
        editor.dataset_dirs = c.dataset.real_dirs
        self._synced = c.project
        settings = c.project.augment.model_dump()
        if settings["default_stack"] is None:
            # Generation uses the default preset when no stack was chosen: show that stack,
            # so the previews show what Generate will really make.
            settings["default_stack"] = default_preset_stack()
        editor.set_settings(settings)

    def _on_augment_settings(self, settings: dict) -> None:
        from ..core.project import AugmentSettings

        project = self.controller.project
        if project is None:
            return
        project.augment = AugmentSettings(**settings)
        self.controller.project_edited(replan=False)

    def _on_sample(self, editor: Any = None) -> None:
        editor = editor or self.augment_tab.widget
        if editor is None:
            return
        index = self.window.gallery.currentIndex()
        if not index.isValid():
            editor.set_gallery_sample(None, None)
            return
        model = self.window.gallery_model
        sample = model.sample(index.row())
        dataset = self.controller.dataset
        name = dataset.classes[sample.class_index] if dataset is not None else None
        editor.set_gallery_sample(model.abspath(index.row()), name)

    # -- generation ---------------------------------------------------------------------
    def _make_generation(self) -> QWidget:
        from .generation import GenerationPanel

        # QA decisions are the controller's undoable edits; the reject mode is a setting.
        # The window holds the panel's accept / reject actions (see panel_actions).
        panel = GenerationPanel(
            thumbnails=self.window.loader,
            controller=self.controller,
            own_shortcuts=False,
            on_generate=self.generate,  # the button waits for the plan, as the action does
            on_cancel=self._cancel_generate,  # and Cancel calls off that wait too
        )
        # Accept / Reject are enabled while the panel has a current image.
        panel.view.selectionModel().currentChanged.connect(
            lambda *_: self.window.stateChanged.emit()
        )
        panel.projectChanged.connect(lambda: self.controller.project_edited(replan=False))
        panel.generationFinished.connect(self._on_generated)
        panel.busyChanged.connect(lambda _busy: self._update_actions())
        self._sync_generation(panel)
        return panel

    def _on_generated(self, result: Any) -> None:
        self._note_unusable(result)
        # The status bar's next step was the scan's ("mark images…"): say what comes now;
        # not when an export asked for the images (its dialog opens next), nor over a check's
        # progress and Cancel button.
        if result is not None and self._export_pending is None and not self.window.session.scanning:
            self.window.scan_status.idle(next_steps.after_generation(result))
        pending, self._export_pending = self._export_pending, None
        if pending is not None:
            if result is None:  # cancelled or failed: the panel's status says which
                self.window.statusBar().showMessage(
                    "Export stopped: the planned images were not all made (cancelled or "
                    "failed, see the Generate tab); finished images are kept, export again "
                    "to continue.",
                    15000,
                )
            else:
                self._open_export_dialog(*pending[:3], result, pending[3])
        self._sync_generation()
        self._update_actions()

    def _note_unusable(self, result: Any) -> None:
        """Originals generation found not to decode become problems of the dataset."""
        bad = getattr(result, "bad_sources", None)
        if bad:
            self.window.session.note_unusable(bad)

    def _sync_generation(self, panel: Any = None) -> None:
        panel = panel or self.generate_tab.widget
        c = self.controller
        # A running generation keeps its plan; the new one is shown when it ends.
        if panel is None or panel.busy:
            return
        panel.set_context(c.dataset, c.project, c.plan, c.project_file)

    # -- reactions ----------------------------------------------------------------------
    def generate(self) -> None:
        """Show the Generate tab and start generating what the plan asks for, once the plan
        is the one the window shows (images made for a plan about to change are wasted, and
        the gallery would ask for a review of them)."""
        self.window.panels.setCurrentWidget(self.generate_tab)
        self._generate()

    def _generate(self) -> None:
        panel = self.generate_tab.ensure()
        if self._export_pending is not None or panel.busy:
            panel.generate()  # runs again after the current one (the panel's own rule)
            return
        if self.plan_wait.waiting_for == self.export:
            # The export waiting for the plan makes the planned images itself.
            self.window.statusBar().showMessage(
                "Export is waiting for the plan: it makes the planned images first."
            )
            return
        # Asked again (not `generate`) once settled: the user may have moved to another tab.
        wait = self.plan_wait
        if not wait.settled(self._generate, "generation starts", "Generation not started"):
            if self.plan_wait.waiting_for == self._generate:  # (not when refused)
                panel.set_waiting(self.window.statusBar().currentMessage())
            return
        if self.plan_wait.drop():  # (which ends the panel's "Waiting" too, see _wait_ended)
            self.window.statusBar().clearMessage()  # "Updating the plan…" is over
        self._sync_generation(panel)  # the settled plan
        panel.generate()

    def _wait_ended(self, action: Callable[[], None]) -> None:
        if action == self._generate and self.generate_tab.widget is not None:
            self.generate_tab.widget.set_waiting("")  # Cancel has nothing to call off now

    def _cancel_generate(self) -> None:
        """The Generate tab's Cancel: stops a running generation, or one waiting for the plan."""
        panel = self.generate_tab.widget
        if self.plan_wait.waiting_for == self._generate:
            self.plan_wait.drop()  # the panel's "Waiting" ends with it (see _wait_ended)
            self.window.statusBar().clearMessage()
        if panel is not None:
            panel.cancel()

    def _generation_running(self) -> bool:
        """Generate and Export are off while a generation runs (one job per staging folder)."""
        panel = self.generate_tab.widget
        return (panel is not None and panel.busy) or self._export_pending is not None

    def _update_actions(self) -> None:
        self.window.stateChanged.emit()  # the declared actions' enabled_when are asked again

    def _on_plan(self, plan) -> None:
        self._update_actions()
        self._sync_generation()
        self._next_step(plan)

    def _next_step(self, plan) -> None:
        """The scan's hint follows the targets: what comes next (later hints stay)."""
        status = self.window.scan_status
        text = next_steps.after_targets(status.message.full_text(), plan, self.controller.project)
        if text is not None:
            status.idle(text)

    def _on_project(self) -> None:
        c = self.controller
        self._sync_generation()  # e.g. a first save moves the staging folder
        self._update_actions()
        # The editor holds its own copy of the stacks; refresh it only for another project
        # (opened, recovered or new), not after its own edits.
        editor = self.augment_tab.widget
        if editor is not None and c.project is not None and c.project is not self._synced:
            self._sync_editor(editor)

    def _on_stacks(self) -> None:
        """A recipe replaced the default stack: the editor shows the new one."""
        if self.augment_tab.widget is not None:
            self._sync_editor(self.augment_tab.widget)

    # -- export -------------------------------------------------------------------------
    def export(self) -> None:
        """Open the export dialog; when the plan still lacks generated images, the Generate
        tab's job makes them first (visible, with Cancel; finished images are reused) and the
        dialog opens when it has succeeded."""
        c = self.controller
        if c.dataset is None or c.project is None or c.plan is None:
            return
        dialog = self.export_dialog
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.raise_()  # one export dialog at a time (a second could write the same folder)
            dialog.activateWindow()
            return
        bar = self.window.statusBar()
        panel = self.generate_tab.widget
        if self._export_pending is not None or (panel is not None and panel.busy):
            # Two generations in one staging folder would trip over each other's files.
            bar.showMessage("Generation is running: export when it has finished.", 8000)
            return
        session = self.window.session
        if session.scanning:
            # Never export a file the check has not passed: it may not decode (the verdicts a
            # reopened folder shows first are verified only now). While a folder is listed,
            # the window still shows the one before: the export is the new folder's.
            bar.showMessage("Images are being checked: the export opens when the check is done.")
            if self._export_after_check is None:
                session.scanFinished.connect(self._export_when_checked)
                session.scanFailed.connect(self._drop_export_wait)
                session.scanStarted.connect(self._drop_export_wait)  # another folder
            self._export_after_check = session.root
            return
        if not self.plan_wait.settled(self.export, "the export opens", "Export not opened"):
            return
        # Going ahead: a wait left from an earlier click must not open a second export.
        if self._export_after_check is not None:
            self._drop_export_wait()
        self.plan_wait.drop()
        dataset, project, plan = c.dataset, snapshot(c.project), c.plan
        if not any(cp.generate for cp in plan.splits["train"]):
            try:  # the export reads its record of unusable originals, if any
                staging = project.staging_path(c.project_file)
            except ProjectError:
                staging = None
            self._open_export_dialog(dataset, project, plan, [], staging)
            return
        try:
            staging = project.staging_path(c.project_file, dataset)
        except ProjectError as exc:
            self.app_session.show_error(f"Could not export: {exc}")
            return
        self.window.panels.setCurrentWidget(self.generate_tab)
        panel = self.generate_tab.ensure()
        self._sync_generation(panel)  # generate for the plan being exported
        self._export_pending = (dataset, project, plan, staging)
        if not panel.generate():
            self._export_pending = None
            bar.showMessage("Export: the Generate tab has nothing to make for this plan.", 8000)
            return
        planned, _classes = plan.generation_total()
        bar.showMessage(
            f"Export: the plan asks for {plural(planned, 'new image')}; the Generate tab makes "
            "those not made before (Cancel there stops the export too), then the export opens…",
            15000,
        )
        self._update_actions()

    def _export_when_checked(self, dataset) -> None:
        asked_for = self._export_after_check
        self._drop_export_wait()
        if not self.window.session.checked:  # the check was cancelled
            self.window.statusBar().showMessage(
                "Export not opened: the check was cancelled, so some images are not verified. "
                "Export again to export them as they are.",
                15000,
            )
        elif dataset.root == asked_for:
            QTimer.singleShot(0, self.export)  # after the checked dataset is planned

    def _drop_export_wait(self, *_: object) -> None:
        """Forget an export asked for while images were checked (the check ended, failed,
        or another folder is opened)."""
        session = self.window.session
        for signal, slot in (
            (session.scanFinished, self._export_when_checked),
            (session.scanFailed, self._drop_export_wait),
            (session.scanStarted, self._drop_export_wait),
        ):
            with suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        if self._export_after_check is not None:
            self._export_after_check = None
            self.window.statusBar().clearMessage()

    def _open_export_dialog(self, dataset, project, plan, generated, staging=None) -> None:
        from .export import ExportDialog

        self.window.statusBar().clearMessage()
        dialog = ExportDialog(
            dataset, project, plan, generated, parent=self.window, staging=staging,
            leak_check=self.inspection.leak_check(plan),
        )  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog = dialog
        dialog.exportFinished.connect(self.evaluate.exported)  # the export to evaluate next
        dialog.open()

    @property
    def busy(self) -> bool:
        return self._export_pending is not None or self.controller.busy or self.inspection.busy

    def shutdown(self) -> None:
        """Stop background work before the window closes (finished images are kept)."""
        if self.generate_tab.widget is not None:
            self.generate_tab.widget.shutdown()
        self._export_pending = None
        self.features_panel.shutdown()
        dialog = self.export_dialog
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.cancel()  # a running export removes its temporary folder
        generation = sys.modules.get("imbalance_studio.core.generation.run")
        if generation is not None:  # only if generation ever ran: its pool outlives a run
            generation.shutdown_pool()


def install_workbench(window: MainWindow) -> Workbench:
    return Workbench(window)


__all__ = ["LazyTab", "Workbench", "install_workbench"]
