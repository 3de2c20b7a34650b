"""Qt-free core of Imbalance Studio.

Nothing under this package may import Qt (PySide6, pyqtgraph, superqt); a test enforces it.
Heavy libraries (torch, torchvision, albumentations, scikit-learn) are imported lazily,
inside the functions that need them.
"""
