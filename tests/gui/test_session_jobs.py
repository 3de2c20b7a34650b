"""The session, the viewer and the curation controller on the one job runner: the dataset the
window shows is never changed behind it, a newer request replaces the older one, and the
slow comparison of a project with its folder runs off the GUI thread."""

from __future__ import annotations

import threading
import time

from datasets import write_digits

from imbalance_studio.core.project import Mark, Project

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50


def test_the_listed_dataset_the_window_shows_is_never_changed_by_the_check(
    qtbot, tmp_path, monkeypatch
):
    from imbalance_studio.gui import jobs
    from imbalance_studio.gui.session import DatasetSession

    root = tmp_path / "digits"
    write_digits(root, [30, 9])
    bad = sorted(p.relative_to(root).as_posix() for p in (root / "digit_1").iterdir())[0]
    (root / bad).write_bytes(CORRUPT)
    session = DatasetSession()
    seen = []  # (dataset, its paths as they were when it was announced)
    session.datasetChanged.connect(lambda ds: seen.append((ds, ds.paths)))
    with qtbot.waitSignal(session.scanFinished, timeout=60_000):
        session.open_folder(root)
    qtbot.waitUntil(lambda: not session.busy)
    assert session.checked and len(seen) == 2
    (listed, listed_paths), (checked, _) = seen
    assert listed is not checked
    assert listed.paths == listed_paths and bad in listed.paths and listed.problems == ()
    assert bad not in checked.paths and session.dataset is checked
    assert list(session.class_array) == list(checked.labels)
    assert not jobs.runner().running(session._key)


def test_a_reopened_folder_shows_its_last_verdicts_at_once_and_its_changes_after(qtbot, tmp_path):
    from imbalance_studio.gui.session import DatasetSession

    root = tmp_path / "digits"
    write_digits(root, [30, 9])
    bad = sorted(p.relative_to(root).as_posix() for p in (root / "digit_1").iterdir())[0]
    (root / bad).write_bytes(CORRUPT)

    def reopen():
        session = DatasetSession()
        seen = []
        session.datasetChanged.connect(seen.append)
        with qtbot.waitSignal(session.scanFinished, timeout=60_000):
            session.open_folder(root)
        qtbot.waitUntil(lambda: not session.busy)
        return session, seen

    reopen()  # the first check
    session, seen = reopen()
    # One dataset, shown with the verdicts of the last check (the corrupt file left out)
    # before any file was verified, and kept: verified unchanged, it is not announced again.
    assert len(seen) == 1 and bad not in seen[0].paths and session.dataset is seen[0]
    changed = root / "digit_0" / "digit_0_002.png"
    changed.write_bytes(CORRUPT)  # corrupted in place: the listing is the same
    session, seen = reopen()
    assert len(seen) == 2  # the last verdicts, then the verified ones
    assert "digit_0/digit_0_002.png" in seen[0].paths
    assert "digit_0/digit_0_002.png" not in seen[1].paths and session.dataset is seen[1]


def test_a_new_folder_replaces_a_running_scan_and_cancel_keeps_the_listing(
    qtbot, tmp_path, monkeypatch
):
    from imbalance_studio.core import scanning
    from imbalance_studio.core.file_cache import cache_path_for
    from imbalance_studio.gui.session import DatasetSession

    first, second = tmp_path / "first", tmp_path / "second"
    write_digits(first, [40, 10])
    write_digits(second, [12, 5])
    session = DatasetSession()
    finished = []
    session.scanFinished.connect(finished.append)
    session.open_folder(first)
    session.open_folder(second)  # before the first has listed anything
    qtbot.waitUntil(lambda: session.checked and not session.busy, timeout=60_000)
    assert [ds.root for ds in finished] == [second]  # nothing of the first scan is heard

    cancelled, gate, real_check = [], threading.Event(), scanning.check_file
    monkeypatch.setattr(scanning, "check_file", lambda path: gate.wait(10) and real_check(path))
    session.checkCancelled.connect(lambda: cancelled.append(True))
    # The replaced first scan's workers may have checked (and cached) every file before it
    # was dropped; then this reopen would check nothing, and pass "checking" too fast to see.
    cache = cache_path_for(first)
    for stale in cache.parent.glob(cache.name + "*"):  # with its -wal and -shm files
        stale.unlink()
    session.open_folder(first)
    qtbot.waitUntil(lambda: session.phase == "checking", timeout=30_000)
    session.cancel_check()
    gate.set()
    assert cancelled == [True] and finished[-1].root == first and session.phase == ""
    qtbot.waitUntil(lambda: not session.busy, timeout=30_000)
    assert not session.checked and session.dataset.root == first
    assert len(session.dataset.paths) == 50  # the listing stays, unverified


