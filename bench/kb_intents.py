"""Answer quality of the embedded knowledge base on a public intent data set, through the
same commands a team runs: `flask kb import` and `flask kb eval`.

    .venv/bin/python bench/kb_intents.py --data DIR [--names a,b] [--phrasings 1,10]
        [--threshold T] [--keep OUT]

DIR holds `<name>_train.csv` and `<name>_test.csv` with the columns `sentence,label`, as the
HINT3 data sets do (github.com/hellohaptik/HINT3, dataset/v2: sofmattress, curekart,
powerplay11; licence ODbL 1.0 / DbCL 1.0), with their out-of-scope questions labelled
NO_NODES_DETECTED. For each data set and each number of phrasings K it builds a simulated
FAQ: one article per intent, answered "Answer for <intent>.", asked in K phrasings taken
from the training sentences; a fifth of the intents (chosen with --seed) are left out, so
their test questions, like the out-of-scope ones, should be handed off. Each FAQ is imported
into a fresh instance and the test sentences are run through `kb eval`; the script prints
`kb eval`'s last line per data set and K. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_OF_SCOPE = "NO_NODES_DETECTED"


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(row["sentence"], row["label"]) for row in csv.DictReader(handle)]


def answer_of(label: str) -> str:
    return f"Answer for {label}."


def write_files(train, test, phrasings: int, seed: int, leave_out: float, folder: Path):
    """faq.csv and questions.csv for one simulated FAQ."""
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    for sentence, label in train:
        by_label[label].append(sentence)
    labels = sorted(label for label in by_label if label != OUT_OF_SCOPE)
    rng.shuffle(labels)
    kept = set(labels[int(len(labels) * leave_out):])
    with (folder / "faq.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["question", "answer", "phrasings"])
        for label in sorted(kept):
            chosen = list(by_label[label])
            rng.shuffle(chosen)
            chosen = chosen[:phrasings]
            out.writerow([chosen[0], answer_of(label), "|".join(chosen[1:])])
    with (folder / "questions.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["question", "expected"])
        for sentence, label in test:
            out.writerow([sentence, answer_of(label) if label in kept else ""])


def flask(instance: Path, *args: str) -> str:
    env = {**os.environ, "OPENCX_INSTANCE_PATH": str(instance), "OPENCX_WORKER": "0"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--names", default="sofmattress,curekart,powerplay11")
    parser.add_argument("--phrasings", default="1,10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--leave-out", type=float, default=0.2)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--keep", type=Path, help="keep each FAQ, questions and JSON here")
    options = parser.parse_args()
    for name in options.names.split(","):
        train = read(options.data / f"{name}_train.csv")
        test = read(options.data / f"{name}_test.csv")
        for phrasings in (int(k) for k in options.phrasings.split(",")):
            with tempfile.TemporaryDirectory() as scratch:
                folder = Path(scratch)
                if options.keep:
                    folder = options.keep / f"{name}-{phrasings}"
                    folder.mkdir(parents=True, exist_ok=True)
                write_files(train, test, phrasings, options.seed, options.leave_out, folder)
                instance = Path(scratch) / "instance"
                flask(instance, "db", "upgrade")
                flask(instance, "kb", "import", str(folder / "faq.csv"))
                args = ["kb", "eval", str(folder / "questions.csv"),
                        "--json", str(folder / "results.json")]
                if options.threshold is not None:
                    args += ["--threshold", str(options.threshold)]
                lines = flask(instance, *args).splitlines()
                print(f"{name}, {phrasings} phrasing(s): {lines[-1]}", flush=True)


if __name__ == "__main__":
    main()
