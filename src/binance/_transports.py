"""Send one prepared request with requests (sync) or aiohttp (async); map their errors to ours.

A transport knows nothing of Binance: it sends the exact bytes of a `PreparedRequest` (the URL is
already percent-encoded and signed, so neither library may re-encode it) and returns a `Reply`
with the status, the headers the governor reads and the raw body. Connection failures and
timeouts become `BinanceConnectionException` / `BinanceTimeoutException` (``raise ... from exc``,
as httpx does at its boundary), with ``sent=False`` when the request surely never left.

The seed's ``requests_params`` (``proxies``, ``verify``, ``timeout``, ``cert``...) apply to every
call and can be overridden per call; proxy environment variables keep working (requests and
aiohttp both read them). Signatures are scrubbed from the library exceptions we chain, so a
traceback never shows one, and from urllib3's DEBUG log records (which show request URLs).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from binance import __version__
from binance._core import PreparedRequest, Reply, keep_headers
from binance.exceptions import (
    BinanceConnectionException,
    BinanceTimeoutException,
    BinanceTransportException,
)

__all__ = ["RequestsTransport", "AiohttpTransport", "DEFAULT_TIMEOUT_S"]

#: Seconds to wait for an answer when the caller gave no ``timeout``.
DEFAULT_TIMEOUT_S = 10.0
_USER_AGENT = f"binance-python/{__version__}"
#: requests_params our fast path passes straight to ``Session.send``.
_FAST_OPTIONS = frozenset({"timeout", "verify", "cert"})
_SIGNATURE_RE = re.compile(r"(signature=)[^&\s'\"]+")


def _scrub_text(value: Any) -> Any:
    if isinstance(value, str) and "signature=" in value:
        return _SIGNATURE_RE.sub(r"\1<redacted>", value)
    return value


def _scrub(exc: BaseException | None, depth: int = 0) -> None:
    """Remove signatures from an exception chain's messages (they embed request URLs)."""
    seen = set()
    while exc is not None and id(exc) not in seen and depth < 10:
        seen.add(id(exc))
        try:
            exc.args = tuple(_scrub_text(arg) for arg in exc.args)
            for arg in exc.args:
                if isinstance(arg, BaseException):
                    _scrub(arg, depth + 1)
            for name in ("url", "reason", "strerror"):
                value = getattr(exc, name, None)
                if isinstance(value, str):
                    setattr(exc, name, _scrub_text(value))
                elif isinstance(value, BaseException):
                    _scrub(value, depth + 1)
        except (AttributeError, TypeError):
            pass
        exc = exc.__cause__ or exc.__context__
        depth += 1


