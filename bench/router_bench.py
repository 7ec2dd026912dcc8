"""Accuracy and speed of ``skill.router.classify`` on a labelled TSV (text, intent, note).

    python bench/router_bench.py [--cases PATH ...] [--passes N] [--min-accuracy 0.98]

Prints overall accuracy, per-intent recall/precision, the confusion matrix (rows = expected,
columns = predicted), the misclassified rows and messages/second (median of several timed
passes).  Exit status is 0 unless ``--min-accuracy`` is given and missed.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skill.router import INTENTS, classify  # noqa: E402

DEFAULT_CASES = ROOT.parent / "shared" / "router-cases.tsv"


def load_cases(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = row.get("text")
            intent = (row.get("intent") or "").strip()
            if text is None or not intent:
                continue
            rows.append((text, intent, (row.get("note") or "").strip()))
    return rows


def evaluate(rows: list[tuple[str, str, str]]) -> dict:
    confusion = {e: {p: 0 for p in INTENTS} for e in INTENTS}
    misses = []
    for text, expected, note in rows:
        got = classify(text).intent
        confusion.setdefault(expected, {p: 0 for p in INTENTS})[got] += 1
        if got != expected:
            misses.append((text, expected, got, note))
    total = len(rows)
    correct = total - len(misses)
    recall, precision = {}, {}
    for i in INTENTS:
        row_sum = sum(confusion.get(i, {}).values())
        col_sum = sum(confusion[e].get(i, 0) for e in confusion)
        recall[i] = confusion.get(i, {}).get(i, 0) / row_sum if row_sum else float("nan")
        precision[i] = confusion.get(i, {}).get(i, 0) / col_sum if col_sum else float("nan")
    return {
        "total": total,
        "accuracy": correct / total if total else float("nan"),
        "recall": recall,
        "precision": precision,
        "confusion": confusion,
        "misses": misses,
    }


def throughput(texts: list[str], passes: int) -> float:
    for t in texts:  # warm-up
        classify(t)
    rates = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for t in texts:
            classify(t)
        dt = time.perf_counter() - t0
        rates.append(len(texts) / dt if dt > 0 else float("inf"))
    return statistics.median(rates)


def report(path: Path, passes: int) -> float:
    rows = load_cases(path)
    res = evaluate(rows)
    print(f"== {path}  ({res['total']} rows)")
    print(f"accuracy: {res['accuracy']:.4f}")
    print(f"{'intent':<8} {'recall':>7} {'precision':>9} {'n':>5}")
    for i in INTENTS:
        n = sum(res["confusion"].get(i, {}).values())
        print(f"{i:<8} {res['recall'][i]:>7.3f} {res['precision'][i]:>9.3f} {n:>5}")
    print("\nconfusion (rows = expected, cols = predicted)")
    print(" " * 9 + "".join(f"{p:>8}" for p in INTENTS))
    for e in INTENTS:
        print(f"{e:<9}" + "".join(f"{res['confusion'].get(e, {}).get(p, 0):>8}" for p in INTENTS))
    print(f"\nmisclassified: {len(res['misses'])}")
    for text, exp, got, note in res["misses"]:
        print(f"  [{exp} -> {got}] {text!r}  ({note})")
    texts = [r[0] for r in rows]
    rate = throughput(texts, passes)
    print(f"\nspeed: {rate:,.0f} messages/s (median of {passes} passes over {len(texts)} messages)\n")
    return res["accuracy"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", action="append", type=Path,
                    help=f"labelled TSV (repeatable; default {DEFAULT_CASES})")
    ap.add_argument("--passes", type=int, default=7, help="timed passes (median is reported)")
    ap.add_argument("--min-accuracy", type=float, default=None,
                    help="exit 1 if the accuracy of any case file is below this")
    args = ap.parse_args(argv)
    paths = args.cases or [DEFAULT_CASES]
    worst = 1.0
    for p in paths:
        if not p.is_file():
            print(f"cases file not found: {p}", file=sys.stderr)
            return 2 if args.min_accuracy is not None else 0
        worst = min(worst, report(p, max(1, args.passes)))
    if args.min_accuracy is not None and not worst >= args.min_accuracy:
        print(f"FAIL: accuracy {worst:.4f} < {args.min_accuracy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
