"""fairlatent's TabularGAN next to ctgan's CTGAN on Adult: speed, fidelity, conditioning, fairness.

Usage (from the repository root)::

    .venv/bin/python benchmarks/gan_vs_ctgan.py --epochs 30 --threads 1 --json /tmp/gan_vs.json

Both GANs see the same rows, the same number of epochs, batch 500 and pac 10, everything in one
process and interleaved (ours, CTGAN, ours again for the ``gan`` strategy) so that the noise of a
shared machine hits both; the ratios are the result.

Data: the bundled ``examples/adult.csv.gz`` (or ``--data PATH``; ``split`` dropped) through ``fairlatent.data.schema.
prepare(target="income", sensitive=["sex"], positive_label=">50K")`` and
``fairlatent.classifiers.stratified_split(test_size=0.3, random_state=seed)``: 34,189 training
rows and 14,653 real test rows, the audit's own split. The generators are fitted on the training
rows with their original columns (``income`` as its labels ``<=50K``/``>50K``); ours is
conditioned on ``["sex", "income"]``, CTGAN gets every non-numeric column as discrete.

Tables
------
1. Seconds per epoch: the time between consecutive epoch ends, median over epochs 2..E, wall and
   CPU seconds of this process. fairlatent's from ``fit(callbacks=...)``; ctgan has no epoch
   callback, so a watcher thread polls CTGAN's public ``loss_values`` attribute (replaced once
   right before the first epoch and once at the end of every epoch) and timestamps each change.
2. Fidelity, detection, utility and privacy, all from
   ``fairlatent.metrics.synthetic.synthetic_quality`` on the same real train and test frames with
   as many unconditional synthetic rows as real training rows.
3. Conditional generation of the rare cell sex=Female & income=>50K.
4. Downstream fairness: fairlatent's ``gan`` strategy (parity cell targets, real rows dropped at
   random to keep group sizes) against the same recipe with CTGAN: ``cell_targets(...,
   "parity")`` gives each (sex, income) cell's size, over-target cells lose real rows at random,
   under-target cells get CTGAN rows made by rejection (``sample(condition_column="sex",
   condition_value=group)``, keeping rows whose sex and income are the wanted ones). logreg and
   hgb (``make_classifier``) are trained on the non-sensitive features and evaluated on the real
   test rows with ``evaluate_predictions(..., n_boot=0)``; ``none`` is the unmitigated baseline.
   The CTGAN used here is the one fitted for tables 1-3 (same rows); the ``gan`` strategy trains
   its own TabularGAN on its cell-conditioned frame, as the audit does.

Threads: ``--threads N`` sets ``torch.set_num_threads(N)``, limits BLAS/OpenMP pools to N
(threadpoolctl) and sets ``LOKY_MAX_CPU_COUNT=N`` (ctgan's transformer uses joblib), for both.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from ctgan import CTGAN
from harness import ADULT, EpochMarks, LossWatcher, load_avg, md_table, read_adult, start_run

from fairlatent.classifiers import make_classifier, split_feature_kinds, stratified_split
from fairlatent.data.schema import GROUP_COLUMN, prepare
from fairlatent.metrics.fairness import evaluate_predictions
from fairlatent.metrics.synthetic import synthetic_quality
from fairlatent.models.gan import TabularGAN
from fairlatent.samplers.synthesis import cell_targets
from fairlatent.strategies import StrategyContext, get_strategy

TARGET = "income"
SENSITIVE = "sex"
LABELS = {0: "<=50K", 1: ">50K"}
BATCH = 500
PAC = 10
CLASSIFIERS = ("logreg", "hgb")
MAX_TRIES = 20  # rejection batches per cell for CTGAN, as TabularGAN.sample's default


# ------------------------------------------------------------------------------------------------
# helpers (timing helpers shared with vae_speed.py live in harness.py)
# ------------------------------------------------------------------------------------------------


def generator_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Original columns for the generators: no group column, income as its two labels."""
    out = frame.drop(columns=GROUP_COLUMN).copy()
    out[TARGET] = out[TARGET].map(LABELS).astype(object)
    return out


# ------------------------------------------------------------------------------------------------
# fits
# ------------------------------------------------------------------------------------------------


