"""Fit the three constants of the knowledge base's confidence (kb/ranking.py) on public
intent data sets, and show how they do on a data set left out of the fit.

    .venv/bin/python bench/kb_fit_confidence.py --data DIR [--names a,b,c,d]

DIR holds `<name>_train.csv` and `<name>_test.csv` (columns `sentence,label`, out-of-scope
questions labelled NO_NODES_DETECTED), as for bench/kb_intents.py. The constants in
ranking.py were fitted on HINT3 v2 sofmattress, curekart, powerplay11 and HWU64 (the
NLU-Evaluation-Data KFold_1 train/test files, written as `hwu64_{train,test}.csv`).

For each data set, 1, 3, 5 and 10 phrasings per intent and seeds 0 and 1 (a fifth of the
intents left out, as bench/kb_intents.py does), every test question is ranked with
ranking.build/rank itself; a logistic regression of "the best article is right" on
(score, lead over the runner-up) gives the constants. Then the same fit leaving each data
set out, and its answered / right-when-answered / out-of-scope-answered at 0.5-0.7 on the
set left out (10 phrasings, seed 0). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from kb_intents import OUT_OF_SCOPE, read  # noqa: E402

from opencx_bridge.kb import ranking  # noqa: E402


def runs(train, test, phrasings: int, seed: int):
    """(score, lead, right, out of scope) per test question of one simulated FAQ."""
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    for sentence, label in train:
        by_label[label].append(sentence)
    labels = sorted(label for label in by_label if label != OUT_OF_SCOPE)
    rng.shuffle(labels)
    kept = set(labels[len(labels) // 5:])
    entries, ids = [], {}
    for number, label in enumerate(sorted(kept)):
        chosen = list(by_label[label])
        rng.shuffle(chosen)
        entries.append(ranking.Entry(number, tuple(chosen[:phrasings])))
        ids[label] = number
    index = ranking.build(entries)
    rows = []
    for sentence, label in test:
        found = ranking.rank(index, sentence, 2)
        s1 = found[0].score if found else 0.0
        s2 = found[1].score if len(found) > 1 else 0.0
        right = bool(found) and ids.get(label) == found[0].id
        rows.append((s1, s1 - s2, right, label not in kept))
    return np.array(rows, dtype=float)


def fit(tables):
    data = np.vstack(tables)
    model = LogisticRegression().fit(data[:, :2], data[:, 2].astype(bool))
    return model.intercept_[0], model.coef_[0][0], model.coef_[0][1]


def judged(table, constants, threshold: float) -> str:
    intercept, score, lead = constants
    confidence = 1 / (1 + np.exp(-(intercept + score * table[:, 0] + lead * table[:, 1])))
    answered = confidence >= threshold
    right, outside = table[:, 2].astype(bool), table[:, 3].astype(bool)
    inside = ~outside
    rwa = right[answered].mean() if answered.any() else 0.0
    return (f"at {threshold:.1f}: answered {answered[inside].mean():.0%}, right when answered "
            f"{rwa:.0%}, out of scope answered {answered[outside].mean():.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--names", default="sofmattress,curekart,powerplay11,hwu64")
    options = parser.parse_args()
    tables: dict[str, list] = {}
    for name in options.names.split(","):
        train = read(options.data / f"{name}_train.csv")
        test = read(options.data / f"{name}_test.csv")
        tables[name] = [(k, seed, runs(train, test, k, seed))
                        for k in (1, 3, 5, 10) for seed in (0, 1)]
        print(f"{name}: ranked", flush=True)
    every = fit([t for name in tables for _, _, t in tables[name]])
    print("all data sets: INTERCEPT, SCORE_WEIGHT, LEAD_WEIGHT = "
          f"{every[0]:.3f}, {every[1]:.3f}, {every[2]:.3f}")
    for held in tables:
        others = fit([t for name in tables if name != held for _, _, t in tables[name]])
        ten = next(t for k, seed, t in tables[held] if k == 10 and seed == 0)
        print(f"without {held}: {others[0]:.2f}, {others[1]:.2f}, {others[2]:.2f}; on {held} "
              f"with 10 phrasings " + "; ".join(judged(ten, others, t) for t in (0.5, 0.6, 0.7)))


if __name__ == "__main__":
    main()
