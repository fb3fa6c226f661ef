"""Reading the fuzzing server's report (index.json and the per-case JSON files) and
summarising it: counts, the cases that are not OK, the verdict, and the Markdown
for docs/conformance.md. Pure functions, no network: tests/autobahn/test_summary.py
runs them on a small made-up report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

# The suite's own words (autobahntestsuite/case/case.py), in the order they are listed.
BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
CLOSE_BEHAVIORS = ("OK", "INFORMATIONAL", "FAILED BY CLIENT", "WRONG CODE", "UNCLEAN", "FAILED")

# A case passes with behaviour OK or INFORMATIONAL. Any other behaviour fails the run
# (NON-STRICT and UNIMPLEMENTED included), and so does a closing behaviour that the
# suite's own report colours as failed or non-strict.
PASSING = ("OK", "INFORMATIONAL")
FAILING_CLOSE = ("WRONG CODE", "UNCLEAN", "FAILED")

BEGIN = "<!-- BEGIN autobahn-report: written by `python -m tests.autobahn`; do not edit by hand -->"
END = "<!-- END autobahn-report -->"

DASH = "\u2013"  # en dash, for ranges and empty cells

API_NAMES = {"sync": "syncws.connect", "async": "syncws.ws_connect"}


def case_key(case_id: str) -> Tuple[int, ...]:
    """``"6.10.2"`` -> ``(6, 10, 2)``, so 6.10 sorts after 6.9."""
    return tuple(int(part) for part in case_id.split("."))


def row_of(case_id: str) -> str:
    """The report's row a case belongs to: its subgroup (``7.1`` for 7.1.6), or its group
    when the group has no subgroups (``2`` for 2.10)."""
    parts = case_id.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def span(ids: Sequence[str]) -> str:
    ids = sorted(ids, key=case_key)
    return ids[0] if len(ids) == 1 else f"{ids[0]}{DASH}{ids[-1]}"


@dataclasses.dataclass
class Case:
    id: str
    behavior: str
    behavior_close: str
    close_code: Optional[int]
    duration_ms: Optional[int]
    result: str = ""  # the case report's words, read only for cases that are not plainly OK
    result_close: str = ""
    description: str = ""
    expectation: str = ""

    @property
    def passed(self) -> bool:
        return self.behavior in PASSING and self.behavior_close not in FAILING_CLOSE

    @property
    def plainly_ok(self) -> bool:
        return self.behavior == "OK" and self.behavior_close == "OK"


@dataclasses.dataclass
class AgentSummary:
    api: str  # "sync" or "async"
    agent: str
    expected: List[str]  # case ids the server was told to run, in order
    cases: Dict[str, Case]
    seconds: Optional[float] = None
    client_errors: List[str] = dataclasses.field(default_factory=list)

    @property
    def missing(self) -> List[str]:
        return [c for c in self.expected if c not in self.cases]

    @property
    def unexpected(self) -> List[str]:
        expected = set(self.expected)
        return sorted((c for c in self.cases if c not in expected), key=case_key)

    def counts(self, close: bool = False, ids: Optional[Sequence[str]] = None) -> Dict[str, int]:
        """Behaviour (or closing behaviour) -> number of cases; the suite's order, then any others."""
        names = CLOSE_BEHAVIORS if close else BEHAVIORS
        out: Dict[str, int] = {}
        for cid in self.cases if ids is None else ids:
            case = self.cases.get(cid)
            if case is None:
                continue
            value = case.behavior_close if close else case.behavior
            out[value] = out.get(value, 0) + 1
        return {k: out[k] for k in sorted(out, key=lambda k: (names.index(k) if k in names else len(names), k))}

    def with_behavior(self, behavior: str) -> List[Case]:
        return [self.cases[c] for c in sorted(self.cases, key=case_key) if self.cases[c].behavior == behavior]

    @property
    def not_ok(self) -> List[Case]:
        """Every case whose behaviour or closing behaviour is neither OK nor INFORMATIONAL."""
        return [
            case for cid, case in sorted(self.cases.items(), key=lambda kv: case_key(kv[0]))
            if case.behavior not in PASSING or case.behavior_close not in PASSING
        ]

    def problems(self) -> List[str]:
        """Why this agent's run fails; empty when it passes."""
        out = []
        if not self.cases:
            out.append(f"{self.agent}: the report has no case for this agent")
        if self.missing:
            out.append(f"{self.agent}: {len(self.missing)} case(s) never reported: {', '.join(self.missing[:20])}")
        if self.unexpected:
            out.append(f"{self.agent}: case(s) reported that were not asked for: {', '.join(self.unexpected[:20])}")
        for case in self.cases.values():
            if not case.passed:
                out.append(f"{self.agent}: case {case.id} is {case.behavior} (close: {case.behavior_close})")
        return sorted(out, key=lambda s: s)


