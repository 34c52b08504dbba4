"""backoff.py: Kue's backoff arithmetic (_getBackoffImpl), what is stored, and the Python-only strategies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tenacity

from pykue import InvalidJobError
from pykue.backoff import decode_backoff, encode_backoff, is_strategy, kue_delay, strategy_delay


def test_no_backoff_retries_at_once() -> None:
    assert kue_delay(None, 1, 500) is None


def test_true_reuses_the_current_delay() -> None:
    assert kue_delay(True, 1, 200) == 200
    assert kue_delay(True, 3, 200) == 200
    assert kue_delay(True, 1, None) is None  # no delay: immediate re-promotion


def test_fixed_uses_its_delay_or_falls_back_to_the_jobs() -> None:
    assert kue_delay({"type": "fixed", "delay": 100}, 1, None) == 100
    assert kue_delay({"type": "fixed", "delay": 100}, 5, 999) == 100
    assert kue_delay({"type": "fixed"}, 2, 300) == 300
    assert kue_delay({"type": "fixed", "delay": 0}, 2, 300) == 300  # `delay || this._delay`
    assert kue_delay({"type": "fixed"}, 2, None) is None


def test_exponential_with_200_gives_100_300_700() -> None:
    backoff = {"type": "exponential", "delay": 200}
    assert [kue_delay(backoff, n, None) for n in (1, 2, 3, 4)] == [100, 300, 700, 1500]


def test_exponential_without_its_own_delay_uses_the_current_one() -> None:
    assert kue_delay({"type": "exponential"}, 2, 100) == 150
    assert kue_delay({"type": "exponential"}, 1, None) is None  # Kue's NaN: ignored


def test_exponential_is_capped_by_max_delay_minus_half_the_base() -> None:
    backoff = {"type": "exponential", "delay": 50, "maxDelay": 100}
    assert [kue_delay(backoff, n, None) for n in (1, 2, 3, 10)] == [25, 75, 75, 75]


def test_exponential_rounds_like_math_round() -> None:
    assert kue_delay({"type": "exponential", "delay": 3}, 1, None) == 2  # 1.5 rounds up
    assert kue_delay({"type": "exponential", "delay": 1}, 1, None) == 1  # 0.5 rounds up


def test_javascript_source_is_a_fixed_retry_with_the_stored_delay_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = f"function(attempts, delay){{ require('fs').writeFileSync('{marker}', 'x'); return 5 }}"
    decoded = decode_backoff(source)
    assert decoded == source
    assert kue_delay(decoded, 2, 250) == 250
    assert kue_delay(decoded, 2, None) is None
    assert not marker.exists()


def test_python_callable_gets_attempts_and_current_delay() -> None:
    calls = []

    def strategy(attempts: int, delay: int | None) -> int:
        calls.append((attempts, delay))
        return attempts * 100

    assert is_strategy(strategy)
    assert strategy_delay(strategy, 1, 50) == 100
    assert strategy_delay(strategy, 3, None) == 300
    assert calls == [(1, 50), (3, None)]
    assert strategy_delay(lambda a, d: None, 1, 10) is None
    assert strategy_delay(lambda a, d: 0, 1, 10) is None
    assert strategy_delay(lambda a, d: 12.6, 1, 10) == 13


@pytest.mark.parametrize("bad", [-1, "100", float("nan"), [1]])
def test_python_callable_must_return_ms(bad: Any) -> None:
    with pytest.raises(InvalidJobError):
        strategy_delay(lambda a, d: bad, 1, None)


def test_tenacity_wait_exponential() -> None:
    wait = tenacity.wait_exponential(multiplier=0.1)
    assert is_strategy(wait)
    assert [strategy_delay(wait, n, None) for n in (1, 2, 3, 4)] == [100, 200, 400, 800]


def test_tenacity_wait_fixed_chain_and_cap() -> None:
    assert strategy_delay(tenacity.wait_fixed(0.25), 3, None) == 250
    capped = tenacity.wait_exponential(multiplier=1, max=2)
    assert [strategy_delay(capped, n, None) for n in (1, 2, 3, 5)] == [1000, 2000, 2000, 2000]
    combined = tenacity.wait_fixed(0.1) + tenacity.wait_fixed(0.2)
    assert strategy_delay(combined, 1, None) == 300
    chained = tenacity.wait_chain(tenacity.wait_fixed(0.1), tenacity.wait_fixed(0.5))
    assert [strategy_delay(chained, n, None) for n in (1, 2, 3)] == [100, 500, 500]


def test_tenacity_random_wait_stays_in_range() -> None:
    wait = tenacity.wait_random(0.1, 0.2)
    assert all(100 <= (strategy_delay(wait, 1, None) or 0) <= 200 for _ in range(20))


def test_encode_stores_true_or_json_only() -> None:
    assert encode_backoff(None) is None
    assert encode_backoff(False) is None
    assert encode_backoff(True) == "true"
    stored = encode_backoff({"type": "exponential", "delay": 100, "maxDelay": 1000})
    assert stored is not None
    assert json.loads(stored) == {"type": "exponential", "delay": 100, "maxDelay": 1000}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "linear"},
        {},
        {"delay": 5},
        {"type": "fixed", "delay": -1},
        {"type": "fixed", "delay": "5"},
        {"type": "fixed", "jitter": 1},
        "function(){return 1}",
        5,
        [1],
    ],
)
def test_encode_refuses_what_kue_could_not_use(bad: Any) -> None:
    with pytest.raises(InvalidJobError) as info:
        encode_backoff(bad)
    assert isinstance(info.value, ValueError)
    assert info.value.field == "backoff"


def test_decode() -> None:
    assert decode_backoff(None) is None
    assert decode_backoff("") is None
    assert decode_backoff("true") is True
    assert decode_backoff("false") is None
    assert decode_backoff('{"type":"fixed","delay":5}') == {"type": "fixed", "delay": 5}
    assert decode_backoff("[1]") == "[1]"


def test_a_backoff_nested_past_what_json_parses_is_kept_as_text() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # written by hand or by another client: no exception
    assert decode_backoff(deep) == deep


def test_numbers_kue_stored_as_strings_still_count() -> None:
    # JS arithmetic accepts "100"; a backoff written by Node Kue may hold such strings
    assert kue_delay({"type": "fixed", "delay": "100"}, 1, None) == 100
    assert kue_delay({"type": "exponential", "delay": "200"}, 2, None) == 300
    assert kue_delay({"type": "exponential", "delay": 100, "maxDelay": "150"}, 3, None) == 100
    assert kue_delay({"type": "exponential", "delay": "soon"}, 2, 100) == 150


def test_an_unknown_stored_type_is_a_fixed_retry_not_a_crash() -> None:
    assert kue_delay({"type": "linear", "delay": 100}, 3, 250) == 250
    assert kue_delay({"delay": 100}, 3, None) is None
