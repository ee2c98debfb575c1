"""The local exchange's WebSocket API at ``/ws-api/v3`` (NOTES.md §12).

One JSON request per text frame, ``{"id", "method", "params"}``; one response per request,
``{"id", "status", "result" | "error", "rateLimits"}``. Every REST-equivalent method runs through
the same code as REST: ``binance._endpoints.BY_WS_METHOD`` names the endpoint,
``_params.prepare`` (inside ``_handlers.handle``) checks the parameters, ``_limits`` charges the
same weights, ``_auth.authenticate_ws`` checks signatures (NOTES.md §2.3: sorted parameters, no
percent-encoding), and ``_handlers.handle`` calls the engine. So the same request gets the same
answer and the same error on both transports.

WebSocket-only methods live here: ``session.logon`` / ``session.status`` / ``session.logout``
(Ed25519 keys only), ``session.subscriptions`` and the user data stream
(``userDataStream.subscribe``, ``userDataStream.subscribe.signature``,
``userDataStream.unsubscribe``) with events ``{"subscriptionId": n, "event": {...}}`` rendered
from the engine's ``OrderEvent`` / ``BalanceEvent`` / ``BalanceUpdateEvent`` and
``eventStreamTerminated`` when a subscription ends.

Connection rules (shared with the market streams, ``market_streams.WsConnection``): ping every
20 s with a 60 s pong deadline, 24-hour lifetime with ``serverShutdown`` before the cut, bounded
outgoing queue, faults from ``ctx.faults.streams``. Opening a connection costs 2 request weight; a
418 ban closes the connection after the error. Must not import the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from binance import enums, errorcodes
from binance._endpoints import BY_WS_METHOD, Endpoint
from binance.errorcodes import ErrorCode
from binance.sim import _handlers
from binance.sim import _stream_payloads as payloads
from binance.sim._auth import (
    KEY_TYPE_ED25519,
    AccountRef,
    ApiKeyRecord,
    authenticate_ws,
    check_timestamp,
    required_permission,
)
from binance.sim._limits import RateLimited
from binance.sim.engine import EngineError
from binance.sim.engine.events import BalanceEvent, BalanceUpdateEvent, OrderEvent
from binance.sim.market_streams import WsAdapter, WsConnection, WsSettings, accept

if TYPE_CHECKING:  # pragma: no cover
    from binance.sim._context import SimContext

__all__ = ["WsApi"]

logger = logging.getLogger(__name__)

#: Weight of the WebSocket-only methods and of opening a connection (NOTES.md §11, §12).
SESSION_WEIGHT = 2
CONNECTION_WEIGHT = 2
#: NOTES.md §3: connection attempts per IP per 5 minutes, as exchangeInfo reports it.
CONNECTIONS_PER_5_MINUTES = 300
#: NOTES.md §11: at most 1,000 active and 65,535 lifetime subscriptions per session.
MAX_ACTIVE_SUBSCRIPTIONS = 1000
MAX_LIFETIME_SUBSCRIPTIONS = 65535

_SESSION_METHODS = (
    "session.logon",
    "session.status",
    "session.logout",
    "session.subscriptions",
    "userDataStream.subscribe",
    "userDataStream.subscribe.signature",
    "userDataStream.unsubscribe",
)
_STATUS_OK = 200
#: Parameters the WebSocket API reads itself; the REST handlers never see them.
_WS_ONLY_PARAMS = frozenset({"apiKey", "returnRateLimits"})


class _Reply(Exception):
    """An error answer: ``EngineError``-like code and message with an HTTP-like status."""

    def __init__(self, error: ErrorCode, message: str | None = None, status: int | None = None):
        super().__init__(message or error.message)
        self.error = error
        self.message = message if message is not None else error.message
        self.status = status if status is not None else error.http_status


def _mandatory(name: str) -> EngineError:
    error = errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED
    return EngineError(error, error.msg(name))


def _wire_value(value: Any) -> str | None:
    """A JSON parameter value as the wire string REST would have received."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class _Subscription:
    __slots__ = ("conn", "subscription_id", "account_id", "via_logon", "prefix")

    def __init__(self, conn: _ApiConnection, subscription_id: int, account_id: str, logon: bool):
        self.conn = conn
        self.subscription_id = subscription_id
        self.account_id = account_id
        self.via_logon = logon
        self.prefix = b'{"subscriptionId":' + str(subscription_id).encode() + b',"event":'