def fit_ours(frame: pd.DataFrame, epochs: int, seed: int) -> tuple[TabularGAN, dict[str, Any]]:
    gan = TabularGAN(condition_columns=[SENSITIVE, TARGET], epochs=epochs, batch_size=BATCH,
                     pac=PAC, device="cpu", random_state=seed)
    marks = EpochMarks()
    idle = LossWatcher(gan)
    idle.start()
    load = load_avg()[0]
    tick = time.perf_counter()
    gan.fit(frame, callbacks=[marks.callback])
    total = time.perf_counter() - tick
    idle.stop()
    wall, cpu = marks.steady()
    return gan, {
        "s_epoch": wall, "cpu_s_epoch": cpu, "rows_s": len(frame) / wall, "fit_total_s": total,
        "preprocess_s": total - sum(h["seconds"] for h in gan.history_),
        "encoder_s": gan.encode_seconds_, "load_1min": load,
    }


def fit_ctgan(frame: pd.DataFrame, discrete: list[str], epochs: int,
              seed: int) -> tuple[CTGAN, dict[str, Any]]:
    model = CTGAN(epochs=epochs, batch_size=BATCH, pac=PAC, enable_gpu=False)
    model.set_random_state(seed)
    watcher = LossWatcher(model)
    watcher.start()
    load = load_avg()[0]
    tick = time.perf_counter()
    model.fit(frame, discrete_columns=discrete)
    total = time.perf_counter() - tick
    watcher.stop()
    marks = watcher.marks
    ok = len(marks.wall) == epochs + 1  # one mark before epoch 1, one per epoch end
    wall, cpu = marks.steady(skip=1) if ok else (float("nan"), float("nan"))
    return model, {
        "s_epoch": wall, "cpu_s_epoch": cpu, "rows_s": len(frame) / wall, "fit_total_s": total,
        "preprocess_s": (marks.wall[0] - tick) if marks.wall else float("nan"),
        "watcher_marks": len(marks.wall), "load_1min": load,
    }


def warm_up(frame: pd.DataFrame, discrete: list[str]) -> None:
    """One tiny untimed fit of each library so neither pays torch's first-call set-up."""
    small = frame.iloc[:1000]
    TabularGAN(condition_columns=[SENSITIVE, TARGET], epochs=1, batch_size=BATCH, pac=PAC,
               device="cpu", random_state=0).fit(small)
    model = CTGAN(epochs=1, batch_size=BATCH, pac=PAC, enable_gpu=False)
    model.fit(small, discrete_columns=discrete)


# ------------------------------------------------------------------------------------------------
# quality and conditioning
# ------------------------------------------------------------------------------------------------


def quality(train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame,
            seed: int) -> dict[str, Any]:
    report = synthetic_quality(train, synthetic, real_test=test, target=TARGET, random_state=seed)
    return {
        "mean_ks": report["mean_ks"],
        "mean_tvd": report["mean_tvd"],
        "corr_mean_abs_diff": report["correlation"]["mean_abs_diff"],
        "pearson_mean_abs_diff": report["correlation"]["numeric_pearson_mean_abs_diff"],
        "detection_auc": report["detection"]["auc"],
        "tstr_accuracy": report["utility"]["accuracy_synthetic"],
        "trtr_accuracy": report["utility"]["accuracy_real"],
        "copy_share": report["privacy"]["copy_share"],
        "dcr_median_ratio": report["privacy"]["dcr_median_ratio"],
        "columns": {c: v.get("ks", v.get("tvd")) for c, v in report["columns"].items()},
    }


def cell_share(rows: pd.DataFrame) -> tuple[float, float]:
    female = rows[SENSITIVE] == "Female"
    return float(female.mean()), float((female & (rows[TARGET] == LABELS[1])).mean())


