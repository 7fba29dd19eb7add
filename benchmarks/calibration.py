"""Calibration of the audit's findings on planted truth: false alarms, coverage and power.

Each dataset comes from a generator whose group disparities are known, and goes through the real
audit (``fairlatent.audit`` with ``strategies=["none"]``, no tuning: split, fit, test evaluation,
simultaneous findings). Two classifiers:

- ``logreg`` (the real one) on **null** data — the group is independent of the features and the
  label, so every rate is equal across groups in the population for *any* model that does not see
  the group (the audit excludes sensitive columns): any ``established`` finding is a false alarm;
- ``rule`` (registered here: predicts favourable when ``x1 > 0.5``, ignoring its training rows), so
  the true rate of every group is known whatever the data: computed once per scenario on 400,000
  fresh rows of the generator. This gives the **coverage** (all judged intervals of a model cover
  their true differences at once) and the **power** against planted gaps.

Scenarios: ``null`` (2, 3 or 6 equal-rate groups; one thin group), ``shift`` (one group's ``x1``
shifted by delta: gaps in selection rate, TPR, FPR, ...), ``small`` (a 3 % group with a large gap:
it should be ``insufficient``, never ``established``), each at several sizes. Every rate carries its
Monte-Carlo standard error sqrt(p(1-p)/R).

Usage::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/calibration.py --datasets 200
    python benchmarks/calibration.py --datasets 200 --write   # also record the false-alarm rate
                                                              # in fairlatent/calibration.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import fairlatent  # noqa: E402
from fairlatent.classifiers import ClassifierSpec  # noqa: E402
from fairlatent.metrics.simultaneous import FINDING_METRICS, rate_parts  # noqa: E402
from fairlatent.policy import CALIBRATION_FILE  # noqa: E402

#: Threshold of the ``rule`` classifier on ``x1``.
RULE_CUT = 0.5


class RuleModel(ClassifierMixin, BaseEstimator):
    """Predict favourable when the first column exceeds :data:`RULE_CUT` (training is ignored)."""

    def fit(self, X, y, sample_weight=None):  # noqa: D102, N803
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # noqa: D102, N803
        x1 = np.asarray(X, dtype=float)[:, 0]
        p = 1 / (1 + np.exp(-20 * (x1 - RULE_CUT)))  # >= 0.5 exactly when x1 > RULE_CUT
        return np.column_stack([1 - p, p])

    def predict(self, X):  # noqa: D102, N803
        return (np.asarray(X, dtype=float)[:, 0] > RULE_CUT).astype(int)


def _rule_pipeline(*, numeric, categorical, random_state=0):
    from sklearn.compose import ColumnTransformer

    return Pipeline(
        [
            ("preprocess", ColumnTransformer([("x1", "passthrough", ["x1"])])),
            ("model", RuleModel()),
        ]
    )


RULE = ClassifierSpec("rule", _rule_pipeline, "x1 > 0.5 (benchmark only)", "fixed rule")


@dataclass(frozen=True)
class Scenario:
    """Groups (name, share, base rate, shift of x1) at one size."""

    name: str
    n: int
    groups: tuple[tuple[str, float, float, float], ...]
    kind: str  # null, shift, small
    effect: float = 0.0  # the planted shift (for the power table)
    truth: dict = field(default_factory=dict, compare=False, hash=False)


def generate(scenario: Scenario, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` rows: group, label ~ base rate, x1 = label + shift + noise, two noise columns."""
    names = [g[0] for g in scenario.groups]
    shares = np.array([g[1] for g in scenario.groups])
    idx = rng.choice(len(names), size=n, p=shares / shares.sum())
    base = np.array([g[2] for g in scenario.groups])[idx]
    shift = np.array([g[3] for g in scenario.groups])[idx]
    y = (rng.random(n) < base).astype(int)
    return pd.DataFrame(
        {
            "x1": y * 1.0 + shift + rng.normal(0, 1, n),
            "x2": rng.normal(0, 1, n),
            "x3": rng.normal(0, 1, n),
            "group": np.array(names, dtype=object)[idx],
            "label": y,
        }
    )


def true_rates(scenario: Scenario, rows: int = 400_000, seed: int = 12345) -> dict[str, dict[str, float]]:
    """Each group's true rates under the rule, from a large fresh sample."""
    frame = generate(scenario, rows, np.random.default_rng(seed))
    pred = (frame["x1"].to_numpy() > RULE_CUT).astype(int)
    out = {}
    for name in dict.fromkeys(frame["group"]):
        mask = frame["group"].to_numpy() == name
        y, p = frame["label"].to_numpy()[mask], pred[mask]
        counts = np.array([[[np.sum((y == a) & (p == b)) for b in (0, 1)] for a in (0, 1)]])
        num, den = rate_parts(counts)
        out[name] = dict(zip(FINDING_METRICS, (num / den)[0], strict=True))
    return out


