"""Decisions of the stream layer, with no I/O: names, placement, pacing, dedupe, backoff, backlogs.

Everything the socket manager decides lives here so it can be tested by value, the way the
``websockets`` library keeps ``backoff()`` apart from the code that sleeps:

- stream naming (`aggtrade_stream`, `depth_stream`, `kline_stream`...) and `normalize_stream`;
- what kind of stream a name is (`classify`) and, per kind, how a slow consumer is handled
  (`Policy`) and how a duplicate is recognised (`StreamKind.key`);
- how many streams go on which connection (`place_streams`, at most 1024 per connection) and how
  a stream set is split between the connection URL and ``SUBSCRIBE`` messages (`plan_url`);
- request ids (`RequestIds`), outgoing message pacing (`Pacer`, under 5 messages a second
  including pongs), the watchdog's deadlines (`Watchdog`), reconnect delays (`backoff_delays`) and
  the 24-hour rotation deadline (`rotation_delay`);
- duplicate suppression across a rotation overlap or a duplicating server (`Deduper`);
- the bounded per-consumer queue with its per-kind overflow policy (`Backlog`);
- the opt-in status events that tell a consumer, in order with its messages, when a stream
  became live and when it is live again after a reconnect (`status_event`);
- the WebSocket API signing payload (`ws_api_payload`, NOTES.md §2.3).

Binance's rules are cited from ``shared/binance-api/NOTES.md`` (§9 streams, §11 user data, §12 WS
API). No I/O, no asyncio, no threads here; this module imports only the standard library and
``binance.enums``.
"""

from __future__ import annotations

import enum
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from binance import enums

__all__ = [
    "ALL_MARKET_TICKERS_STREAM",
    "DEFAULT_MAX_STREAMS_PER_CONNECTION",
    "MAX_RETRIES_MESSAGE",
    "RETIRED_ALL_MARKET_TICKERS_STREAM",
    "SERVER_SHUTDOWN_STREAM",
    "STATUS_RECONNECTED",
    "STATUS_SUBSCRIBED",
    "Backlog",
    "Deduper",
    "DedupeResult",
    "Pacer",
    "Policy",
    "RequestIds",
    "StreamConfig",
    "StreamKind",
    "Watchdog",
    "WatchdogAction",
    "aggtrade_stream",
    "backoff_delays",
    "classify",
    "depth_stream",
    "error_event",
    "gap_event",
    "kline_stream",
    "normalize_stream",
    "place_streams",
    "plan_url",
    "rotation_delay",
    "status_event",
    "symbol_ticker_stream",
    "trade_stream",
    "ws_api_payload",
]

#: Binance's cap on streams per connection (NOTES.md §9).
DEFAULT_MAX_STREAMS_PER_CONNECTION = 1024

#: The seed's ``start_ticker_socket`` stream, retired 2026-03-26 (NOTES.md §0).
RETIRED_ALL_MARKET_TICKERS_STREAM = "!ticker@arr"

#: What ``start_ticker_socket`` serves instead: the all-market rolling 1-day ticker array. Its
#: elements carry the 24h ticker's statistics fields (p, P, w, o, h, l, c, v, q, O, C, F, L, n)
#: under the same letters, so seed callbacks reading those keep working; it lacks the best
#: bid/ask (b, B, a, A), the previous close (x) and the last quantity (Q), and ``e`` is
#: ``"1dTicker"``. ``!miniTicker@arr`` was the other candidate but drops p, P and w as well.
ALL_MARKET_TICKERS_STREAM = "!ticker_1d@arr"

#: Combined-stream name of the planned-disconnect notice (NOTES.md §9, since 2026-05-08).
SERVER_SHUTDOWN_STREAM = "!serverShutdown"

#: Text of the seed's error event after the last reconnect attempt failed.
MAX_RETRIES_MESSAGE = "Max reconnect retries reached"

#: Status event (`status_event`): the stream is live for this consumer; every message of it
#: sent from now on is delivered.
STATUS_SUBSCRIBED = "subscribed"
#: Status event (`status_event`): the stream is live again after its connection dropped and
#: reconnected; messages sent while the connection was down are lost (NOTES.md §9, §10).
STATUS_RECONNECTED = "reconnected"

_STATUS_TEXT = {
    STATUS_SUBSCRIBED: "{} is live",
    STATUS_RECONNECTED: "{} is live again after a reconnect: messages sent meanwhile are lost",
}

