"""What every ``binance`` sub-command shares: connection options, keys, errors, small parsers.

Connection options (`add_connection_options`) pick the exchange: Binance (default), Binance's
Spot testnet (``--testnet``), any host (``--base-url``/``--stream-url``/``--ws-api-url``, e.g. a
``binance sim`` started elsewhere; Binance's own REST hosts bring their stream hosts along) or an
embedded local exchange (``--sim``). Keys come from
``--api-key``/``--api-secret`` or the environment (``BINANCE_API_KEY``,
``BINANCE_API_SECRET``); they are never printed. `Connection` turns the parsed options into
clients, starting and stopping the embedded exchange when asked.

Exit statuses: 0 success, 1 failure (`CommandError`, an exchange error, no network), 2 bad
arguments (argparse's own, and `UsageError` raised after parsing), 130 interrupted.

Only the standard library is imported at module level: ``binance --help`` must stay fast. The
client, the simulator and ``rich`` are imported when a command runs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from binance.async_client import AsyncClient
    from binance.client import Client
    from binance.sim import LocalExchange

__all__ = [
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "DATA_API_URL",
    "DATA_STREAM_URL",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "Connection",
    "UsageError",
    "add_connection_options",
    "console",
    "derive_stream_urls",
    "format_ms",
    "parse_date",
    "parse_interval",
    "parse_symbol",
    "parse_symbols",
    "positive_float",
    "positive_int",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Environment variables read for keys when no flag gives them.
API_KEY_ENV = "BINANCE_API_KEY"
API_SECRET_ENV = "BINANCE_API_SECRET"

#: Seconds a command waits for an answer before calling the exchange unreachable.
DEFAULT_TIMEOUT_S = 10.0

#: Binance's public market-data hosts (NOTES.md section 1.1): no keys, market data only (REST:
#: aggTrades, avgPrice, depth, exchangeInfo, klines, ping, ticker*, time, trades, uiKlines).
DATA_API_URL = "https://data-api.binance.vision"
DATA_STREAM_URL = "wss://data-stream.binance.vision"

_SYMBOL_RE = re.compile(r"^[A-Z0-9-_.]{1,20}$")


class UsageError(Exception):
    """Arguments that parsed but make no sense (a bad date, a missing ``{symbol}``): exit 2."""


class CommandError(Exception):
    """A failure the user can act on, reported in one line without a traceback: exit 1."""


# -- argument types ----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0 (seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def parse_symbol(text: str) -> str:
    """argparse type: one symbol, upper-cased (``btcusdt`` -> ``BTCUSDT``)."""
    symbol = text.strip().upper()
    if not _SYMBOL_RE.match(symbol):
        raise argparse.ArgumentTypeError(f"not a symbol: {text!r} (e.g. BTCUSDT)")
    return symbol


def parse_symbols(text: str) -> list[str]:
    """argparse type: one symbol or a comma-separated list, upper-cased, without repeats."""
    out: list[str] = []
    for part in text.split(","):
        symbol = parse_symbol(part)
        if symbol not in out:
            out.append(symbol)
    return out


def parse_interval(text: str) -> str:
    """argparse type: a Binance kline interval (``1s``, ``1m`` ... ``1w``, ``1M``)."""
    from binance import enums

    if text not in enums.KLINE_INTERVALS:
        raise argparse.ArgumentTypeError(
            f"not a kline interval: {text!r} (one of {', '.join(enums.KLINE_INTERVALS)})"
        )
    return text


def parse_date(text: str, now_ms: Callable[[], int] | None = None) -> int:
    """A date in any of the seed's forms (``"1 Dec, 2017"``, ``"1 day ago UTC"``, ISO, ms).

    Raises:
        UsageError: the text is not a date (the message lists the accepted forms).
    """
    from binance.helpers import date_to_milliseconds

    try:
        return date_to_milliseconds(text, now_ms=now_ms)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def format_ms(ms: int) -> str:
    """``1512086400000`` -> ``2017-12-01 00:00:00 UTC`` (milliseconds shown when not zero)."""
    moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + " UTC"


# -- output ------------------------------------------------------------------------------------


def console(*, stderr: bool = False, quiet: bool = False) -> Console:
    """A ``rich`` console on stdout (or stderr); ``quiet`` discards everything."""
    from rich.console import Console

    # soft_wrap: long lines (paths, messages) are not cut at the terminal's width.
    return Console(stderr=stderr, quiet=quiet, highlight=False, soft_wrap=True)


# -- connection --------------------------------------------------------------------------------


def add_connection_options(
    parser: argparse.ArgumentParser, *, keys: bool = True, default_host: str | None = None
) -> None:
    """Add ``--sim``, ``--sim-seed``, ``--testnet``, ``--base-url``, ``--stream-url``,
    ``--ws-api-url``, ``--timeout`` and (with ``keys``) ``--api-key``/``--api-secret``.

    ``default_host`` replaces "Binance, https://api.binance.com" in the group's description,
    for a command that picks another host when none is given."""
    group = parser.add_argument_group(
        "exchange",
        f"Which exchange to talk to (default: {default_host or 'Binance, https://api.binance.com'}).",
    )
    group.add_argument(
        "--sim",
        action="store_true",
        help="start a local exchange (binance.sim) inside this command and use it",
    )
    group.add_argument(
        "--sim-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the local exchange started by --sim (default 0)",
    )
    group.add_argument("--testnet", action="store_true", help="use Binance's Spot testnet")
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="REST host, e.g. the rest_url `binance sim` prints (http://127.0.0.1:PORT)",
    )
    group.add_argument(
        "--stream-url",
        metavar="URL",
        help="market stream host (default: Binance's, or derived from --base-url)",
    )
    group.add_argument(
        "--ws-api-url",
        metavar="URL",
        help="WebSocket API URL (default: Binance's, or derived from --base-url)",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"seconds to wait for each answer (default {DEFAULT_TIMEOUT_S:g})",
    )
    if keys:
        key_group = parser.add_argument_group(
            "keys",
            f"Default: the environment variables {API_KEY_ENV} and {API_SECRET_ENV} (safer "
            "than flags, which other users can see in the process list); with --sim, the "
            "local exchange's own key. Public data (prices, books, klines) needs no key. Keys "
            "are never printed.",
        )
        key_group.add_argument("--api-key", metavar="KEY", help="API key")
        key_group.add_argument("--api-secret", metavar="SECRET", help="HMAC secret of the key")


def _binance_hosts() -> dict[str, tuple[str, str]]:
    """Binance's own REST hosts -> their (stream, WebSocket API) URLs (NOTES.md section 1.1)."""
    from binance import client as c

    spot = (c.STREAM_URL, c.WS_API_URL)
    testnet = (c.TESTNET_STREAM_URL, c.TESTNET_WS_API_URL)
    hosts = {f"{name}.binance.com": spot for name in ("api", "api-gcp", "api1", "api2", "api3")}
    hosts["api4.binance.com"] = spot
    # Market data only: no WebSocket API there, so Binance's main one.
    hosts["data-api.binance.vision"] = (DATA_STREAM_URL, c.WS_API_URL)
    hosts["testnet.binance.vision"] = hosts["api1.testnet.binance.vision"] = testnet
    return hosts


