"""A short run of the soak script (tests/load/soak.py) on SQLite, so that it cannot rot. It checks that the run
finds nothing wrong (no 5xx, every acknowledged write stored once, the store verifies, a clean exit) and the shape of
the results file; no duration or rate is asserted. The real soak (5 minutes on PostgreSQL, ``make soak``) is not part
of ``make test``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.load import soak


def test_a_short_soak_run_writes_its_results_and_finds_nothing_wrong(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    code = soak.main(["--duration", "6", "--database", "sqlite", "--workers", "1", "--concurrency", "4",
                      "--seed", "30", "--import-lines", "5", "--sample-interval", "1", "--out", str(out),
                      "--workdir", str(tmp_path / "work")])
    results = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, [check for check in results["checks"] if not check["ok"]]
    assert {"config", "machine", "minutes", "kinds", "statuses", "rss", "store", "checks", "outage"} <= set(results)
    names = {check["name"] for check in results["checks"]}
    assert {"no 5xx outside the outage", "every acknowledged write present", "no duplicated version",
            "the whole store verifies", "passport serve exits 0 on SIGTERM"} <= names
    store = results["store"]
    assert store["ok"] and store["missingCount"] == 0 and store["verifiedPassports"] >= 30
    assert results["acknowledged"]["passports"] == store["passports"] >= 30
    kinds = results["kinds"]
    assert set(kinds) == set(soak.MIX)
    assert all(kinds[kind]["count"] > 0 for kind in ("resolve-json", "resolve-html", "api-read")), kinds
    assert not [status for status in results["statuses"] if not status.startswith(("2", "4"))], results["statuses"]
    [minute] = results["minutes"]
    assert minute["requests"] == results["requests"] > 0
    assert results["rss"] and all(sample["totalKiB"] > 0 for sample in results["rss"])
    assert results["outage"] == {"happened": False}