_DEPTH_LEVELS = ("5", "10", "20")
_DEPTH_SPEEDS_MS = (100, 1000)


# -- configuration --------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreamConfig:
    """Every knob of the socket manager. Defaults follow the seed and Binance's limits.

    Attributes:
        max_streams_per_connection: streams one connection may carry (Binance: 1024, §9).
        max_messages_per_s: messages we send per connection per rolling second, pongs and
            ``SUBSCRIBE`` included (Binance disconnects above 5, §9).
        max_streams_per_message: stream names in one ``SUBSCRIBE``/``UNSUBSCRIBE`` message.
        max_url_chars: longest ``/stream?streams=...`` URL; the rest are subscribed by message.
        reconnect_initial_s: first reconnect delay (seed: 0.1 s).
        reconnect_max_s: longest reconnect delay (seed: 10 s).
        reconnect_factor: growth of the delay per failed attempt.
        reconnect_jitter: fraction of each delay that is randomised (0 = none, 1 = full jitter).
        max_retries: reconnect attempts after a drop before giving up (seed: 5).
        open_timeout_s: limit for the WebSocket handshake plus the subscription answers.
        close_timeout_s: limit for the closing handshake before the socket is dropped.
        idle_timeout_s: silence (no frame at all) after which we send a ping.
        pong_timeout_s: silence after our ping after which the connection counts as stalled.
        data_timeout_s: optional limit on time without a data frame (pings and pongs do not
            count); ``None`` disables it. Use it for streams that are never quiet.
        max_connection_age_s: Binance's connection lifetime (24 h, §9).
        rotate_before_s: how long before that lifetime a replacement connection is opened.
        rotate_jitter_s: random spread added before the rotation point, so many connections
            opened together do not rotate together.
        overlap_min_s: shortest overlap of the old and new connection during a rotation.
        overlap_max_s: longest overlap; the old connection is closed then in any case.
        dedupe_window: recent message keys remembered per stream to drop duplicates.
        max_queue: messages held per consumer before the overflow policy applies.
        recv_window_ms: ``recvWindow`` sent with the user data subscription (None: omit).
    """

    max_streams_per_connection: int = DEFAULT_MAX_STREAMS_PER_CONNECTION
    max_messages_per_s: int = 4
    max_streams_per_message: int = 200
    max_url_chars: int = 2000
    reconnect_initial_s: float = 0.1
    reconnect_max_s: float = 10.0
    reconnect_factor: float = 2.0
    reconnect_jitter: float = 0.5
    max_retries: int = 5
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    idle_timeout_s: float = 30.0
    pong_timeout_s: float = 10.0
    data_timeout_s: float | None = None
    max_connection_age_s: float = 24 * 3600.0
    rotate_before_s: float = 10 * 60.0
    rotate_jitter_s: float = 5 * 60.0
    overlap_min_s: float = 0.5
    overlap_max_s: float = 10.0
    dedupe_window: int = 256
    max_queue: int = 10_000
    recv_window_ms: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_streams_per_connection <= DEFAULT_MAX_STREAMS_PER_CONNECTION:
            raise ValueError("max_streams_per_connection must be between 1 and 1024")
        if not 1 <= self.max_messages_per_s < 5:
            raise ValueError("max_messages_per_s must be 1..4 (Binance disconnects above 5)")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.reconnect_initial_s < 0 or self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("need 0 <= reconnect_initial_s <= reconnect_max_s")
        if not 0 <= self.reconnect_jitter <= 1:
            raise ValueError("reconnect_jitter must be within [0, 1]")
        if self.rotate_before_s + self.rotate_jitter_s >= self.max_connection_age_s:
            raise ValueError("rotate_before_s + rotate_jitter_s must be < max_connection_age_s")
        if self.max_queue < 1 or self.dedupe_window < 1 or self.max_streams_per_message < 1:
            raise ValueError("max_queue, dedupe_window and max_streams_per_message must be >= 1")


# -- stream names ---------------------------------------------------------------------------------
def _symbol(symbol: str) -> str:
    if not symbol or not isinstance(symbol, str):
        raise ValueError("symbol must be a non-empty string")
    # NOTES.md §9: symbols are lower-case in stream names.
    return symbol.lower()