class _RedactSignatures(logging.Filter):
    """Takes signatures out of urllib3's log records.

    At DEBUG, urllib3 logs every request line, and a signed GET carries its signature in the
    query string (NOTES.md §2.1); secrets and signatures never reach logs (STYLE.md §6). The
    record is only rendered here when the logger is enabled for its level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        if "signature=" in message:
            record.msg, record.args = _scrub_text(message), ()
        return True


#: The urllib3 loggers whose records may carry a request URL (request lines, retries,
#: redirects). A logger's filters see only the records logged on it, so each gets one.
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager")


def _redact_urllib3_logs() -> None:
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSignatures) for f in logger.filters):
            logger.addFilter(_RedactSignatures())


_redact_urllib3_logs()


def _what(request: PreparedRequest) -> str:
    return f"{request.method} {request.redacted_url()}"


class RequestsTransport:
    """Sync transport on a ``requests.Session`` (connection pooling, proxies from env).

    Args:
        requests_params: the seed's options for every call (``timeout``, ``proxies``,
            ``verify``...).
        session: a session to use instead of our own (it is not closed by `close`).
        pool_size: connections kept per host (threads sharing a client share the pool).
    """

    def __init__(
        self,
        requests_params: Mapping[str, Any] | None = None,
        *,
        session: requests.Session | None = None,
        pool_size: int = 32,
    ) -> None:
        self.requests_params = dict(requests_params or {})
        self._own = session is None
        self.session = session or requests.Session()
        if self._own:
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            self.session.headers.update({"Accept": "application/json", "User-Agent": _USER_AGENT})
        # Per host: the session's proxies/verify/cert merged with the environment's
        # (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...). requests recomputes this on every
        # call by scanning os.environ, a fifth of its CPU per request; we do it once per host.
        self._settings: dict[str, dict[str, Any]] = {}

    def _send_settings(self, url: str) -> dict[str, Any]:
        host = url[: url.find("/", url.find("//") + 2)] if url.count("/") > 2 else url
        settings = self._settings.get(host)
        if settings is None:
            settings = dict(self.session.merge_environment_settings(host, {}, None, None, None))
            settings["timeout"] = DEFAULT_TIMEOUT_S
            settings["allow_redirects"] = False
            self._settings[host] = settings
        return settings

    def _request(self, request: PreparedRequest, kwargs: dict[str, Any]) -> Any:
        session = self.session
        if not self._own or session.auth is not None or not kwargs.keys() <= _FAST_OPTIONS:
            # A session of the caller's (auth, hooks, cookies...) or options beyond timeout,
            # verify and cert (proxies, headers...): take requests' full path so nothing of
            # theirs is skipped. Our headers (the API key) win over theirs.
            extra = dict(kwargs)
            merged = {**(extra.pop("headers", None) or {}), **request.headers}
            extra.pop("data", None)
            return session.request(
                request.method, request.url, data=request.body, headers=merged, **extra
            )
        # Our own session: the request is already encoded and signed, so build requests'
        # PreparedRequest directly (no re-parsing, no cookie jar) and send it.
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        headers: Any = requests.structures.CaseInsensitiveDict(session.headers)
        headers.update(request.headers)
        body = request.body
        if body is not None:
            headers["Content-Length"] = str(len(body))
        elif request.method not in ("GET", "HEAD"):
            headers["Content-Length"] = "0"
        prepared.headers = headers
        prepared.body = body
        prepared.hooks = {"response": []}
        return session.send(prepared, **{**self._send_settings(request.url), **kwargs})

    def send(self, request: PreparedRequest) -> Reply:
        """Send ``request``; return the reply or raise a `BinanceTransportException`."""
        kwargs = self.requests_params
        if request.options:
            kwargs = {**kwargs, **request.options}
        if "timeout" not in kwargs:
            kwargs = {**kwargs, "timeout": DEFAULT_TIMEOUT_S}
        try:
            response = self._request(request, kwargs)
        except requests.ConnectTimeout as exc:
            _scrub(exc)
            raise BinanceTimeoutException(
                f"connect timeout: {_what(request)}", request=request, sent=False
            ) from exc
        except requests.Timeout as exc:
            _scrub(exc)
            raise BinanceTimeoutException(
                f"no answer in time: {_what(request)}", request=request
            ) from exc
        except requests.ConnectionError as exc:
            _scrub(exc)
            refused = "NewConnectionError" in repr(exc.args) or "refused" in str(exc).lower()
            raise BinanceConnectionException(
                f"connection failed: {_what(request)}",
                request=request,
                sent=False if refused else None,
            ) from exc
        except requests.RequestException as exc:
            _scrub(exc)
            raise BinanceTransportException(
                f"{type(exc).__name__}: {_what(request)}", request=request
            ) from exc
        return Reply(response.status_code, keep_headers(response.headers.items()), response.content)

    def close(self) -> None:
        if self._own:
            self.session.close()

    def __repr__(self) -> str:
        return "RequestsTransport()"


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``<scheme>_proxy``, minus ``no_proxy``),
    as requests and ``aiohttp``'s ``trust_env`` read them."""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return proxy


