"""The recommended strategy per classifier: chosen on validation rows, then shown on the test rows.

Each tuned strategy already picked its strength on validation rows (:mod:`fairlatent.engine.tuning`).
The recommendation compares those picks across strategies with the same objective — the larger of
the DP and EO differences on validation, averaged over repeats — among the strategies whose mean
validation accuracy stays within their budget of the baseline's. When no strategy beats the baseline
on validation, the recommendation is to do nothing. The test rows are only *reported* for the pick,
and the report says when they disagree with validation.

The choice is :func:`fairlatent.results.selection.select`, the rule of the strength tuning and of
``debias``: a data strategy whose pick widened the DP or EO difference beyond noise (paired bootstrap
on validation rows) in *any* setup it was scored in — the audited classifier with the sensitive
column used and not used — or cost more than its budget there, is refused. Each recommendation says
for which setups it holds (``holds_for``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fairlatent.results.selection import Option, SetupFigures, select, setup_label

if TYPE_CHECKING:
    from fairlatent.results.records import AuditResult

#: Objectives closer than this are a tie (then the more accurate strategy wins).
TIE = 1e-9


def _validation(result: AuditResult, strategy: str, classifier: str) -> dict[str, Any] | None:
    tables = [
        t for t in result.tuning if t["strategy"] == strategy and t["classifier"] == classifier
    ]
    if not tables:
        return None
    chosen = [next(c for c in t["candidates"] if c["chosen"]) for t in tables]
    return {
        "strategy": strategy,
        "strengths": [t["chosen"] for t in tables],
        "objective": float(np.mean([c["objective"] for c in chosen])),
        "accuracy": float(np.mean([c["accuracy"] for c in chosen])),
        "dp_difference": float(np.mean([c["dp_difference"] for c in chosen])),
        "eo_difference": float(np.mean([c["eo_difference"] for c in chosen])),
        "budget": float(min(t["budget"] for t in tables)),
        "off": all(c["identity"] for c in chosen),
        "setups": _setups_over_repeats(chosen),
    }


def _setups_over_repeats(chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per setup, the picks' figures averaged over repeats; a gap widened in any repeat counts."""
    by_setup: dict[str, list[dict[str, Any]]] = {}
    for candidate in chosen:
        for figures in candidate.get("setups") or []:
            by_setup.setdefault(figures["setup"], []).append(figures)
    out = []
    for label, rows in by_setup.items():
        keys = ("accuracy", "objective", "baseline_accuracy", "baseline_objective")
        merged: dict[str, Any] = {"setup": label}
        merged.update({k: float(np.mean([r[k] for r in rows])) for k in keys})
        merged["widened"] = sorted({w for r in rows for w in r.get("widened", [])})
        merged["judged"] = any(r.get("judged", True) for r in rows)
        out.append(merged)
    return out


def _option(v: dict[str, Any], base: dict[str, Any], audited: str) -> Option:
    """Build the rule's view of one strategy: ranked on the audited setup, checked in every one."""
    scored = [SetupFigures.from_dict(f) for f in v.get("setups") or []]
    ranked = [f for f in scored if f.setup == audited] or [
        SetupFigures(
            audited, v["accuracy"], v["objective"], base["accuracy"], base["objective"]
        )
    ]
    for figures in ranked:  # rank on the repeat-averaged validation figures of the pick
        figures.accuracy, figures.objective = v["accuracy"], v["objective"]
        figures.baseline_accuracy, figures.baseline_objective = base["accuracy"], base["objective"]
    checks = [f for f in scored if f.setup != audited]
    return Option(
        v["strategy"],
        ranked,
        v["budget"],
        identity=v["strategy"] == "none",
        payload=v,
        checks=checks,
    )


def _test(result: AuditResult, strategy: str, classifier: str) -> dict[str, float]:
    summary = result.summary()
    row = summary.loc[(strategy, classifier)]
    keys = ("accuracy", "dp_difference", "eo_difference")
    figures = {k: float(row[k]) for k in keys}
    figures["objective"] = max(figures["dp_difference"], figures["eo_difference"])
    return figures