def aggtrade_stream(symbol: str) -> str:
    """``<symbol>@aggTrade``: aggregated trades of one symbol."""
    return f"{_symbol(symbol)}@aggTrade"


def trade_stream(symbol: str) -> str:
    """``<symbol>@trade``: every trade of one symbol."""
    return f"{_symbol(symbol)}@trade"


def symbol_ticker_stream(symbol: str) -> str:
    """``<symbol>@ticker``: the 24h rolling ticker of one symbol, every second."""
    return f"{_symbol(symbol)}@ticker"


def kline_stream(symbol: str, interval: str = enums.KLINE_INTERVAL_1MINUTE) -> str:
    """``<symbol>@kline_<interval>``; ``interval`` is one of ``enums.KLINE_INTERVALS``."""
    if interval not in enums.KLINE_INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(enums.KLINE_INTERVALS)}")
    return f"{_symbol(symbol)}@kline_{interval}"


def depth_stream(
    symbol: str, depth: str | int | None = None, update_speed_ms: int | None = None
) -> str:
    """The diff stream ``<symbol>@depth`` or, with ``depth`` 5/10/20, the partial book stream.

    Args:
        symbol: the market, any case.
        depth: ``None`` for diffs, or ``WEBSOCKET_DEPTH_5``/``_10``/``_20`` for a partial book.
        update_speed_ms: ``100`` for ``@100ms`` pushes; ``None`` or ``1000`` for the default.
    """
    name = f"{_symbol(symbol)}@depth"
    if depth is not None:
        if str(depth) not in _DEPTH_LEVELS:
            raise ValueError("depth must be None (diff stream) or one of 5, 10, 20")
        name += str(depth)
    if update_speed_ms is not None:
        if update_speed_ms not in _DEPTH_SPEEDS_MS:
            raise ValueError("update_speed_ms must be 100 or 1000")
        if update_speed_ms == 100:
            name += "@100ms"
    return name


def normalize_stream(name: str) -> str:
    """A user-supplied stream name with its symbol part lower-cased (NOTES.md §9).

    Only the part before the first ``@`` is lower-cased: ``BNBBTC@kline_1M`` becomes
    ``bnbbtc@kline_1M`` (``1M`` is a month, ``1m`` a minute). ``!``-streams are kept as given.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a stream name must be a non-empty string")
    name = name.strip()
    if name.startswith("!"):
        return name
    head, sep, tail = name.partition("@")
    return head.lower() + sep + tail


# -- stream kinds: slow-consumer policy and duplicate keys -----------------------------------------
class Policy(enum.Enum):
    """What a full consumer queue does with a stream's messages (docs/streams.md)."""

    GAP = "gap"
    """Nothing is dropped silently: on overflow the stream's backlog is dropped and replaced by
    one gap event (``{"e": "gap", ...}``) telling how many messages were lost, so a depth cache
    resyncs. Depth diffs, trades, aggregate trades, user data and unknown streams."""

    CONFLATE = "conflate"
    """Only the latest value matters: a queued message is replaced in place by a newer one of the
    same stream (arrays merge element-wise by symbol; klines keep the last update of each
    candle). Tickers, book tickers, partial books, klines, average and reference prices."""


def _key_field(field: str) -> Callable[[Any, bytes], Hashable]:
    def key(data: Any, raw: bytes) -> Hashable:
        return data.get(field) if type(data) is dict else hash(raw)

    return key


def _key_raw(data: Any, raw: bytes) -> Hashable:
    return hash(raw)


@dataclass(frozen=True)
class StreamKind:
    """How one family of streams behaves in the stream layer.

    Attributes:
        name: short family name (``"depth"``, ``"trade"``, ``"ticker"``...).
        policy: what a full consumer queue does (`Policy`).
        key: ``key(data, raw_frame) -> hashable`` identifying a message for duplicate detection.
        ordered: keys increase along the stream (ids), so keys at or below the oldest key still
            remembered are duplicates too.
        overlap_only: duplicates are only dropped during a rotation overlap (partial books repeat
            identical snapshots legitimately when the book does not change).
        conflate_by: optional ``f(stream, data) -> hashable`` for `Policy.CONFLATE` slots;
            default: one slot per stream.
        merge: optional ``f(old_data, new_data) -> data`` combining two queued values.
    """

    name: str
    policy: Policy
    key: Callable[[Any, bytes], Hashable]
    ordered: bool = False
    overlap_only: bool = False
    conflate_by: Callable[[str, Any], Hashable] | None = None
    merge: Callable[[Any, Any], Any] | None = None


