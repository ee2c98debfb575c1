"""Stream names, control-message parsing and the stream fault plan: pure logic, no sockets."""

from __future__ import annotations

import threading

import pytest

from binance.sim._stream_faults import StreamFaults
from binance.sim.market_streams import (
    KIND_AGG_TRADE,
    KIND_ALL_MINI_TICKERS,
    KIND_ALL_WINDOW_TICKERS,
    KIND_AVG_PRICE,
    KIND_BOOK_TICKER,
    KIND_DEPTH,
    KIND_KLINE,
    KIND_MINI_TICKER,
    KIND_PARTIAL_DEPTH,
    KIND_TICKER,
    KIND_TRADE,
    KIND_WINDOW_TICKER,
    _ControlError,
    _parse_control,
    parse_stream,
)

VALID = [
    ("btcusdt@trade", KIND_TRADE, {}),
    ("btcusdt@aggTrade", KIND_AGG_TRADE, {}),
    ("btcusdt@kline_1m", KIND_KLINE, {"interval": "1m", "speed_ms": 2000}),
    ("btcusdt@kline_1s", KIND_KLINE, {"interval": "1s", "speed_ms": 1000}),
    ("btcusdt@kline_1M@+08:00", KIND_KLINE, {"interval": "1M", "time_zone": "+08:00"}),
    ("btcusdt@miniTicker", KIND_MINI_TICKER, {"speed_ms": 1000}),
    ("!miniTicker@arr", KIND_ALL_MINI_TICKERS, {"symbol": None}),
    ("btcusdt@ticker", KIND_TICKER, {}),
    ("btcusdt@ticker_4h", KIND_WINDOW_TICKER, {"window": "4h"}),
    ("!ticker_1d@arr", KIND_ALL_WINDOW_TICKERS, {"window": "1d", "symbol": None}),
    ("btcusdt@bookTicker", KIND_BOOK_TICKER, {}),
    ("btcusdt@avgPrice", KIND_AVG_PRICE, {}),
    ("btcusdt@depth5", KIND_PARTIAL_DEPTH, {"levels": 5, "speed_ms": 1000}),
    ("btcusdt@depth20@100ms", KIND_PARTIAL_DEPTH, {"levels": 20, "speed_ms": 100}),
    ("btcusdt@depth", KIND_DEPTH, {"speed_ms": 1000}),
    ("btcusdt@depth@100ms", KIND_DEPTH, {"speed_ms": 100}),
]

INVALID = [
    "!ticker@arr",  # retired 2026-03-26
    "!bookTicker",  # removed 2022-12-07
    "btcusdt",
    "btcusdt@",
    "@trade",
    "btcusdt@trades",
    "btcusdt@kline_2m",
    "btcusdt@kline_1m@+09:00",
    "btcusdt@depth15",
    "btcusdt@depth@250ms",
    "btcusdt@depth5@1000ms",
    "btcusdt@ticker_2h",
    "btcusdt@trade@100ms",
    "btc usdt@trade",
    "",
]


@pytest.mark.parametrize(("name", "kind", "attrs"), VALID, ids=[v[0] for v in VALID])
def test_documented_stream_names_parse(name, kind, attrs):
    """Every documented stream name parses to its kind, symbol and variant."""
    spec = parse_stream(name)
    assert spec.name == name
    assert spec.kind == kind
    expected_symbol = attrs.pop("symbol", "BTCUSDT")
    assert spec.symbol == expected_symbol
    for key, value in attrs.items():
        assert getattr(spec, key) == value


@pytest.mark.parametrize("name", INVALID)
def test_invalid_and_retired_stream_names_are_refused(name):
    """Malformed and retired names raise ValueError (Binance: "invalid stream")."""
    with pytest.raises(ValueError):
        parse_stream(name)


def test_upper_case_symbol_is_accepted_but_matches_no_symbol():
    """Binance accepts BTCUSDT@trade and never sends on it: the symbol never matches."""
    spec = parse_stream("BTCUSDT@trade")
    assert spec.kind == KIND_TRADE
    assert spec.symbol != "BTCUSDT"


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("{", 3, "Invalid JSON: expected value at line 1 column 2"),
        (
            '{"method": "SUBSCRIBE", "id": 1.5}',
            2,
            "Invalid request: request ID must be an unsigned integer",
        ),
        (
            '{"method": "SUBSCRIBE", "id": true}',
            2,
            "Invalid request: request ID must be an unsigned integer",
        ),
        ('{"id": 1}', 2, "Invalid request: missing field `method` at line 1 column 9"),
        (
            '{"method": "FOO", "id": 1}',
            2,
            "Invalid request: unknown variant `FOO`, expected one of `SUBSCRIBE`, "
            "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` "
            "at line 1 column 16",
        ),
    ],
)
def test_control_message_errors(text, code, message):
    """Malformed control messages map to Binance's codes 2 and 3 with its wording."""
    with pytest.raises(_ControlError) as info:
        _parse_control(text)
    assert info.value.code == code
    assert info.value.msg == message


