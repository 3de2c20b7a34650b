"""The curation state behind the window: project, undo stack, plan, autosave.

Every edit is a QUndoCommand (commands.py) that calls one of the `_apply_*` methods; after
each, the plan is recomputed in a worker thread (latest request wins) and the project is
autosaved in a worker thread, so a crash loses at most the last edit and the GUI thread
never writes a file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack
from superqt.utils import create_worker

from ...core.autosave import write_autosave
from ...core.dataset import Dataset
from ...core.duplicates import iter_content_groups
from ...core.plan import Plan, SplitAssignment, make_plan, make_split
from ...core.policies import apply_policy
from ...core.project import ClassTarget, Mark, Method, Project, ProjectError, SplitSettings
from ...core.reconcile import reconcile
from .commands import SetCutmixCommand, SetMarksCommand, SetSplitCommand, SetTargetsCommand
from .decisions import QaDecisions
from .files import SaveJob, StatusWrite


def snapshot(project: Project) -> Project:
    """A copy a worker may read while the GUI keeps editing: marks and targets are replaced,
    never mutated, so a shallow copy shares them safely; the small settings objects that
    panels do mutate in place are copied."""
    return project.model_copy(
        update={
            "generation": project.generation.model_copy(deep=True),
            "augment": project.augment.model_copy(deep=True),
            "split": project.split.model_copy(),
        }
    )


def _compute_plan(
    dataset: Dataset, project: Project, groups: dict[str, str], split: SplitAssignment | None
) -> tuple[Plan, dict[str, int], SplitAssignment]:
    fractions = (project.split.train, project.split.val, project.split.test)
    if (
        split is None
        or split.seed != project.seed
        or split.fractions != fractions
        or len(split.splits) != len(dataset.samples)
    ):
        split = make_split(dataset, project.seed, project.split, groups)
    plan = make_plan(dataset, project, groups=groups, split=split)
    bare = make_plan(
        dataset, project.model_copy(update={"targets": {}}), groups=groups, split=split
    )
    counts = dict(zip(bare.classes, bare.final_counts("train"), strict=True))
    return plan, counts, split


class CurationController(QaDecisions, QObject):
    projectChanged = Signal()  # project replaced, saved, or its file changed
    marksChanged = Signal(object)  # iterable of rel paths whose mark changed
    planChanged = Signal(object)  # Plan
    status = Signal(str)  # one-line messages for the status bar
    error = Signal(str)  # a problem the user must see
    reconciled = Signal(object)  # ReconcileReport, after a project meets its folder
    decisionChanged = Signal(object)  # GeneratedImage with its status after a QA do/undo/redo

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.dataset: Dataset | None = None
        self.project: Project | None = None
        self.project_file: Path | None = None
        self.plan: Plan | None = None
        self.train_counts: dict[str, int] = {}  # after marks, before targets
        self._groups: dict[str, str] | None = None
        self._split: SplitAssignment | None = None
        self._pending_project: tuple[Project, Path | None] | None = None
        self._finding_groups = False
        self._unsaved_outside_undo = False  # edits that are not on the undo stack
        self._plan_request = 0
        self._workers: set[object] = set()
        # Edits arriving in a burst (a slider, a held key) cost one plan, not one each.
        self._plan_timer = QTimer(self, singleShot=True, interval=30)
        self._plan_timer.timeout.connect(self._start_plan)
        self._autosave_timer = QTimer(self, singleShot=True, interval=200)
        self._autosave_timer.timeout.connect(self._write_autosave)
        # Set before a job starts, cleared by its `then`: right whichever runs first.
        self._autosave_running = False
        self._autosave_again = False
        self._autosave_off = False
        self._edits = 0  # counts every edit, so a save knows whether it is still current
        self._status_queue: list[StatusWrite] = []  # QA statuses for the staging records
        self._status_running = False

    # -- state --------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Unsaved edits (undoing back to the saved state makes the project clean again)."""
        return self._unsaved_outside_undo or not self.undo_stack.isClean()

    def project_edited(self, replan: bool = True) -> None:
        """Another panel changed the project in place (augmentation stacks, rejections)."""
        self._unsaved_outside_undo = True
        self._edits += 1
        if replan:
            self.schedule_plan()
        self._autosave()
        self.projectChanged.emit()

    @property
    def busy(self) -> bool:
        return bool(self._workers) or self._plan_timer.isActive() or self._autosave_timer.isActive()

    @property
    def split_assignment(self) -> SplitAssignment | None:
        """The split of every sample of `dataset` behind the current plan (None: not yet)."""
        return self._split

    def mark_of(self, rel_path: str) -> Mark | None:
        return self.project.marks.get(rel_path) if self.project else None

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Adopt a (re)scanned dataset: a project opened for this folder, the current project
        when it is the same folder, or a fresh project."""
        same_root = (
            dataset is not None and self.dataset is not None and dataset.root == self.dataset.root
        )
        self.dataset = dataset
        if dataset is None:
            self.project, self.plan = None, None
            self.projectChanged.emit()
            return
        self._split = None  # made for the previous sample list
        self._plan_request += 1  # a plan still running for the old sample list is stale
        if not same_root:
            self._groups = None
        if (
            self._pending_project is not None
            and Path(self._pending_project[0].dataset_root).absolute() == dataset.root.absolute()
        ):
            self.project, self.project_file = self._pending_project
            self._pending_project = None
            self.undo_stack.clear()
            self._unsaved_outside_undo = False
            self.reconciled.emit(reconcile(self.project, dataset))
            self.projectChanged.emit()
        elif self.project is None or not same_root:
            self.project = Project(dataset_root=str(dataset.root))
            self.project_file = None
            self.undo_stack.clear()
            self._unsaved_outside_undo = False
            self.projectChanged.emit()
        if self._groups is None:
            if not same_root or not self._finding_groups:
                self._find_identical_files(dataset)
        else:
            self.schedule_plan()

    # -- edits (undoable) ---------------------------------------------------------------
    def set_marks(self, paths: list[str], mark: Mark | None, text: str) -> None:
        if self.project is None or not paths:
            return
        self.undo_stack.push(SetMarksCommand(self, dict.fromkeys(paths, mark), text))

    def set_target(self, class_name: str, target: ClassTarget) -> None:
        if self.project is None:
            return
        self.undo_stack.push(
            SetTargetsCommand(self, {class_name: target}, f"Target of {class_name}")
        )

    def apply_policy(self, policy: str, method: Method) -> None:
        """Fill every class's target from a policy (raises ValueError for a bad policy)."""
        if self.project is None or self.dataset is None:
            return
        targets = apply_policy(policy, self.train_counts, method)
        self.undo_stack.push(SetTargetsCommand(self, dict(targets), f"Policy {policy}", policy))

    def clear_targets(self) -> None:
        if self.project is None:
            return
        self.undo_stack.push(
            SetTargetsCommand(self, dict.fromkeys(self.project.targets), "Clear targets", None)
        )

    def set_split(self, split: SplitSettings, seed: int) -> None:
        if self.project is None:
            return
        if split == self.project.split and seed == self.project.seed:
            return
        self.undo_stack.push(SetSplitCommand(self, split, seed))

    def set_cutmix(self, class_name: str, on: bool) -> None:
        if self.project is None:
            return
        if (class_name in self.project.generation.cutmix_classes) != on:
            self.undo_stack.push(SetCutmixCommand(self, class_name, on))

    def _apply_cutmix(self, classes: list[str]) -> None:
        assert self.project is not None
        self.project.generation = self.project.generation.model_copy(
            update={"cutmix_classes": classes}
        )
        self._edited()

    def _apply_marks(self, marks: dict[str, Mark | None]) -> None:
        assert self.project is not None
        # Checks only the changed marks: validating the whole dict per edit is too slow.
        self.project.update_marks(marks)
        self.marksChanged.emit(list(marks))
        self._edited()

    def _apply_targets(
        self, targets: dict[str, ClassTarget | None], policy: str | bool | None
    ) -> None:
        assert self.project is not None
        new = dict(self.project.targets)
        for name, target in targets.items():
            if target is None:
                new.pop(name, None)
            else:
                new[name] = target
        self.project.targets = new
        if policy is not False:
            self.project.policy = policy  # type: ignore[assignment]
        self._edited()

    def _apply_split(self, split: SplitSettings, seed: int) -> None:
        assert self.project is not None
        self.project.split = split
        self.project.seed = seed
        self._edited()
        self.projectChanged.emit()

    def _edited(self) -> None:
        self._edits += 1
        self.schedule_plan()
        self._autosave()

    # -- plan ---------------------------------------------------------------------------
    def schedule_plan(self) -> None:
        if self.dataset is not None and self.project is not None and self._groups is not None:
            self._plan_timer.start()

    def _start_plan(self) -> None:
        if self.dataset is None or self.project is None or self._groups is None:
            return
        self._plan_request += 1
        request = self._plan_request
        self.run_job(
            _compute_plan,
            self.dataset,
            snapshot(self.project),
            self._groups,
            self._split,
            done=lambda result, r=request: self._on_plan(r, result),
            failed="Could not make the plan",
        )

    def _on_plan(self, request: int, result: tuple[Plan, dict[str, int], SplitAssignment]) -> None:
        if request != self._plan_request:
            return  # a newer edit already asked for a newer plan
        self.plan, self.train_counts, self._split = result
        self.planChanged.emit(self.plan)

    def _find_identical_files(self, dataset: Dataset) -> None:
        self._finding_groups = True

        def done(groups: dict[str, str], root: Path = dataset.root) -> None:
            self._finding_groups = False
            if self.dataset is None or self.dataset.root != root:
                return
            self._groups = groups
            if groups:  # silence otherwise: "scan complete" is the message that matters
                self.status.emit(
                    f"{len(groups)} files have an identical twin; twins share a split."
                )
            self.schedule_plan()

        self.run_job(iter_content_groups, dataset, done=done, failed="Could not compare files")

    def run_job(
        self, fn, *args, done=None, failed: str | None = None, quiet: bool = False, then=None
    ):
        """Run `fn(*args)` in a worker thread. `done(result)` runs on the GUI thread; a
        failure is reported as "`failed`: reason" (a ProjectError as its own clear message),
        through `status` when `quiet`, else `error`; `then()` runs after either. Callbacks
        are dropped once this controller is gone, and the worker is kept alive until it
        finishes. Every callback is connected before the worker starts: a short job can
        finish before the line after `run_job` runs, and its signal would be lost."""
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True)
        if done is not None:
            worker.returned.connect(self._alive_only(done))
        if then is not None:
            worker.finished.connect(self._alive_only(then))
        if failed is not None:
            signal = self.status if quiet else self.error

            def report(exc: BaseException) -> None:
                signal.emit(str(exc) if isinstance(exc, ProjectError) else f"{failed}: {exc}")

            worker.errored.connect(self._alive_only(report))
        self._run(worker)
        return worker

    def _alive_only(self, fn):
        """Wrap a worker callback so it does nothing once this controller is destroyed (a
        worker may finish after the window closed)."""

        def call(*args):
            if shiboken6.isValid(self):
                fn(*args)

        return call

    def _run(self, worker) -> None:
        self._workers.add(worker)
        worker.finished.connect(lambda w=worker: self._workers.discard(w))
        worker.start()

    # -- files --------------------------------------------------------------------------
    def _autosave(self) -> None:
        # Debounced, and one write at a time in edit order: parallel writes could land an
        # older snapshot over a newer one.
        if self.project is not None and not self._autosave_off:
            self._autosave_timer.start()

    def _write_autosave(self) -> None:
        if self.project is None or self._autosave_off:
            return
        if self._autosave_running:
            self._autosave_again = True
            return
        self._autosave_running = True
        self.run_job(
            write_autosave,
            snapshot(self.project),
            self.project_file,
            failed="Autosave failed",
            quiet=True,
            then=self._autosave_done,
        )

    def _autosave_done(self) -> None:
        self._autosave_running = False
        if self._autosave_again:
            self._autosave_again = False
            self._write_autosave()

    def stop_autosave(self, timeout_ms: int = 3000) -> None:
        """No more autosaves (the window is closing): waits for one being written."""
        from PySide6.QtCore import QThreadPool

        self._autosave_off = True
        self._autosave_timer.stop()
        if self._autosave_running:
            QThreadPool.globalInstance().waitForDone(timeout_ms)

    def keep_autosave(self) -> None:
        """The window closes without asking (terminated by a signal): no more autosaves,
        and the newest unsaved state is on disk as the autosave before this returns."""
        self.stop_autosave()  # waits for one being written
        if self.project is not None and self.dirty:
            # On the GUI thread on purpose: the process is about to exit, a worker might not
            # run. A failed write leaves the previous autosave in place.
            with contextlib.suppress(OSError):
                write_autosave(snapshot(self.project), self.project_file)

    def save(self, path: Path | None = None) -> bool:
        """Save to `path` (or the current file) in a worker; False when there is no file to
        save to. Save, Save As and save-on-close (`save_now`) share one `SaveJob`."""
        job = self._save_job(path)
        if job is None:
            return False
        self.run_job(job.run, done=lambda file: self._saved(job, file), failed="Could not save")
        return True

    def save_now(self, path: Path | None = None) -> Path:
        """The same save, synchronously: for the closing window, where a worker might not
        finish before the process ends. Raises ProjectError or OSError."""
        job = self._save_job(path)
        if job is None:
            raise ProjectError("nothing to save: no project, or no file chosen")
        self._flush_statuses()
        file = job.run()
        self._saved(job, file)
        return file

    def _save_job(self, path: Path | None) -> SaveJob | None:
        if self.project is None:
            return None
        target = Path(path) if path is not None else self.project_file
        if target is None:
            return None
        return SaveJob(snapshot(self.project), self.dataset, self.project_file, target, self._edits)

    def _saved(self, job: SaveJob, file: Path) -> None:
        self.project_file = file
        if self.project is not None:
            self.project.snapshot = job.project.snapshot
        if self._edits == job.edits_at_start:
            self._unsaved_outside_undo = False
            self.undo_stack.setClean()
        else:  # edited while saving: still unsaved, and its autosave was just removed
            self._autosave()
        self.status.emit(f"Saved {file}")
        self.projectChanged.emit()

    def open_project(self, path: Path, on_loaded) -> None:
        """Load a project file in a worker; `on_loaded(project)` then opens its folder.
        A broken file leaves the current state as it was."""

        def loaded(project: Project) -> None:
            self.adopt_project(project, Path(path))
            on_loaded(project)

        self.run_job(Project.load, path, done=loaded, failed=f"Could not open {path}")

    def adopt_project(self, project: Project, project_file: Path | None) -> None:
        """Use `project` as soon as its dataset folder has been scanned."""
        self._pending_project = (project, project_file)
        if (
            self.dataset is not None
            and self.dataset.root.absolute() == Path(project.dataset_root).absolute()
        ):
            self.set_dataset(self.dataset)
