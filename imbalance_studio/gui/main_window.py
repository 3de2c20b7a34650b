"""The main window: composition of the panels, menus and status bar; no work happens here.

Extension points for later panels: `install(panel)` (its declared actions go into the menus
and the toolbar, see `gui.actions`), `add_panel()` (a tab beside Gallery / Problems),
`add_dock()`, `current_dataset()` with `session.datasetChanged`, `selected_samples()` with
`sampleSelectionChanged`, and `gallery.delegate.add_overlay()` for badges on tiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.dataset import Dataset, Sample
from ..core.text import plural
from . import app as app_facts
from . import next_steps
from .actions import ActionLayout, Panel, PanelAction
from .models.class_list import ClassListModel
from .models.gallery import GalleryModel
from .models.problems import ProblemsModel
from .session import DatasetSession
from .thumbnail_loader import ThumbnailLoader
from .views.chart import DistributionChart
from .views.class_list import ClassListView
from .views.gallery import GalleryView
from .views.problems import ProblemsPanel
from .views.sample_viewer import SampleViewer
from .views.scan_status import ScanStatus
from .views.start_page import StartPage
from .window_actions import DockToggle, TabAction, WindowActions

if TYPE_CHECKING:
    from .app_session import AppSession
    from .curation import Curation
    from .workbench import Workbench

DEFAULT_SIZE = QSize(1366, 850)


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 0)
    heading = QLabel(f"<b>{title}</b>")
    layout.addWidget(heading)
    layout.addWidget(widget, 1)
    return box


WORKSPACE_DELAY_MS = 1  # see _on_dataset
SHOW_HOLD_S = 0.25  # see _on_dataset
# Listings this large get the whole hold (and jobs' results theirs: gui.jobs.RESULT_HOLD_S),
# smaller ones a share: behind a plan over a few thousand paths (milliseconds) the window's
# turns never wait, and holds only made the plan, and the demo's first screen, later.
FULL_HOLD_SAMPLES = 200_000
CHART_DELAY_MS = 30  # after the workspace's turn


class MainWindow(QMainWindow):
    sampleSelectionChanged = Signal()  # the gallery's selection changed
    # Something an action's `enabled_when` depends on may have changed: every installed
    # panel's `state_signals()` lead here, and every declared action is asked again.
    stateChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QApplication

        from .main_thread_gc import install

        install(QApplication.instance())  # also when the window is built without create_app
        self.setWindowTitle(app_facts.DISPLAY_NAME)
        self.setAcceptDrops(True)
        # Set (to the signal number) when SIGTERM/SIGHUP/SIGINT closes the window: close
        # handlers must not ask questions then (see gui.termination).
        self.closing_on_signal: int | None = None
        self.session = DatasetSession(self)
        self.loader = ThumbnailLoader(self)
        self.class_model = ClassListModel(self)
        self.gallery_model = GalleryModel(self.loader, self)
        self.problems_model = ProblemsModel(self)

        self.start_page = StartPage()
        self.class_list = ClassListView(self.class_model)
        self.chart = DistributionChart()
        self._chart_dataset: Dataset | None = None  # the chart is drawn for it (_on_dataset)
        self._workspace_dataset: Dataset | None = None  # shown on the next turn (_on_dataset)
        self.gallery = GalleryView(self.gallery_model)
        self.problems = ProblemsPanel(self.problems_model)
        self.viewer = SampleViewer(self.gallery_model)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fff3cd; color:#5c4400; padding:6px;")
        self.banner.hide()

        # Later panels (plan, augmentation, generation, export) are added as tabs here.
        self.panels = QTabWidget()
        self.panels.setDocumentMode(True)
        self.panels.addTab(self.gallery, "Gallery")
        self.panels.addTab(self.problems, "Problems")

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(_titled("Classes", self.class_list))
        left.addWidget(_titled("Distribution", self.chart))
        left.setSizes([330, 420])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.panels)
        self.splitter.addWidget(_titled("Selected image", self.viewer))
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 690, 316])

        workspace = QWidget()
        wl = QVBoxLayout(workspace)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.setSpacing(0)
        wl.addWidget(self.banner)
        wl.addWidget(self.splitter, 1)
        self.workspace = workspace
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(workspace)
        self.setCentralWidget(self.stack)

        self.scan_status = ScanStatus()
        self.summary = QLabel("")
        self.statusBar().addWidget(self.scan_status, 1)
        self.statusBar().addPermanentWidget(self.summary)
        self.statusBar().messageChanged.connect(self.scan_status.follow_message)
        self.layout_of_actions = ActionLayout(self)
        self.stateChanged.connect(self.layout_of_actions.refresh)
        self.own_actions = WindowActions(self)  # open, recent folders, quit, about
        self.install(self.own_actions)
        self.recent_menu = self.own_actions.recent_menu
        for widget, title in ((self.gallery, "Gallery"), (self.problems, "Problems")):
            self.install(TabAction(self, widget, title, self.panels.indexOf(widget) + 1))
        self._connect()
        self.start_page.set_recent(app_facts.recent_folders())
        self.resize(DEFAULT_SIZE)
        # Curation, augmentation, generation and export panels add their tabs and menus
        # right after the window is shown: their imports (pydantic, superqt, numpy) would
        # otherwise delay the first paint by more than half a second. Two turns later, so
        # that a folder opened at start-up (launch's timer) asks for its scan first. Its worker
        # starts once the panels are built (superqt starts a worker on the loop's next turn):
        # measured, that ends sooner than both at once, which being Python take turns at the
        # GIL and slow each other (the demo's screenshot took ~0.15 s longer).
        self._workbench: Workbench | None = None
        # With the window as context: a window closed and deleted first builds nothing.
        QTimer.singleShot(0, self, lambda: QTimer.singleShot(0, self, lambda: self.workbench))

    @property
    def workbench(self) -> Workbench:
        """The work panels (curation, augmentation, generation, export); built on first use."""
        if self._workbench is None:
            from .workbench import install_workbench

            self._workbench = install_workbench(self)
        return self._workbench

    @property
    def curation(self) -> Curation:
        return self.workbench.curation

    @property
    def app_session(self) -> AppSession:
        """Project files, recovery and closing (built with the work panels)."""
        return self.workbench.app_session

    # -- extension points ------------------------------------------------------------
    def install(self, panel: Panel) -> None:
        """Put a panel's declared actions into the menus and the toolbar."""
        self.layout_of_actions.install(panel)
        for signal in panel.state_signals():
            signal.connect(self.stateChanged)

    def action(self, action_id: str) -> QAction:
        """The QAction the window made for a declared action id (e.g. "tools.export")."""
        return self.layout_of_actions.qactions[action_id]

    def declared_actions(self) -> list[PanelAction]:
        return list(self.layout_of_actions.declared)

    @property
    def view_menu(self) -> QMenu:
        return self.layout_of_actions.menus["View"]

    def add_panel(self, widget: QWidget, title: str) -> int:
        """Add a tab beside Gallery and Problems (with its View menu entry and Ctrl+N key);
        returns its index in `self.panels`."""
        index = self.panels.addTab(widget, title)
        self.install(TabAction(self, widget, title, index + 1))
        return index

    def add_dock(
        self,
        widget: QWidget,
        title: str,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.install(DockToggle(dock, title))
        return dock

    def current_dataset(self) -> Dataset | None:
        """The open dataset (listed; `session.checked` says whether images were verified)."""
        return self.session.dataset

    def selected_samples(self) -> list[Sample]:
        return self.gallery.selected_samples()

    # -- opening ---------------------------------------------------------------------
    def open_folder(self, folder: str | Path) -> None:
        self.start_page.show_error("")
        self.session.open_folder(folder)

    def open_demo(self) -> None:
        self.start_page.show_error("")
        self.session.open_demo()

    def choose_folder(self) -> None:
        start = self._workbench.app_session.dialog_folder() if self._workbench else ""
        folder = QFileDialog.getExistingDirectory(
            self, "Open a dataset folder (one sub-folder per class)", start
        )
        if folder:
            self.open_folder(folder)

    def update_title(self) -> None:
        """The project's name (or the folder's), `*` while unsaved: see AppSession."""
        if self._workbench is not None:
            self.setWindowTitle(self._workbench.app_session.window_title())
        elif self.session.root is not None:
            demo = self.session.is_demo
            name = "demo dataset (synthetic data)" if demo else self.session.root.name
            self.setWindowTitle(f"{name} — {app_facts.DISPLAY_NAME}")
        else:
            self.setWindowTitle(app_facts.DISPLAY_NAME)

    def is_settled(self) -> bool:
        """True when no scan, thumbnail, image decode or chart drawing is pending (used by
        --screenshot)."""
        return (
            not self.session.busy
            and not self.chart_pending
            and self.loader.is_idle()
            and not self.viewer.busy
            and not self.workbench.busy
        )

    def _connect(self) -> None:
        s = self.session
        s.scanStarted.connect(self._on_scan_started)
        s.progress.connect(self.scan_status.show_progress)
        s.datasetChanged.connect(self._on_dataset)
        s.warmedUp.connect(self._prepare_workspace)
        s.scanFinished.connect(self._on_scan_finished)
        s.checkCancelled.connect(
            lambda: self.scan_status.idle("Check cancelled: some images were not verified.")
        )
        s.scanFailed.connect(self._on_scan_failed)
        self.scan_status.cancelRequested.connect(s.cancel_check)
        self.start_page.openFolderRequested.connect(self.choose_folder)
        self.start_page.openDemoRequested.connect(self.open_demo)
        self.start_page.openRecentRequested.connect(self.open_folder)
        self.class_list.classesSelected.connect(self.gallery_model.set_classes)
        self.gallery.currentRowChanged.connect(self.viewer.show_row)
        self.gallery.activatedSample.connect(self._open_viewer_window)
        self.gallery.selectionModel().selectionChanged.connect(self.sampleSelectionChanged)
        self.viewer.rowChanged.connect(self.gallery.set_current_row)

    def _on_scan_started(self, folder: str) -> None:
        self.loader.clear_pending()
        self.loader.warm_up(folder)  # ready by the time the listing shows the first tiles
        self.problems.set_root(Path(folder))
        demo = self.session.is_demo
        self.update_title()
        self.banner.setVisible(demo)
        if demo:
            self.banner.setText(
                "<b>Demo dataset — synthetic data.</b> 1,000 surface images drawn by Imbalance "
                "Studio's own code (900 normal, 80 scratch, 20 dent), not real photographs. "
                f"Stored in {folder}"
            )

    def _prepare_workspace(self) -> None:
        """While the first folder is listed: make the chart's empty plot, and show the
        workspace once, in one turn of the event loop (nothing is painted in between), so
        that its first show (style polish and layout of every panel, ~30 ms) is not added to
        the turn that shows the listing."""
        self.chart.prepare()
        if self.stack.currentWidget() is not self.workspace:
            shown = self.stack.currentWidget()
            self.stack.setCurrentWidget(self.workspace)
            self.stack.setCurrentWidget(shown)

    def _on_dataset(self, dataset: Dataset) -> None:
        from .jobs import RESULT_HOLD_S, hold_serial_jobs, runner
        from .main_thread_gc import adopt

        # The plan, the reconcile and the path index this listing sets off start once it is
        # shown (SHOW_HOLD_S): they would make each of the turns below wait for the GIL.
        share = min(1.0, len(dataset.paths) / FULL_HOLD_SAMPLES)
        hold_serial_jobs(SHOW_HOLD_S * share)
        runner().result_hold_s = RESULT_HOLD_S * share

        # A listing arrives from a worker holding every path: frozen now, or the next cycle
        # collection on this thread walks its million entries (20-30 ms).
        adopt(len(dataset.paths))
        current = self.gallery.currentIndex()
        current_path = self.gallery_model.sample(current.row()).path if current.isValid() else None
        # Showing a listing takes three turns of the event loop, each a short stall of the
        # GUI thread instead of one long one (at a million samples each is 20-40 ms): the
        # gallery's rows and the problems now; the class list, the workspace and the current
        # tile on the next turn; the chart a moment later, once the window has painted.
        self.gallery_model.set_dataset(dataset, self.session.class_array)
        self.problems_model.set_dataset(dataset)
        n = self.problems_model.rowCount()
        self.panels.setTabText(self.panels.indexOf(self.problems), f"Problems ({n})")
        total = len(dataset.samples)
        self.summary.setText(
            f"{plural(total, 'image')} · {plural(len(dataset.classes), 'class', 'classes')} · "
            f"{plural(self.problems_model.excluded_count, 'file')} left out"
        )
        self.gallery.empty_text = (
            GalleryView.EMPTY_TEXT if total else "This dataset has no usable images."
        )
        # Timers, not posted events: all the events posted before a turn run in that turn.
        self._workspace_dataset = self._chart_dataset = dataset
        QTimer.singleShot(
            WORKSPACE_DELAY_MS, self, lambda: self._show_workspace(dataset, current_path)
        )

    def _show_workspace(self, dataset: Dataset, current_path: str | None) -> None:
        """The second turn of showing a listing (see `_on_dataset`)."""
        if dataset is not self._workspace_dataset:
            return  # a newer listing arrived meanwhile: its own turns follow
        self._workspace_dataset = None
        # After the gallery: the class list's reset re-emits the class selection, which the
        # gallery then finds unchanged (a second reset of a million rows otherwise).
        self.class_model.set_dataset(dataset)
        self.stack.setCurrentWidget(self.workspace)
        row = self.gallery_model.row_of(current_path) if current_path else None
        self.gallery.set_current_row(row if row is not None else 0)
        QTimer.singleShot(CHART_DELAY_MS, self, self._draw_chart)

    def _draw_chart(self) -> None:
        dataset, self._chart_dataset = self._chart_dataset, None
        if dataset is not None and dataset is self.current_dataset():
            self.chart.set_infos(dataset.class_infos())

    @property
    def chart_pending(self) -> bool:
        """A listing is shown whose workspace or chart is not drawn yet (see `_on_dataset`)."""
        return self._chart_dataset is not None or self._workspace_dataset is not None

    def _on_scan_finished(self, dataset: Dataset) -> None:
        if not self.session.is_demo and self.session.root is not None:
            folders = app_facts.add_recent_folder(str(self.session.root))
            self.start_page.set_recent(folders)
            self.own_actions.fill_recent(folders)
        excluded = self.problems_model.excluded_count
        self.scan_status.idle(next_steps.after_scan(len(dataset.samples), excluded))

    def _on_scan_failed(self, message: str) -> None:
        self.scan_status.idle(f"Could not open the dataset: {message}")
        self.class_model.set_dataset(None)
        self.gallery_model.set_dataset(None)
        self.problems_model.set_dataset(None)
        self.banner.hide()
        self.setWindowTitle(app_facts.DISPLAY_NAME)
        self.start_page.show_error(message)
        self.stack.setCurrentWidget(self.start_page)

    def _open_viewer_window(self, row: int) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Image viewer — ←/→ or PgUp/PgDn for previous/next")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer = SampleViewer(self.gallery_model, dialog)
        layout = QVBoxLayout(dialog)
        layout.addWidget(viewer)
        viewer.rowChanged.connect(self.gallery.set_current_row)
        dialog.resize(720, 720)
        viewer.show_row(row)
        dialog.show()
        viewer.setFocus()

    # -- drag and drop ---------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_folder(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._workbench is not None:
            self._workbench.shutdown()
        self.session.close()
        self.loader.shutdown()
        super().closeEvent(event)
