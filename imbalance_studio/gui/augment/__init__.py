"""The augmentation stack editor: catalogue, stack, parameters and a live preview grid."""

from .editor import AugmentEditor

__all__ = ["AugmentEditor"]
