"""The parts of an export (see core/export.py for the entry point)."""
