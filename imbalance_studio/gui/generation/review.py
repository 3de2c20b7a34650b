"""QA review of generated images: the gallery's contents, accept and reject, by mouse or key.

A or Space accepts, R or Delete rejects, and the selection moves on to the next pending image
(a rejected tile stays where it was; its replacement appears right after it). Every
decision is an undoable edit of the curation controller (Undo takes a reject and the target it
lowered back in one step); the gallery shows what the controller reports. The gallery is
(re)loaded from the staging folder in a background job; a newer load replaces an older one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex

from ...core.generation import GeneratedImage
from ..jobs import runner, start_job
from .model import ImageRole

REJECT_CHOICES = (
    ("replace", "On reject: make a replacement"),
    ("reduce", "On reject: lower the class count"),
)


class QAReview:
    """The review half of the Generate panel (mixed into `GenerationPanel`, whose gallery,
    `qa_gallery.py`, owns the widgets: `view`, `proxy`, `model`, `compare`, `reject_mode`; the
    panel owns `generate()`)."""

    # Set by the panel: the controller, the context and the widgets named above.
    controller: Any
    dataset: Any
    project: Any
    plan: Any
    staging: Any
    _overrides: dict[str, str]

    def _install_review(self) -> None:
        self._gallery_key = object()  # one gallery load at a time: the newest context wins
        self.reject_mode.currentIndexChanged.connect(self._reject_mode_changed)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.compare.acceptRequested.connect(self.accept_image)
        self.compare.rejectRequested.connect(self.reject_image)
        if self._own_shortcuts:  # in the window, the window binds them (Edit menu)
            from ..actions import bind_actions
            from .review_actions import review_actions

            changed = self.view.selectionModel().currentChanged
            bind_actions(self, review_actions(lambda: self, scope=self), signals=[changed])
        if self.controller is not None:
            self.controller.decisionChanged.connect(self._decision_changed)

    # -- the gallery -----------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        """Whether a gallery load is still on its way."""
        return runner().running(self._gallery_key)

    def _load_gallery(self) -> None:
        start_job(
            load_gallery, self.dataset, self.project, self.plan, self.staging,
            owner=self, key=self._gallery_key, done=self._gallery_loaded,
            error=lambda exc: self._say(str(exc), error=True),
        )  # fmt: skip

    def _gallery_loaded(self, found: tuple[list[GeneratedImage], int]) -> None:
        images, missing = found
        rejected = set(self.project.generation.rejected) if self.project is not None else set()
        # Decisions whose record is still being written show as the user made them.
        images = [
            dataclasses.replace(g, status="rejected")
            if g.id in rejected
            else dataclasses.replace(g, status=self._overrides.get(g.id, g.status))
            for g in images
        ]
        current = self.current_image()
        if self.project is not None:
            self.model.rejected_order = {
                iid: i for i, iid in enumerate(self.project.generation.rejected)
            }
        self.model.merge_images(images)  # in place: no reshuffle, the selection stays
        if current is not None and self.model.image(current.id) is not None:
            self._select(current.id)
        elif current is not None:
            self.compare.show_image(None)
        if not self.busy:
            self._show_ready(len(images) - len(rejected & {g.id for g in images}), missing)

    def _select(self, image_id: str) -> None:
        row = self.model.row_of(image_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if index.isValid():
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    # -- decisions -------------------------------------------------------------------------
    def current_image(self) -> GeneratedImage | None:
        index = self.view.currentIndex()
        return index.data(ImageRole) if index.isValid() else None

    def accept_image(self, image: GeneratedImage) -> None:
        if not self._can_decide(image):
            return
        following = self._next_pending(image)
        if self.controller.decide(image, "accepted"):
            self._advance(following)

    def reject_image(self, image: GeneratedImage) -> None:
        """Reject, as one undoable step: remembered in the project at once; the replacement
        (mode "replace") is made in the background and appears in the gallery, or (mode
        "reduce") the class's target drops by one."""
        from ...core.generation import reduced_plan

        if not self._can_decide(image) or self.project is None:
            return
        mode = self.reject_mode.currentData()
        following = self._next_pending(image)
        if not self.controller.decide(image, "rejected", mode):
            return
        if mode == "reduce" and self.plan is not None:
            # One task fewer for the class at once; the controller's replan follows.
            self.plan = reduced_plan(self.plan, image.class_name)
        self._advance(following)
        if mode == "replace":
            self.generate()  # the project already lists the image: its slot is made anew

    def _can_decide(self, image: GeneratedImage) -> bool:
        if self.staging is None or image.status == "rejected":
            return False  # a rejected image comes back by Undo
        if self.controller is None:
            self._say("Open the project in the main window to accept or reject", error=True)
            return False
        return True

    def _decision_changed(self, image: GeneratedImage) -> None:
        """A decision was made, undone or redone: show it until its record says so."""
        self._overrides[image.id] = image.status
        shown = self.model.image(image.id) or image
        self._show_status(
            dataclasses.replace(shown, status=image.status, reject_mode=image.reject_mode)
        )

    def accept_current(self) -> None:
        image = self.current_image()
        if image is not None and image.status != "rejected":
            self.accept_image(image)

    def reject_current(self) -> None:
        image = self.current_image()
        if image is not None and image.status != "rejected":
            self.reject_image(image)

    def _show_status(self, image: GeneratedImage) -> None:
        self.model.update_image(image)
        self._count_states_now()
        if self.compare.image is not None and self.compare.image.id == image.id:
            self.compare.show_image(image)

    def _next_pending(self, image: GeneratedImage) -> str | None:
        """The id of the first pending image after `image` in the gallery as shown (from the
        top when none follows it), so the next A or R acts on an image not yet judged."""
        rows = self.proxy.rowCount()
        source = self.model.row_of(image.id)
        at = -1 if source is None else self.proxy.mapFromSource(self.model.index(source)).row()
        for step in range(1, rows + 1):
            index = self.proxy.index((at + step) % rows, 0)
            g = self.model.image_at(self.proxy.mapToSource(index).row())
            if g is not None and g.status in ("pending", "unreviewed") and g.id != image.id:
                return g.id
        return None

    def _advance(self, following: str | None) -> None:
        if following is not None:
            self._select(following)
            self.view.scrollTo(self.view.currentIndex())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.compare.show_image(current.data(ImageRole) if current.isValid() else None)

    def _reject_mode_changed(self, _index: int) -> None:
        if self.project is not None:
            self.project.generation.on_reject = self.reject_mode.currentData()
            self.projectChanged.emit()


def load_gallery(dataset, project, plan, staging) -> tuple[list[GeneratedImage], int]:
    """Runs in a worker: the staged images the plan uses, plus the rejected ones (shown
    tinted, so the user sees what was turned down), and how many are still missing."""
    from ...core.generation import awaiting_review, load_staging, staged_for_plan

    images, missing = staged_for_plan(dataset, project, plan, staging)
    rejected = set(project.generation.rejected)
    classes = {g.class_name for g in images} | {
        plan.classes[cp.class_index] for cp in plan.splits["train"] if cp.generate
    }
    shown = [g for g in load_staging(staging) if g.id in rejected and g.class_name in classes]
    # Diffusion images no one has reviewed come first: the export asks before taking them.
    waiting = {g.id for g in awaiting_review(images, project)}
    images.sort(key=lambda g: g.id not in waiting)
    return images + shown, missing