def recommend(result: AuditResult) -> list[dict[str, Any]]:
    """One recommendation per classifier (empty when the audit did not tune).

    Returns
    -------
    list of dict
        ``classifier``, ``strategy`` (``"none"`` = do nothing), ``strengths`` (per repeat),
        ``validation`` (the pick's and the baseline's validation figures), ``test`` (the pick's and
        the baseline's test figures), ``agrees`` (the test rows confirm the validation choice),
        ``candidates`` (every strategy's validation figures), ``holds_for`` (the setups the pick
        was checked in: no gap widened beyond noise, within budget) and ``refused`` (strategy ->
        why the rule refused it).
    """
    if not result.tuning or "none" not in result.config.strategies:
        return []
    out = []
    for clf in result.config.classifiers:
        base = _validation(result, "none", clf)
        if base is None:
            continue
        others = [
            v
            for s in result.config.strategies
            if s != "none" and (v := _validation(result, s, clf)) is not None
        ]
        audited = setup_label(clf, result.config.include_sensitive)
        options = [_option(base, base, audited)] + [
            _option(v, base, audited) for v in others if not v["off"]
        ]
        picked = select(options)
        best = picked.payload
        refused = {o.name: o.refused for o in options if o.refused}
        test_pick = _test(result, best["strategy"], clf)
        test_base = _test(result, "none", clf)
        agrees = best["strategy"] == "none" or (
            test_pick["objective"] < test_base["objective"]
            and test_base["accuracy"] - test_pick["accuracy"] <= best["budget"] + TIE
        )
        out.append(
            {
                "classifier": clf,
                "strategy": best["strategy"],
                "strengths": best["strengths"],
                "validation": {"pick": best, "baseline": base},
                "test": {"pick": test_pick, "baseline": test_base},
                "agrees": bool(agrees),
                "candidates": [base, *others],
                "holds_for": picked.holds_for,
                "refused": refused,
            }
        )
    return out


def _points(loss: float) -> str:
    """Word an accuracy loss in points: ``1.4 accuracy points lost`` or ``0.2 ... gained``."""
    return f"{abs(loss):.1f} accuracy points {'lost' if loss >= 0 else 'gained'}"


def recommendation_text(rec: dict[str, Any]) -> str:
    """One paragraph on a recommendation: what validation picked, what the test rows show."""
    val, test = rec["validation"], rec["test"]
    if rec["strategy"] == "none":
        return (
            "Recommended: no mitigation — on validation rows no strategy lowered the larger of "
            f"the DP and EO differences ({val['baseline']['objective']:.3f}) within its accuracy "
            "budget."
        )
    strengths = ", ".join(dict.fromkeys(rec["strengths"]))
    loss = (val["baseline"]["accuracy"] - val["pick"]["accuracy"]) * 100
    text = (
        f"Recommended (chosen on validation rows, never the test rows): {rec['strategy']} at "
        f"strength {strengths} — on validation, max(DP, EO) {val['baseline']['objective']:.3f} → "
        f"{val['pick']['objective']:.3f} for {_points(loss)}. On the test rows: "
        f"DP difference {test['baseline']['dp_difference']:.3f} → {test['pick']['dp_difference']:.3f}, "
        f"EO difference {test['baseline']['eo_difference']:.3f} → {test['pick']['eo_difference']:.3f}, "
        f"accuracy {test['baseline']['accuracy']:.3f} → {test['pick']['accuracy']:.3f}."
    )
    holds = rec.get("holds_for") or []
    if len(holds) > 1:
        text += (
            " On validation rows it widened neither gap beyond noise and stayed within budget "
            f"for every setup checked: {'; '.join(holds)}."
        )
    elif holds:
        text += (
            f" Checked for {holds[0]} only; for another setup run fairlatent debias with "
            "--classifier and --include-sensitive/--exclude-sensitive."
        )
    if not rec["agrees"]:
        text += (
            " The test rows disagree with validation (the pick is not fairer there, or costs more "
            "accuracy than the budget): treat the choice as uncertain and rerun with --repeats 3."
        )
    return text


def tuning_view(result: AuditResult) -> dict[str, list[dict[str, Any]]]:
    """Group the first repeat's validation grids per classifier, for the report's tuning section.

    Returns
    -------
    dict
        Classifier -> one entry per strategy: ``strategy``, ``budget``, ``chosen`` (per repeat)
        and ``candidates`` (the scored grid of the first repeat).
    """
    view: dict[str, list[dict[str, Any]]] = {}
    for clf in result.config.classifiers:
        for strategy in result.config.strategies:
            tables = [
                t for t in result.tuning
                if t["strategy"] == strategy and t["classifier"] == clf
            ]
            if not tables:
                continue
            view.setdefault(clf, []).append(
                {
                    "strategy": strategy,
                    "budget": tables[0]["budget"],
                    "chosen": [t["chosen"] for t in tables],
                    "candidates": tables[0]["candidates"],
                }
            )
    return view
