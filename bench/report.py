"""``python -m bench.report [bench/results.json]``: the table of a results file as Markdown (for
docs/performance.md), with the EXPLAIN summary of the scale benchmark."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.common import Result, markdown_table
from bench.run import RESULTS


def results_of(document: dict[str, Any]) -> list[Result]:
    return [Result(name, figure["product"], figure["floor"], figure["unit"], figure["ratio"], figure["target"],
                   figure["pass"]) for name, figure in document["benchmarks"].items()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    document = json.loads(Path(args[0] if args else RESULTS).read_text(encoding="utf-8"))
    print(f"Commit {document['commit']}, {document['mode']} run of {document.get('duration_seconds')} s on "
          f"{document['machine']['cpu']} ({document['machine']['cores']} cores).\n")
    print(markdown_table(results_of(document)))
    plans = document.get("details", {}).get("4-scale", {}).get("explain_1m", {})
    if plans:
        print("\n| query (1M) | holds | indexes | totals read | sequential scans of large tables | "
              "filter in Index Cond |")
        print("|---|---|---|---|---|---|")
        for name, plan in plans.items():
            print(f"| {name} | {plan['uses_index']} | {', '.join(plan['indexes']) or '-'} | "
                  f"{', '.join(plan.get('totals', [])) or '-'} | {', '.join(plan['sequential_scans']) or '-'} | "
                  f"{plan.get('filter_in_index_cond', '-')} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