class AiohttpTransport:
    """Async transport on an ``aiohttp.ClientSession``, created lazily inside the running loop.

    The seed's ``requests_params`` are translated: ``timeout`` (seconds), ``proxies``
    (``{"https": url}``) or ``proxy``, ``verify=False`` (no TLS verification). Proxy environment
    variables apply (``HTTPS_PROXY``, ``NO_PROXY``...), read once per host: aiohttp's own
    ``trust_env`` would look them up, and ``~/.netrc``, in a worker thread on every request,
    which costs two thread hand-offs per call (so proxy credentials come from the proxy URL,
    not from ``~/.netrc``). A caller's ``session`` gets them only if it was made with
    ``trust_env=True``.

    Args:
        requests_params: options for every call.
        session: an ``aiohttp.ClientSession`` to use instead of our own (not closed by us).
        limit: maximum simultaneous connections.
    """

    def __init__(
        self,
        requests_params: Mapping[str, Any] | None = None,
        *,
        session: Any = None,
        limit: int = 100,
    ) -> None:
        self.requests_params = dict(requests_params or {})
        self._own = session is None
        self.session = session
        self._limit = limit
        self._default_options: dict[str, dict[str, Any]] = {}

    def _session(self) -> Any:
        if self.session is None or self.session.closed:
            import aiohttp

            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                headers={"Accept": "application/json", "User-Agent": _USER_AGENT},
            )
            self._own = True
        return self.session

    def _options(self, request: PreparedRequest) -> dict[str, Any]:
        if not request.options:
            origin = request.url[: request.url.find("/", 8)]  # scheme://host[:port]
            cached = self._default_options.get(origin)
            if cached is None:
                cached = self._default_options[origin] = self._translate(request, {})
            return cached
        return self._translate(request, request.options)

    def _translate(self, request: PreparedRequest, extra: Mapping[str, Any]) -> dict[str, Any]:
        import aiohttp

        params = {**self.requests_params, **extra}
        out: dict[str, Any] = {}
        timeout = params.get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, tuple):
            timeout = sum(t for t in timeout if t)
        out["timeout"] = aiohttp.ClientTimeout(total=timeout)
        proxies = params.get("proxies")
        scheme = request.url.split(":", 1)[0]
        if "proxy" in params:
            proxy = params["proxy"]
        elif isinstance(proxies, Mapping) and scheme in proxies:
            proxy = proxies[scheme]  # None: direct, as in requests
        elif self._own or self.session.trust_env:
            # Our session reads the environment (once per host, see the class docstring); a
            # caller's session made with trust_env=False keeps to itself, as before.
            proxy = _environment_proxy(request.url)
        else:
            proxy = None
        if proxy:
            out["proxy"] = proxy
        if params.get("verify") is False:
            out["ssl"] = False
        return out

    async def send(self, request: PreparedRequest) -> Reply:
        """Send ``request``; return the reply or raise a `BinanceTransportException`."""
        import aiohttp
        from yarl import URL

        session = self._session()
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),  # already encoded and signed: keep the bytes
                data=request.body,
                headers=request.headers,
                **self._options(request),
            ) as response:
                body = await response.read()
                return Reply(response.status, keep_headers(response.headers.items()), body)
        except (asyncio.TimeoutError, TimeoutError) as exc:
            _scrub(exc)
            raise BinanceTimeoutException(
                f"no answer in time: {_what(request)}", request=request
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            _scrub(exc)
            raise BinanceConnectionException(
                f"connection failed: {_what(request)}", request=request, sent=False
            ) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            _scrub(exc)
            raise BinanceConnectionException(
                f"connection lost: {_what(request)}", request=request
            ) from exc
        except aiohttp.ClientError as exc:
            _scrub(exc)
            raise BinanceTransportException(
                f"{type(exc).__name__}: {_what(request)}", request=request
            ) from exc

    async def close(self) -> None:
        if self._own and self.session is not None and not self.session.closed:
            await self.session.close()

    def __repr__(self) -> str:
        return "AiohttpTransport()"
