"""The QA gallery shows each image's review state and keeps its place.

A tile shows a pending / accepted / rejected badge over its thumbnail, the gallery filters by
state, and after a decision the selection moves to the next pending image; a rejected tile
stays where it was and its replacement appears right after it (no reshuffle).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import write_digits
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap

from imbalance_studio.core.generation import GeneratedImage
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import scan
from imbalance_studio.gui.generation import GenerationPanel
from imbalance_studio.gui.generation.tile import BADGES, badge_rect

BLUE = QColor(20, 40, 230)


class SolidThumbnails:
    """A thumbnail source that has every thumbnail at once: a solid blue square."""

    def pixmap(self, _path: str) -> QPixmap:
        pm = QPixmap(96, 96)
        pm.fill(BLUE)
        return pm


def fake(i: int, status: str, cls: str = "digit_1") -> GeneratedImage:
    return GeneratedImage(
        id=f"img{i:02d}", class_name=cls, file=Path(f"/nowhere/img{i}.png"), sources=("a.png",),
        generator="augment", seed=i, status=status, ordinal=i,
    )  # fmt: skip


@pytest.fixture
def bare_panel(qtbot):
    p = GenerationPanel(workers=1)
    p.model.thumbnails = SolidThumbnails()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    return p


def test_each_tile_draws_its_state_as_a_badge_over_the_thumbnail(qtbot, bare_panel):
    p = bare_panel
    p.model.set_images([fake(0, "pending"), fake(1, "accepted"), fake(2, "rejected")])
    qtbot.waitExposed(p)
    shot = p.view.viewport().grab().toImage()
    delegate = p.view.itemDelegate()
    for row, status in enumerate(("pending", "accepted", "rejected")):
        rect = p.view.visualRect(p.proxy.index(row, 0))
        thumb = delegate.thumb_rect(rect)
        badge = badge_rect(thumb)
        # The pill's own colour at its left end (the text is centred), inside the thumbnail.
        assert thumb.contains(badge)
        pill = shot.pixelColor(badge.left() + 4, badge.center().y())
        want = BADGES[status][1]
        assert (
            abs(pill.red() - want.red())
            + abs(pill.green() - want.green())
            + abs(pill.blue() - want.blue())
            < 30
        ), (status, pill.name())
        above = shot.pixelColor(thumb.left() + 10, thumb.top() + 20)
        if status == "rejected":
            assert above != BLUE, "a rejected thumbnail is washed out"
        else:
            assert above == BLUE, "the badge leaves the image visible"


def test_the_gallery_filters_by_review_state(qtbot, bare_panel):
    p = bare_panel
    states = ["pending", "accepted", "pending", "rejected", "pending"]
    p.model.set_images([fake(i, s) for i, s in enumerate(states)])

    def texts():
        return [p.state_filter.itemText(i) for i in range(p.state_filter.count())]

    qtbot.waitUntil(
        lambda: (
            texts()
            == ["All states (5)", "Unreviewed (0)", "Pending (3)", "Accepted (1)", "Rejected (1)"]
        )
    )
    for status, n in (("pending", 3), ("accepted", 1), ("rejected", 1), ("", 5)):
        p.state_filter.setCurrentIndex(p.state_filter.findData(status))
        assert p.proxy.rowCount() == n
        shown = [p.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 3) for r in range(n)]
        assert not status or set(shown) == {status}


def test_new_images_take_their_slot_and_a_reload_does_not_reshuffle(qtbot, bare_panel):
    p = bare_panel
    p.model.class_rank = {"digit_1": 1, "digit_2": 2}
    p.model.set_images([fake(i, "pending") for i in (0, 1, 3)] + [fake(9, "pending", "digit_2")])
    rejected = fake(1, "rejected")
    replacement = GeneratedImage(**{**fake(1, "pending").__dict__, "id": "img01-new"})
    # A replacement arriving from a run lands right after the image it replaces.
    p.model.add_images([replacement])
    p.model.update_image(rejected)
    order = [g.id for g in p.model.images()]
    assert order == ["img00", "img01", "img01-new", "img03", "img09"]
    # A reload that lists the images in another order (rejected ones last, as the staging
    # folder gives them) changes nothing on screen.
    p.view.setCurrentIndex(p.proxy.index(3, 0))
    reset = []
    p.model.modelReset.connect(lambda: reset.append(1))
    p.model.merge_images([fake(0, "pending"), replacement, fake(3, "pending"),
                          fake(9, "pending", "digit_2"), rejected])  # fmt: skip
    assert [g.id for g in p.model.images()] == order and not reset
    assert p.current_image().id == "img03", "the selection stays on its image"


# -- with real generation -------------------------------------------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-qa")
    write_digits(root, [30, 12, 6])
    return root


@pytest.fixture
def panel(qtbot, root, tmp_path):
    from imbalance_studio.gui.curation.controller import CurationController

    dataset = scan(root)
    project = Project(
        dataset_root=str(root),
        targets={"digit_1": ClassTarget(target=12), "digit_2": ClassTarget(target=10)},
    )
    controller = CurationController()
    controller.dataset, controller.project = dataset, project
    controller.project_file = tmp_path / "p.isproj.json"
    p = GenerationPanel(workers=1, controller=controller)
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()

    def replan(*_args):  # as the window does after every project change
        if not p.busy:
            p.set_context(dataset, project, make_plan(dataset, project), controller.project_file)

    controller.decisionChanged.connect(replan)
    p.generationFinished.connect(replan)
    p.set_context(dataset, project, make_plan(dataset, project), controller.project_file)
    with qtbot.waitSignal(p.generationFinished, timeout=60_000):
        p.generate_button.click()
    qtbot.waitUntil(lambda: not p.busy and not p.loading, timeout=10_000)
    yield p
    p.cancel()
    qtbot.waitUntil(lambda: not p.busy, timeout=10_000)


def ids(panel) -> list[str]:
    return [g.id for g in panel.model.images()]


def test_reject_keeps_the_tile_selects_the_next_pending_and_shows_the_replacement_beside_it(
    qtbot, panel
):
    p = panel
    p.view.setFocus()
    p.view.setCurrentIndex(p.proxy.index(1, 0))
    qtbot.keyClick(p.view, Qt.Key.Key_A)  # row 1 accepted; the selection moves to row 2
    before = ids(p)
    victim, following = p.model.images()[2], p.model.images()[3]
    assert p.current_image().id == victim.id
    qtbot.keyClick(p.view, Qt.Key.Key_R)
    assert p.current_image().id == following.id
    qtbot.waitUntil(lambda: p.model.rowCount() == 11 and not p.busy, timeout=30_000)
    qtbot.waitUntil(lambda: not p.loading)
    after = ids(p)
    assert after[:3] == before[:3], "the rejected tile stays where it was"
    replacement = p.model.images()[3]
    assert replacement.ordinal == victim.ordinal and replacement.status == "pending"
    assert after[4:] == before[3:], "nothing else moves"
    assert p.current_image().id == following.id
    # Back over the replacement: A on the accepted tile's neighbour skips judged images.
    p.view.setCurrentIndex(p.proxy.index(0, 0))
    qtbot.keyClick(p.view, Qt.Key.Key_A)
    assert p.current_image().id == replacement.id, "the next pending image, not a judged one"


def test_with_the_pending_filter_each_decision_moves_to_the_next_undecided_image(qtbot, panel):
    p = panel
    p.state_filter.setCurrentIndex(p.state_filter.findData("pending"))
    p.view.setFocus()
    p.view.setCurrentIndex(p.proxy.index(0, 0))
    order = [p.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 1).id for r in range(4)]
    for expected_next in order[1:3]:
        qtbot.keyClick(p.view, Qt.Key.Key_A)
        assert p.current_image().id == expected_next, "no pending image is skipped"
    assert p.proxy.rowCount() == 10 - 2
    assert p.state_filter.itemText(p.state_filter.findData("accepted")) == "Accepted (2)"