def scenarios(sizes: list[int]) -> list[Scenario]:
    """The planted-truth scenarios at each size."""
    out = []
    for n in sizes:
        out.append(Scenario(f"null, 2 groups, n={n}", n, (("a", 0.5, 0.35, 0), ("b", 0.5, 0.35, 0)), "null"))
        out.append(Scenario(f"null, 6 groups, n={n}", n, tuple(
            (f"g{i}", s, 0.35, 0) for i, s in enumerate((0.3, 0.2, 0.15, 0.15, 0.1, 0.1))), "null"))
        out.append(Scenario(f"null + thin group, n={n}", n, (
            ("a", 0.6, 0.35, 0), ("b", 0.37, 0.35, 0), ("thin", 0.03, 0.35, 0)), "null"))
        for delta in (0.1, 0.25, 0.5):
            out.append(Scenario(f"shift {delta}, n={n}", n, (
                ("a", 0.6, 0.35, 0), ("b", 0.4, 0.35, -delta)), "shift", delta))
        out.append(Scenario(f"small group shifted 1.0, n={n}", n, (
            ("a", 0.6, 0.35, 0), ("b", 0.37, 0.35, 0), ("thin", 0.03, 0.35, -1.0)), "small", 1.0))
    return out


def audit_once(frame: pd.DataFrame, classifier: str, seed: int, n_boot: int):
    """Run the real audit on one dataset; return the baseline model's findings."""
    result = fairlatent.audit(
        frame, target="label", sensitive="group", positive_label="1", strategies=["none"],
        classifiers=[classifier], tune=False, n_boot=n_boot, seed=seed, min_group_size=5,
    )
    return result.findings.model(classifier, "none", 0)


def mc(p: float, r: int) -> float:
    """Monte-Carlo standard error of a proportion."""
    return math.sqrt(max(p * (1 - p), 0.0) / r) if r else float("nan")


def run_scenario(k: int, scenario: Scenario, datasets: int, n_boot: int, seed: int) -> dict:
    """Audit ``datasets`` draws of one scenario; return its tallies."""
    from fairlatent.classifiers import CLASSIFIERS as registry  # this process's registry

    if "rule" not in registry:
        registry.register(RULE)
    started = time.perf_counter()
    truth = true_rates(scenario)
    rng = np.random.default_rng(seed + 1000 * k)
    tally = {"alarm_logreg": 0, "alarm_rule": 0, "covered": 0, "judged": 0, "power_sel": 0,
             "power_any": 0, "thin_established": 0, "true_gap": float("nan")}
    for r in range(datasets):
        frame = generate(scenario, scenario.n, rng)
        rule = audit_once(frame, "rule", seed + r, n_boot)
        judged = [f for f in rule.family.findings if f.state != "insufficient"]
        if judged:
            tally["judged"] += 1
            tally["covered"] += all(
                f.low <= truth[f.group][f.metric] - truth[f.reference][f.metric] <= f.high
                for f in judged
            )
        established = [f for f in judged if f.state == "established"]
        if scenario.kind == "null":
            tally["alarm_rule"] += bool(established)
            logreg = audit_once(frame, "logreg", seed + r, n_boot)
            tally["alarm_logreg"] += any(f.state == "established" for f in logreg.family.findings)
        elif scenario.kind == "shift":
            tally["power_sel"] += any(
                f.group == "b" and f.metric == "selection_rate" for f in established)
            tally["power_any"] += any(f.group == "b" for f in established)
        else:
            tally["thin_established"] += any(f.group == "thin" for f in established)
            tally["alarm_rule"] += any(f.group != "thin" for f in established)
    if scenario.kind != "null":
        other = "b" if scenario.kind == "shift" else "thin"
        tally["true_gap"] = float(truth[other]["selection_rate"] - truth["a"]["selection_rate"])
    print(f"{scenario.name}: {tally} ({time.perf_counter() - started:.0f} s)", flush=True)
    return {"scenario": scenario.name, "kind": scenario.kind, "n": scenario.n,
            "effect": scenario.effect, "datasets": datasets, **tally}


