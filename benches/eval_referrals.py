#!/usr/bin/env python3
"""Ranking quality of referral lists against a snapshot's known outcomes.

    python3 eval_referrals.py SNAPSHOT LIST.csv [LIST.csv ...]

Applies the label rule of docs/input-contract.md to SNAPSHOT/outcomes.csv (1 for
graduated_late, dropped_out, and still_enrolled past the cohort year; 0 for
graduated_on_time; others excluded) and prints, per list, AUC-ROC and precision at the
top 10% over the labelled students. When SNAPSHOT/_truth.csv exists (generator's true
probabilities), the same metrics for it are printed as the Bayes reference.
"""
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def labels(snapshot: str) -> pd.Series:
    outcomes = pd.read_csv(f"{snapshot}/outcomes.csv", dtype=str, keep_default_na=False)
    students = pd.read_csv(f"{snapshot}/students.csv", dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    frame = outcomes.merge(students[["student_id", "cohort_year"]], on="student_id", how="left")
    date = pd.to_datetime(frame["outcome_date"], errors="coerce")
    cohort = pd.to_numeric(frame["cohort_year"], errors="coerce")
    cohort_end = pd.to_datetime(cohort.astype("Int64").astype(str) + "-06-30", errors="coerce")
    label = pd.Series(np.nan, index=frame.index)
    label[frame["outcome"] == "graduated_on_time"] = 0
    label[frame["outcome"].isin(["graduated_late", "dropped_out"])] = 1
    past = frame["outcome"].eq("still_enrolled") & (cohort_end <= date)
    label[past] = 1
    return pd.Series(label.values, index=frame["student_id"]).dropna()


def report(name: str, ids: pd.Series, scores: pd.Series, y: pd.Series) -> None:
    frame = pd.DataFrame({"student_id": ids.values, "score": scores.values})
    frame = frame[frame["student_id"].isin(y.index)]
    frame["y"] = y.loc[frame["student_id"]].values
    frame = frame.sort_values(["score", "student_id"], ascending=[False, True])
    k = int(np.ceil(0.10 * len(frame)))
    auc = roc_auc_score(frame["y"], frame["score"])
    precision = frame["y"].iloc[:k].mean()
    print(f"{name:<40} labelled {len(frame):>7}  AUC-ROC {auc:.4f}  precision@10% {precision:.4f}")


def main() -> None:
    snapshot, lists = sys.argv[1], sys.argv[2:]
    y = labels(snapshot)
    for path in lists:
        # ews starts referrals.csv with a byte-order mark (output.csv_bom) for Excel.
        frame = pd.read_csv(path, dtype={"student_id": str, "risk_score": float},
                            encoding="utf-8-sig")
        report(path, frame["student_id"], frame["risk_score"], y)
    try:
        truth = pd.read_csv(f"{snapshot}/_truth.csv", dtype={"student_id": str})
        report("p_true (generator's truth)", truth["student_id"], truth["p_true"], y)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    main()
