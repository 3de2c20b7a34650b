"""Widgets of the main window; each takes its model(s) and emits what the user asked for."""
