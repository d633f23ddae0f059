"""A smoke run of the benchmark code (bench/, DESIGN §9) with tiny sizes on SQLite, so that it cannot rot.

It checks the shape of the results file only: no test asserts a duration or a ratio. The benchmarks themselves
(``make bench``, ``make bench-quick``) are not part of ``make test``."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import main

FIELDS = {"product", "floor", "unit", "ratio", "target", "pass"}


def test_a_tiny_bench_run_writes_every_figure_in_the_documented_shape(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    code = main(["--tiny", "--no-postgres", "--load", "python", "--out", str(out), "--workdir", str(tmp_path / "w")])
    results = json.loads(out.read_text(encoding="utf-8"))

    assert code == 0, results["failures"]
    assert {"machine", "versions", "commit", "benchmarks"} <= set(results)
    assert results["machine"]["cores"] >= 1
    assert results["versions"]["sqlalchemy"]
    assert isinstance(results["commit"], str) and results["commit"]
    expected = {"1-issue-sqlite", "2-import-sqlite", "2-import-rss-sqlite", "3-resolve-json-sqlite",
                "3-resolve-html-sqlite", "3-resolve-json-sqlite-p50", "3-resolve-html-sqlite-p99", "5-verify"}
    assert expected <= set(results["benchmarks"])
    for name, figure in results["benchmarks"].items():
        assert set(figure) == FIELDS, name
        assert isinstance(figure["unit"], str) and figure["unit"], name
        for key in ("product", "floor", "ratio"):
            assert isinstance(figure[key], int | float) and figure[key] > 0, (name, key)
        assert figure["target"] is None or isinstance(figure["target"], int | float), name
        assert figure["pass"] in (True, False, None), name
        if figure["target"] is not None:
            assert isinstance(figure["pass"], bool), name
    # the run itself did what it measured: every line imported, every credential verified
    details = results["details"]
    assert details["2-import-sqlite"]["large"]["succeeded"] == details["2-import-sqlite"]["large"]["lines"]
    assert details["5-verify"]["credentials"] == 4 * details["5-verify"]["passports"]
    assert details["3-resolve-sqlite"]["json"]["errors"] == 0
