"""HOG feature vectors of a curated dataset, with imbalanced-learn resampling of the training
split only, for SVMs and other classical models (see `run` for the whole export)."""

from .featurize import FeatureProgress, FeatureSet, SplitVectors, iter_featurize
from .hog import FeatureSettings
from .resample import DEFAULT_SAMPLER, SAMPLERS, FeaturesError, Resampled, resample_train

__all__ = [
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "FeatureProgress",
    "FeatureSet",
    "FeatureSettings",
    "FeaturesError",
    "Resampled",
    "SplitVectors",
    "iter_featurize",
    "resample_train",
]
