"""Run-time switchable faults of the local exchange: latency, 5xx answers, unknown order status,
dropped connections and clock skew.

Tests switch faults on through ``LocalExchange.faults`` (this module's ``Faults``) or over HTTP
(``POST /sim/v1/faults``, see docs/simulator.md); the adapters consume them per request. The
WebSocket side's faults (``_stream_faults.StreamFaults``) live at ``Faults.streams`` and share
the JSON control under the ``streams`` key. Random
choices (latency jitter) come from a generator seeded by the simulator's seed, so a run is
repeatable. Methods are safe to call from any thread.

The order faults reproduce what makes real order placement hard (NOTES.md §1.2, §7.3): a 5xx
means *execution status unknown*, and the order may or may not exist.

No I/O here: the adapters sleep, answer and drop connections; this module only decides.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from binance import errorcodes
from binance.errorcodes import ErrorCode
from binance.sim._stream_faults import StreamFaults

__all__ = ["Faults", "Failure", "OrderFault"]

#: Bodies of 5xx answers that come from the load balancer rather than the API (no JSON).
_HTML_BODIES = {
    500: "<html><body><h1>500 Internal Server Error</h1></body></html>",
    502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1></body></html>",
    504: "<html><body><h1>504 Gateway Time-out</h1></body></html>",
}


@dataclass
class Failure:
    """One armed error answer.

    Attributes:
        status: HTTP status to answer with.
        error: the Binance error for a JSON body, or None for an HTML body (gateway errors).
        message: the ``msg`` to send (None: the error's default message).
        path: only requests to this path (``*`` suffix: prefix) are hit; None: any.
        remaining: how many more requests get it.
    """

    status: int
    error: ErrorCode | None
    message: str | None
    path: str | None
    remaining: int

    def body(self) -> tuple[str, bytes]:
        """``(content_type, body)`` to send."""
        if self.error is None:
            text = _HTML_BODIES.get(
                self.status, f"<html><body><h1>{self.status}</h1></body></html>"
            )
            return "text/html", text.encode()
        return "application/json", orjson.dumps(self.error.payload(self.message))


@dataclass
class OrderFault:
    """One armed fault on order placement.

    Attributes:
        kind: ``"unknown"`` (answer 503 -1007 TIMEOUT) or ``"drop"`` (close the connection
            without an answer).
        placed: whether the order is really placed before the fault hits.
        remaining: how many more placements get it.
    """

    kind: str
    placed: bool
    remaining: int


def _matches(pattern: str | None, path: str) -> bool:
    if pattern is None:
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


class Faults:
    """The fault plan. All switches are off after construction and after ``reset()``.

    Example:
        >>> faults = Faults(seed=0)
        >>> faults.fail_next(2, status=503)              # next two requests: 503 -1001
        >>> faults.unknown_status_on_next_order(placed=True)
        >>> faults.set_clock_skew(-2500)                 # server clock 2.5 s behind
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.clock_skew_ms = 0
        """Offset added to the server clock (``/api/v3/time``, timestamps, event times)."""
        self._latency: dict[str | None, tuple[float, float]] = {}
        self._failures: list[Failure] = []
        self._order_faults: list[OrderFault] = []
        self.streams = StreamFaults(seed=seed)
        """Stream faults (``binance.sim._stream_faults.StreamFaults``)."""

    # -- switches -------------------------------------------------------------------------------

    def set_latency(self, ms: float, jitter_ms: float = 0, path: str | None = None) -> None:
        """Delay answers by ``ms`` plus a seeded random 0..``jitter_ms``.

        Args:
            ms: fixed delay in milliseconds (0 with no jitter switches it off).
            jitter_ms: upper bound of the random extra delay.
            path: only this path (``*`` suffix: every path with that prefix); None: all.
        """
        if ms < 0 or jitter_ms < 0:
            raise ValueError("latency must be >= 0")
        with self._lock:
            if ms == 0 and jitter_ms == 0:
                self._latency.pop(path, None)
            else:
                self._latency[path] = (float(ms), float(jitter_ms))

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        error: ErrorCode | int | None = errorcodes.DISCONNECTED,
        path: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests with an error instead of processing them.

        Args:
            count: how many requests.
            status: HTTP status (e.g. 500, 502, 503).
            error: the Binance error for the JSON body (an ``ErrorCode`` or its numeric code),
                or None for a gateway-style HTML body.
            path: only requests to this path (``*`` suffix for a prefix); None: any path.
            message: the ``msg`` (None: the error's default text).
        """
        if count < 1:
            raise ValueError("count must be >= 1")
        if isinstance(error, int):
            error = errorcodes.BY_CODE[error]
        with self._lock:
            self._failures.append(Failure(int(status), error, message, path, int(count)))

    def unknown_status_on_next_order(self, placed: bool, count: int = 1) -> None:
        """Answer the next order placements with 503 ``-1007`` (execution status unknown).

        Args:
            placed: True: the order is placed (it exists on the book or filled) before the
                503; False: it is not placed at all.
            count: how many placements.
        """
        self._add_order_fault("unknown", placed, count)

    def drop_next_order_response(self, placed: bool = True, count: int = 1) -> None:
        """Close the connection without an answer on the next order placements.

        Args:
            placed: whether the order is placed before the connection drops.
            count: how many placements.
        """
        self._add_order_fault("drop", placed, count)

    def set_clock_skew(self, ms: int) -> None:
        """Shift the server clock by ``ms`` (positive: server ahead of real time)."""
        self.clock_skew_ms = int(ms)

    def reset(self) -> None:
        """Switch every fault off (including stream faults) and reseed the jitter."""
        with self._lock:
            self._latency.clear()
            self._failures.clear()
            self._order_faults.clear()
            self.clock_skew_ms = 0
            self._rng = random.Random(self.seed)
        self.streams.reset()

    # -- JSON control (POST /sim/v1/faults) ------------------------------------------------------

    def apply_json(self, doc: Mapping[str, Any]) -> None:
        """Apply switches given as JSON (the body of ``POST /sim/v1/faults``).

        Keys (all optional, applied in this order): ``reset`` (true), ``clock_skew_ms``,
        ``latency`` {``ms``, ``jitter_ms``, ``path``}, ``fail_next`` {``count``, ``status``,
        ``code`` (null for an HTML body), ``msg``, ``path``}, ``unknown_status_on_next_order``
        {``placed``, ``count``}, ``drop_next_order_response`` {``placed``, ``count``},
        ``streams`` (stream faults: ``StreamFaults.apply_json``'s document).

        Raises:
            ValueError: an unknown key or a bad value.
        """
        known = {
            "reset",
            "clock_skew_ms",
            "latency",
            "fail_next",
            "unknown_status_on_next_order",
            "drop_next_order_response",
            "streams",
        }
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        streams = doc.get("streams")
        if streams is not None:
            self.streams.check_keys(streams)  # before anything is armed
        try:
            if doc.get("reset"):
                self.reset()
            if "clock_skew_ms" in doc:
                self.set_clock_skew(int(doc["clock_skew_ms"]))
            if "latency" in doc:
                spec = doc["latency"]
                self.set_latency(
                    float(spec.get("ms", 0)), float(spec.get("jitter_ms", 0)), spec.get("path")
                )
            if "fail_next" in doc:
                spec = doc["fail_next"]
                code = spec.get("code", errorcodes.DISCONNECTED.code)
                self.fail_next(
                    int(spec.get("count", 1)),
                    int(spec.get("status", 503)),
                    None if code is None else errorcodes.BY_CODE[int(code)],
                    spec.get("path"),
                    spec.get("msg"),
                )
            if "unknown_status_on_next_order" in doc:
                spec = doc["unknown_status_on_next_order"]
                self.unknown_status_on_next_order(bool(spec["placed"]), int(spec.get("count", 1)))
            if "drop_next_order_response" in doc:
                spec = doc["drop_next_order_response"]
                self.drop_next_order_response(
                    bool(spec.get("placed", True)), int(spec.get("count", 1))
                )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad fault specification: {exc!r}") from exc
        if streams is not None:
            self.streams.apply_json(streams)

    def snapshot(self) -> dict[str, Any]:
        """The armed faults as JSON (``GET /sim/v1/faults``), stream faults under ``streams``."""
        streams = self.streams.snapshot()
        with self._lock:
            return {
                "clock_skew_ms": self.clock_skew_ms,
                "latency": [
                    {"path": p, "ms": ms, "jitter_ms": j} for p, (ms, j) in self._latency.items()
                ],
                "fail_next": [
                    {
                        "count": f.remaining,
                        "status": f.status,
                        "code": None if f.error is None else f.error.code,
                        "msg": f.message,
                        "path": f.path,
                    }
                    for f in self._failures
                ],
                "order_faults": [
                    {"kind": o.kind, "placed": o.placed, "count": o.remaining}
                    for o in self._order_faults
                ],
                "streams": streams,
            }

    # -- consumed by the adapters ----------------------------------------------------------------

    def latency_s(self, path: str) -> float:
        """Seconds to delay the answer to a request for ``path`` (0.0: none)."""
        with self._lock:
            if not self._latency:
                return 0.0
            spec = self._latency.get(path)
            if spec is None:
                for pattern, value in self._latency.items():
                    if pattern is not None and _matches(pattern, path):
                        spec = value
                        break
                else:
                    spec = self._latency.get(None)
            if spec is None:
                return 0.0
            ms, jitter = spec
            if jitter:
                ms += self._rng.uniform(0, jitter)
            return ms / 1000.0

    def take_failure(self, path: str) -> Failure | None:
        """The armed failure for this request, if any (consumes one count)."""
        with self._lock:
            for failure in self._failures:
                if _matches(failure.path, path):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    return failure
            return None

    def take_order_fault(self) -> OrderFault | None:
        """The armed fault for this order placement, if any (consumes one count)."""
        with self._lock:
            if not self._order_faults:
                return None
            fault = self._order_faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._order_faults.pop(0)
            return fault

    def _add_order_fault(self, kind: str, placed: bool, count: int) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._order_faults.append(OrderFault(kind, bool(placed), int(count)))
