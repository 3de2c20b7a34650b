"""Holding Export and Generate back until the plan is the one the window shows.

A plan made before the near-duplicate groups are known would split copies of one picture
between train and val (a leak the export promises not to make); one made before an edit's
re-plan is not what the user sees. Export and Generate ask `PlanWait.settled` first: it says
yes, or waits (one wait at a time, said in the status bar) and asks again, or refuses when
the edit's plan could not be made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, SignalInstance


class PlanWait(QObject):
    def __init__(
        self, window: Any, controller: Any, inspection: Any,
        dropped: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(window)
        self.window, self.controller, self.inspection = window, controller, inspection
        self._dropped = dropped  # told which action's wait ended (asked again or not)
        # (signal, its slot, the action asked for again): at most one wait at a time.
        self._wait: tuple[SignalInstance, Callable[..., None], Callable[[], None]] | None = None

    @property
    def waiting_for(self) -> Callable[[], None] | None:
        """The action (export or generate) a wait will ask for again; None: no wait."""
        return self._wait[2] if self._wait is not None else None

    def settled(self, again: Callable[[], None], when: str, refused: str) -> bool:
        """True when the plan is the one the window shows and will stay so; otherwise False,
        with `again` asked for once it has settled (the status bar says what it waits for), or
        refused when the plan could not be made. `when` ends the wait's message ("the export
        opens"), `refused` starts the refusal ("Export not opened")."""
        c, inspection = self.controller, self.inspection
        if inspection.busy and inspection.grouping:
            self._wait_for(
                inspection.changed, lambda: not inspection.busy,  # done, or cancelled
                f"Looking for near duplicates: {when} when they are kept together.", again,
            )  # fmt: skip
            return False
        if c.planning:  # an edit is being planned: act on what the user sees, not the old plan
            self._wait_for(c.planningEnded, lambda: True, "Updating the plan…", again)
            return False
        if not c.plan_current:  # an edit's plan failed (its message is on screen)
            self.window.statusBar().showMessage(
                f"{refused}: the plan for what the window shows could not be made.", 15000
            )
            return False
        return True

    def _wait_for(
        self, signal: SignalInstance, ready: Callable[[], bool], message: str,
        again: Callable[[], None],
    ) -> None:  # fmt: skip
        """Ask for `again` once `signal` fires with `ready()` true (a newer wait replaces
        this one). Dropped when another folder is opened or the action goes ahead."""
        self.window.statusBar().showMessage(message)
        self.drop()

        def fire(*_: object) -> None:
            if ready():
                self.drop()
                self.window.statusBar().clearMessage()  # over; a new wait says so again
                QTimer.singleShot(0, again)  # which looks again: more may be coming

        signal.connect(fire)
        self.window.session.scanStarted.connect(self.drop)
        self._wait = (signal, fire, again)

    def drop(self, *_: object) -> bool:
        """Forget the wait, if any; True if there was one."""
        if self._wait is None:
            return False
        (signal, fire, again), self._wait = self._wait, None
        signal.disconnect(fire)
        self.window.session.scanStarted.disconnect(self.drop)
        if self._dropped is not None:
            self._dropped(again)
        return True
