"""Two audits compared over time: which findings appeared, disappeared or changed state.

Works on two ``metrics.json`` documents (as written by :func:`fairlatent.write_report`): their
``findings`` lists (one entry per audited model, group and rate, with a ``state``; see the verdict's
findings) are matched on ``(classifier, strategy, group, metric)``, on the first train/test split
(repeat 0, as the verdict judges; an audit of given predictions has only that one). Documents of different schema
versions or different targets are refused: their findings do not mean the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairlatent.exceptions import DataError

__all__ = ["DIFF_SCHEMA_VERSION", "FINDING_KEY", "diff_audits"]

#: Version of the comparison document (``compare.json``).
DIFF_SCHEMA_VERSION = 1
#: What identifies one finding across two audits.
FINDING_KEY: tuple[str, ...] = ("classifier", "strategy", "group", "metric")
#: Finding states from strongest evidence of a gap to none (sort order of the changes).
_STATE_ORDER = {"established": 0, "inconclusive": 1, "not_detected": 2, "insufficient": 3}

MSG_VERSION = (
    "{old} has schema version {a} and {new} has {b}: findings of different schema versions do not "
    "compare; rerun both audits with the same fairlatent"
)
MSG_TARGET = (
    "{old} audits target {a!r} and {new} audits {b!r}: compare two audits of the same outcome"
)
MSG_NO_FINDINGS = (
    "{path} has no findings list (written by a fairlatent without findings, or not an audit's "
    "metrics.json); rerun the audit to write one"
)


def _target(doc: Mapping[str, Any]) -> Any:
    config = doc.get("config") or {}
    schema = doc.get("schema") or {}
    return (config.get("target"), schema.get("positive_label"))


def _key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(finding.get(k) for k in FINDING_KEY)


def _first_split(findings: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Keep the findings of the first train/test split (what the verdict judges)."""
    return [f for f in findings if f.get("repeat", 0) == 0]


def _brief(finding: Mapping[str, Any]) -> dict[str, Any]:
    keep = (*FINDING_KEY, "reference", "state", "difference", "low", "high", "ratio", "support")
    return {k: finding.get(k) for k in keep}


def diff_audits(
    old: Mapping[str, Any], new: Mapping[str, Any], *, old_name: str = "OLD", new_name: str = "NEW"
) -> dict[str, Any]:
    """Diff the findings of two audits.

    Parameters
    ----------
    old, new : mapping
        Two ``metrics.json`` documents.
    old_name, new_name : str
        How to name them in messages (their paths).

    Returns
    -------
    dict
        ``schema_version``, ``old`` and ``new`` (name, created, command, target, positive label,
        number of findings), ``appeared`` and ``disappeared`` (findings only in one audit),
        ``changed`` (findings whose state changed: key, ``reference``, ``old_state``,
        ``new_state``, both differences and intervals), ``unchanged`` (count) and ``counts``.

    Raises
    ------
    DataError
        Different schema versions, different targets, or a document without findings.

    Examples
    --------
    >>> f = {"classifier": "m", "strategy": "none", "group": "b", "reference": "a",
    ...      "metric": "fpr", "difference": 0.1, "low": 0.05, "high": 0.15, "state": "established"}
    >>> doc = {"schema_version": 1, "config": {"target": "y"}, "schema": {"positive_label": "1"}}
    >>> out = diff_audits({**doc, "findings": [f]}, {**doc, "findings": [{**f, "state": "inconclusive"}]})
    >>> out["changed"][0]["old_state"], out["changed"][0]["new_state"], out["counts"]["changed"]
    ('established', 'inconclusive', 1)
    """
    a, b = old.get("schema_version"), new.get("schema_version")
    if a != b:
        raise DataError(MSG_VERSION.format(old=old_name, new=new_name, a=a, b=b))
    if _target(old)[0] != _target(new)[0] or _target(old)[1] != _target(new)[1]:
        shown_a = "=".join(str(v) for v in _target(old) if v is not None)
        shown_b = "=".join(str(v) for v in _target(new) if v is not None)
        raise DataError(MSG_TARGET.format(old=old_name, new=new_name, a=shown_a, b=shown_b))
    for name, doc in ((old_name, old), (new_name, new)):
        if not isinstance(doc.get("findings"), list):
            raise DataError(MSG_NO_FINDINGS.format(path=name))
    before = {_key(f): f for f in _first_split(old["findings"])}
    after = {_key(f): f for f in _first_split(new["findings"])}
    appeared = [_brief(after[k]) for k in after if k not in before]
    disappeared = [_brief(before[k]) for k in before if k not in after]
    changed, unchanged = [], 0
    for k in after:
        if k not in before:
            continue
        was, now = before[k], after[k]
        if was.get("state") == now.get("state") and was.get("reference") == now.get("reference"):
            unchanged += 1
            continue
        changed.append(
            {
                **dict(zip(FINDING_KEY, k, strict=True)),
                "reference": now.get("reference"),
                "old_reference": was.get("reference"),
                "old_state": was.get("state"),
                "new_state": now.get("state"),
                "old_difference": was.get("difference"),
                "old_low": was.get("low"),
                "old_high": was.get("high"),
                "new_difference": now.get("difference"),
                "new_low": now.get("low"),
                "new_high": now.get("high"),
            }
        )
    changed.sort(key=lambda r: min(_STATE_ORDER.get(r["new_state"], 9), _STATE_ORDER.get(r["old_state"], 9)))

    def order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda r: _STATE_ORDER.get(str(r.get("state")), 9))

    def described(name: str, doc: Mapping[str, Any]) -> dict[str, Any]:
        target, label = _target(doc)
        return {"name": name, "created": doc.get("created"), "command": doc.get("command"),
                "target": target, "positive_label": label, "findings": len(_first_split(doc["findings"]))}

    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "old": described(old_name, old),
        "new": described(new_name, new),
        "appeared": order(appeared),
        "disappeared": order(disappeared),
        "changed": changed,
        "unchanged": unchanged,
        "counts": {"appeared": len(appeared), "disappeared": len(disappeared),
                   "changed": len(changed), "unchanged": unchanged},
    }