def _kline_slot(stream: str, data: Any) -> Hashable:
    try:
        return (stream, data["k"]["t"])
    except (KeyError, TypeError):
        return stream


def _merge_by_symbol(old: Any, new: Any) -> Any:
    # Arrays of all-market tickers hold only the symbols that changed (NOTES.md §9): keep the
    # newest element per symbol so a slow consumer loses no symbol.
    if not isinstance(old, list) or not isinstance(new, list):
        return new
    merged: dict[Any, Any] = {}
    for item in itertools.chain(old, new):
        merged[item.get("s") if isinstance(item, dict) else id(item)] = item
    return list(merged.values())


KIND_DEPTH = StreamKind("depth", Policy.GAP, _key_field("u"), ordered=True)
KIND_TRADE = StreamKind("trade", Policy.GAP, _key_field("t"), ordered=True)
KIND_AGG_TRADE = StreamKind("aggTrade", Policy.GAP, _key_field("a"), ordered=True)
KIND_OTHER_LOSSLESS = StreamKind("other", Policy.GAP, _key_raw)
KIND_USER = StreamKind("user", Policy.GAP, _key_raw)
KIND_PARTIAL_DEPTH = StreamKind("depthPartial", Policy.CONFLATE, _key_raw, overlap_only=True)
KIND_BOOK_TICKER = StreamKind("bookTicker", Policy.CONFLATE, _key_field("u"))
KIND_KLINE = StreamKind("kline", Policy.CONFLATE, _key_raw, conflate_by=_kline_slot)
KIND_TICKER = StreamKind("ticker", Policy.CONFLATE, _key_raw)
KIND_TICKER_ARRAY = StreamKind("tickerArray", Policy.CONFLATE, _key_raw, merge=_merge_by_symbol)
KIND_PRICE = StreamKind("price", Policy.CONFLATE, _key_raw)
KIND_CONTROL = StreamKind("control", Policy.GAP, _key_raw)


def classify(stream: str) -> StreamKind:
    """The `StreamKind` of a stream name (``"bnbbtc@depth@100ms"`` -> depth diffs).

    Unknown names get the lossless-with-gap policy: when in doubt, never drop silently.
    """
    if stream.startswith("!"):
        if stream.endswith("@arr"):
            return KIND_TICKER_ARRAY
        return KIND_CONTROL
    _, _, kind = stream.partition("@")
    base = kind.split("@", 1)[0]
    if base == "depth":
        return KIND_DEPTH
    if base.startswith("depth") and base[5:] in _DEPTH_LEVELS:
        return KIND_PARTIAL_DEPTH
    if base == "trade":
        return KIND_TRADE
    if base == "aggTrade":
        return KIND_AGG_TRADE
    if base.startswith("kline_"):
        return KIND_KLINE
    if base in ("ticker", "miniTicker") or base.startswith("ticker_"):
        return KIND_TICKER
    if base == "bookTicker":
        return KIND_BOOK_TICKER
    if base in ("avgPrice", "referencePrice"):
        return KIND_PRICE
    return KIND_OTHER_LOSSLESS


def gap_event(stream: str, dropped: int, now_ms: int, reason: str = "overflow") -> dict[str, Any]:
    """The message a consumer gets in place of messages it lost.

    ``{"e": "gap", "E": now_ms, "stream": stream, "dropped": n, "reason": reason, "m": text}``.
    A depth cache treats it as "resync now"; a trade consumer as "ids are missing".
    """
    return {
        "e": "gap",
        "E": now_ms,
        "stream": stream,
        "dropped": dropped,
        "reason": reason,
        "m": f"{dropped} message(s) of {stream} dropped: consumer too slow",
    }


def error_event(message: str = MAX_RETRIES_MESSAGE) -> dict[str, Any]:
    """The seed's error message: ``{'e': 'error', 'm': 'Max reconnect retries reached'}``."""
    return {"e": "error", "m": message}


