"""The result rows and the wrk parser: pure functions, no server, no timing."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from bench.results import ROW_KEYS, failures, format_table, make_row, write_rows
from bench.run import (
    CreditSetup,
    Measured,
    Scenario,
    blocks,
    build_rows,
    parse_wrk,
    post_script,
    scenarios,
)

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40123/api/v1/residents/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.71ms    3.02ms  41.20ms   80.00%
    Req/Sec   206.12     20.51   250.00     70.00%
  Latency Distribution
     50%    9.10ms
     75%   10.80ms
     90%   13.01ms
     99%    1.02s
  1031 requests in 5.00s, 9.81MB read
  Socket errors: connect 0, read 3, write 0, timeout 0
Requests/sec:    206.05
Transfer/sec:      1.96MB
"""


def test_row_against_a_reference_passes_at_the_target() -> None:
    row = make_row(
        "resident_list.rps", 60.0, "req/s", reference="R20.rps", reference_value=100.0, target=0.5
    )
    assert row == {
        "name": "resident_list.rps",
        "value": 60.0,
        "unit": "req/s",
        "reference": "R20.rps",
        "ratio": 0.6,
        "target": 0.5,
        "pass": True,
        "target_kind": "at_least",
    }
    assert tuple(row) == ROW_KEYS


def test_row_below_target_fails_and_informative_rows_pass() -> None:
    missed = make_row("d.rps", 40, "req/s", reference="R1.rps", reference_value=100, target=0.5)
    assert missed["pass"] is False
    info = make_row("R1.rps", 40, "req/s", reference="R0.rps", reference_value=100)
    assert info["pass"] is True and info["target"] is None and info["ratio"] == 0.4
    assert failures([missed, info]) == [missed]


def test_exact_row_needs_equal_query_counts() -> None:
    same = make_row(
        "q50", 6, "queries/request", reference="q1", reference_value=6, target=1.0, exact=True
    )
    more = make_row(
        "q50", 7, "queries/request", reference="q1", reference_value=6, target=1.0, exact=True
    )
    assert same["pass"] is True
    assert more["pass"] is False


def test_write_rows_writes_a_json_list_with_the_schema(tmp_path: Path) -> None:
    rows = [
        make_row("R0.rps", 800.0, "req/s"),
        make_row("R1.rps", 500.0, "req/s", reference="R0.rps", reference_value=800.0),
    ]
    path = tmp_path / "results" / "latest.json"
    write_rows(rows, path)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    assert [tuple(row) for row in loaded] == [ROW_KEYS, ROW_KEYS]
    assert loaded[1]["ratio"] == 0.625
    assert all(isinstance(row["pass"], bool) for row in loaded)


def test_write_rows_refuses_a_row_with_other_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keys"):
        write_rows([{"name": "x", "value": 1}], tmp_path / "latest.json")


def test_build_rows_judges_endpoints_against_their_references() -> None:
    plan = [
        Scenario("R20", "/bench/r20/"),
        Scenario("resident_list", "/api/v1/residents/", reference="R20", target=0.5),
    ]
    measured = {
        "R20": Measured(rps=[100, 120, 110], p50=[2, 3, 2], p99=[5, 6, 7]),
        "resident_list": Measured(rps=[40, 50, 45], p50=[4, 5, 4], p99=[9, 9, 9]),
    }
    queries = {"R20": 4, "resident_list": 6, "resident_list_1": 6, "resident_list_50": 7}
    rows, lines = build_rows(plan, measured, queries, explain_ms=0.2)
    by_name = {row["name"]: row for row in rows}
    # the median of per-round ratios (40/100, 50/120, 45/110), not a ratio of medians
    assert by_name["resident_list.rps"]["ratio"] == round(
        statistics.median([0.4, 50 / 120, 45 / 110]), 3
    )
    assert by_name["resident_list.rps"]["pass"] is False
    assert by_name["resident_list.queries.page_size_50"]["pass"] is False
    assert by_name["R20.rps"]["pass"] is True
    assert {tuple(row) for row in rows} == {ROW_KEYS}
    assert [line["name"] for line in lines] == ["R20", "resident_list"]


def test_parse_wrk_reads_throughput_and_latency_in_ms() -> None:
    got = parse_wrk(WRK_OUTPUT)
    assert got["rps"] == 206.05
    assert got["p50"] == pytest.approx(9.10)
    assert got["p99"] == pytest.approx(1020.0)
    assert got["socket_errors"] == 3
    assert got["non_2xx"] == 0


def test_the_first_seven_keys_are_those_of_earlier_runs() -> None:
    assert ROW_KEYS[:7] == ("name", "value", "unit", "reference", "ratio", "target", "pass")
    info = make_row("R0.rps", 800.0, "req/s")
    assert info["target_kind"] is None


