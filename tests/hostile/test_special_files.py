"""FIFOs, devices, sockets and folders with image names: reported as "not a regular file",
never opened, and no command hangs on them (a hang fails the test through a timeout)."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from clirun import run_cli as cli
from datasets import tree_hash, write_digits

from imbalance_studio.core import safe_read
from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.core.duplicates import content_groups
from imbalance_studio.core.export.run import export
from imbalance_studio.core.imageio import ImageDecodeError, open_image, read_info
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import Project
from imbalance_studio.core.scanning import check, check_file, inspect_file, scan, stat_file

COUNTS = [12, 8, 6]
# rel path -> what the problem's detail says it is
SPECIALS = {
    "digit_0/pipe.png": "a FIFO",
    "digit_1/pipe.jpg": "a FIFO",  # two classes with FIFOs: the duplicate check read both
    "digit_1/zero.png": "a character device",  # -> /dev/zero
    "digit_2/null.png": "a character device",  # -> /dev/null
    "digit_2/socket.png": "a socket",
    "digit_0/folder.jpg": "a folder",
}


def make_special_root(root: Path) -> Path:
    write_digits(root, COUNTS)
    os.mkfifo(root / "digit_0/pipe.png")
    os.mkfifo(root / "digit_1/pipe.jpg")
    os.symlink("/dev/zero", root / "digit_1/zero.png")
    os.symlink("/dev/null", root / "digit_2/null.png")
    (root / "digit_0/folder.jpg").mkdir()
    # A UNIX socket path is limited to ~108 bytes: bind it by a relative name.
    cwd = os.getcwd()
    os.chdir(root / "digit_2")
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind("socket.png")  # the socket file stays after close
    finally:
        os.chdir(cwd)
    return root


@pytest.fixture
def special_root(tmp_path) -> Path:
    return make_special_root(tmp_path / "specials")


@contextlib.contextmanager
def unblock_fifos(paths, after: float = 15.0):
    """If something blocks opening one of the FIFOs for reading, open it for writing after
    `after` seconds so the test fails on its assertions instead of hanging forever."""
    stop = threading.Event()

    def run() -> None:
        if stop.wait(after):
            return
        while not stop.is_set():
            for p in paths:
                with contextlib.suppress(OSError):  # ENXIO: nobody is reading it
                    os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))
            stop.wait(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("quick", [False, True])
def test_scan_reports_special_files(special_root, quick):
    out = cli("scan", special_root, "--json", *(["--quick"] if quick else []))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    problems = {p["path"]: p for p in report["problems"]}
    for rel, kind in SPECIALS.items():
        assert problems[rel]["reason"] == "not a regular file", rel
        assert problems[rel]["detail"] == kind
        assert problems[rel]["excluded"]
    assert [c["count"] for c in report["classes"]] == COUNTS


@pytest.mark.parametrize("quick", [True, False])
def test_plan_finishes_and_leaves_special_files_out(special_root, quick):
    out = cli("plan", special_root, "--json", *(["--quick"] if quick else []))
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    for i, name in enumerate(plan["classes"]):
        assert sum(plan["splits"][s][name]["original"] for s in plan["splits"]) == COUNTS[i]
    for rel in SPECIALS:
        assert f"{rel}: not a regular file" in out.stderr


@pytest.mark.parametrize("link", [False, True])
def test_export_finishes_and_writes_only_regular_files(special_root, tmp_path, link):
    before = tree_hash(special_root)
    dest = tmp_path / "out"
    mode = "--link" if link else "--copy"
    out = cli("export", special_root, dest, mode, "--quiet", "--workers", "1")
    assert out.returncode == 0, out.stderr
    assert "not a regular file" in out.stdout
    readme = (dest / "README.md").read_text(encoding="utf-8")
    for rel in SPECIALS:
        assert f"`{rel}`: not a regular file" in readme
    for dirpath, _, filenames in os.walk(dest):
        for name in filenames:
            assert stat.S_ISREG(os.lstat(os.path.join(dirpath, name)).st_mode), name
    assert sum(1 for _ in dest.glob("*/*/*")) == sum(COUNTS)
    assert tree_hash(special_root) == before


def test_no_stage_opens_a_special_file(special_root, monkeypatch):
    """Listing, the duplicate check, decoding, stat-checking, header reads and the
    generator's decoder never open one of them (opening a FIFO is what blocks)."""
    from imbalance_studio.core.generation.work import decode
    from imbalance_studio.core.thumbnails import ThumbnailCache

    forbidden = {os.path.realpath(special_root / rel) for rel in SPECIALS}
    opened: list[str] = []

    def guard(real):
        def opener(file, *args, **kwargs):
            path = file if isinstance(file, str | bytes | os.PathLike) else None
            if path is not None and os.path.realpath(os.fsdecode(path)) in forbidden:
                opened.append(os.fsdecode(path))
                raise AssertionError(f"opened {path}")
            return real(file, *args, **kwargs)

        return opener

    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))

    dataset = scan(special_root)
    assert set(SPECIALS) <= set(dataset.paths)  # listing takes image names on trust
    assert content_groups(dataset) == {}
    cache = ThumbnailCache(special_root.parent / "thumbs")
    for rel, kind in SPECIALS.items():
        path = str(special_root / rel)
        for problem in (inspect_file(path)[0], stat_file(path)):
            assert problem is not None
            assert (problem.reason, problem.detail) == (ProblemReason.NOT_REGULAR, kind)
        for read in (open_image, read_info, decode, cache.load):
            with pytest.raises(ImageDecodeError) as err:
                read(Path(path) if read is decode else path)
            assert err.value.reason == ProblemReason.NOT_REGULAR
    dataset = check(dataset)
    assert not set(SPECIALS) & set(dataset.paths)
    assert opened == []


