"""Every CLI command against hostile input, in subprocesses with a timeout.

For each case: exit status 0 or 2 (never 1 with a traceback), no traceback and no "this is a
bug" line on stderr, an error is one line, no line of output is longer than a screenful,
and the dataset (as seen through its folder, symlinks followed) is unchanged afterwards.

The corpora are built once per module from code; cases run in lanes (a lane's cases in
order, lanes in parallel) to keep the sweep short.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from datasets import tree_hash, write_bad_corpus
from PIL import Image

from imbalance_studio.cli import BUG_REPORT
from imbalance_studio.core.project import ClassSnapshot, ClassTarget, Mark, Project

TIMEOUT = 90  # a command here takes 1-5 s; this is only the hang guard
HANG_TIMEOUT = 60  # cases on FIFOs and devices: a hang is the failure being looked for
MAX_LINE = 2000  # characters; a 2,000-class message used to be 20 KB on one line
MEMORY = 4 << 30  # address-space cap: a bug reading /dev/zero must not take the machine down
N_CLASSES = 2000
BUG_MARK = BUG_REPORT.split(":")[0]

# Runs the CLI under the memory cap (resource limits set here, not in a preexec_fn: the
# cases run from threads).
LAUNCH = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))\n"
    "sys.argv = ['imbalance-studio', *sys.argv[1:]]\n"
    "runpy.run_module('imbalance_studio', run_name='__main__', alter_sys=True)\n"
)


def _png(seed: int, size: int = 24) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def _images(folder: Path, n: int, seed: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"img_{i:02d}.png").write_bytes(_png(seed * 100 + i))


def _build(base: Path) -> dict[str, Path]:
    """Every corpus and hostile argument file, under `base`."""
    names = ("bad", "intl", "linked", "outside", "linked2", "outside2", "special", "many", "args")
    paths = {name: base / name for name in names}
    paths["bad"].mkdir()
    write_bad_corpus(paths["bad"])
    _images(paths["bad"] / "more", 6, 1)  # a class big enough to split
    # Class and file names in other scripts, an emoji, a newline and undecodable bytes.
    intl = paths["intl"]
    for seed, (name, n) in enumerate(
        [("猫", 9), ("кошка", 6), ("🐱 emoji", 5), ("new\nline", 4), ("ok", 4)]
    ):
        _images(intl / name, n, 10 + seed)
    os.mkdir(os.fsencode(intl) + b"/bytes-\xff\xfe")
    for i in range(4):
        with open(
            os.fsencode(intl) + b"/bytes-\xff\xfe/" + f"{i}".encode() + b"\xff.png", "wb"
        ) as f:
            f.write(_png(900 + i))
    (intl / "猫" / "画像 \u202e gnp.png").write_bytes(_png(950))  # a bidi override in a name
    # A class folder that is a symlink to a folder outside the dataset; a second such dataset
    # for the cases that try to write into the link's target (they must not spoil the first).
    for linked, outside in (("linked", "outside"), ("linked2", "outside2")):
        _images(paths[linked] / "a", 8, 20)
        _images(paths[outside] / "b_real", 4, 21)
        os.symlink(paths[outside] / "b_real", paths[linked] / "b")
    # Image-named special files: a FIFO (opening it blocks) and a link to /dev/zero (endless).
    special = paths["special"]
    _images(special / "a", 8, 30)
    _images(special / "b", 4, 31)
    os.mkfifo(special / "a" / "fifo.png")
    os.symlink("/dev/zero", special / "b" / "zero.png")
    # 2,000 classes of one image each: every message that lists classes gets long.
    many = paths["many"]
    for i in range(N_CLASSES):
        (many / f"class_{i:04d}").mkdir(parents=True)
        (many / f"class_{i:04d}" / "a.png").write_bytes(_png(5000 + i, 8))
    _write_args(paths["args"], paths)
    return paths


def _write_args(args: Path, paths: dict[str, Path]) -> None:
    args.mkdir()
    (args / "notes.txt").write_text("my notes, not a project\n")
    (args / "a folder").mkdir()
    for stem in ("p.isproj", "s"):  # the same hostile files as project and as stack
        os.mkfifo(args / f"fifo-{stem}.json")
        os.symlink("/dev/zero", args / f"zero-{stem}.json")
        with open(args / f"huge-{stem}.json", "wb") as f:
            f.truncate(64 << 20)  # sparse: 64 MiB of NULs, no disk used
        (args / f"nested-{stem}.json").write_text("[" * 200_000)
        (args / f"binary-{stem}.json").write_bytes(bytes(range(256)) * 64)
    Project(dataset_root=str(paths["bad"])).save(args / "base.isproj.json")
    # A project whose dataset changed since saving: 2,000 changed classes, 1,000 gone ones
    # (with targets), 3,000 missing marked files.
    changed = Project(dataset_root=str(paths["many"]), seed=1)
    was = [f"class_{i:04d}" for i in range(N_CLASSES)] + [f"gone_{i}" for i in range(1000)]
    changed.snapshot = {name: ClassSnapshot(count=3, digest="0" * 32) for name in was}
    changed.targets = {f"gone_{i}": ClassTarget(target=5) for i in range(1000)}
    changed.marks = {f"gone_{i}/x{i}.png": Mark(remove=True) for i in range(3000)}
    changed.save(args / "changed.isproj.json")


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # after `imbalance-studio`; {name} is a path from _build
    tree: str  # the corpus whose hash must not change
    expect: tuple[int, ...] = (0, 2)
    lane: str = ""  # cases of one lane run in this order; "" = a lane of its own
    needs: str = ""  # xfail reason: the fix this case waits for (another area)
    timeout: int = TIMEOUT
    stderr_has: str = ""


def _corpus_cases(
    c: str,
    kinds: str,
    needs: dict[str, str] | None = None,
    timeout: int = TIMEOUT,
    method: str = "augment",
) -> list[Case]:
    """The commands of the issue on corpus `c` (the `kinds` named, space-separated); `needs`
    maps a kind to its xfail reason. save-project, generate and export run in that order.
    `method` duplicate skips making images where generation is not the point (it costs
    seconds: albumentations loads)."""
    needs = needs or {}
    w = ("--workers", "1")
    policy = ("--policy", "oversample", "--method", method)
    out = f"{{args}}/{c}-out"
    every = {
        "scan": ("scan", f"{{{c}}}", *w),
        "scan-json": ("scan", f"{{{c}}}", "--json", *w),
        "scan-quick": ("scan", f"{{{c}}}", "--quick", *w),
        "plan": ("plan", f"{{{c}}}", *w),
        "plan-quick-json": ("plan", f"{{{c}}}", "--quick", "--json", *w),
        "inspect": ("inspect", f"{{{c}}}", *w),
        "inspect-json": ("inspect", f"{{{c}}}", "--json", *w),
        "save-project": ("plan", f"{{{c}}}", *policy, "--save-project",
                         f"{{args}}/{c}.isproj.json", *w),
        "generate": ("generate", f"{{args}}/{c}.isproj.json", "--quiet", *w),
        "export": ("export", f"{{args}}/{c}.isproj.json", out, "--quiet", *w),
        "export-folder": ("export", f"{{{c}}}", out + "2", "--policy", "median", "--method",
                          "duplicate", "--quiet", *w),
        "evaluate": ("evaluate", out, "--steps", "2", "--size", "8", "--quiet"),
        "recipes": ("recipes", f"{{{c}}}", "--steps", "2", "--size", "8", "--seeds", "1",
                    "--quiet", *w),
        "features": ("features", f"{{{c}}}", f"{{args}}/{c}-features", "--size", "16",
                     "--quiet", *w),
    }  # fmt: skip
    lane = {"save-project", "generate", "export", "evaluate"}
    return [
        Case(f"{c}-{k}", every[k], c, (0,), lane=c if k in lane else "",
             needs=needs.get(k, ""), timeout=timeout)
        for k in kinds.split()
    ]  # fmt: skip


def _bad_argument_cases() -> list[Case]:
    two, w = (2,), ("--workers", "1")
    cases = [
        Case("scan-missing", ("scan", "{args}/missing", *w), "bad", two),
        Case("scan-file-as-folder", ("scan", "{args}/notes.txt", *w), "bad", two),
        Case("plan-missing", ("plan", "{args}/missing", *w), "bad", two),
        Case("plan-file-as-project", ("plan", "{args}/notes.txt", *w), "bad", two),
        Case("plan-folder-no-classes", ("plan", "{args}/a folder", *w), "bad", two),
        Case("generate-missing", ("generate", "{args}/missing.isproj.json", *w), "bad", two),
        Case("generate-folder", ("generate", "{bad}", *w), "bad", two),
        Case("export-missing", ("export", "{args}/missing", "{args}/o", *w), "bad", two),
        Case("evaluate-missing", ("evaluate", "{args}/missing"), "bad", two),
        Case("evaluate-a-dataset", ("evaluate", "{bad}"), "bad", two),
        Case("evaluate-a-file", ("evaluate", "{args}/notes.txt"), "bad", two),
        Case("recipes-missing", ("recipes", "{args}/missing"), "bad", two),
        Case("recipes-a-file", ("recipes", "{args}/notes.txt"), "bad", two),
        Case("recipes-bad-steps", ("recipes", "{bad}", "--steps", "0"), "bad", two),
        Case("features-missing", ("features", "{args}/missing", "{args}/f", *w), "bad", two),
        Case("features-a-file", ("features", "{args}/notes.txt", "{args}/f", *w), "bad", two),
        Case("features-bad-sampler", ("features", "{bad}", "{args}/f", "--sampler", "pixels",
                                      *w), "bad", two),
        Case("features-inside-dataset", ("features", "{bad}", "{bad}/good/f", *w), "bad",
             two),
        Case("plan-bad-policy", ("plan", "{bad}", "--policy", "balance", *w), "bad", two),
        Case("export-bad-policy", ("export", "{bad}", "{args}/o", "--policy", "cap:x", *w),
             "bad", two),
        Case("plan-bad-split", ("plan", "{bad}", "--split", "0.9,0.2,0.1", *w), "bad", two),
        Case("export-bad-split", ("export", "{bad}", "{args}/o", "--split", "a,b", *w),
             "bad", two),
        Case("plan-bad-seed", ("plan", "{bad}", "--seed", "abc", *w), "bad", two),
        Case("export-bad-seed", ("export", "{bad}", "{args}/o", "--seed", "1.5", *w), "bad",
             two),
        Case("plan-negative-seed", ("plan", "{bad}", "--quick", "--seed", "-7", *w), "bad"),
        Case("plan-huge-seed", ("plan", "{bad}", "--quick", "--seed", "9" * 40, *w), "bad"),
        Case("generate-zero-workers", ("generate", "{args}/base.isproj.json", "--workers",
                                       "0"), "bad", two),
        Case("unknown-option", ("scan", "{bad}", "--frobnicate"), "bad", two),
        Case("save-over-notes", ("plan", "{bad}", "--quick", "--save-project",
                                 "{args}/notes.txt", *w), "bad", two, stderr_has="notes.txt"),
        Case("save-over-folder", ("plan", "{bad}", "--quick", "--save-project",
                                  "{args}/a folder", *w), "bad", two),
        Case("save-over-fifo", ("plan", "{bad}", "--quick", "--save-project",
                                "{args}/fifo-p.isproj.json", *w), "bad", two),
        Case("save-over-dev-zero", ("plan", "{bad}", "--quick", "--save-project",
                                    "{args}/zero-p.isproj.json", *w), "bad", two),
        Case("save-inside-dataset", ("plan", "{bad}", "--quick", "--save-project",
                                     "{bad}/good/p.isproj.json", *w), "bad", two),
    ]  # fmt: skip
    # Every hostile file as plan's project and stack; generate and export read both through
    # the same two functions, so a few kinds show they do.
    for kind in ("fifo", "binary"):
        cases += [
            Case(f"{cmd}-{kind}-project", (cmd, f"{{args}}/{kind}-p.isproj.json", *out, *w),
                 "bad", two)
            for cmd, out in (("generate", ()), ("export", ("{args}/o",)))
        ]  # fmt: skip
    for kind in ("fifo", "zero", "huge", "nested", "binary", "missing"):
        needs = ""
        project = f"{{args}}/{kind}-p.isproj.json"
        stack = f"{{args}}/{kind}-s.json"
        cases += [
            Case(f"plan-{kind}-project", ("plan", project, *w), "bad", two, needs=needs),
            Case(f"plan-{kind}-stack", ("plan", "{bad}", "--quick", "--augment", stack, *w),
                 "bad", two),
        ]  # fmt: skip
        if kind in ("fifo", "binary"):
            cases += [
                Case(f"generate-{kind}-stack", ("generate", "{args}/base.isproj.json",
                                                "--augment", stack, *w), "bad", two),
                Case(f"export-{kind}-stack", ("export", "{bad}", "{args}/o", "--augment",
                                              stack, *w), "bad", two),
            ]  # fmt: skip
    return cases


def _many_cases() -> list[Case]:
    w, changed = ("--workers", "1"), "{args}/changed.isproj.json"
    note = "changed since saving"
    return [
        Case("many-scan", ("scan", "{many}", "--quick", *w), "many"),
        Case("many-plan", ("plan", "{many}", "--quick", *w), "many"),
        Case("many-plan-json", ("plan", "{many}", "--quick", "--json", *w), "many"),
        Case("changed-plan", ("plan", changed, "--quick", *w), "many", stderr_has=note),
        Case("changed-generate", ("generate", changed, "--quick", "--quiet", *w), "many",
             stderr_has=note),
        Case("changed-export", ("export", changed, "{args}/changed-out", "--quiet", *w),
             "many", stderr_has=note),
    ]  # fmt: skip


EVERY = "scan scan-json plan plan-quick-json inspect inspect-json save-project generate export"
CASES: list[Case] = [
    *_corpus_cases("bad", EVERY + " export-folder evaluate features"),
    *_corpus_cases("intl", EVERY + " evaluate features recipes"),
    *_corpus_cases("linked", EVERY, method="duplicate"),
    *_corpus_cases(
        "special",
        EVERY + " scan-quick",
        timeout=HANG_TIMEOUT,
        method="duplicate",
    ),
    # Writing into a class folder that is a symlink is writing into the dataset.
    Case("save-into-linked-class", ("plan", "{linked2}", "--save-project",
                                    "{outside2}/b_real/p.isproj.json", "--workers", "1"),
         "linked2", (2,), lane="linked2"),
    Case("export-into-linked-class", ("export", "{linked2}", "{outside2}/b_real/out",
                                      "--quiet", "--workers", "1"),
         "linked2", (2,), lane="linked2"),
    *_bad_argument_cases(),
    *_many_cases(),
]  # fmt: skip


@dataclass
class Result:
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str
    tree_changed: bool
    notes: list[str] = field(default_factory=list)


def _run(case: Case, paths: dict[str, Path], before: dict[str, str]) -> Result:
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in case.args]
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", PYTHONIOENCODING="utf-8")
    env.pop("IMBALANCE_STUDIO_DEBUG", None)
    # The conftest's per-test user folders are not set up yet for a module fixture.
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = str(paths["args"] / "user-dirs" / var.lower())
    try:
        out = subprocess.run(
            [sys.executable, "-c", LAUNCH, *argv],
            capture_output=True,
            timeout=case.timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        rc, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        rc, stdout, stderr = None, exc.stdout or b"", exc.stderr or b""
    tree = paths[case.tree]
    changed = tree_hash(tree, follow_symlinks=True) != before[case.tree]
    return Result(rc, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"),
                  changed)  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Result]:
    base = tmp_path_factory.mktemp("sweep")
    paths = _build(base)
    trees = {c.tree for c in CASES}
    before = {name: tree_hash(paths[name], follow_symlinks=True) for name in trees}
    lanes: dict[str, list[Case]] = {}
    for case in CASES:
        lanes.setdefault(case.lane or case.id, []).append(case)

    def run_lane(cases: list[Case]) -> list[tuple[str, Result]]:
        return [(c.id, _run(c, paths, before)) for c in cases]

    # Cases that may hang wait on a FIFO (no CPU): they get their own, wider pool.
    slow = [cs for cs in lanes.values() if cs[0].timeout == HANG_TIMEOUT]
    fast = [cs for cs in lanes.values() if cs[0].timeout != HANG_TIMEOUT]
    with ThreadPoolExecutor(len(slow) or 1) as hang_pool, ThreadPoolExecutor(4) as pool:
        futures = [hang_pool.submit(run_lane, cs) for cs in slow]
        futures += [pool.submit(run_lane, cs) for cs in fast]
        return dict(pair for f in futures for pair in f.result())


def _param(case: Case):
    marks = [pytest.mark.xfail(reason=case.needs, strict=False)] if case.needs else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_command_ends_cleanly(results, case):
    r = results[case.id]
    where = f"{case.args}\nstdout: {r.stdout[-600:]}\nstderr: {r.stderr[-1500:]}"
    assert r.returncode is not None, f"timed out after {case.timeout} s: {where}"
    assert r.returncode in case.expect, where
    assert "Traceback" not in r.stderr, where
    assert BUG_MARK not in r.stderr, where  # hostile input gets a designed message
    errors = [line for line in r.stderr.splitlines() if ": error: " in line]
    if r.returncode == 2:
        assert len(errors) == 1 and r.stderr.rstrip().endswith(errors[0]), where
    longest = max((len(line) for line in (r.stdout + r.stderr).splitlines()), default=0)
    assert longest <= MAX_LINE, f"a line of {longest} characters: {where}"
    assert not r.tree_changed, f"the dataset changed: {where}"
    if case.stderr_has:
        assert case.stderr_has in r.stderr, where


def test_the_sweep_covers_every_command():
    commands = {c.args[0] for c in CASES}
    from imbalance_studio.cli import COMMANDS

    assert commands == set(COMMANDS)


def test_tree_hash_sees_through_symlinks_and_skips_special_files(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.png").write_bytes(b"one")
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    os.symlink(outside, root / "b")
    os.symlink("..", root / "a" / "loop")
    os.mkfifo(root / "a" / "fifo.png")  # hashing must not open it (it would block)
    os.symlink("/dev/zero", root / "a" / "zero.png")
    before, plain = tree_hash(root, follow_symlinks=True), tree_hash(root)
    (outside / "x.png").write_bytes(b"two")  # a write through the class link
    assert tree_hash(root, follow_symlinks=True) != before
    assert tree_hash(root) == plain  # the plain hash does not look through links
