"""Unit tests of the fault plan (no I/O): what each switch hands the adapters."""

from __future__ import annotations

import pytest

from binance import errorcodes
from binance.sim._faults import Faults


def test_everything_is_off_by_default():
    """A new plan delays nothing, fails nothing and skews nothing."""
    faults = Faults(1)
    assert faults.latency_s("/api/v3/ping") == 0.0
    assert faults.take_failure("/api/v3/ping") is None
    assert faults.take_order_fault() is None
    assert faults.clock_skew_ms == 0


def test_latency_fixed_jittered_and_per_path():
    """Latency applies per path (exact or prefix*) before the global setting; jitter is seeded."""
    faults = Faults(5)
    faults.set_latency(100)
    faults.set_latency(10, path="/api/v3/depth")
    faults.set_latency(20, jitter_ms=5, path="/sapi/*")
    assert faults.latency_s("/api/v3/ping") == 0.1
    assert faults.latency_s("/api/v3/depth") == 0.01
    values = [faults.latency_s("/sapi/v1/system/status") for _ in range(5)]
    assert all(0.02 <= v <= 0.025 for v in values)
    again = Faults(5)
    again.set_latency(20, jitter_ms=5, path="/sapi/*")
    assert [again.latency_s("/sapi/v1/system/status") for _ in range(5)] == values
    faults.set_latency(0)
    assert faults.latency_s("/api/v3/ping") == 0.0


def test_fail_next_counts_down_and_filters_by_path():
    """fail_next hits the next matching requests only, as often as asked."""
    faults = Faults()
    faults.fail_next(2, status=500, error=errorcodes.UNKNOWN, path="/api/v3/order")
    assert faults.take_failure("/api/v3/ping") is None
    first = faults.take_failure("/api/v3/order")
    assert first is not None and first.status == 500
    assert first.body() == (
        "application/json",
        b'{"code":-1000,"msg":"An unknown error occurred while processing the request."}',
    )
    assert faults.take_failure("/api/v3/order") is not None
    assert faults.take_failure("/api/v3/order") is None


def test_html_gateway_errors():
    """error=None gives an HTML body, as a load balancer would."""
    faults = Faults()
    faults.fail_next(status=502, error=None)
    failure = faults.take_failure("/x")
    content_type, body = failure.body()
    assert content_type == "text/html" and b"502" in body


def test_order_faults_in_order():
    """Order faults are consumed first-armed first, each with its placed flag."""
    faults = Faults()
    faults.unknown_status_on_next_order(placed=False)
    faults.drop_next_order_response(placed=True, count=2)
    kinds = [faults.take_order_fault() for _ in range(4)]
    assert [(k.kind, k.placed) for k in kinds[:3]] == [
        ("unknown", False),
        ("drop", True),
        ("drop", True),
    ]
    assert kinds[3] is None


def test_json_control_and_reset():
    """apply_json arms the same switches; reset() clears them; unknown keys are refused."""
    faults = Faults()
    faults.apply_json(
        {
            "clock_skew_ms": -1500,
            "latency": {"ms": 5},
            "fail_next": {"count": 1, "status": 503, "code": -1001},
            "unknown_status_on_next_order": {"placed": True},
        }
    )
    snap = faults.snapshot()
    assert snap["clock_skew_ms"] == -1500
    assert snap["fail_next"] == [
        {"count": 1, "status": 503, "code": -1001, "msg": None, "path": None}
    ]
    assert snap["order_faults"] == [{"kind": "unknown", "placed": True, "count": 1}]
    faults.apply_json({"reset": True})
    assert faults.snapshot() == {
        "clock_skew_ms": 0,
        "latency": [],
        "fail_next": [],
        "order_faults": [],
        "streams": {"snapshot_delay_ms": 0, "pending_depth": {}, "random": {}, "injected": {}},
    }
    with pytest.raises(ValueError):
        faults.apply_json({"nonsense": 1})
    with pytest.raises(ValueError):
        faults.apply_json({"unknown_status_on_next_order": {}})


def test_stream_faults_are_attached_and_reset_together():
    """faults.streams is always a StreamFaults, and Faults.reset resets it too."""
    from binance.sim._stream_faults import StreamFaults

    faults = Faults()
    assert isinstance(faults.streams, StreamFaults)
    faults.streams.slow_snapshots(5)
    faults.reset()
    assert faults.streams.snapshot_delay_ms == 0


def test_stream_faults_share_the_json_control():
    """apply_json's "streams" key arms the stream faults; snapshot() shows them; reset clears
    them; a bad "streams" value is refused before anything is armed."""
    faults = Faults(3)
    faults.apply_json({"clock_skew_ms": 5, "streams": {"gap": {"count": 2, "symbol": "btcusdt"}}})
    assert faults.clock_skew_ms == 5
    assert faults.streams.snapshot()["pending_depth"] == {"BTCUSDT": {"gap": 2}}
    assert faults.snapshot()["streams"] == faults.streams.snapshot()
    faults.apply_json({"streams": {"slow_snapshots_ms": 250}})
    assert faults.snapshot()["streams"]["snapshot_delay_ms"] == 250
    faults.apply_json({"reset": True})
    assert faults.snapshot()["streams"]["pending_depth"] == {}
    with pytest.raises(ValueError):
        faults.apply_json({"clock_skew_ms": 9, "streams": [1]})
    assert faults.clock_skew_ms == 0
    with pytest.raises(ValueError):
        faults.apply_json({"streams": {"teleport": {}}})
    with pytest.raises(ValueError, match="teleport"):  # unknown stream key: nothing armed
        faults.apply_json(
            {"clock_skew_ms": 9, "fail_next": {"count": 1}, "streams": {"teleport": {}}}
        )
    assert faults.clock_skew_ms == 0 and faults.snapshot()["fail_next"] == []