def test_a_fifo_swapped_in_after_the_stat_cannot_block_the_open(tmp_path, monkeypatch):
    """The path is stat'ed, then opened: if it became a FIFO in between, O_NONBLOCK keeps the
    open from blocking and the check on the open descriptor refuses it."""
    regular = tmp_path / "regular.png"
    regular.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    real_stat = os.stat

    def stat_sees_the_file_before_the_swap(path, *args, **kwargs):
        return real_stat(regular if os.fspath(path) == str(fifo) else path, *args, **kwargs)

    monkeypatch.setattr(safe_read.os, "stat", stat_sees_the_file_before_the_swap)
    start = time.monotonic()
    with unblock_fifos([fifo], after=10.0), pytest.raises(ImageDecodeError) as err:
        open_image(fifo)
    assert time.monotonic() - start < 5
    assert (err.value.reason, err.value.detail) == (ProblemReason.NOT_REGULAR, "a FIFO")


@pytest.mark.parametrize("link", [False, True])
def test_a_source_that_became_a_fifo_after_the_scan_is_reported_not_copied(tmp_path, link):
    root = tmp_path / "data"
    write_digits(root, COUNTS)
    dataset = scan(root)
    dataset = check(dataset)
    project = Project(dataset_root=str(root))
    plan = make_plan(dataset, project)
    victim = plan.splits["train"][0].kept[0]
    os.unlink(root / victim)
    os.mkfifo(root / victim)
    out = tmp_path / "out"
    with unblock_fifos([root / victim]):
        report = export(dataset, project, plan, [], out, link)
    assert (victim, "not a regular file when exported (a FIFO)") in report.problems
    assert report.files == sum(COUNTS) - 1
    files = [Path(d) / f for d, _, names in os.walk(out) for f in names]
    assert all(stat.S_ISREG(os.lstat(f).st_mode) for f in files)
    assert not (out / "train" / victim).exists()
    assert victim not in (out / "manifest.csv").read_text(encoding="utf-8")
    assert stat.S_ISFIFO(os.lstat(root / victim).st_mode)  # the source is left as it is


@pytest.mark.parametrize("threads", [0, 2])
def test_special_sources_hard_linked_are_taken_back_out(tmp_path, threads):
    """The link engine checks what it linked once, by listing each output folder: a FIFO
    and a socket among the sources end up refused and gone, on one thread and in a pool."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from imbalance_studio.core.export.files import FileWriter, write_all

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    for d in ("a", "b"):
        (dst / d).mkdir(parents=True)
    names = [f"{i:02d}.png" for i in range(12)]
    for name in names:
        (src / name).write_bytes(b"x" * 10)
    (src / "03.png").unlink()
    os.mkfifo(src / "03.png")
    (src / "08.png").unlink()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "08.png"))
    srcs = [str(src / n) for n in names]
    dsts = [str(dst / ("a" if i % 2 else "b") / n) for i, n in enumerate(names)]
    writer = FileWriter(True)
    pool = ThreadPoolExecutor(threads) if threads else None
    try:
        list(write_all(writer, srcs, dsts, [True] * len(names), step=2, pool=pool))
    finally:
        sock.close()
        if pool is not None:
            pool.shutdown()
    assert writer.refused == {3: "a FIFO", 8: "a socket"}
    assert writer.linked == len(names) - 2 and writer.copied == 0
    written = sorted(p.name for p in dst.rglob("*") if p.is_file())
    assert written == [n for n in names if n not in ("03.png", "08.png")]
    assert all(stat.S_ISREG(os.lstat(p).st_mode) for p in dst.rglob("*.png"))
    assert stat.S_ISFIFO(os.lstat(src / "03.png").st_mode)  # the sources are left as they are


def test_a_listing_that_spells_names_otherwise_still_finds_special_links(tmp_path, monkeypatch):
    """HFS+ lists names decomposed (NFD) whatever form they were created in: a special file
    the listing names otherwise than the export did is still found, file by file."""
    import unicodedata

    from imbalance_studio.core.export import files as files_mod

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    names = ["caf\u00e9_1.png", "caf\u00e9_2.png", "plain.png"]
    for name in names:
        (src / name).write_bytes(b"x" * 10)
    (src / names[1]).unlink()
    os.mkfifo(src / names[1])

    class Decomposed:  # a DirEntry as HFS+ would list it
        def __init__(self, entry):
            self.entry, self.path = entry, unicodedata.normalize("NFD", entry.path)

        def is_file(self, follow_symlinks=True):
            return self.entry.is_file(follow_symlinks=follow_symlinks)

    real = os.scandir

    class Listing:
        def __init__(self, folder):
            self.inner = real(folder)

        def __enter__(self):
            return (Decomposed(e) for e in self.inner.__enter__())

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

    monkeypatch.setattr(files_mod.os, "scandir", Listing)
    writer = files_mod.FileWriter(True)
    srcs, dsts = [str(src / n) for n in names], [str(dst / n) for n in names]
    list(files_mod.write_all(writer, srcs, dsts, [True] * 3))
    monkeypatch.undo()
    assert writer.refused == {1: "a FIFO"} and writer.linked == 2
    assert sorted(os.listdir(dst)) == [names[0], names[2]]


def test_the_safe_opener_leaks_no_descriptors(tmp_path):
    """open_image hands Pillow a descriptor of its own; the image must close it exactly as
    it closes a file it opened itself (this relies on Pillow's `_exclusive_fp`)."""
    root = tmp_path / "data"
    write_digits(root, [5])
    paths = [str(p) for p in sorted((root / "digit_0").iterdir())]
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        for p in paths:
            read_info(p)
            check_file(p)
            with open_image(p) as img:
                img.load()
            open_image(p).close()
    assert len(os.listdir("/proc/self/fd")) == before
