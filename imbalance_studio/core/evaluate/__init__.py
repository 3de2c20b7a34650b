"""Did balancing help? Train the same small CNN several ways ("arms") on an export and judge
each on its validation split with metrics from the confusion matrix. torch loads lazily."""

from .data import ARM_HELP, ARMS, EvaluateError
from .output import JSON_NAME, PNG_NAME, save_report
from .run import EvalProgress, estimate_seconds, evaluate_and_save, iter_evaluate, read_saved

__all__ = [
    "ARMS",
    "ARM_HELP",
    "JSON_NAME",
    "PNG_NAME",
    "EvalProgress",
    "EvaluateError",
    "estimate_seconds",
    "evaluate_and_save",
    "iter_evaluate",
    "read_saved",
    "save_report",
]