def status_event(status: str, stream: str, now_ms: int) -> dict[str, Any]:
    """What a consumer that asked for status events gets, in order with the stream's messages.

    ``{"e": status, "E": now_ms, "stream": stream, "m": text}`` with ``status``
    `STATUS_SUBSCRIBED` (the stream is live: everything sent from now on arrives) or
    `STATUS_RECONNECTED` (live again after a reconnect: what was sent while the connection was
    down is lost, and no gap event says how much). A depth cache verifies its book on the
    latter (NOTES.md §10); everything before the event came over the old connection.
    """
    try:
        text = _STATUS_TEXT[status]
    except KeyError:
        raise ValueError(f"unknown stream status {status!r}") from None
    return {"e": status, "E": now_ms, "stream": stream, "m": text.format(stream)}


# -- placement ------------------------------------------------------------------------------------
_K = TypeVar("_K", bound=Hashable)  # a connection's key in `place_streams`


def place_streams(
    new_streams: Iterable[str],
    loads: Mapping[_K, int],
    max_per_connection: int = DEFAULT_MAX_STREAMS_PER_CONNECTION,
) -> list[tuple[_K | None, list[str]]]:
    """Decide which connection carries each new stream (at most ``max_per_connection`` each).

    Existing connections are filled first, fullest first (fewer connections stay open); the
    remaining streams go to new connections in chunks of ``max_per_connection``.

    Args:
        new_streams: stream names not yet carried anywhere (duplicates are ignored).
        loads: existing connection key -> number of streams it carries.
        max_per_connection: the per-connection cap (NOTES.md §9: 1024).

    Returns:
        ``[(connection key, streams), ...]``; the key is ``None`` for a new connection.
    """
    pending = list(dict.fromkeys(new_streams))
    plan: list[tuple[_K | None, list[str]]] = []
    for key, load in sorted(loads.items(), key=lambda kv: -kv[1]):
        room = max_per_connection - load
        if room <= 0 or not pending:
            continue
        plan.append((key, pending[:room]))
        pending = pending[room:]
    while pending:
        plan.append((None, pending[:max_per_connection]))
        pending = pending[max_per_connection:]
    return plan


def plan_url(
    streams: Sequence[str], base_len: int, max_url_chars: int, max_per_message: int
) -> tuple[list[str], list[list[str]]]:
    """Split a connection's streams between its URL and ``SUBSCRIBE`` messages.

    ``/stream?streams=a/b/c`` subscribes at the handshake, with no message counted against the
    5-per-second rule; servers cap the request line, so long sets continue by message.

    Args:
        streams: the streams the connection must carry (at least one).
        base_len: length of the URL before the first stream name (``.../stream?streams=``).
        max_url_chars: the longest URL to build.
        max_per_message: stream names per ``SUBSCRIBE`` message.

    Returns:
        ``(url_streams, [message_params, ...])``; ``url_streams`` is never empty.
    """
    if not streams:
        raise ValueError("a connection needs at least one stream")
    in_url: list[str] = []
    length = base_len
    index = 0
    for index, name in enumerate(streams):  # noqa: B007 - index is used after the loop
        extra = len(name) + (1 if in_url else 0)
        if in_url and length + extra > max_url_chars:
            break
        in_url.append(name)
        length += extra
    else:
        index = len(streams)
    rest = list(streams[index:])
    messages = [rest[i : i + max_per_message] for i in range(0, len(rest), max_per_message)]
    return in_url, messages


# -- request ids ----------------------------------------------------------------------------------
class RequestIds:
    """Request ids for control and WebSocket API messages: 1, 2, 3... (NOTES.md §9: id is a
    signed 64-bit integer; we stay positive and wrap long before the limit)."""

    _LIMIT = 2**62

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def next(self) -> int:
        """The next id."""
        value = self._next
        self._next = value + 1 if value < self._LIMIT else 1
        return value


