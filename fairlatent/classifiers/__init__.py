"""Downstream classifiers (one registry) and the train/test split."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairlatent.classifiers.registry import CLASSIFIERS, ClassifierSpec, make_classifier

if TYPE_CHECKING:
    from fairlatent.classifiers.fitting import FeatureSpec, TrainedClassifier, train_classifier
    from fairlatent.classifiers.pipelines import split_feature_kinds
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

#: Imported on first use, so that reading the registry (``--help``) does not import scikit-learn.
_LAZY = {
    "FeatureSpec": "fairlatent.classifiers.fitting",
    "TrainedClassifier": "fairlatent.classifiers.fitting",
    "train_classifier": "fairlatent.classifiers.fitting",
    "split_feature_kinds": "fairlatent.classifiers.pipelines",
    "stratified_split": "fairlatent.classifiers.split",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fairlatent.classifiers' has no attribute {name!r}")
