"""The local exchange's REST adapter: HTTP in, Binance JSON out.

Every request to ``/api/v3/...`` and ``/sapi/v1/...`` goes through one pipeline:

1. find the endpoint in ``binance._endpoints.BY_ROUTE`` (unknown: Binance's HTML 404);
2. read the raw query string and form body, merge them (``_params.parse_wire``);
3. charge the request weight (``_limits``): 429 / 418 with ``Retry-After``;
4. apply armed faults (``_faults``): 5xx answers, latency;
5. authenticate (``_auth``): API key, signature over the raw bytes, timestamp rule;
6. run the endpoint (``_handlers.handle``), including order-placement faults (503 -1007 with
   or without the order placed, or a dropped connection);
7. answer JSON (orjson) with Binance's headers: ``X-MBX-USED-WEIGHT-1M`` (+ legacy
   ``X-MBX-USED-WEIGHT``), ``X-MBX-ORDER-COUNT-10S/-1D`` on orders, ``X-SAPI-USED-*`` on /sapi.

Errors are ``{"code": ..., "msg": ...}`` with the error's HTTP status (400 most, 401 for -2014 and
-2015, 429/418 for limits, 5xx for faults). A bug never reaches the client as a bare 500 page:
one catch-all answers -1000 (HTTP 500) and logs the traceback on ``binance.sim.rest`` at ERROR,
which the test suite treats as a failure.

The loopback-only control API under ``/sim/v1`` (faults, accounts, deposits, the true book) is
also here; see docs/simulator.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

import orjson
from aiohttp import web

from binance import errorcodes
from binance._endpoints import BY_ROUTE, Endpoint
from binance.sim import _handlers
from binance.sim._auth import authenticate_rest, required_permission
from binance.sim._context import SimContext
from binance.sim._limits import RateLimited
from binance.sim._params import parse_wire
from binance.sim._render import dumps
from binance.sim.engine import EngineError

__all__ = ["RestAdapter", "json_body"]

log = logging.getLogger("binance.sim.rest")

#: Binance answers an unknown path with this HTML page (not JSON).
NOT_FOUND_HTML = b"<html><body><h2>404 Not found</h2></body></html>"
_JSON = "application/json;charset=UTF-8"


def json_body(payload: Any) -> bytes:
    """Serialise a payload the way the simulator sends it (`binance.sim._render.dumps`)."""
    return dumps(payload)


def _error_payload(exc: EngineError) -> dict[str, Any]:
    payload = exc.payload()
    data = getattr(exc, "data", None)
    if data is not None:
        payload["data"] = data
    return payload


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


class RestAdapter:
    """aiohttp routes of the REST API and of the ``/sim/v1`` control API.

    Args:
        ctx: the server's shared context.
        control: the object behind ``/sim/v1`` (``server.Control``), or None to disable it.
    """

    def __init__(self, ctx: SimContext, control: Any = None) -> None:
        self.ctx = ctx
        self.control = control

    def routes(self) -> list[web.RouteDef]:
        """The REST routes; the catch-all must be mounted after every other route."""
        routes = []
        if self.control is not None:
            routes.append(web.route("*", "/sim/v1/{name:.*}", self._control))
        routes.append(web.route("*", "/{tail:.*}", self._dispatch))
        return routes

    # -- the API --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._process(request)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulator error on %s %s", request.method, request.path)
            headers: dict[str, str] = {}
            endpoint = BY_ROUTE.get((request.method, request.path))
            if endpoint is not None:
                try:
                    self._final_headers(endpoint, request.remote or "127.0.0.1", headers)
                except Exception:  # pragma: no cover - the answer matters more than headers
                    headers.clear()
            return self._json(errorcodes.UNKNOWN.http_status, errorcodes.UNKNOWN.payload(), headers)

    async def _process(self, request: web.Request) -> web.StreamResponse:
        endpoint = BY_ROUTE.get((request.method, request.path))
        if endpoint is None:
            return web.Response(status=404, body=NOT_FOUND_HTML, content_type="text/html")
        ctx = self.ctx
        ip = request.remote or "127.0.0.1"
        raw_query = request.rel_url.raw_query_string
        raw_body = ""
        if request.method != "GET" and request.can_read_body:
            raw_body = (await request.read()).decode("utf-8", "surrogateescape")
        headers: dict[str, str] = {}
        try:
            values = parse_wire(raw_query, raw_body)
        except EngineError as exc:
            values = None
            parse_error: EngineError | None = exc
        else:
            parse_error = None
        weight = endpoint.weight_for(values or {})
        now = ctx.now_ms()
        limited = self._admit(endpoint, ip, weight, now, headers)
        if limited is not None:
            return limited
        failure = ctx.faults.take_failure(request.path)
        if failure is not None:
            content_type, body = failure.body()
            headers["Content-Type"] = content_type
            return web.Response(status=failure.status, body=body, headers=headers)
        try:
            if parse_error is not None:
                raise parse_error
            assert values is not None
            account = None
            if endpoint.security.needs_key:
                account = authenticate_rest(
                    ctx.keys,
                    api_key=request.headers.get("X-MBX-APIKEY"),
                    signed=endpoint.security.signed,
                    permission=required_permission(endpoint.security.value, endpoint.path),
                    params=values,
                    raw_query=raw_query,
                    raw_body=raw_body,
                    now_ms=now,
                    default_recv_window_ms=ctx.config.default_recv_window_ms,
                    max_recv_window_ms=ctx.config.max_recv_window_ms,
                )
                if endpoint.uid_weight:
                    self._admit_uid(endpoint, account.account_id, weight, headers)
            await self._delay(request.path)
            if endpoint.order_count:
                fault = ctx.faults.take_order_fault()
                if fault is not None:
                    return await self._order_fault(request, fault, endpoint, values, account)
            payload, extra = _handlers.handle(ctx, endpoint, values, account)
        except RateLimited as exc:
            self._final_headers(endpoint, ip, headers)
            headers["Retry-After"] = str(exc.retry_after_s)
            return self._json(exc.error.http_status, exc.payload(), headers)
        except EngineError as exc:
            self._final_headers(endpoint, ip, headers)
            return self._json(exc.error.http_status, _error_payload(exc), headers)
        if endpoint.free_on_success and not endpoint.is_sapi:
            ctx.limits.refund(ip, weight, ctx.now_ms())
        self._final_headers(endpoint, ip, headers)
        headers.update(extra)
        return self._json(200, payload, headers)

    def _admit(
        self, endpoint: Endpoint, ip: str, weight: int, now: int, headers: dict[str, str]
    ) -> web.Response | None:
        limits = self.ctx.limits
        try:
            if endpoint.is_sapi:
                if not endpoint.uid_weight:
                    limits.admit_sapi(endpoint.path, ip, weight, False, now)
            else:
                limits.admit(ip, weight, now)
        except RateLimited as exc:
            self._final_headers(endpoint, ip, headers)
            headers["Retry-After"] = str(exc.retry_after_s)
            return self._json(exc.error.http_status, exc.payload(), headers)
        return None

    def _admit_uid(
        self, endpoint: Endpoint, account_id: str, weight: int, headers: dict[str, str]
    ) -> None:
        limits = self.ctx.limits
        now = self.ctx.now_ms()
        try:
            limits.admit_sapi(endpoint.path, account_id, weight, True, now)
        finally:
            headers.update(limits.sapi_headers(endpoint.path, account_id, True, now))

    def _final_headers(self, endpoint: Endpoint, ip: str, headers: dict[str, str]) -> None:
        now = self.ctx.now_ms()
        if endpoint.is_sapi:
            if not endpoint.uid_weight:
                headers.update(self.ctx.limits.sapi_headers(endpoint.path, ip, False, now))
        else:
            headers.update(self.ctx.limits.weight_headers(ip, now))

    async def _delay(self, path: str) -> None:
        faults = self.ctx.faults
        seconds = faults.latency_s(path)
        if path == "/api/v3/depth":
            seconds += faults.streams.snapshot_delay_ms / 1000.0
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def _order_fault(
        self,
        request: web.Request,
        fault: Any,
        endpoint: Endpoint,
        values: dict[str, str],
        account: Any,
    ) -> web.StreamResponse:
        if fault.placed:
            try:
                _handlers.handle(self.ctx, endpoint, values, account)
            except EngineError:
                pass  # the order was refused: the client still only learns "unknown"
        if fault.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            # Nothing reaches the client; aiohttp discards this answer on the closed transport.
            return web.Response(status=503)
        error = errorcodes.TIMEOUT
        headers: dict[str, str] = {}
        self._final_headers(endpoint, request.remote or "127.0.0.1", headers)
        return self._json(error.http_status, error.payload(), headers)

    @staticmethod
    def _json(status: int, payload: Any, headers: dict[str, str]) -> web.Response:
        headers["Content-Type"] = _JSON
        return web.Response(status=status, body=json_body(payload), headers=headers)

    # -- /sim/v1 control API ----------------------------------------------------------------------

    async def _control(self, request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request.remote):
            return web.json_response({"error": "the control API is loopback-only"}, status=403)
        try:
            body: Any = None
            if request.can_read_body:
                raw = await request.read()
                body = orjson.loads(raw) if raw.strip() else None
            query = dict(request.query)
            status, payload = await self.control.handle(
                request.method, request.match_info["name"], query, body
            )
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            return self._json(400, {"error": str(exc)}, {})
        except EngineError as exc:
            return self._json(exc.error.http_status, exc.payload(), {})
        except Exception:
            log.exception("simulator control error on %s %s", request.method, request.path)
            return self._json(500, {"error": "internal error (see the server log)"}, {})
        return self._json(status, payload, {})
