"""The classifier registry: one :class:`ClassifierSpec` per downstream classifier.

Adding a built-in classifier is one builder function plus one line in
:data:`BUILTIN_CLASSIFIERS`; another package adds one through the entry-point group
``fairlatent.classifiers`` (an object that is a :class:`ClassifierSpec` or returns one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fairlatent.exceptions import ConfigError
from fairlatent.registry import Registry, load_object

if TYPE_CHECKING:  # scikit-learn is imported when a classifier is built, not for its name
    from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class ClassifierSpec:
    """A named downstream classifier.

    Parameters
    ----------
    name : str
        What users type (``--classifiers NAME``).
    factory : str or callable
        ``"module:function"`` or a callable ``(*, numeric, categorical, random_state) ->
        Pipeline`` whose last step is named ``"model"`` and accepts ``sample_weight``.
    description : str
        One line for ``--help`` and the report.
    display_name : str
        Name used in sentences ("logistic regression").
    """

    name: str
    factory: str | Callable[..., Pipeline]
    description: str
    display_name: str

    def build(self, *, numeric: list[str], categorical: list[str], random_state: int = 0) -> Pipeline:
        """Build the unfitted pipeline for these feature columns."""
        from sklearn.pipeline import Pipeline

        pipeline = load_object(self.factory)(
            numeric=numeric, categorical=categorical, random_state=random_state
        )
        if not isinstance(pipeline, Pipeline) or pipeline.steps[-1][0] != "model":
            raise ConfigError(
                f"classifier {self.name!r} must build a scikit-learn Pipeline whose last step is "
                "named 'model'"
            )
        return pipeline


BUILTIN_CLASSIFIERS: tuple[ClassifierSpec, ...] = (
    ClassifierSpec(
        "logreg",
        "fairlatent.classifiers.pipelines:logistic_regression",
        "logistic regression (median-imputed, standardised numerics; one-hot categoricals)",
        "logistic regression",
    ),
    ClassifierSpec(
        "hgb",
        "fairlatent.classifiers.pipelines:gradient_boosting",
        "histogram gradient boosting (native categorical support, native missing values)",
        "gradient boosting",
    ),
    ClassifierSpec(
        "rf",
        "fairlatent.classifiers.pipelines:random_forest",
        "random forest, 200 trees (ordinal-encoded categoricals, imputed numerics)",
        "random forest",
    ),
)

#: Every classifier the audit knows: the built-ins, then entry-point plug-ins.
CLASSIFIERS: Registry[ClassifierSpec] = Registry(
    "classifier", ClassifierSpec, BUILTIN_CLASSIFIERS, "fairlatent.classifiers"
)


def make_classifier(
    name: str, *, numeric: list[str], categorical: list[str], random_state: int = 0
) -> Pipeline:
    """Build the named classifier as an unfitted scikit-learn Pipeline.

    Parameters
    ----------
    name : str
        A name in :data:`CLASSIFIERS` (``"logreg"``, ``"hgb"``, ``"rf"`` or a plug-in).
    numeric, categorical : list of str
        Feature columns of each kind; categoricals are cast to strings first.
    random_state : int, default 0
        Seed of the estimator.

    Returns
    -------
    Pipeline
        Last step is named ``"model"``; pass weights as ``model__sample_weight``.

    Examples
    --------
    >>> pipe = make_classifier("logreg", numeric=["age"], categorical=["job"])
    >>> pipe.steps[-1][0]
    'model'
    """
    return CLASSIFIERS.get(name).build(
        numeric=numeric, categorical=categorical, random_state=random_state
    )