def test_the_viewer_shows_the_newest_image_and_drops_a_slower_older_decode(
    qtbot, digits_root, monkeypatch
):
    from imbalance_studio.core.scanning import scan
    from imbalance_studio.gui import workers
    from imbalance_studio.gui.models.gallery import GalleryModel
    from imbalance_studio.gui.views.sample_viewer import SampleViewer

    real = workers.decode_for_viewer
    slow = threading.Event()

    def decode(request, path):
        if path.endswith(model.sample(0).path):
            slow.wait(5)  # the first image decodes slowly: the user has moved on meanwhile
        return real(request, path)

    monkeypatch.setattr(workers, "decode_for_viewer", decode)
    model = GalleryModel()
    model.set_dataset(scan(digits_root))
    viewer = SampleViewer(model)
    qtbot.addWidget(viewer)
    shown = []
    viewer.imageShown.connect(shown.append)
    viewer.show_row(0)
    viewer.show_row(1)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    slow.set()
    qtbot.waitUntil(lambda: not viewer.busy, timeout=10_000)
    time.sleep(0.05)
    qtbot.wait(50)  # a late result of the first decode would have landed by now
    assert shown == [model.abspath(1)]
    assert viewer.fields["Path"].text() == model.sample(1).path
    assert viewer.fields["Pixels"].text().startswith("32 × 32")


def test_reconcile_runs_as_a_job_and_a_newer_plan_replaces_the_older(
    qtbot, digits_root, tmp_path, monkeypatch
):
    from imbalance_studio.core.scanning import scan
    from imbalance_studio.gui.curation import controller as module
    from imbalance_studio.gui.curation.controller import CurationController

    threads = []
    real = module.reconcile

    def spy(project, dataset):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(project, dataset)

    monkeypatch.setattr(module, "reconcile", spy)
    ds = scan(digits_root)
    missing = "digit_0/not-there.png"
    project = Project(dataset_root=str(ds.root), marks={missing: Mark(remove=True)})
    c = CurationController()
    reports = []
    c.reconciled.connect(reports.append)
    c.adopt_project(project, None)
    c.set_dataset(ds)
    assert reports == []  # not on the GUI thread: it has not run yet
    qtbot.waitUntil(lambda: bool(reports) and not c.busy and c.plan is not None, timeout=30_000)
    assert threads == [False] and reports[0].missing_marks == (missing,)

    plans = []
    c.planChanged.connect(plans.append)
    c._start_plan()
    c._start_plan()  # replaces the first, whose result is never delivered
    qtbot.waitUntil(lambda: bool(plans) and not c.busy, timeout=30_000)
    qtbot.wait(50)
    assert len(plans) == 1


def test_a_reopen_cancelled_before_verifying_keeps_no_unverified_orientation(
    qtbot, tmp_path, monkeypatch
):
    from PIL import Image

    from imbalance_studio.core import scanning
    from imbalance_studio.gui.session import DatasetSession

    root = tmp_path / "digits"
    write_digits(root, [30, 9])
    turned = root / "digit_0" / "digit_0_004.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.open(turned).convert("RGB").save(turned, "PNG", exif=exif)
    first = DatasetSession()
    with qtbot.waitSignal(first.scanFinished, timeout=60_000):
        first.open_folder(root)
    assert first.dataset.orientations == {"digit_0/digit_0_004.png": 6}

    changed = root / "digit_1" / "digit_1_001.png"
    changed.write_bytes(changed.read_bytes())  # a new mtime: decoded on verifying
    gate, real_check = threading.Event(), scanning.check_file
    monkeypatch.setattr(scanning, "check_file", lambda path: gate.wait(10) and real_check(path))
    session = DatasetSession()
    seen = []
    session.datasetChanged.connect(seen.append)
    session.open_folder(root)
    qtbot.waitUntil(lambda: session.phase == "checking" and bool(seen), timeout=30_000)
    assert seen[0].orientations == {"digit_0/digit_0_004.png": 6}  # the last check's
    session.cancel_check()
    gate.set()
    assert session.dataset.orientations is None  # unverified: read from the files again
    assert session.dataset.paths == seen[0].paths and seen[-1] is session.dataset
    qtbot.waitUntil(lambda: not session.busy, timeout=30_000)