# -- pacing ---------------------------------------------------------------------------------------
class Pacer:
    """Keeps outgoing messages of one connection under Binance's rate (NOTES.md §9: more than 5
    incoming messages a second, pings, pongs and control messages included, disconnects).

    A rolling one-second window: at most ``max_per_s`` sends in any ``window_s``.

    Args:
        max_per_s: sends allowed per window (default 4, a margin under Binance's 5).
        window_s: the window length in seconds.
    """

    def __init__(self, max_per_s: int = 4, window_s: float = 1.0) -> None:
        if max_per_s < 1:
            raise ValueError("max_per_s must be >= 1")
        self.max_per_s = max_per_s
        self.window_s = window_s
        self._sent: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds to wait from ``now`` before the next send is allowed (0.0: send now)."""
        sent = self._sent
        while sent and sent[0] <= now - self.window_s:
            sent.popleft()
        if len(sent) < self.max_per_s:
            return 0.0
        return sent[0] + self.window_s - now

    def record(self, now: float) -> None:
        """Note a send at ``now``."""
        self._sent.append(now)


# -- watchdog -------------------------------------------------------------------------------------
class WatchdogAction(enum.Enum):
    """What the watchdog asks the connection to do."""

    OK = "ok"
    PING = "ping"
    STALLED = "stalled"


class Watchdog:
    """Decides when a connection is stalled: silent, and silent after our ping.

    Binance pings every 20 s (NOTES.md §9), so a healthy connection is never silent for long
    even when its streams are quiet. After ``idle_timeout_s`` without any frame we ping; if
    nothing arrives within ``pong_timeout_s`` after that, the connection is stalled. Optionally,
    ``data_timeout_s`` without a data frame counts as stalled even if pongs still arrive.

    Times are plain floats (``loop.time()``), passed in.
    """

    def __init__(
        self,
        now: float,
        idle_timeout_s: float,
        pong_timeout_s: float,
        data_timeout_s: float | None = None,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.pong_timeout_s = pong_timeout_s
        self.data_timeout_s = data_timeout_s
        self.last_frame = now
        self.last_data = now
        self.ping_sent_at: float | None = None

    def on_frame(self, now: float, *, data: bool) -> None:
        """A frame arrived (``data``: a text/binary message, not a ping or pong)."""
        self.last_frame = now
        self.ping_sent_at = None
        if data:
            self.last_data = now

    def on_ping_sent(self, now: float) -> None:
        """We sent a ping at ``now``."""
        self.ping_sent_at = now

    def check(self, now: float) -> tuple[WatchdogAction, float]:
        """The action due at ``now`` and the time of the next check."""
        if self.data_timeout_s is not None and now - self.last_data >= self.data_timeout_s:
            return WatchdogAction.STALLED, now
        if self.ping_sent_at is not None:
            deadline = self.ping_sent_at + self.pong_timeout_s
            if now >= deadline:
                return WatchdogAction.STALLED, now
            return WatchdogAction.OK, self._earliest(deadline)
        due = self.last_frame + self.idle_timeout_s
        if now >= due:
            return WatchdogAction.PING, now + self.pong_timeout_s
        return WatchdogAction.OK, self._earliest(due)

    def _earliest(self, at: float) -> float:
        if self.data_timeout_s is not None:
            return min(at, self.last_data + self.data_timeout_s)
        return at


# -- backoff and rotation -------------------------------------------------------------------------
def backoff_delays(
    initial_s: float = 0.1,
    maximum_s: float = 10.0,
    factor: float = 2.0,
    jitter: float = 0.5,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Reconnect delays: exponential growth capped at ``maximum_s``, with random jitter.

    Delay ``n`` is ``d = min(maximum_s, initial_s * factor**n)`` scaled into
    ``[d * (1 - jitter), d]``: jitter spreads clients that lost the same server apart, the cap
    keeps a long outage from parking a client for minutes. The generator never ends; the caller
    counts attempts.
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        base = min(maximum_s, initial_s * factor**attempt) if attempt < 64 else maximum_s
        yield base * (1.0 - jitter * rng.random())
        attempt += 1


def rotation_delay(config: StreamConfig, rng: random.Random | None = None) -> float:
    """Seconds after a connection opened at which its replacement should be opened.

    Binance cuts every connection after 24 h (NOTES.md §9); we rotate ``rotate_before_s`` plus
    a random part of ``rotate_jitter_s`` before that.
    """
    rng = rng or random.Random()
    spread = config.rotate_jitter_s * rng.random()
    return max(0.0, config.max_connection_age_s - config.rotate_before_s - spread)


# -- duplicates -----------------------------------------------------------------------------------
class DedupeResult(enum.Enum):
    """What `Deduper.accept` decided."""

    NEW = "new"
    DUP_SAME_LINK = "dup_same_link"
    DUP_OTHER_LINK = "dup_other_link"


class Deduper:
    """Drops messages already delivered for a stream, remembering the last ``window`` keys.

    Duplicates appear during a rotation (two connections carry the same stream until the old
    one closes) and when a server repeats frames. Each stream remembers the keys of its last
    ``window`` messages and which connection (``link``) delivered each. For ordered keys (trade
    ids, depth update ids) a key at or below the newest key that left the window is a duplicate
    as well, so a lagging connection cannot replay old messages. Messages arriving out of order
    but unseen are delivered.
    """

    def __init__(self, window: int = 256) -> None:
        self.window = window
        self._seen: dict[str, dict[Hashable, int]] = {}
        self._order: dict[str, deque[Hashable]] = {}
        self._floor: dict[str, Any] = {}

    def accept(self, stream: str, key: Hashable, link: int, *, ordered: bool) -> DedupeResult:
        """Whether the message with ``key`` on ``stream``, delivered by ``link``, is new."""
        if key is None:
            return DedupeResult.NEW
        seen = self._seen.get(stream)
        if seen is None:
            seen = self._seen[stream] = {}
            self._order[stream] = deque()
        first = seen.get(key)
        if first is not None:
            return DedupeResult.DUP_SAME_LINK if first == link else DedupeResult.DUP_OTHER_LINK
        if ordered:
            floor = self._floor.get(stream)
            if floor is not None:
                try:
                    if key <= floor:
                        return DedupeResult.DUP_OTHER_LINK
                except TypeError:
                    pass
        seen[key] = link
        order = self._order[stream]
        order.append(key)
        if len(order) > self.window:
            old = order.popleft()
            del seen[old]
            if ordered:
                floor = self._floor.get(stream)
                try:
                    if floor is None or old > floor:
                        self._floor[stream] = old
                except TypeError:
                    pass
        return DedupeResult.NEW

    def forget(self, stream: str) -> None:
        """Drop what is remembered for ``stream`` (it was unsubscribed)."""
        self._seen.pop(stream, None)
        self._order.pop(stream, None)
        self._floor.pop(stream, None)


# -- the bounded consumer queue -------------------------------------------------------------------
class Backlog:
    """One consumer's queue of undelivered messages, bounded, with a policy per stream kind.

    - `Policy.CONFLATE` streams hold at most one queued message per slot (per stream, or per
      candle for klines); a newer message replaces the queued one in place.
    - When the queue reaches ``max_len``, every queued message of a `Policy.GAP` stream is
      dropped and each such stream gets one gap event (`gap_event`) at the tail: the consumer
      learns exactly which streams lost how much, and a depth cache resyncs. Conflated streams
      keep their latest values. If conflated slots alone fill the queue, they are dropped too
      (with gap events): memory stays bounded by ``max_len`` plus one gap event per stream.
    - Terminal events (the max-retries error) are never dropped, and neither are status events
      (`put_status`); of those, one per stream and status stays queued: a newer one replaces
      it at the tail.

    Not thread-safe; the thread manager guards it with a lock.

    Args:
        max_len: messages held before the overflow rule applies.
        combined: items are ``{"stream", "data"}`` frames (gap events are wrapped the same way).
        now_ms: clock for gap events' ``E``.
    """

    def __init__(self, max_len: int, *, combined: bool, now_ms: Callable[[], int]) -> None:
        self.max_len = max_len
        self.combined = combined
        self._now_ms = now_ms
        # entries: [stream, item, slot-key or None, kind or None (gap/terminal)]
        self._queue: deque[list[Any]] = deque()
        self._slots: dict[Hashable, list[Any]] = {}
        self._gaps: dict[str, list[Any]] = {}
        self._statuses: dict[tuple[str, str], list[Any]] = {}
        self.dropped = 0
        """Messages dropped by the overflow rule since creation."""
        self.conflated = 0
        """Messages replaced in place by a newer one since creation."""

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, stream: str, kind: StreamKind, item: Any, data: Any) -> None:
        """Queue ``item`` (what the consumer receives); ``data`` is the bare payload."""
        if kind.policy is Policy.CONFLATE:
            slot = (stream, kind.conflate_by(stream, data)) if kind.conflate_by else stream
            entry = self._slots.get(slot)
            if entry is not None:
                if kind.merge is not None:
                    item = self._merged(stream, entry[1], item, data, kind)
                entry[1] = item
                self.conflated += 1
                return
            if len(self._queue) >= self.max_len:
                self._overflow()
            entry = [stream, item, slot, kind]
            self._slots[slot] = entry
            self._queue.append(entry)
            return
        if len(self._queue) >= self.max_len:
            self._overflow()
        self._queue.append([stream, item, None, kind])

    def put_terminal(self, item: Any) -> None:
        """Queue an item that no overflow may drop (the max-retries error)."""
        self._queue.append(["", item, None, None])

    def put_status(self, stream: str, status: str, item: Any) -> None:
        """Queue a status event (`status_event`) of ``stream``; no overflow drops it.

        An earlier one of the same stream and status still queued is removed: the new one, at
        the tail, says the same about everything queued before it (what follows each of them is
        what counts), and memory stays bounded however often a stalled consumer's connection
        reconnects.
        """
        key = (stream, status)
        earlier = self._statuses.get(key)
        if earlier is not None:
            self._remove(earlier)
        entry = [stream, item, key, None]
        self._statuses[key] = entry
        self._queue.append(entry)

    def pop(self) -> Any:
        """The oldest item; raises ``IndexError`` when empty."""
        entry = self._queue.popleft()
        slot = entry[2]
        if slot is not None:
            if entry[3] is None:
                if self._gaps.get(slot) is entry:
                    del self._gaps[slot]
                elif self._statuses.get(slot) is entry:
                    del self._statuses[slot]
            elif self._slots.get(slot) is entry:
                del self._slots[slot]
        return entry[1]

    def pop_many(self, limit: int) -> list[Any]:
        """Up to ``limit`` oldest items, oldest first."""
        out = []
        pop = self.pop
        for _ in range(min(limit, len(self._queue))):
            out.append(pop())
        return out

    def clear(self) -> None:
        """Forget everything queued."""
        self._queue.clear()
        self._slots.clear()
        self._gaps.clear()
        self._statuses.clear()

    def _remove(self, entry: list[Any]) -> None:
        # By identity: entries are lists, and deque.remove would compare them by value.
        queue = self._queue
        for i, queued in enumerate(queue):
            if queued is entry:
                del queue[i]
                return

    def _merged(self, stream: str, old_item: Any, new_item: Any, new_data: Any, kind: Any) -> Any:
        assert kind.merge is not None
        old_data = old_item["data"] if self.combined else old_item
        merged = kind.merge(old_data, new_data)
        return {"stream": stream, "data": merged} if self.combined else merged

    def _overflow(self) -> None:
        # Drop every GAP-policy message (one gap event per stream); if conflated slots alone
        # still fill the queue, drop those too. O(n) once per max_len puts: amortised O(1).
        lost: dict[str, int] = {}
        kept: list[list[Any]] = []
        for entry in self._queue:
            kind = entry[3]
            if kind is not None and kind.policy is Policy.GAP:
                lost[entry[0]] = lost.get(entry[0], 0) + 1
            else:
                kept.append(entry)
        if len(kept) >= self.max_len:
            survivors = []
            for entry in kept:
                if entry[3] is None:
                    survivors.append(entry)
                else:
                    lost[entry[0]] = lost.get(entry[0], 0) + 1
                    del self._slots[entry[2]]
            kept = survivors
        # A stream's earlier gap event moves to the tail carrying the total, so it always
        # precedes the first message after the hole.
        earlier = {stream: self._gaps.pop(stream) for stream in lost if stream in self._gaps}
        if earlier:
            moved = {id(entry) for entry in earlier.values()}
            kept = [entry for entry in kept if id(entry) not in moved]
        self._queue = deque(kept)
        now = self._now_ms()
        for stream, count in lost.items():
            self.dropped += count
            total = count
            if stream in earlier:
                old = earlier[stream][1]
                total += (old["data"] if self.combined else old)["dropped"]
            event = gap_event(stream, total, now)
            item = {"stream": stream, "data": event} if self.combined else event
            entry = [stream, item, stream, None]
            self._gaps[stream] = entry
            self._queue.append(entry)


# -- WebSocket API signing ------------------------------------------------------------------------
def ws_api_payload(params: Mapping[str, Any]) -> str:
    """The text a WebSocket API request signs (NOTES.md §2.3).

    All ``params`` except ``signature``, sorted by name, ``name=value`` joined by ``&``, with no
    percent-encoding; booleans as ``true``/``false``. Sign its UTF-8 bytes.
    """
    parts = []
    for name in sorted(params):
        if name == "signature":
            continue
        value = params[name]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite")
            text = repr(value)
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return "&".join(parts)