def test_at_most_row_passes_under_its_target_and_fails_above() -> None:
    under = make_row(
        "credit_reconcile.ms",
        400.0,
        "ms",
        reference="sum.ms",
        reference_value=100.0,
        target=5.0,
        at_most=True,
    )
    over = make_row(
        "credit_reconcile.ms",
        600.0,
        "ms",
        reference="sum.ms",
        reference_value=100.0,
        target=5.0,
        at_most=True,
    )
    at = make_row(
        "credit_reconcile.ms",
        500.0,
        "ms",
        reference="sum.ms",
        reference_value=100.0,
        target=5.0,
        at_most=True,
    )
    assert (under["ratio"], under["pass"], under["target_kind"]) == (4.0, True, "at_most")
    assert (over["ratio"], over["pass"]) == (6.0, False)
    assert at["pass"] is True
    assert tuple(under) == ROW_KEYS


def test_exact_rows_say_so_and_cannot_also_be_at_most() -> None:
    row = make_row(
        "q", 6, "queries/request", reference="q1", reference_value=6, target=1.0, exact=True
    )
    assert row["target_kind"] == "equal"
    with pytest.raises(ValueError, match="not both"):
        make_row("q", 6, "q", reference_value=6, target=1.0, exact=True, at_most=True)


def test_build_rows_judges_the_reconciliation_against_a_plain_sum() -> None:
    plan = [Scenario("R0", "/bench/r0/")]
    measured = {"R0": Measured(rps=[800, 810, 790], p50=[2, 2, 2], p99=[3, 3, 3])}
    rows, _lines = build_rows(
        plan,
        measured,
        {"R0": 2, "resident_list_1": 5, "resident_list_50": 5},
        explain_ms=0.3,
        reconcile_ms=(1200.0, 150.0, 1800.0),
    )
    by_name = {row["name"]: row for row in rows}
    reconcile = by_name["credit_reconcile.ms"]
    assert reconcile["reference"] == "entries_sum.ms"
    assert reconcile["ratio"] == 8.0
    assert reconcile["target"] == 5.0 and reconcile["target_kind"] == "at_most"
    assert reconcile["pass"] is False
    assert by_name["entries_sum.ms"]["value"] == 150.0
    # The full check is reported against the same SUM, without a target.
    full = by_name["credit_reconcile_full.ms"]
    assert (full["value"], full["ratio"], full["reference"]) == (1800.0, 12.0, "entries_sum.ms")
    assert full["target"] is None and full["pass"] is True


def test_post_script_sends_the_body_with_a_new_key_per_request() -> None:
    script = post_script('{"item": 7}', "tok123", "bench-x-abc")
    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = "{\\"item\\": 7}"' in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert 'wrk.headers["X-CSRFToken"] = "tok123"' in script
    # wrk.format replaces wrk.headers with the table it gets: the cookie must be copied in
    assert "for name, value in pairs(wrk.headers) do headers[name] = value end" in script
    assert 'headers["Idempotency-Key"] = "bench-x-abc-" .. counter' in script
    assert "counter = counter + 1" in script
    assert "return wrk.format(nil, nil, headers)" in script


def test_post_script_refuses_what_it_cannot_quote() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        post_script('{"item": 7}', "tok\n", "p")
    with pytest.raises(ValueError, match="ASCII"):
        post_script('{"name": "积分"}', "tok", "p")


def test_credit_scenarios_pair_each_endpoint_with_a_reference_of_the_same_session() -> None:
    credit = CreditSetup(
        resident_id=11,
        account_id=3,
        item_id=7,
        account_entries=5000,
        entries=10**6,
        accounts=10**5,
    )
    plan = scenarios(1, 2, credit)
    by_name = {s.name: s for s in plan}
    for name, reference, target in (
        ("credit_balance", "R1_resident", 0.8),
        ("credit_history", "R20_history", 0.5),
        ("credit_redeem", "R_redeem", 0.5),
    ):
        endpoint = by_name[name]
        assert (endpoint.reference, endpoint.target) == (reference, target)
        assert endpoint.session == by_name[reference].session == "resident"
    assert by_name["credit_redeem"].body == by_name["R_redeem"].body == '{"item": 7}'
    assert by_name["R20_history"].path.endswith("?account=3")
    # every scenario is measured once per round: no reference shared by two endpoints
    names = [s.name for block in blocks(plan) for s in block]
    assert sorted(names) == sorted(by_name)
    assert [s.name for s in scenarios(1, 2)] == [s.name for s in plan[:5]]


def test_table_shows_long_reference_names_in_their_column() -> None:
    table = format_table(
        [
            {
                "name": "credit_history",
                "rps": 50.0,
                "p50": 40.0,
                "p99": 70.0,
                "reference": "R20_history",
                "ratio": 0.4,
                "target": 0.5,
                "pass": False,
                "queries": 5,
            },
        ]
    )
    header, _rule, line = table.splitlines()
    assert line.index("R20_history") + len("R20_history") == header.index("reference") + 9
    assert line.split()[-2:] == ["NO", "5"]
