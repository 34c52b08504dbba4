"""The numbers the Overview and /metrics derive from Redis's counters, without Redis."""

from __future__ import annotations

from pykue.metrics import BUCKETS_MS, histogram, type_stats
from pykue.registry import RunningJob, parse_record, record_json
from pykue.web.fleet import throughput


def minutes(complete: list[int], failed: list[int] | None = None) -> dict[str, list[int]]:
    return {"minutes": list(range(len(complete))), "complete": complete, "failed": failed or [0] * len(complete)}


def test_a_busy_hour_is_divided_by_the_time_that_passed():
    # 60 minutes of 10 jobs each, 30 s into the current minute: 59.5 minutes measured
    got = throughput(minutes([10] * 60), 60, now=30.0)
    assert got["complete"] == 600 and got["minutes"] == 59.5 and not got["young"]
    assert got["perMinute"] == round(600 / 59.5, 2)


def test_a_young_queue_is_measured_since_its_first_finished_job_and_says_so():
    # nothing until 3 minutes ago, then 30 jobs: the rate is over 3 minutes, not 60
    got = throughput(minutes([0] * 57 + [10, 10, 10]), 60, now=0.0)
    assert got["young"] and got["minutes"] == 2.0 and got["perMinute"] == 15.0


def test_a_first_minute_counts_as_a_whole_minute_at_least():
    got = throughput(minutes([0] * 59 + [6]), 60, now=5.0)
    assert got["minutes"] == 1.0 and got["perMinute"] == 6.0


def test_an_idle_window_is_zero_over_the_whole_window():
    got = throughput(minutes([0] * 60), 5, now=10.0)
    assert got == {"window": 5, "complete": 0, "failed": 0, "perMinute": 0.0, "minutes": 5.0, "young": False}


def test_histogram_buckets_are_cumulative_and_in_seconds():
    got = histogram({"5": 2, "250": 3, "inf": 1}, 90000)
    assert got.buckets[0] == ("0.005", 2.0)
    assert dict(got.buckets)["0.25"] == 5.0 and dict(got.buckets)["60"] == 5.0
    assert got.buckets[-1] == ("+Inf", 6.0) and len(got.buckets) == len(BUCKETS_MS) + 1
    assert got.sum_seconds == 90.0


def test_each_attempts_field_counts_toward_its_outcome_and_both_histograms():
    # Given a type's stats: 3 attempts completed fast after a long wait, 1 retried, 1 failed
    # for good, 1 failure that never started, and fields an edit by hand left behind
    fields = {
        "c:5:1000": "3",
        "r:250:5": "1",
        "f:inf:5": "1",
        "failed": "1",
        "d:sum": "1800300",
        "w:sum": "3010",
        "c:7:5": "9",
        "x:5:5": "9",
        "c:5": "9",
        "complete": "lots",
    }
    got = type_stats({"complete": 3}, fields)
    # Then retries count in the histograms only, and the unknown shapes nowhere
    assert (got.complete, got.failed, got.counts) == (3, 2, {"complete": 3})
    duration, wait = dict(got.duration.buckets), dict(got.wait.buckets)
    assert (duration["0.005"], duration["0.25"], duration["1800"], duration["+Inf"]) == (3.0, 4.0, 4.0, 5.0)
    assert (wait["0.005"], wait["0.5"], wait["1"], wait["+Inf"]) == (2.0, 2.0, 5.0, 5.0)
    assert (got.duration.sum_seconds, got.wait.sum_seconds) == (1800.3, 3.01)


def test_a_hash_written_before_the_attempt_fields_reads_as_it_did():
    old = {"complete": "4", "failed": "1", "d:5": "2", "d:250": "3", "d:sum": "900", "w:10": "5", "w:sum": "40"}
    got = type_stats({}, {**old, "c:5:10": "1"})
    assert (got.complete, got.failed) == (5, 1)
    assert dict(got.duration.buckets)["0.005"] == 3.0 and got.duration.buckets[-1] == ("+Inf", 6.0)
    assert dict(got.wait.buckets)["0.01"] == 6.0 and got.wait.sum_seconds == 0.04


def test_a_record_reads_back_and_a_foreign_one_is_skipped():
    text = record_json(
        "pykue:h:1:ab",
        pid=1,
        started_at=1000,
        version="0.1.0",
        types={"email": 4},
        paused={"email"},
        running=[RunningJob(7, "email", 1500)],
        processed=3,
        failed=1,
        heartbeat_every=1.0,
    )
    info = parse_record({"info": text, "heartbeat_at": "2000"}, seen_at=7000)
    assert info is not None and info.running == [RunningJob(7, "email", 1500)] and info.paused == ["email"]
    assert info.heartbeat_age_ms == 5000 and info.stale  # more than 3 heartbeats and a second
    assert not parse_record({"info": text, "heartbeat_at": "2000"}, seen_at=5000).stale
    assert parse_record({"info": "{}", "heartbeat_at": "1"}, seen_at=1) is None
    assert parse_record({}, seen_at=1) is None