@pytest.mark.parametrize("request_id", [0, 2**63 - 1, -5, "abc123", None])
def test_control_ids_accepted(request_id):
    """Ids may be int64, alphanumeric strings up to 36 characters, or null."""
    import orjson

    text = orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}).decode()
    assert _parse_control(text) == (request_id, "LIST_SUBSCRIPTIONS", None)


def test_depth_faults_are_consumed_in_order_and_per_symbol():
    """On-demand depth faults hit the next events of their symbol, then stop."""
    faults = StreamFaults(seed=1)
    faults.skip_depth_events(1, symbol="BTCUSDT")
    faults.duplicate_depth_events(1)
    assert faults._depth_decision("ETHUSDT") == "duplicate"
    assert faults._depth_decision("ETHUSDT") == "send"
    assert faults._depth_decision("BTCUSDT") == "skip"
    assert faults._depth_decision("BTCUSDT") == "send"
    assert faults.injected["gap"] == 1 and faults.injected["duplicate"] == 1
    assert not faults.active


def test_random_depth_faults_are_reproducible_from_the_seed():
    """The same seed gives the same sequence of random depth faults."""

    def run() -> list[str]:
        faults = StreamFaults()
        faults.set_random(seed=7, gap=0.1, duplicate=0.1, reorder=0.1)
        return [faults._depth_decision("BTCUSDT") for _ in range(500)]

    first, second = run(), run()
    assert first == second
    assert {"skip", "duplicate", "hold", "send"} <= set(first)


def test_reset_clears_pending_faults_and_snapshot_delay():
    """reset() switches everything off."""
    faults = StreamFaults()
    faults.skip_depth_events(3)
    faults.slow_snapshots(250)
    faults.set_random(seed=1, drop=0.5)
    assert faults.active
    faults.reset()
    assert not faults.active
    assert faults.snapshot_delay_ms == 0
    assert faults._random_connection_faults(10) == []


def test_bad_fault_arguments_raise():
    """Out-of-range controls raise ValueError instead of being ignored."""
    faults = StreamFaults()
    with pytest.raises(ValueError):
        faults.stall(0)
    with pytest.raises(ValueError):
        faults.set_random(drop=2.0)
    with pytest.raises(ValueError):
        faults.drop_connections(target="nowhere")
    with pytest.raises(ValueError):
        faults.skip_depth_events(-1)


def test_fault_controls_are_thread_safe():
    """Arming depth faults from several threads loses no count."""
    faults = StreamFaults()
    threads = [
        threading.Thread(target=lambda: [faults.skip_depth_events(1) for _ in range(200)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decisions = [faults._depth_decision("X") for _ in range(801)]
    assert decisions.count("skip") == 800
    assert decisions[-1] == "send"


def test_json_controls_arm_the_same_faults():
    """apply_json (behind POST /sim/v1/faults) arms what the methods arm; snapshot shows it."""
    faults = StreamFaults()
    faults.apply_json(
        {
            "gap": {"count": 2, "symbol": "BTCUSDT"},
            "slow_snapshots_ms": 200,
            "random": {"seed": 3, "duplicate": 0.5},
        }
    )
    state = faults.snapshot()
    assert state["pending_depth"] == {"BTCUSDT": {"gap": 2}}
    assert state["snapshot_delay_ms"] == 200
    assert state["random"] == {"duplicate": 0.5}
    assert faults._depth_decision("BTCUSDT") == "skip"
    faults.apply_json({"reset": True})
    assert faults.snapshot()["pending_depth"] == {}
    with pytest.raises(ValueError):
        faults.apply_json({"teleport": {}})
    with pytest.raises(ValueError):
        faults.apply_json({"stall": {}})


def test_settings_come_from_ws_prefixed_config():
    """ws_<field> config attributes set WsSettings; an unknown ws_ name is an error."""
    from binance.sim._context import SimConfig
    from binance.sim.market_streams import WsSettings

    config, rest = SimConfig.split({"ws_lifetime_s": 60.0, "ws_max_streams": 10})
    assert rest == {}
    settings = WsSettings.from_config(config)
    assert settings.lifetime_s == 60.0 and settings.max_streams == 10
    assert settings.ping_interval_s == 20.0  # Binance's default
    assert settings is not config.ws  # each adapter gets its own copy
    with pytest.raises(TypeError, match="ws_lifetime"):
        SimConfig.split({"ws_lifetime": 1})
    with pytest.raises(TypeError, match="WsSettings"):  # not silently the defaults
        SimConfig.split({"ws": {"lifetime_s": 5}})