class _ApiConnection(WsConnection):
    """A WebSocket API connection: its session key and user-data subscriptions."""

    def __init__(self, *args: Any, connected_since: int, return_rate_limits: bool, **kw: Any):
        super().__init__(*args, **kw)
        self.connected_since = connected_since
        self.return_rate_limits = return_rate_limits
        self.session: ApiKeyRecord | None = None
        self.authorized_since: int | None = None
        self.subscriptions: dict[int, _Subscription] = {}
        self.subscriptions_made = 0


class WsApi(WsAdapter):
    """The ``/ws-api/v3`` route of the local exchange.

    Args:
        ctx: the server's shared context (engine, keys, limits, faults, config, clock).
        settings: limits and timers; default ``WsSettings.from_config(ctx.config)``.
    """

    fault_target = "ws_api"

    def __init__(self, ctx: SimContext, settings: WsSettings | None = None) -> None:
        self._by_account: dict[str, list[_Subscription]] = {}
        super().__init__(ctx, settings)
        self.connections: set[_ApiConnection] = set()

    def routes(self) -> list[web.RouteDef]:
        """``/ws-api/v3`` (aiohttp route definition)."""
        return [web.get("/ws-api/v3", self._handle)]

    # -- connections ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._closing:
            raise web.HTTPServiceUnavailable(text="Server shutdown")
        ctx = self.ctx
        ip = request.remote or "127.0.0.1"
        try:
            # NOTES.md §12: a WebSocket API connection costs 2 weight.
            ctx.limits.admit(ip, CONNECTION_WEIGHT, ctx.now_ms())
        except RateLimited as exc:
            return web.Response(
                status=exc.error.http_status,
                body=orjson.dumps(exc.payload()),
                content_type="application/json",
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        self._ensure_started()
        settings = self.settings
        ws = web.WebSocketResponse(
            autoping=False,
            timeout=settings.close_timeout_s,
            max_msg_size=settings.max_message_bytes,
        )
        if not await accept(ws, request):
            return web.Response()  # never delivered: the connection is closed
        return_rate_limits = request.query.get("returnRateLimits", "true").lower() != "false"
        conn = _ApiConnection(
            ws,
            request,
            settings,
            "ws_api",
            ctx.now_ms,
            connected_since=ctx.now_ms(),
            return_rate_limits=return_rate_limits,
        )
        self.connections.add(conn)
        try:
            await self._read_loop(conn)
        finally:
            self.connections.discard(conn)
            for subscription in list(conn.subscriptions.values()):
                self._drop_subscription(subscription)
            await conn.finish()
        return ws

    async def _background(self) -> None:
        """Every second: the random connection faults."""
        while True:
            await asyncio.sleep(1.0)
            self._random_faults()

    async def _read_loop(self, conn: _ApiConnection) -> None:
        ws = conn.ws
        while not conn.closed:
            msg = await ws.receive()
            kind = msg.type
            if kind in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
            if kind is WSMsgType.PING:
                conn.ping_received(msg.data)
            elif kind is WSMsgType.PONG:
                conn.pong_received(msg.data)
            elif kind in (WSMsgType.TEXT, WSMsgType.BINARY):
                if conn.stalled:
                    await conn.wait_unstalled()
                text = msg.data if kind is WSMsgType.TEXT else msg.data.decode("utf-8", "replace")
                try:
                    frame = self._request(conn, text)
                except Exception:
                    logger.exception("WebSocket API request failed")
                    frame = self._error_frame(conn, None, _Reply(errorcodes.UNKNOWN), None, None)
                if frame:
                    conn.send(frame)

    # -- one request ------------------------------------------------------------------------------

    def _request(self, conn: _ApiConnection, text: str) -> bytes:
        ctx = self.ctx
        try:
            # Floats keep their exact text: it is what the client signed (NOTES.md §2.3).
            doc = json.loads(text, parse_float=str)
        except ValueError:
            return self._error_frame(
                conn, None, _Reply(errorcodes.INVALID_JSON, "Invalid JSON Request"), None, None
            )
        if not isinstance(doc, dict):
            return self._error_frame(
                conn, None, _Reply(errorcodes.INVALID_JSON, "Invalid JSON Request"), None, None
            )
        request_id = doc.get("id")
        if isinstance(request_id, (dict, list, bool, float)):
            return self._error_frame(
                conn,
                None,
                _Reply(errorcodes.INVALID_PARAMETER, "Invalid 'id' in JSON request."),
                None,
                None,
            )
        params = doc.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            reply = _Reply(
                errorcodes.INVALID_JSON, "Invalid 'params' in JSON request; expected an object."
            )
            return self._error_frame(conn, request_id, reply, None, None)
        method = doc.get("method")
        if not isinstance(method, str) or not method:
            return self._error_frame(
                conn, request_id, _Reply(*_reply_of(_mandatory("method"))), None, None
            )
        if method.startswith("v3/"):
            method = method[3:]
        show_limits = conn.return_rate_limits
        # returnRateLimits stays in params: a signed request's signature covers it.
        flag = params.get("returnRateLimits")
        if flag is not None:
            show_limits = flag is not False and str(flag).lower() != "false"
        endpoint = BY_WS_METHOD.get(method)
        if endpoint is None and method not in _SESSION_METHODS:
            reply = _Reply(errorcodes.UNSUPPORTED_OPERATION)
            return self._error_frame(conn, request_id, reply, None, None, show_limits)
        weight = endpoint.weight_for(params) if endpoint is not None else SESSION_WEIGHT
        now = ctx.now_ms()
        try:
            ctx.limits.admit(conn.peer, weight, now)
        except RateLimited as exc:
            frame = self._error_frame(
                conn, request_id, _Reply(exc.error, exc.message), exc, endpoint, show_limits
            )
            if exc.error.http_status == 418:
                conn.send(frame)
                # NOTES.md §12: a 418 closes the connection.
                conn.close_soon(WSCloseCode.POLICY_VIOLATION, "IP banned")
                return b""
            return frame
        account: AccountRef | None = None
        try:
            session = conn.session
            if session is not None and ctx.keys.get(session.api_key) is None:
                # NOTES.md §12: a deleted key revokes the session on the next request.
                raise _Revoked()
            if endpoint is None:
                result = self._session_method(conn, method, params)
            else:
                account = self._authenticate(conn, endpoint, params)
                wire = {
                    k: v
                    for k, v in ((k, _wire_value(v)) for k, v in params.items())
                    if v is not None and k not in _WS_ONLY_PARAMS
                }
                result, _headers = _handlers.handle(ctx, endpoint, wire, account)
                if method == "exchangeInfo":
                    result = _ws_exchange_info(result)
        except _Revoked:
            conn.send(
                orjson.dumps(
                    {
                        "id": None,
                        "status": 401,
                        "error": errorcodes.REJECTED_MBX_KEY.payload(),
                    }
                )
            )
            self._logout(conn)
            return b""
        except RateLimited as exc:
            reply = _Reply(exc.error, exc.message)
            return self._error_frame(conn, request_id, reply, exc, endpoint, show_limits, account)
        except EngineError as exc:
            reply = _Reply(*_reply_of(exc))
            data = getattr(exc, "data", None)
            return self._error_frame(
                conn, request_id, reply, None, endpoint, show_limits, account, data
            )
        if endpoint is not None and endpoint.free_on_success:
            ctx.limits.refund(conn.peer, weight, ctx.now_ms())
        body: dict[str, Any] = {"id": request_id, "status": _STATUS_OK, "result": result}
        if show_limits:
            body["rateLimits"] = self._rate_limits(conn, endpoint, account)
        return payloads.dumps(body)

    def _error_frame(
        self,
        conn: _ApiConnection,
        request_id: Any,
        reply: _Reply,
        limited: RateLimited | None,
        endpoint: Endpoint | None,
        show_limits: bool = True,
        account: AccountRef | None = None,
        data: Any = None,
    ) -> bytes:
        error: dict[str, Any] = {"code": reply.error.code, "msg": reply.message}
        if limited is not None:
            # NOTES.md §12: retryAfter is an epoch-ms timestamp in error.data.
            error["data"] = {"serverTime": self.ctx.now_ms(), "retryAfter": limited.retry_at_ms}
        elif data is not None:
            error["data"] = data
        body: dict[str, Any] = {"id": request_id, "status": reply.status, "error": error}
        if show_limits:
            body["rateLimits"] = self._rate_limits(conn, endpoint, account)
        return payloads.dumps(body)

    def _rate_limits(
        self, conn: _ApiConnection, endpoint: Endpoint | None, account: AccountRef | None
    ) -> list[dict[str, Any]]:
        limits = self.ctx.limits
        now = self.ctx.now_ms()
        out: list[dict[str, Any]] = []
        if endpoint is not None and endpoint.order_count and account is not None:
            out.extend(limits.order_status(account.account_id, now))
        out.extend(limits.weight_status(conn.peer, now))
        return out

    # -- authentication ---------------------------------------------------------------------------

    def _authenticate(
        self, conn: _ApiConnection, endpoint: Endpoint, params: dict[str, Any]
    ) -> AccountRef | None:
        security = endpoint.security
        if not security.needs_key:
            return None
        ctx = self.ctx
        permission = required_permission(security.value, endpoint.path)
        config = ctx.config
        if "apiKey" in params or "signature" in params or conn.session is None:
            if "apiKey" not in params:
                raise _mandatory("apiKey")
            return authenticate_ws(
                ctx.keys,
                params,
                permission=permission,
                now_ms=ctx.now_ms(),
                default_recv_window_ms=config.default_recv_window_ms,
                max_recv_window_ms=config.max_recv_window_ms,
            )
        # Logged-on session: no apiKey/signature, but the timing rule still applies.
        record = ctx.keys.get(conn.session.api_key)
        if record is None or (permission is not None and permission not in record.permissions):
            raise _Revoked()
        if not security.signed:
            return record.ref()
        timestamp = params.get("timestamp")
        recv_window = params.get("recvWindow")
        ts, window = check_timestamp(
            None if timestamp is None else _wire_value(timestamp),
            None if recv_window is None else _wire_value(recv_window),
            ctx.now_ms(),
            default_recv_window_ms=config.default_recv_window_ms,
            max_recv_window_ms=config.max_recv_window_ms,
        )
        return record.ref(ts, window)

    # -- WebSocket-only methods -------------------------------------------------------------------

    def _session_method(self, conn: _ApiConnection, method: str, params: dict[str, Any]) -> Any:
        ctx = self.ctx
        config = ctx.config
        if method == "session.logon":
            account = authenticate_ws(
                ctx.keys,
                params,
                permission=None,
                now_ms=ctx.now_ms(),
                default_recv_window_ms=config.default_recv_window_ms,
                max_recv_window_ms=config.max_recv_window_ms,
            )
            record = ctx.keys.get(account.api_key)
            assert record is not None
            if record.key_type != KEY_TYPE_ED25519:
                # NOTES.md §12: session.logon accepts Ed25519 keys only.
                raise EngineError(errorcodes.UNSUPPORTED_OPERATION)
            if conn.session is not None and conn.session.account_id != record.account_id:
                self._end_subscriptions(conn, logon_only=True)
            conn.session = record
            conn.authorized_since = ctx.now_ms()
            return self._status(conn)
        if method == "session.status":
            self._check_no_params(params)
            return self._status(conn)
        if method == "session.logout":
            self._check_no_params(params)
            self._logout(conn)
            return self._status(conn)
        if method == "session.subscriptions":
            self._check_no_params(params)
            return [{"subscriptionId": n} for n in sorted(conn.subscriptions)]
        if method == "userDataStream.subscribe":
            self._check_no_params(params)
            if conn.session is None:
                raise EngineError(errorcodes.REJECTED_MBX_KEY)
            if ctx.keys.get(conn.session.api_key) is None:
                raise _Revoked()
            return {"subscriptionId": self._subscribe(conn, conn.session.account_id, True)}
        if method == "userDataStream.subscribe.signature":
            account = authenticate_ws(
                ctx.keys,
                params,
                permission=None,
                now_ms=ctx.now_ms(),
                default_recv_window_ms=config.default_recv_window_ms,
                max_recv_window_ms=config.max_recv_window_ms,
            )
            return {"subscriptionId": self._subscribe(conn, account.account_id, False)}
        # userDataStream.unsubscribe
        unknown = set(params) - {"subscriptionId", "returnRateLimits"}
        if unknown:
            raise EngineError(errorcodes.TOO_MANY_PARAMETERS)
        if "subscriptionId" in params:
            raw = params["subscriptionId"]
            try:
                subscription_id = int(str(raw))
            except ValueError:
                error = errorcodes.ILLEGAL_CHARS
                raise EngineError(error, error.msg("subscriptionId", "^[0-9]{1,20}$")) from None
            subscription = conn.subscriptions.get(subscription_id)
            if subscription is None:
                raise EngineError(errorcodes.SUBSCRIPTION_INACTIVE)
            self._terminate(subscription)
        else:
            self._end_subscriptions(conn, logon_only=False)
        return {}

    @staticmethod
    def _check_no_params(params: dict[str, Any]) -> None:
        if set(params) - {"returnRateLimits"}:
            raise EngineError(errorcodes.TOO_MANY_PARAMETERS)

    def _status(self, conn: _ApiConnection) -> dict[str, Any]:
        return {
            "apiKey": conn.session.api_key if conn.session is not None else None,
            "authorizedSince": conn.authorized_since,
            "connectedSince": conn.connected_since,
            "returnRateLimits": conn.return_rate_limits,
            "serverTime": self.ctx.now_ms(),
            "userDataStream": bool(conn.subscriptions),
        }

    def _logout(self, conn: _ApiConnection) -> None:
        # NOTES.md §11: logging out ends the subscriptions made through the session.
        self._end_subscriptions(conn, logon_only=True)
        conn.session = None
        conn.authorized_since = None

    # -- user data stream -------------------------------------------------------------------------

    def _subscribe(self, conn: _ApiConnection, account_id: str, logon: bool) -> int:
        if any(s.account_id == account_id for s in conn.subscriptions.values()):
            # NOTES.md §11: one subscription per account per connection.
            raise EngineError(errorcodes.SUBSCRIPTION_ACTIVE)
        if (
            len(conn.subscriptions) >= MAX_ACTIVE_SUBSCRIPTIONS
            or conn.subscriptions_made >= MAX_LIFETIME_SUBSCRIPTIONS
        ):
            raise EngineError(errorcodes.MAXIMUM_SUBSCRIPTION_IDS)
        subscription_id = conn.subscriptions_made
        conn.subscriptions_made += 1
        subscription = _Subscription(conn, subscription_id, account_id, logon)
        conn.subscriptions[subscription_id] = subscription
        self._by_account.setdefault(account_id, []).append(subscription)
        return subscription_id

    def _end_subscriptions(self, conn: _ApiConnection, logon_only: bool) -> None:
        for subscription in list(conn.subscriptions.values()):
            if subscription.via_logon or not logon_only:
                self._terminate(subscription)

    def _terminate(self, subscription: _Subscription) -> None:
        """End one subscription with ``eventStreamTerminated`` (NOTES.md §11)."""
        event = payloads.dumps(payloads.event_stream_terminated(self.ctx.now_ms()))
        subscription.conn.send(subscription.prefix + event + b"}")
        self._drop_subscription(subscription)

    def _drop_subscription(self, subscription: _Subscription) -> None:
        conn = subscription.conn
        conn.subscriptions.pop(subscription.subscription_id, None)
        subscriptions = self._by_account.get(subscription.account_id)
        if subscriptions is not None:
            with contextlib.suppress(ValueError):
                subscriptions.remove(subscription)
            if not subscriptions:
                del self._by_account[subscription.account_id]

    def _on_event(self, event: object) -> None:
        if self._by_account:  # nobody subscribed: nothing to hand over
            super()._on_event(event)

    def _handle_event(self, event: object) -> None:
        if not isinstance(event, (OrderEvent, BalanceEvent, BalanceUpdateEvent)):
            return
        subscriptions = self._by_account.get(event.account_id)
        if not subscriptions:
            return
        raw = payloads.dumps(payloads.user_event(event))
        for subscription in tuple(subscriptions):
            subscription.conn.send(subscription.prefix + raw + b"}")


class _Revoked(Exception):
    """The session's key was deleted or lost a permission: end the session (401 -2015)."""


def _ws_exchange_info(info: Any) -> Any:
    """NOTES.md §3: the WebSocket API's exchangeInfo lists CONNECTIONS (300 per 5 minutes)
    where REST lists RAW_REQUESTS."""
    if not isinstance(info, dict) or not isinstance(info.get("rateLimits"), list):
        return info
    limits = []
    for limit in info["rateLimits"]:
        if limit.get("rateLimitType") == enums.RATE_LIMITER_RAW_REQUESTS:
            limit = {
                "rateLimitType": enums.RATE_LIMITER_CONNECTIONS,
                "interval": enums.RATE_LIMIT_INTERVAL_MINUTE,
                "intervalNum": 5,
                "limit": CONNECTIONS_PER_5_MINUTES,
            }
        limits.append(limit)
    return {**info, "rateLimits": limits}


def _reply_of(exc: EngineError) -> tuple[ErrorCode, str, int]:
    return exc.error, exc.message, exc.error.http_status
