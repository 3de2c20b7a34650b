"""Export: a balanced, leak-free ImageFolder dataset with its manifest, weights and report.

`run.iter_export` is the entry point; the other modules are its parts (destination checks,
layout, file writing, metadata, report, charts).
"""