def read_index(path: Path) -> Dict[str, Dict[str, Dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def summarise(
    index: Mapping[str, Mapping[str, Mapping[str, Any]]],
    api: str,
    agent: str,
    expected: Sequence[str],
    details: Optional[Callable[[str], Mapping[str, Any]]] = None,
) -> AgentSummary:
    """One agent's summary from index.json. ``details(reportfile)`` loads a case's own
    JSON report; it is asked only for cases that are not plainly OK."""
    cases: Dict[str, Case] = {}
    for cid, entry in index.get(agent, {}).items():
        case = Case(
            id=cid,
            behavior=str(entry.get("behavior")),
            behavior_close=str(entry.get("behaviorClose")),
            close_code=entry.get("remoteCloseCode"),
            duration_ms=entry.get("duration"),
        )
        if not case.plainly_ok and details is not None and entry.get("reportfile"):
            try:
                more = details(str(entry["reportfile"]))
            except (OSError, ValueError) as exc:
                case.result = f"(case report unreadable: {exc})"
            else:
                case.result = str(more.get("result", ""))
                case.result_close = str(more.get("resultClose", ""))
                case.description = str(more.get("description", ""))
                case.expectation = str(more.get("expectation", ""))
        cases[cid] = case
    return AgentSummary(api=api, agent=agent, expected=list(expected), cases=cases)


def format_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_text(summaries: Sequence[AgentSummary], versions: Mapping[str, str], what: str) -> str:
    """The summary printed at the end of a run."""
    lines = [f"Autobahn|Testsuite {what}", "versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())]
    for s in summaries:
        took = f" in {s.seconds:.0f} s" if s.seconds is not None else ""
        lines.append("")
        lines.append(
            f"{API_NAMES.get(s.api, s.api)} (agent {s.agent}): {len(s.cases)} of {len(s.expected)} cases reported{took}"
        )
        lines.append(f"  behaviour:       {format_counts(s.counts())}")
        lines.append(f"  close behaviour: {format_counts(s.counts(close=True))}")
        info = s.with_behavior("INFORMATIONAL")
        lines.append("  informational:   " + (", ".join(c.id for c in info) or "none"))
        bad = s.not_ok
        lines.append(f"  not OK:          {len(bad) or 'none'}")
        for case in bad:
            lines.append(
                f"    {case.id}: behaviour {case.behavior}, close {case.behavior_close} (code {case.close_code})"
            )
            if case.description:
                lines.append(f"      case:     {one_line(case.description)}")
            if case.expectation:
                lines.append(f"      expected: {one_line(case.expectation)}")
            lines.append(f"      result:   {one_line(case.result)}")
            lines.append(f"      close:    {one_line(case.result_close)}")
        if s.missing:
            lines.append(f"  NOT REPORTED:    {len(s.missing)}: {', '.join(s.missing)}")
        if s.client_errors:
            lines.append(f"  client-side errors ({len(s.client_errors)}; the server's verdict above still counts):")
            lines.extend(f"    {e}" for e in s.client_errors[:50])
    problems = [p for s in summaries for p in s.problems()]
    lines.append("")
    if problems:
        lines.append(f"RESULT: FAIL ({len(problems)} problem(s))")
        lines.extend(f"  {p}" for p in problems)
    else:
        total = sum(len(s.cases) for s in summaries)
        lines.append(f"RESULT: PASS ({total} case runs, every one OK or INFORMATIONAL)")
    return "\n".join(lines) + "\n"


def _cell(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or DASH


def render_markdown(
    summaries: Sequence[AgentSummary],
    versions: Mapping[str, str],
    date: str,
    categories: Mapping[str, str],
    subcategories: Mapping[str, str],
) -> str:
    """The generated part of docs/conformance.md (without the BEGIN/END markers)."""
    heads = [f"`{API_NAMES.get(s.api, s.api)}`" for s in summaries]
    out: List[str] = []
    out.append(
        f"Run on {date} with `python -m tests.autobahn`: the whole client catalogue, "
        "each case once through every API. Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "."
    )
    out.append("")
    out.append("| | " + " | ".join(heads) + " |")
    out.append("| --- |" + " --- |" * len(summaries))
    out.append("| Cases reported | " + " | ".join(f"{len(s.cases)} of {len(s.expected)}" for s in summaries) + " |")
    behaviors = list(BEHAVIORS) + sorted({b for s in summaries for b in s.counts()} - set(BEHAVIORS))
    for b in behaviors:
        cells = []
        for s in summaries:
            n = s.counts().get(b, 0)
            ids = [c.id for c in s.with_behavior(b)] if b != "OK" and n else []
            cells.append(f"{n} ({', '.join(ids)})" if ids and len(ids) <= 10 else str(n))
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    closes = list(CLOSE_BEHAVIORS) + sorted({b for s in summaries for b in s.counts(close=True)} - set(CLOSE_BEHAVIORS))
    for b in closes:
        out.append(f"| Close: {b} | " + " | ".join(str(s.counts(close=True).get(b, 0)) for s in summaries) + " |")
    if any(s.seconds is not None for s in summaries):
        times = [f"{s.seconds:.0f} s" if s.seconds is not None else DASH for s in summaries]
        out.append("| Run time | " + " | ".join(times) + " |")
    problems = [p for s in summaries for p in s.problems()]
    out.append("")
    if problems:
        out.append("**Verdict: FAIL.** " + "; ".join(problems) + ".")
    else:
        out.append(
            "**Verdict: PASS.** No case is NON-STRICT, UNIMPLEMENTED or FAILED, none closed WRONG CODE, "
            "UNCLEAN or FAILED, and none is missing."
        )

    # The informational and not-OK cases, in the suite's words.
    listed: Dict[str, Dict[str, Case]] = {}
    for s in summaries:
        for case in s.cases.values():
            if not case.plainly_ok:
                listed.setdefault(case.id, {})[s.api] = case
    if listed:
        out.append("")
        out.append("### Cases that are not plainly OK")
        out.append("")
        out.append("| Case | API | Behaviour | Close | Close code | The case | The suite's result |")
        out.append("| --- | --- | --- | --- | --- | --- | --- |")
        for cid in sorted(listed, key=case_key):
            for api, case in listed[cid].items():
                what, said = (one_line(x or DASH, 300).replace("|", "\\|") for x in (case.description, case.result))
                out.append(
                    f"| {cid} | `{API_NAMES.get(api, api)}` | {case.behavior} | {case.behavior_close} | "
                    f"{case.close_code if case.close_code is not None else DASH} | {what} | {said} |"
                )

    # One table per group.
    all_ids = sorted({c for s in summaries for c in (*s.expected, *s.cases)}, key=case_key)
    groups: Dict[str, List[str]] = {}
    for cid in all_ids:
        groups.setdefault(cid.split(".")[0], []).append(cid)
    for group in sorted(groups, key=int):
        out.append("")
        out.append(f"### {group} {categories.get(group, '')}".rstrip())
        out.append("")
        cols = "".join(f" {h} | close |" for h in heads)
        out.append("| Cases | What | Count |" + cols)
        out.append("| --- | --- | --- |" + " --- | --- |" * len(summaries))
        rows: Dict[str, List[str]] = {}
        for cid in groups[group]:
            rows.setdefault(row_of(cid), []).append(cid)
        for row in sorted(rows, key=case_key):
            ids = rows[row]
            cells = "".join(
                f" {_cell(s.counts(ids=ids))} | {_cell(s.counts(close=True, ids=ids))} |" for s in summaries
            )
            what = subcategories.get(row, categories.get(row, "")) if row != group else categories.get(group, "")
            out.append(f"| {span(ids)} | {what} | {len(ids)} |" + cells)
    return "\n".join(out) + "\n"


def replace_generated(doc: str, generated: str, heading: str = "## Autobahn|Testsuite report") -> str:
    """``doc`` with the text between BEGIN and END replaced; without the markers, a new
    section with them is added at the end."""
    block = f"{BEGIN}\n\n{generated.rstrip()}\n\n{END}"
    start = doc.find(BEGIN)
    if start == -1:
        return doc.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
    stop = doc.find(END, start)
    if stop == -1:
        raise ValueError(f"docs: {BEGIN!r} has no matching {END!r}")
    return doc[:start] + block + doc[stop + len(END):]
