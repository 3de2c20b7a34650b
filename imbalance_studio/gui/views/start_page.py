"""The start page: what the app is for, how to open a dataset or a project, and the recent
projects and folders (a click opens one)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

PathRole = Qt.ItemDataRole.UserRole + 1


def project_name(file: str | Path) -> str:
    """A project's name: its file name without the project suffix."""
    from ...core.project import PROJECT_SUFFIX

    name = Path(file).name
    return name[: -len(PROJECT_SUFFIX)] if name.endswith(PROJECT_SUFFIX) else name


class StartPage(QWidget):
    openFolderRequested = Signal()
    openDemoRequested = Signal()
    openProjectRequested = Signal()
    openRecentRequested = Signal(str)  # a folder
    openRecentProjectRequested = Signal(str)  # a project file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h1>Imbalance Studio</h1>")
        intro = QLabel(
            "See how imbalanced a labelled image dataset is, then curate and balance it.<br>"
            "Open a folder with <b>one sub-folder per class</b> (the torchvision ImageFolder "
            "layout), or drop it on this window. Your files are never modified."
        )
        intro.setWordWrap(True)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.hide()
        self.open_button = QPushButton("Open folder…")
        self.open_project_button = QPushButton("Open project…")
        self.open_project_button.setToolTip("Open a saved Imbalance Studio project (*.isproj.json)")
        self.demo_button = QPushButton("Open demo dataset")
        self.demo_button.setToolTip(
            "1,000 synthetic surface images: 900 normal, 80 scratch, 20 dent"
        )
        for b in (self.open_button, self.open_project_button, self.demo_button):
            b.setMinimumHeight(36)
        self.open_button.clicked.connect(self.openFolderRequested)
        self.open_project_button.clicked.connect(self.openProjectRequested)
        self.demo_button.clicked.connect(self.openDemoRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.open_project_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.projects_label = QLabel("<b>Recent projects</b>")
        self.projects = QListWidget()
        self.projects.setMaximumHeight(170)
        for signal in (self.projects.itemActivated, self.projects.itemClicked):
            signal.connect(lambda item: self.openRecentProjectRequested.emit(item.data(PathRole)))
        self.recent_label = QLabel("<b>Recent folders</b>")
        self.recent = QListWidget()
        self.recent.setMaximumHeight(170)
        self.recent.itemActivated.connect(lambda item: self.openRecentRequested.emit(item.text()))
        self.recent.itemClicked.connect(lambda item: self.openRecentRequested.emit(item.text()))
        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(12)
        column.addWidget(self.error)
        column.addLayout(buttons)
        column.addSpacing(16)
        column.addWidget(self.projects_label)
        column.addWidget(self.projects)
        column.addSpacing(8)
        column.addWidget(self.recent_label)
        column.addWidget(self.recent)
        column.addStretch(1)
        box = QWidget()
        box.setLayout(column)
        box.setMaximumWidth(640)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 3)
        outer.addStretch(1)
        outer.setContentsMargins(24, 48, 24, 24)
        self.set_recent([])
        self.set_recent_projects([])

    def set_recent_projects(self, projects: list[tuple[str, str]]) -> None:
        """(project file, dataset folder) pairs, newest first."""
        self.projects.clear()
        for file, root in projects:
            item = QListWidgetItem(f"{project_name(file)}  —  {root}", self.projects)
            item.setData(PathRole, file)
            item.setToolTip(f"Project file: {file}\nDataset folder: {root}")
        self.projects_label.setVisible(bool(projects))
        self.projects.setVisible(bool(projects))

    def set_recent(self, folders: list[str]) -> None:
        self.recent.clear()
        for folder in folders:
            QListWidgetItem(folder, self.recent)
        self.recent_label.setVisible(bool(folders))
        self.recent.setVisible(bool(folders))

    def show_error(self, message: str) -> None:
        self.error.setText(f"Could not open the dataset: {message}" if message else "")
        self.error.setVisible(bool(message))
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft)
