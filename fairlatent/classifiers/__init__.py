"""Downstream classifiers and the train/test split."""

from fairlatent.classifiers.pipelines import (
    CLASSIFIER_DESCRIPTIONS,
    make_classifier,
    split_feature_kinds,
)
from fairlatent.classifiers.split import stratified_split

__all__ = ["CLASSIFIER_DESCRIPTIONS", "make_classifier", "split_feature_kinds", "stratified_split"]
