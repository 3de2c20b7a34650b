"""A dialog that runs a background job: closing it (Esc, the close button) while the job runs
cancels the job and closes once the job has cleaned up, never before (a half-written export
folder would otherwise be left to a job nobody watches)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog


class JobDialog(QDialog):
    """Subclasses keep their job in `_job` (None when idle), provide `cancel()`, and call
    `_job_ended()` when their job's finished callback runs."""

    _close_when_done = False
    _job: Any = None

    @property
    def running(self) -> bool:
        return self._job is not None

    def cancel(self) -> None:
        raise NotImplementedError

    def reject(self) -> None:
        if self.running:  # close once the cancelled job has cleaned up
            self._close_when_done = True
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: Any) -> None:
        if self.running:
            self._close_when_done = True
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def _job_ended(self) -> None:
        if self._close_when_done:
            self._close_when_done = False
            super().reject()
