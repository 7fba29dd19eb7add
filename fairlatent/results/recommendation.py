"""The recommended strategy per classifier: chosen on validation rows, then shown on the test rows.

Each tuned strategy already picked its strength on validation rows (:mod:`fairlatent.engine.tuning`).
The recommendation compares those picks across strategies with the same objective — the larger of
the DP and EO differences on validation, averaged over repeats — among the strategies whose mean
validation accuracy stays within their budget of the baseline's *and* whose validation gain is
distinguishable from noise (the paired-bootstrap interval of the objective's change on the same
validation rows, with the test's support rule, lies below 0 in every repeat). When no strategy
qualifies, the recommendation is to do nothing. The test rows are only *reported* for the pick,
and the report says when they disagree with validation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

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
    gains = [t.get("gain") for t in tables]
    return {
        "strategy": strategy,
        "strengths": [t["chosen"] for t in tables],
        "objective": float(np.mean([c["objective"] for c in chosen])),
        "accuracy": float(np.mean([c["accuracy"] for c in chosen])),
        "dp_difference": float(np.mean([c["dp_difference"] for c in chosen])),
        "eo_difference": float(np.mean([c["eo_difference"] for c in chosen])),
        "budget": float(min(t["budget"] for t in tables)),
        "off": all(c["identity"] for c in chosen),
        # the validation gain is distinguishable from noise in every repeat (paired bootstrap)
        "gain": [g for g in gains if g is not None],
        "distinguishable": bool(gains)
        and all(g is not None and g["high"] < 0 for g in gains),
    }


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
        the baseline's test figures), ``agrees`` (the test rows confirm the validation choice) and
        ``candidates`` (every strategy's validation figures).
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
        within = [
            v for v in others if not v["off"] and v["accuracy"] >= base["accuracy"] - v["budget"] - TIE
        ]
        eligible = [v for v in within if v["distinguishable"]]
        best = base
        for v in eligible:
            better = v["objective"] < best["objective"] - TIE
            tie = abs(v["objective"] - best["objective"]) <= TIE and v["accuracy"] > best["accuracy"]
            if better or tie:
                best = v
        test_pick = _test(result, best["strategy"], clf)
        test_base = _test(result, "none", clf)
        agrees = best["strategy"] == "none" or (
            test_pick["objective"] < test_base["objective"]
            and test_base["accuracy"] - test_pick["accuracy"] <= best["budget"] + TIE
        )
        # the lowest validation objective among those whose gain is within noise (for the text)
        noisy = [v for v in within if not v["distinguishable"]]
        undistinguished = min(noisy, key=lambda v: v["objective"]) if noisy else None
        out.append(
            {
                "classifier": clf,
                "undistinguished": undistinguished,
                "strategy": best["strategy"],
                "strengths": best["strengths"],
                "validation": {"pick": best, "baseline": base},
                "test": {"pick": test_pick, "baseline": test_base},
                "agrees": bool(agrees),
                "candidates": [base, *others],
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
        if val["baseline"]["objective"] >= 1.0 - TIE:  # undefined: too few supported groups
            return (
                "Recommended: do nothing — the validation rows hold fewer than two groups with "
                "enough favourable and unfavourable rows (--min-test-support), so no strategy's "
                "gain could be measured there."
            )
        noisy = rec.get("undistinguished")
        if noisy is not None and noisy["objective"] < val["baseline"]["objective"]:
            gain = noisy["gain"][0] if noisy["gain"] else None
            interval = (
                f" (change {gain['change']:+.3f} [{gain['low']:+.3f}, {gain['high']:+.3f}], paired "
                "bootstrap on the validation rows)"
                if gain is not None
                else ""
            )
            return (
                "Recommended: do nothing — the best strategy on validation rows, "
                f"{noisy['strategy']}, lowered the larger of the DP and EO differences from "
                f"{val['baseline']['objective']:.3f} to {noisy['objective']:.3f}{interval}, a "
                "change not distinguishable from noise."
            )
        return (
            "Recommended: do nothing — on validation rows no strategy lowered the larger of "
            f"the DP and EO differences ({val['baseline']['objective']:.3f}) within its accuracy "
            "budget."
        )
    strengths = ", ".join(dict.fromkeys(rec["strengths"]))
    loss = (val["baseline"]["accuracy"] - val["pick"]["accuracy"]) * 100
    text = (
        f"Recommended (chosen on validation rows, never the test rows): {rec['strategy']} at "
        f"strength {strengths} — on validation, max(DP, EO) {val['baseline']['objective']:.3f} → "
        f"{val['pick']['objective']:.3f} for {_points(loss)}"
        + "".join(
            f" (change {g['change']:+.3f} [{g['low']:+.3f}, {g['high']:+.3f}], paired bootstrap)"
            for g in val["pick"]["gain"][:1]
        )
        + ". On the test rows: "
        f"DP difference {test['baseline']['dp_difference']:.3f} → {test['pick']['dp_difference']:.3f}, "
        f"EO difference {test['baseline']['eo_difference']:.3f} → {test['pick']['eo_difference']:.3f}, "
        f"accuracy {test['baseline']['accuracy']:.3f} → {test['pick']['accuracy']:.3f}."
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