def run(
    datasets: int,
    sizes: list[int],
    n_boot: int,
    seed: int,
    jobs: int = 1,
    kinds: tuple[str, ...] = ("null", "shift", "small"),
) -> dict:
    """Run every scenario of ``kinds`` ``datasets`` times (``jobs`` at once); return the tables."""
    from joblib import Parallel, delayed

    started = time.perf_counter()
    chosen = [(k, sc) for k, sc in enumerate(scenarios(sizes)) if sc.kind in kinds]
    rows = Parallel(n_jobs=jobs)(
        delayed(run_scenario)(k, sc, datasets, n_boot, seed) for k, sc in chosen
    )
    return {"rows": list(rows), "seconds": time.perf_counter() - started}


def summarise(out: dict) -> dict:
    """Pool the null scenarios into one false-alarm rate and all scenarios into one coverage."""
    rows = out["rows"]
    nulls = [r for r in rows if r["kind"] == "null"]
    alarms = sum(r["alarm_logreg"] + r["alarm_rule"] for r in nulls)
    null_runs = sum(2 * r["datasets"] for r in nulls)
    covered = sum(r["covered"] for r in rows)
    judged = sum(r["judged"] for r in rows)
    fwer = alarms / null_runs if null_runs else float("nan")
    cov = covered / judged if judged else float("nan")
    return {"false_alarm_rate": fwer, "false_alarm_error": mc(fwer, null_runs),
            "null_datasets": null_runs, "coverage": cov, "coverage_error": mc(cov, judged),
            "coverage_datasets": judged}


#: The three tables of RESULTS.md: the kind of scenario, its header, and the columns after the
#: scenario (``"gap"``: the true gap; a key: that count's share of the datasets, with its error).
TABLES = (
    ("null", "| scenario | datasets | false alarms logreg | false alarms rule | coverage (rule) |",
     ("datasets", "alarm_logreg", "alarm_rule")),
    ("shift", "| scenario | true selection-rate gap | power: selection rate established | "
     "power: any rate of b established | coverage |", ("gap", "power_sel", "power_any")),
    ("small", "| scenario | true gap of the thin group | thin group established | other "
     "false alarms | coverage |", ("gap", "thin_established", "alarm_rule")),
)


def _share(count: float, of: int) -> str:
    """A share with its Monte-Carlo standard error, as the tables write it."""
    p = count / max(of, 1)
    return f"{p:.3f} ± {mc(p, of):.3f}"


def table(out: dict) -> str:
    """The Markdown tables of RESULTS.md."""
    lines: list[str] = []
    for kind, header, columns in TABLES:
        lines += ["", header, "|---|---|---|---|---|"] if lines else [header, "|---|---|---|---|---|"]
        for r in out["rows"]:
            if r["kind"] != kind:
                continue
            d = r["datasets"]
            cells = [r["scenario"]]
            for column in columns:
                if column == "datasets":
                    cells.append(str(d))
                elif column == "gap":
                    cells.append(f"{r['true_gap']:+.3f}")
                else:
                    cells.append(_share(r[column], d))
            cells.append(_share(r["covered"], r["judged"]))
            lines.append("| " + " | ".join(cells) + " |")
    s = summarise(out)
    lines += ["", f"Pooled: family-wise false-alarm rate {s['false_alarm_rate']:.3f} ± "
              f"{s['false_alarm_error']:.3f} ({s['null_datasets']} null audits); simultaneous "
              f"coverage {s['coverage']:.3f} ± {s['coverage_error']:.3f} "
              f"({s['coverage_datasets']} audits with judged findings). {out['seconds']:.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=200, help="datasets per scenario")
    parser.add_argument("--sizes", default="1000,4000", help="rows per dataset, comma-separated")
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="scenarios run at once")
    parser.add_argument("--kinds", default="null,shift,small",
                        help="scenario kinds to run, comma-separated (null, shift, small)")
    parser.add_argument("--write", action="store_true",
                        help="record the pooled rates in fairlatent/calibration.json")
    args = parser.parse_args(argv)
    if args.write and set(args.kinds.split(",")) != {"null", "shift", "small"}:
        parser.error("--write records the pooled rates of every kind; drop --kinds")
    out = run(args.datasets, [int(s) for s in args.sizes.split(",")], args.n_boot, args.seed,
              args.jobs, tuple(args.kinds.split(",")))
    print(table(out))
    if args.write:
        command = "python benchmarks/calibration.py " + " ".join(argv if argv is not None else sys.argv[1:])
        record = summarise(out) | {"date": dt.date.today().isoformat(), "command": command.strip()}
        CALIBRATION_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")
    return out


if __name__ == "__main__":
    main()
