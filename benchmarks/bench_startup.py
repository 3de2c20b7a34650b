"""Start-up: `imbalance-studio --demo --screenshot` vs `python -c "import PySide6.QtWidgets"`.

Both are whole processes, measured in the same run (median of a few). Two figures:
- window on screen: from process start to the moment the window was shown (reported by the
  app through IMBALANCE_STUDIO_REPORT_MODULES); the issue's bar is 2.5x the baseline;
- whole --screenshot run: until the demo is scanned, checked, thumbnails painted and the
  PNG written; the bar (issue 14) is 6x the baseline.
A third figure says how much of that the libraries take by themselves: one bare process
importing, in the same order, every third-party module the screenshot run had loaded by its
end (PySide6, numpy, pyqtgraph, superqt, pydantic, Pillow, ...), with no window, no data
and none of our code. Every import holds the GIL, so the two cores cannot share that work;
it is a floor under the whole run.
Both run with their bytecode cached, as an installed copy does (pip compiles it; an editable
install writes it on the first run): PYTHONDONTWRITEBYTECODE is dropped and the cache goes to
a temporary PYTHONPYCACHEPREFIX, filled by the untimed first run. Without it every run
compiled our ~200 modules from source (~0.3 s of CPU), which no user pays.
Run: .venv/bin/python benchmarks/bench_startup.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR = 2.5
WHOLE_BAR = 6.0


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time of a whole process, and its start time (epoch seconds)."""
    start = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, start


def libraries_script(modules: list[str], path: Path) -> None:
    """A script importing the third-party modules of `modules` (in import order)."""
    ours = {"imbalance_studio", "__main__", "builtins", "sys"}
    third = [
        m
        for m in modules
        if m.split(".")[0] not in sys.stdlib_module_names | ours
        and not m.startswith(("_", "__editable__"))
    ]
    lines = [
        "import importlib",
        f"for m in {third!r}:",
        "    try:",
        "        importlib.import_module(m)",
        "    except Exception:",
        "        pass",
    ]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            XDG_CACHE_HOME=f"{tmp}/cache",
            XDG_CONFIG_HOME=f"{tmp}/config",
            PYTHONPYCACHEPREFIX=f"{tmp}/bytecode",
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        report = Path(tmp) / "modules.json"
        app_cmd = [
            sys.executable,
            "-m",
            "imbalance_studio",
            "--demo",
            "--screenshot",
            f"{tmp}/s.png",
        ]
        base_cmd = [sys.executable, "-c", "import PySide6.QtWidgets"]
        # First runs write the demo dataset, the thumbnail cache and the bytecode; not timed.
        timed(app_cmd, dict(env, IMBALANCE_STUDIO_REPORT_MODULES=str(report)))
        script = Path(tmp) / "libraries.py"
        libraries_script(json.loads(report.read_text())["modules_at_exit"], script)
        libs_cmd = [sys.executable, str(script)]
        timed(base_cmd, env)
        timed(libs_cmd, env)
        base, whole, shown, libs = [], [], [], []
        for _ in range(runs):
            base.append(timed(base_cmd, env)[0])
            elapsed, start = timed(app_cmd, dict(env, IMBALANCE_STUDIO_REPORT_MODULES=str(report)))
            whole.append(elapsed)
            shown.append(json.loads(report.read_text())["shown_at"] - start)
            libs.append(timed(libs_cmd, env)[0])
    b, s, w = statistics.median(base), statistics.median(shown), statistics.median(whole)
    lib = statistics.median(libs)

    def spread(ts: list[float]) -> str:
        return f"min {min(ts) * 1000:.0f} / median {statistics.median(ts) * 1000:.0f} / max {max(ts) * 1000:.0f} ms"

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    print(f"baseline  python -c 'import PySide6.QtWidgets': {spread(base)} ({runs} runs)")
    print(
        f"window on screen (whole process, to show()):   {spread(shown)} -> {s / b:.2f}x (bar {BAR}x)"
    )
    ratios = [x / y for x, y in zip(whole, base, strict=True)]
    print(
        f"whole --demo --screenshot run (scan, check, thumbnails, PNG): {spread(whole)} "
        f"-> {w / b:.2f}x (per run {min(ratios):.2f}x .. {max(ratios):.2f}x; bar {WHOLE_BAR}x)"
    )
    print(
        f"floor: the run's third-party modules imported by a bare process: {spread(libs)} "
        f"-> {lib / b:.2f}x; the rest of the whole run (our code, the window, the data): "
        f"{(w - lib) * 1000:.0f} ms -> {(w - lib) / b:.2f}x"
    )
    ok = s / b <= BAR and w / b <= WHOLE_BAR
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
