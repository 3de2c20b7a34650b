"""`--dask ADDRESS` for the commands that generate: run the work items on a Dask cluster.

Nothing of `distributed` is imported unless the option is given; a missing extra or a bad
address is refused (exit 2, one line) before any scanning starts."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import CliError

DASK_HELP = (
    "run generation on a Dask cluster: tcp://HOST:PORT of a running `dask scheduler` "
    "(workers need the dataset and staging folders at the same paths), or local[:N] to "
    "start N worker processes here"
)


def _address(text: str) -> str:
    from ..core.executors import ExecutorError, parse_address

    try:
        parse_address(text)
    except ExecutorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def add_dask_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dask", metavar="ADDRESS", type=_address, help=DASK_HELP)


def require_dask(args: argparse.Namespace) -> None:
    """Refuse `--dask` without the extra installed, before minutes of scanning."""
    if getattr(args, "dask", None) and importlib.util.find_spec("distributed") is None:
        from ..core.executors import INSTALL_HINT

        raise CliError(f"--dask needs the distributed package; {INSTALL_HINT}")


@contextlib.contextmanager
def generation_executor(
    args: argparse.Namespace, dataset: Any, staging: Path
) -> Iterator[tuple[Any, int]]:
    """(executor, workers) for `iter_generate`: (None, --workers) without --dask, else a
    cluster executor whose workers were checked to see the dataset and staging folders."""
    if not getattr(args, "dask", None):
        yield None, args.workers
        return
    from ..core.executors import ExecutorError, check_workers, dask_executor
    from ..core.generation import GenerateError
    from ..core.generation.run import check_staging
    from ..core.generation.work import warm_up

    try:
        staging = check_staging(staging, dataset.root, getattr(dataset, "real_dirs", ()))
    except GenerateError as exc:
        raise CliError(str(exc)) from exc
    try:
        with dask_executor(args.dask, prepare=warm_up) as executor:
            check_workers(executor, str(dataset.root), str(staging))
            yield executor, executor.workers
    except ExecutorError as exc:
        raise CliError(str(exc)) from exc
