"""The curation state behind the window: project, undo stack, plan, autosave.

Every edit is a QUndoCommand (commands.py) that calls one of the `_apply_*` methods; after
each, the plan is recomputed as a job (a newer plan replaces the older one: the runner's
`key`) and the project is autosaved as a job (files.py), so a crash loses at most the last
edit and the GUI thread never writes a file. Every job starts on the window's one job runner
(`gui.jobs`) through `run_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from ...core.dataset import Dataset
from ...core.duplicates import iter_content_groups
from ...core.plan import Plan, iter_replan
from ...core.policies import apply_policy
from ...core.project import ClassTarget, Mark, Method, Project, ProjectError, SplitSettings
from ...core.reconcile import reconcile
from ...core.split import SplitAssignment
from .commands import (
    ApplyRecipeCommand,
    SetCutmixCommand,
    SetMarksCommand,
    SetSplitCommand,
    SetTargetsCommand,
)
from .decisions import QaDecisions
from .files import ProjectFiles, StatusWrite, snapshot

if TYPE_CHECKING:
    from ..jobs import Job

__all__ = ["CurationController", "snapshot"]


class CurationController(QaDecisions, ProjectFiles, QObject):
    projectChanged = Signal()  # project replaced, saved, or its file changed
    marksChanged = Signal(object)  # iterable of rel paths whose mark changed
    planChanged = Signal(object)  # Plan
    planningEnded = Signal()  # `planning` turned False (after planChanged, or with no plan)
    status = Signal(str)  # one-line messages for the status bar
    error = Signal(str)  # a problem the user must see
    reconciled = Signal(object)  # ReconcileReport, after a project meets its folder
    decisionChanged = Signal(object)  # GeneratedImage with its status after a QA do/undo/redo
    stacksChanged = Signal()  # the default stack was replaced (a recipe applied or undone)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.dataset: Dataset | None = None
        self.project: Project | None = None
        self.project_file: Path | None = None
        self.plan: Plan | None = None
        self.train_counts: dict[str, int] = {}  # after marks, before targets
        self._groups: dict[str, str] | None = None
        self._near_groups: dict[str, str] | None = None  # from the Inspect panel
        self._split: SplitAssignment | None = None
        self._pending_project: tuple[Project, Path | None] | None = None
        # The identical-file search and the plan being made (see `planning`); a token, not a
        # flag: a search or plan replaced by a newer one must not end the newer one's wait.
        self._search_token: object | None = None
        self._plan_token: object | None = None
        self._plans_started = 0
        # Whether `plan` is the plan of what is shown: not after another dataset arrived or
        # an edit's plan failed (then the plan is of something else, and is not exported).
        self.plan_current = False
        self._unsaved_outside_undo = False  # edits that are not on the undo stack
        self._jobs_running = 0  # jobs started by run_job that have not ended yet
        # A newer plan (or reconcile) replaces the one still running: the runner's key.
        self._plan_key = ("curation plan", id(self))
        self._reconcile_key = ("curation reconcile", id(self))
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
        return (
            self._jobs_running > 0 or self._plan_timer.isActive() or self._autosave_timer.isActive()
        )

    @property
    def planning(self) -> bool:
        """A new plan is on its way (`planChanged` follows): an edit waits for its debounce,
        a plan is being made, or the identical-file search the plan needs still runs. Unlike
        `busy`, not an autosave or a reconcile, after which no plan comes."""
        # Not `runner().running(key)`: a job is still tracked for a moment after its result
        # has been delivered, and a wait begun then would wait for a plan that never comes.
        return self._plan_timer.isActive() or self._finding_groups or self._plan_token is not None

    @property
    def _finding_groups(self) -> bool:
        return self._search_token is not None

    def _planning_maybe_ended(self) -> None:
        if not self.planning:
            self.planningEnded.emit()

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
        self.plan_current = False  # the plan was of the last sample list
        if dataset is None:
            self.project, self.plan = None, None
            self.projectChanged.emit()
            return
        self._split = None  # made for the previous sample list
        from ..jobs import runner  # not at start-up: it brings superqt

        runner().cancel(self._plan_key)  # a plan still running for the old sample list is stale
        if not same_root:
            self._groups = None
            self._near_groups = None
        if (
            self._pending_project is not None
            and Path(self._pending_project[0].dataset_root).absolute() == dataset.root.absolute()
        ):
            self.project, self.project_file = self._pending_project
            self._pending_project = None
            self.undo_stack.clear()
            self._unsaved_outside_undo = False
            self._reconcile(self.project, dataset)
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

    def set_duplicate_groups(self, groups: dict[str, str] | None) -> None:
        """Exact and near-duplicate groups from the inspection ({path: key}; None or empty:
        none, or grouping turned off) are kept in one split with the identical files."""
        if groups == self._near_groups:
            return
        self._near_groups = groups
        self._split = None  # made with other groups
        self.schedule_plan(now=True)

    # -- edits (undoable) ---------------------------------------------------------------
    def set_marks(self, paths: list[str], mark: Mark | None, text: str) -> None:
        self.change_marks(dict.fromkeys(paths, mark), text)

    def change_marks(self, marks: dict[str, Mark | None], text: str) -> None:
        """Set each path's mark (None clears it) as one undoable step; nothing at all when no
        mark changes (Shift+D on an unmarked image): an empty step would wipe the redo
        history."""
        if self.project is None:
            return
        old = self.project.marks
        # Identity first: Mark's own comparison runs in Python (10,000 of them: ~15 ms).
        changed = {
            p: m
            for p, m in marks.items()
            if (o := old.get(p)) is not m and (o is None or m is None or o != m)
        }
        if changed:
            self.undo_stack.push(SetMarksCommand(self, changed, text))

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

    def split_groups(self) -> dict[str, str] | None:
        """The groups the plan is split with (identical files joined by the inspection's
        duplicate groups), or None while they are still being found."""
        if self._groups is None:
            return None
        if self._near_groups:
            from ...core.inspect.split_groups import merge_groups

            return merge_groups(self._groups, self._near_groups)
        return self._groups

    def apply_recipe(self, apply: dict, name: str) -> None:
        """Apply a recipe search's winner (its "apply": policy, method, stack) as one
        undoable step: oversample by its method with its preset, or no targets at all for a
        recipe of the originals (re-weighting and the sampler are chosen at training time,
        from the export's weights.json)."""
        from ...core.augment import PRESETS

        if self.project is None or self.dataset is None:
            return
        policy, stack = apply.get("policy"), self.project.augment.default_stack
        targets: dict[str, ClassTarget] = {}
        if policy:
            targets = apply_policy(policy, self.train_counts, Method(apply["method"]))
            if apply.get("stack") in PRESETS:
                stack = PRESETS[apply["stack"]]
        command = ApplyRecipeCommand(self, targets, policy, stack, f"Recipe {name}")
        self.undo_stack.push(command)

    def _apply_recipe(self, targets: dict, policy: str | None, stack: dict | None) -> None:
        assert self.project is not None
        self.project.targets = dict(targets)
        self.project.policy = policy
        self.project.augment = self.project.augment.model_copy(update={"default_stack": stack})
        self.stacksChanged.emit()
        self._edited()

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
    def schedule_plan(self, now: bool = False) -> None:
        """Plan again, 30 ms after the last of a burst of edits (key presses), or `now` when
        what the plan waited for has arrived (the groups): a newer plan replaces a running
        one between two of its steps."""
        if self.dataset is not None and self.project is not None and self._groups is not None:
            if now:
                self._plan_timer.stop()
                self._start_plan()
            else:
                self._plan_timer.start()

    def _start_plan(self) -> None:
        if self.dataset is None or self.project is None or self._groups is None:
            self._planning_maybe_ended()  # the debounce ended with nothing to plan
            return
        near = self._near_groups
        token = self._plan_token = object()  # this plan is the one `planning` waits for
        self._plans_started += 1

        def delivered() -> None:  # its result arrived, it failed, or a newer plan replaced it
            if self._plan_token is token:  # failed (a delivered one gave its token up)
                self._plan_token = None
                self.plan_current = False
                self._planning_maybe_ended()

        def done(result: tuple[Plan, dict[str, int], SplitAssignment]) -> None:
            # A plan made before the inspection's groups changed is stale (its split too):
            # the plan scheduled by that change replaces it.
            if near is not self._near_groups:
                delivered()
                return
            if self._plan_token is token:
                self._plan_token = None  # planChanged's listeners see no plan coming
            try:
                self._on_plan(result)
            finally:
                self._planning_maybe_ended()

        self.run_job(
            iter_replan,
            self.dataset,
            snapshot(self.project),
            self._groups,
            self._split,
            near,
            key=self._plan_key,
            done=done,
            failed="Could not make the plan",
            then=delivered,
            serial=True,
        )

    def _on_plan(self, result: tuple[Plan, dict[str, int], SplitAssignment]) -> None:
        from ..main_thread_gc import adopt

        self.plan, self.train_counts, self._split = result
        self.plan_current = True
        adopt(len(self._split.splits))  # a plan holds every path of the dataset
        self.planChanged.emit(self.plan)

    def _reconcile(self, project: Project, dataset: Dataset) -> None:
        """Compare the opened project with its scanned folder, as a job: at a million samples
        it sorts and hashes every path (seconds)."""

        def done(report: object) -> None:
            if self.project is project and self.dataset is dataset:
                self.reconciled.emit(report)

        self.run_job(
            reconcile, snapshot(project), dataset, key=self._reconcile_key, done=done,
            failed="Could not compare the project with its folder", serial=True,
        )  # fmt: skip

    def _find_identical_files(self, dataset: Dataset) -> None:
        token = self._search_token = object()

        def ended() -> None:  # after `done`, or a failure (then no plan comes)
            if self._search_token is token:
                self._search_token = None
                self._planning_maybe_ended()

        def done(groups: dict[str, str], root: Path = dataset.root) -> None:
            if self._search_token is token:
                self._search_token = None  # the plan scheduled below takes over `planning`
            started = self._plans_started
            if self.dataset is not None and self.dataset.root == root:
                self._groups = groups
                if groups:  # silence otherwise: "scan complete" is the message that matters
                    self.status.emit(
                        f"{len(groups)} files have an identical twin; twins share a split."
                    )
                self.schedule_plan(now=True)
            if self._plans_started == started:  # nothing planned (another folder since)
                self._planning_maybe_ended()

        self.run_job(
            iter_content_groups, dataset, done=done, failed="Could not compare files",
            then=ended, serial=True,
        )  # fmt: skip

    def run_job(
        self,
        fn: Callable[..., Any],
        *args: Any,
        done: Callable[[Any], None] | None = None,
        failed: str | None = None,
        quiet: bool = False,
        then: Callable[[], None] | None = None,
        key: object = None,
        serial: bool = False,
    ) -> Job:
        """Run `fn(*args)` on the job runner. `done(result)` runs on the GUI thread; a failure
        is reported as "`failed`: reason" (a ProjectError as its own clear message), through
        `status` when `quiet`, else `error` (without `failed` it is dropped); `then()` runs
        after either, and after a job replaced by a newer one of the same `key`. Callbacks
        are dropped once this controller is gone; `busy` holds until every job has ended.
        `serial`: Python-bound work, run one such job at a time (`gui.jobs.LANE`)."""
        signal = self.status if quiet else self.error

        def report(exc: BaseException) -> None:
            signal.emit(str(exc) if isinstance(exc, ProjectError) else f"{failed}: {exc}")

        def ended() -> None:
            self._jobs_running -= 1
            if then is not None:
                then()

        from ..jobs import start_job  # not at start-up: it brings superqt

        self._jobs_running += 1  # before the start: a quick job can end inside it
        return start_job(
            fn, *args, owner=self, key=key, done=done,
            error=report if failed is not None else None, finished=ended, serial=serial,
            hold_on_result=serial,  # a plan or a reconcile at a million samples: long turns
        )  # fmt: skip
