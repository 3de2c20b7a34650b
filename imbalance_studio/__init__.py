"""Imbalance Studio: curate and balance labelled image datasets."""

__version__ = "0.1.0"
APP_NAME = "imbalance-studio"
