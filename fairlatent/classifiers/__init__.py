"""Downstream classifiers (one registry) and the train/test split."""

from fairlatent.classifiers.fitting import (
    FeatureSpec,
    TrainedClassifier,
    train_classifier,
)
from fairlatent.classifiers.pipelines import split_feature_kinds
from fairlatent.classifiers.registry import CLASSIFIERS, ClassifierSpec, make_classifier
from fairlatent.classifiers.split import stratified_split

__all__ = [
    "CLASSIFIERS",
    "ClassifierSpec",
    "FeatureSpec",
    "TrainedClassifier",
    "train_classifier",
    "make_classifier",
    "split_feature_kinds",
    "stratified_split",
]
