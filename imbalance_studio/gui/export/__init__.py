"""File ▸ Export: the export dialog (the main window owns the menu entry)."""

from .dialog import ExportDialog

__all__ = ["ExportDialog"]