def derive_stream_urls(base_url: str) -> tuple[str, str]:
    """The stream and WebSocket API URLs that go with a REST host.

    Binance's own REST hosts map to Binance's stream hosts (``https://api.binance.com`` ->
    ``wss://stream.binance.com:9443``; ``https://data-api.binance.vision`` ->
    ``wss://data-stream.binance.vision``). Any other host is taken to serve all three, as
    ``binance sim`` does: ``http://h:p`` -> ``ws://h:p`` and ``ws://h:p/ws-api/v3`` (https ->
    wss)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url must be an http(s) URL, not {base_url!r}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"--base-url has a bad port: {base_url!r}") from None
    # By host name: "https://api.binance.com:443" is Binance's host too.
    default_port = port in (None, 443)
    known = (
        _binance_hosts().get((parts.hostname or "").lower())
        if parts.scheme == "https" and default_port
        else None
    )
    if known is not None:
        return known
    scheme = "wss" if parts.scheme == "https" else "ws"
    stream = urlunsplit((scheme, parts.netloc, "", "", ""))
    return stream, stream + "/ws-api/v3"


def _check_connection_args(args: argparse.Namespace) -> None:
    if args.sim and (args.testnet or args.base_url or args.stream_url or args.ws_api_url):
        raise UsageError("--sim starts its own exchange: drop --testnet and the --*-url options")
    if args.testnet and args.base_url:
        raise UsageError("--testnet and --base-url both choose the host: use one")
    if (args.stream_url or args.ws_api_url) and not args.base_url:
        raise UsageError("--stream-url/--ws-api-url need --base-url (REST host) as well")
    for name in ("stream_url", "ws_api_url"):
        url = getattr(args, name)
        if url and urlsplit(url).scheme not in ("ws", "wss"):
            raise UsageError(f"--{name.replace('_', '-')} must be a ws:// or wss:// URL")


class Connection:
    """The exchange a command talks to, from the parsed connection options.

    ``with Connection(args) as conn:`` starts the embedded exchange for ``--sim`` (and stops it
    on exit) and closes every client it made. Clients are made on demand: `client` (sync) and
    `async_client`.

    Args:
        args: parsed options from `add_connection_options`.
        need_keys: raise `UsageError` when no key is configured.
    """

    def __init__(self, args: argparse.Namespace, *, need_keys: bool = False) -> None:
        _check_connection_args(args)
        self._args = args
        self._need_keys = need_keys
        self.exchange: LocalExchange | None = None
        """The embedded exchange (``--sim``), once started."""
        self.rest_url: str | None = args.base_url
        self.stream_url: str | None = args.stream_url
        self.ws_api_url: str | None = args.ws_api_url
        if self.rest_url is not None:
            derived = derive_stream_urls(self.rest_url)
            self.stream_url = self.stream_url or derived[0]
            self.ws_api_url = self.ws_api_url or derived[1]
        self.timeout_s: float = args.timeout
        flag_key = getattr(args, "api_key", None)
        flag_secret = getattr(args, "api_secret", None)
        if flag_key or flag_secret or args.sim:
            # Flags win; with --sim, keys in the environment are meant for a real exchange.
            self._api_key, self._api_secret = flag_key, flag_secret
        else:
            self._api_key = os.environ.get(API_KEY_ENV)
            self._api_secret = os.environ.get(API_SECRET_ENV)
        self._clients: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Connection:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        # `binance.cli.main` names the exchange in error messages.
        self._args._where = self.label
        return self

    def _start(self) -> None:
        if self._args.sim:
            from binance.sim import LocalExchange

            self.exchange = LocalExchange(self._args.sim_seed).start()
            self.rest_url = self.exchange.rest_url
            self.stream_url = self.exchange.stream_url
            self.ws_api_url = self.exchange.ws_api_url
            if not self._api_key:
                self._api_key = self.exchange.api_key
                self._api_secret = self.exchange.api_secret
        if self._need_keys and not (self._api_key and self._api_secret):
            raise UsageError(
                f"this command needs an API key: set {API_KEY_ENV} and {API_SECRET_ENV} "
                "(or pass --api-key/--api-secret, or use --sim)"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the clients made here and stop the embedded exchange (idempotent)."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.exchange is not None:
            self.exchange.close()
            self.exchange = None

    # -- what the commands use -------------------------------------------------------------------

    @property
    def has_keys(self) -> bool:
        """True when an API key and secret are configured."""
        return bool(self._api_key and self._api_secret)

    @property
    def label(self) -> str:
        """Where we connect, for messages: the REST URL, marked when local or testnet."""
        from binance.client import API_URL, TESTNET_API_URL

        if self.exchange is not None:
            return f"local exchange {self.exchange.rest_url}"
        if self.rest_url:
            return self.rest_url
        return TESTNET_API_URL if self._args.testnet else API_URL

    def _kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.rest_url,
            "stream_url": self.stream_url,
            "ws_api_url": self.ws_api_url,
            "testnet": bool(self._args.testnet),
        }

    def client(self, **kwargs: Any) -> Client:
        """A new sync `Client` for this exchange (closed with the connection)."""
        from binance.client import Client

        params = {"timeout": self.timeout_s}
        client = Client(self._api_key, self._api_secret, params, **self._kwargs(), **kwargs)
        self._clients.append(client)
        return client

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A new `AsyncClient` for this exchange; close it (``await client.close()``) on the
        loop that used it."""
        from binance.async_client import AsyncClient

        params = {"timeout": self.timeout_s}
        return AsyncClient(self._api_key, self._api_secret, params, **self._kwargs(), **kwargs)


