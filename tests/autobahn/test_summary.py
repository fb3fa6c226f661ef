"""The Autobahn summary on a small made-up report: counts, what fails a run, the docs
section. No network, no suite: the run itself is ``python -m tests.autobahn``."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from tests.autobahn import summary
from tests.autobahn.runner import SAMPLE_CASES, cases_for


def entry(behavior: str = "OK", close: str = "OK", code: Any = 1000, case: str = "") -> Dict[str, Any]:
    return {
        "behavior": behavior,
        "behaviorClose": close,
        "remoteCloseCode": code,
        "duration": 3,
        "reportfile": f"agent_case_{case.replace('.', '_')}.json",
    }


CASES = ["1.1.1", "1.1.2", "2.10", "6.9.1", "7.1.6", "7.13.1"]

DETAILS = {
    "agent_case_7_1_6.json": {"result": "Informational only.", "resultClose": "Connection was properly closed",
                              "description": "Send 256K message followed by close then a ping"},
    "agent_case_7_13_1.json": {"result": "Actual events match at least one expected.", "resultClose": "ok"},
    "agent_case_6_9_1.json": {"result": "Actual events differ from any expected.",
                              "resultClose": "The close code should have been 1007 or empty"},
    "agent_case_2_10.json": {"result": "Actual events differ | from any expected."},
}


def index(**overrides: Dict[str, Any]) -> Dict[str, Dict[str, Dict[str, Any]]]:
    cases = {c: entry(case=c) for c in CASES}
    cases["7.1.6"] = entry("INFORMATIONAL", case="7.1.6")
    cases["7.13.1"] = entry("INFORMATIONAL", "INFORMATIONAL", 5000, case="7.13.1")
    cases.update(overrides)
    return {"agent": cases, "other": {"1.1.1": entry("FAILED")}}


def test_all_ok_or_informational_passes() -> None:
    s = summary.summarise(index(), "sync", "agent", CASES, DETAILS.__getitem__)
    assert s.counts() == {"OK": 4, "INFORMATIONAL": 2}
    assert s.counts(close=True) == {"OK": 5, "INFORMATIONAL": 1}
    assert [c.id for c in s.with_behavior("INFORMATIONAL")] == ["7.1.6", "7.13.1"]
    assert s.not_ok == []  # informational ones are listed as such
    assert s.problems() == []
    assert s.cases["7.1.6"].result == "Informational only."
    assert s.cases["1.1.1"].result == ""  # plainly OK cases' own reports are never read
    text = summary.format_text([s], {"syncws": "0"}, "test")
    assert "RESULT: PASS" in text and "informational:   7.1.6, 7.13.1" in text


@pytest.mark.parametrize(
    "behavior, close",
    [("NON-STRICT", "OK"), ("FAILED", "OK"), ("UNIMPLEMENTED", "OK"), ("OK", "WRONG CODE"), ("OK", "UNCLEAN"),
     ("OK", "FAILED"), ("NO_CLOSE", "OK")],
)
def test_any_failed_or_non_strict_case_fails(behavior: str, close: str) -> None:
    s = summary.summarise(index(**{"6.9.1": entry(behavior, close, 1002, "6.9.1")}), "sync", "agent", CASES,
                          DETAILS.__getitem__)
    assert len(s.problems()) == 1 and "6.9.1" in s.problems()[0]
    text = summary.format_text([s], {}, "test")
    assert "RESULT: FAIL" in text
    assert "6.9.1: behaviour" in text and "Actual events differ from any expected." in text


def test_failed_by_client_is_listed_but_passes() -> None:
    s = summary.summarise(index(**{"1.1.2": entry("OK", "FAILED BY CLIENT", case="1.1.2")}), "async", "agent", CASES)
    assert [c.id for c in s.not_ok] == ["1.1.2"]
    assert s.problems() == []


def test_a_case_that_did_not_run_is_never_a_pass() -> None:
    data = index()
    del data["agent"]["2.10"]
    s = summary.summarise(data, "sync", "agent", CASES)
    assert s.missing == ["2.10"]
    assert any("never reported" in p for p in s.problems())
    nothing = summary.summarise({}, "sync", "agent", CASES)
    assert nothing.missing == CASES and nothing.problems()
    assert "RESULT: FAIL" in summary.format_text([nothing], {}, "test")


def test_unexpected_cases_fail() -> None:
    s = summary.summarise(index(**{"9.1.1": entry(case="9.1.1")}), "sync", "agent", CASES)
    assert s.unexpected == ["9.1.1"] and s.problems()


def test_unreadable_case_report_is_said() -> None:
    def broken(_: str) -> Dict[str, Any]:
        raise OSError("gone")

    s = summary.summarise(index(), "sync", "agent", CASES, broken)
    assert "unreadable" in s.cases["7.1.6"].result


def test_case_ids_sort_numerically() -> None:
    ids = ["6.10.1", "6.9.2", "12.1.1", "2.10", "2.9", "10.1.1"]
    assert sorted(ids, key=summary.case_key) == ["2.9", "2.10", "6.9.2", "6.10.1", "10.1.1", "12.1.1"]
    assert [summary.row_of(i) for i in ("2.10", "7.13.2", "12.1.18")] == ["2", "7.13", "12.1"]


def test_markdown_and_markers() -> None:
    sync = summary.summarise(index(), "sync", "agent", CASES, DETAILS.__getitem__)
    bad = summary.summarise(index(**{"2.10": entry("NON-STRICT", case="2.10")}), "async", "agent", CASES,
                            DETAILS.__getitem__)
    md = summary.render_markdown([sync, bad], {"syncws": "0.1.0"}, "2026-01-02", {"1": "Framing", "7": "Close"},
                                 {"1.1": "Text Messages", "7.13": "Informational close codes"})
    assert "Run on 2026-01-02" in md and "syncws 0.1.0" in md
    assert "| INFORMATIONAL | 2 (7.1.6, 7.13.1) | 2 (7.1.6, 7.13.1) |" in md
    assert "| NON-STRICT | 0 | 1 (2.10) |" in md
    assert "**Verdict: FAIL.**" in md
    assert "### 1 Framing" in md and "| 1.1.1\u20131.1.2 | Text Messages | 2 | 2 OK | 2 OK | 2 OK | 2 OK |" in md
    assert "differ \\| from" in md  # a '|' in the suite's words does not break the table
    doc = "# Title\n\nhand-written\n"
    once = summary.replace_generated(doc, md)
    assert once.startswith(doc.rstrip("\n")) and once.count(summary.BEGIN) == 1
    twice = summary.replace_generated(once + "\nmore hand-written\n", "new\n")
    assert "new" in twice and "Run on" not in twice and twice.endswith("more hand-written\n")
    assert twice.count(summary.BEGIN) == 1 and twice.count(summary.END) == 1
    with pytest.raises(ValueError):
        summary.replace_generated(summary.BEGIN + "\nno end", "x")


def test_sample_is_the_documented_one() -> None:
    assert SAMPLE_CASES == ("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.1.*", "10.*", "12.1.*", "13.1.*",
                            "13.7.*")
    cases = ["1.1.1", "9.1.6", "10.1.1", "12.1.1", "13.1.18", "13.7.1"]
    assert cases_for("sync", cases, sample=True) == cases
    assert cases_for("async", cases, sample=True) == ["1.1.1", "9.1.6", "10.1.1"]
    assert cases_for("async", cases, sample=False) == cases  # the full run and --cases: every API runs all