def conditioning(ours: TabularGAN, theirs: CTGAN, train: pd.DataFrame, n: int,
                 seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    real_female, real_cell = cell_share(train)
    out["real"] = {"female_share": real_female, "cell_share": real_cell,
                   "rich_share_within_female": real_cell / real_female}
    rows = ours.sample(n, condition={SENSITIVE: "Female", TARGET: LABELS[1]}, random_state=seed)
    female, cell = cell_share(rows)
    out["ours_cell"] = {"female_share": female, "cell_share": cell,
                        "raw_acceptance": ours.last_sample_stats_["acceptance_rate"],
                        "tries": ours.last_sample_stats_["tries"]}
    rows = ours.sample(n, condition={SENSITIVE: "Female"}, random_state=seed + 1)
    female, cell = cell_share(rows)
    out["ours_female"] = {"female_share": female, "cell_share": cell,
                          "raw_acceptance": ours.last_sample_stats_["acceptance_rate"]}
    rows = theirs.sample(n, condition_column=SENSITIVE, condition_value="Female")
    female, cell = cell_share(rows)
    out["ctgan_female"] = {"female_share": female, "cell_share": cell}
    rows = theirs.sample(n, condition_column=TARGET, condition_value=LABELS[1])
    female, cell = cell_share(rows)
    out["ctgan_rich"] = {"female_share": female, "cell_share": cell,
                         "rich_share": float((rows[TARGET] == LABELS[1]).mean())}
    return out


# ------------------------------------------------------------------------------------------------
# fairness: CTGAN in the role of the gan strategy's generator
# ------------------------------------------------------------------------------------------------


def ctgan_cell_balance(train: pd.DataFrame, model: CTGAN, seed: int) -> tuple[pd.DataFrame,
                                                                              list[dict]]:
    """Parity cell balancing with CTGAN rows made by rejection (see the module docstring)."""
    rng = np.random.default_rng(seed)
    group = train[GROUP_COLUMN].astype(str).to_numpy()
    labels = train[TARGET].astype(int).to_numpy()
    counts = (pd.DataFrame({"group": group, "label": labels})
              .groupby(["group", "label"]).size().rename("rows").reset_index())
    cells = cell_targets(counts, "parity")
    keep = np.ones(len(train), dtype=bool)
    parts, stats = [], []
    for g, lab, rows, target in cells[["group", "label", "rows", "target"]].itertuples(index=False):
        members = np.flatnonzero((group == g) & (labels == lab))
        removed = 0
        if target < rows:
            removed = int(rows - target)
            keep[rng.choice(members, size=removed, replace=False)] = False
        need = max(int(target - rows), 0)
        entry = {"group": g, "label": int(lab), "rows": int(rows), "target": int(target),
                 "removed": removed, "added": 0, "tries": 0, "generated": 0}
        if need:
            got: list[pd.DataFrame] = []
            have = 0
            # first batch sized from the cell's share within its group in the real data
            rate = max(rows / (group == g).sum(), 0.02)
            while have < need and entry["tries"] < MAX_TRIES:
                size = int(min(max(2 * (need - have) / rate, 1000), 200_000))
                batch = model.sample(size, condition_column=SENSITIVE, condition_value=g)
                entry["tries"] += 1
                entry["generated"] += len(batch)
                hit = batch[(batch[SENSITIVE].astype(str) == g)
                            & (batch[TARGET].astype(str) == LABELS[int(lab)])]
                got.append(hit)
                have += len(hit)
                rate = max(have / entry["generated"], 1e-3)
            synth = pd.concat(got, ignore_index=True).iloc[:need].copy()
            entry["added"] = len(synth)
            entry["acceptance"] = have / max(entry["generated"], 1)
            synth[TARGET] = int(lab)
            synth[GROUP_COLUMN] = g
            parts.append(synth[list(train.columns)])
        stats.append(entry)
    frame = pd.concat([train.loc[keep], *parts], ignore_index=True)
    for column in train.columns:
        if frame[column].dtype != train[column].dtype:
            frame[column] = frame[column].astype(train[column].dtype)
    return frame, stats


def evaluate(frames: dict[str, pd.DataFrame], test: pd.DataFrame, numeric: list[str],
             categorical: list[str], seed: int) -> list[dict[str, Any]]:
    rows = []
    columns = numeric + categorical
    for name, frame in frames.items():
        for clf in CLASSIFIERS:
            pipe = make_classifier(clf, numeric=numeric, categorical=categorical,
                                   random_state=seed)
            pipe.fit(frame[columns], frame[TARGET].astype(int).to_numpy())
            pred = (pipe.predict_proba(test[columns])[:, 1] >= 0.5).astype(int)
            ev = evaluate_predictions(test[TARGET].to_numpy(), pred,
                                      test[GROUP_COLUMN].to_numpy(), n_boot=0)
            rows.append({"strategy": name, "classifier": clf, "train_rows": len(frame),
                         "accuracy": ev.summary["accuracy"],
                         "dp_difference": ev.summary["dp_difference"],
                         "eo_difference": ev.summary["eo_difference"]})
    return rows


# ------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="epochs for both GANs (30)")
    parser.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-condition", type=int, default=2000,
                        help="rows asked for in each conditional-sampling check")
    parser.add_argument("--skip-fairness", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--data", type=Path, default=ADULT, help="Adult CSV (default: bundled)")
    args = parser.parse_args()
    started = time.perf_counter()
    meta = start_run(
        args.threads, epochs=args.epochs, batch_size=BATCH, pac=PAC, load_before=load_avg(),
        torch=torch.__version__, pandas=pd.__version__, ctgan=version("ctgan"),
    )
    raw = read_adult(args.data)
    data = prepare(raw, target=TARGET, sensitive=[SENSITIVE], positive_label=LABELS[1])
    train, test = stratified_split(data.frame, target=TARGET, test_size=0.3,
                                   random_state=args.seed)
    assert (train[GROUP_COLUMN].astype(str) == train[SENSITIVE].astype(str)).all()
    gen_train, gen_test = generator_frame(train), generator_frame(test)
    discrete = [c for c in gen_train.columns if not pd.api.types.is_numeric_dtype(gen_train[c])]
    meta.update(train_rows=len(train), test_rows=len(test))
    print(f"gan_vs_ctgan: {len(train):,} train rows, epochs={args.epochs}, "
          f"threads={args.threads}, load before {meta['load_before']}", flush=True)

    warm_up(gen_train, discrete)
    ours, speed_ours = fit_ours(gen_train, args.epochs, args.seed)
    print(f"  ours: {speed_ours['s_epoch']:.2f} s/epoch", flush=True)
    theirs, speed_ctgan = fit_ctgan(gen_train, discrete, args.epochs, args.seed)
    print(f"  CTGAN: {speed_ctgan['s_epoch']:.2f} s/epoch", flush=True)

    tick = time.perf_counter()
    synth_ours = ours.sample(len(gen_train), random_state=args.seed + 1)
    speed_ours["sample_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    synth_ctgan = theirs.sample(len(gen_train))
    speed_ctgan["sample_s"] = time.perf_counter() - tick
    q_ours = quality(gen_train, gen_test, synth_ours, args.seed)
    q_ctgan = quality(gen_train, gen_test, synth_ctgan, args.seed)
    print("  quality done", flush=True)
    cond = conditioning(ours, theirs, gen_train, args.n_condition, args.seed + 2)

    fairness: list[dict[str, Any]] = []
    balance: dict[str, Any] = {}
    if not args.skip_fairness:
        context = StrategyContext(target=TARGET, sensitive=[SENSITIVE], group_column=GROUP_COLUMN,
                                  random_state=args.seed, device="cpu", epochs=args.epochs)
        load = load_avg()[0]
        out = get_strategy("gan", gan_epochs=args.epochs).apply(train, context)
        gan2 = out.artifacts["gan"]
        seconds = [h["seconds"] for h in gan2.history_]
        steady = seconds[1:] if len(seconds) > 1 else seconds
        speed_ours["strategy_s_epoch"] = float(np.median(steady))
        speed_ours["strategy_fit_s"] = out.fit_seconds
        speed_ours["strategy_load_1min"] = load
        balance["ours"] = out.diagnostics["cells"]
        tick = time.perf_counter()
        ctgan_frame, balance["ctgan"] = ctgan_cell_balance(train, theirs, args.seed)
        balance["ctgan_seconds"] = time.perf_counter() - tick
        features = list(data.schema.features)
        numeric, categorical = split_feature_kinds(data.frame, features)
        frames = {"none": train, "gan (fairlatent)": out.frame, "gan with CTGAN": ctgan_frame}
        fairness = evaluate(frames, test, numeric, categorical, args.seed)
        print("  fairness done", flush=True)

    meta["load_after"] = load_avg()
    meta["wall_s"] = time.perf_counter() - started
    print_tables(meta, speed_ours, speed_ctgan, q_ours, q_ctgan, cond, balance, fairness)
    if args.json:
        doc = {"meta": meta, "speed": {"ours": speed_ours, "ctgan": speed_ctgan},
               "quality": {"ours": q_ours, "ctgan": q_ctgan}, "conditioning": cond,
               "balance": balance, "fairness": fairness}
        args.json.write_text(json.dumps(doc, indent=1, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def print_tables(meta: dict[str, Any], so: dict[str, Any], sc: dict[str, Any],
                 qo: dict[str, Any], qc: dict[str, Any], cond: dict[str, Any],
                 balance: dict[str, Any], fairness: list[dict[str, Any]]) -> None:
    print(f"\n## gan_vs_ctgan ({meta['date']})")
    print(f"command: `{meta['command']}`; {meta['cpus']} CPUs, threads={meta['threads']}, "
          f"load (1/5/15 min) before {meta['load_before']}, after {meta['load_after']}; "
          f"{meta['train_rows']:,} train / {meta['test_rows']:,} test rows; epochs "
          f"{meta['epochs']}, batch {meta['batch_size']}, pac {meta['pac']}; "
          f"wall {meta['wall_s']:.0f} s")

    print("\n1. Training speed (median over epochs 2..E)")
    rows = [
        ["s/epoch (wall)", so["s_epoch"], sc["s_epoch"], sc["s_epoch"] / so["s_epoch"]],
        ["s/epoch (CPU)", so["cpu_s_epoch"], sc["cpu_s_epoch"],
         sc["cpu_s_epoch"] / so["cpu_s_epoch"]],
        ["rows/s (wall)", so["rows_s"], sc["rows_s"], so["rows_s"] / sc["rows_s"]],
        ["preprocessing s", so["preprocess_s"], sc["preprocess_s"],
         sc["preprocess_s"] / so["preprocess_s"]],
        ["whole fit s", so["fit_total_s"], sc["fit_total_s"],
         sc["fit_total_s"] / so["fit_total_s"]],
        ["sample 34k rows s", so["sample_s"], sc["sample_s"], sc["sample_s"] / so["sample_s"]],
        ["load (1 min) at fit start", so["load_1min"], sc["load_1min"], "-"],
    ]
    if "strategy_s_epoch" in so:
        rows.insert(1, ["s/epoch (wall), gan strategy's own GAN (3rd fit)",
                        so["strategy_s_epoch"], sc["s_epoch"],
                        sc["s_epoch"] / so["strategy_s_epoch"]])
    print(md_table(["", "fairlatent TabularGAN", "ctgan CTGAN", "CTGAN / fairlatent (x)"],
                   rows))

    print("\n2. Synthetic-data quality (synthetic_quality, equal-size unconditional samples)")
    keys = [("mean KS (lower better)", "mean_ks"), ("mean TVD (lower better)", "mean_tvd"),
            ("association matrix mean abs diff", "corr_mean_abs_diff"),
            ("numeric Pearson mean abs diff", "pearson_mean_abs_diff"),
            ("detection AUC (0.5 best)", "detection_auc"),
            ("TSTR accuracy (train synthetic, test real)", "tstr_accuracy"),
            ("TRTR accuracy (real)", "trtr_accuracy"),
            ("copy share", "copy_share"), ("DCR median ratio (synthetic / holdout)",
                                           "dcr_median_ratio")]
    print(md_table(["", "fairlatent TabularGAN", "ctgan CTGAN"],
                   [[label, qo[k], qc[k]] for label, k in keys]))

    print(f"\n3. Conditional generation, rare cell sex=Female & income=>50K ({cond['n']:,} rows "
          "asked each time)")
    real = cond["real"]
    rows = [
        ["real training rows", "-", real["female_share"], real["cell_share"], "-"],
        ["fairlatent, condition {sex: Female, income: >50K}", "cell",
         cond["ours_cell"]["female_share"], cond["ours_cell"]["cell_share"],
         cond["ours_cell"]["raw_acceptance"]],
        ["fairlatent, condition {sex: Female}", "sex=Female",
         cond["ours_female"]["female_share"], cond["ours_female"]["cell_share"],
         cond["ours_female"]["raw_acceptance"]],
        ["CTGAN, condition_column=sex, value=Female", "sex=Female",
         cond["ctgan_female"]["female_share"], cond["ctgan_female"]["cell_share"], "-"],
        ["CTGAN, condition_column=income, value=>50K", "income=>50K",
         cond["ctgan_rich"]["female_share"], cond["ctgan_rich"]["cell_share"], "-"],
    ]
    print(md_table(["request", "asked for", "share sex=Female", "share Female & >50K",
                    "fairlatent raw generator hit rate before rejection"], rows))
    print(f"real share of >50K among women: {real['rich_share_within_female']:.3f}")

    if fairness:
        print("\n4. Downstream fairness (parity cell balancing; sensitive column excluded from "
              "features; real test rows)")
        rows = [[r["strategy"], r["classifier"], r["train_rows"], r["accuracy"],
                 r["dp_difference"], r["eo_difference"]] for r in fairness]
        print(md_table(["training data", "classifier", "train rows", "accuracy", "DP difference",
                        "EO difference"], rows))
        rows = []
        for o in balance["ours"]:
            c = next(x for x in balance["ctgan"]
                     if x["group"] == str(o["group"]) and x["label"] == int(o["label"]))
            rows.append([o["group"], o["label"], o["rows"], o["target"], o["added"],
                         o["removed"], o.get("sample_tries", "-"), c["tries"], c["generated"],
                         c.get("acceptance", "-")])
        print(md_table(["group", "label", "real rows", "target", "added", "removed",
                        "fairlatent sample tries", "CTGAN tries", "CTGAN rows generated",
                        "CTGAN acceptance"], rows))
        print(f"CTGAN rejection sampling took {balance['ctgan_seconds']:.1f} s")


if __name__ == "__main__":
    main()