def describe_error(exc: BaseException, where: str, *, hint: bool = True) -> str | None:
    """One line for an exchange error, or None when ``exc`` is not one of ours.

    Transport errors say the exchange is unreachable and how to fix it; API errors show
    Binance's code and message. Nothing secret is included (the exceptions carry redacted
    requests only).
    """
    from binance import exceptions as X

    if isinstance(exc, X.BinanceTransportException):
        text = f"cannot reach {where} ({exc.message})"
        if hint:
            text += "; check the network, or pass --sim to use a local exchange"
        return text
    if isinstance(exc, X.BinanceRateLimitException):
        wait = f"; retry after {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return f"{where} refused: rate limit (HTTP {exc.status_code}, {exc.code}){wait}"
    if isinstance(exc, X.BinanceAPIException):
        return f"{where} answered error {exc.code}: {exc.message}"
    if isinstance(exc, X.BinanceRequestException):
        return f"{where} sent an unreadable answer: {exc.message}"
    if isinstance(exc, X.BinanceError):
        return str(exc)
    if type(exc).__module__.startswith("binance._streams"):
        # ReconnectError (streams lost for good) or ControlError (a refused subscription).
        return f"stream from {where} failed: {exc}"
    return None


def write_err(prog: str, message: str) -> None:
    """``binance <cmd>: error: message`` on stderr."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.stderr.flush()
