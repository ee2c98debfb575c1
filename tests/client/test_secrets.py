"""Secrets never leak: after an error, no secret shows in the exception, the client or the logs.

For each key type (HMAC, RSA, Ed25519) and both clients, three errors are provoked at the local
exchange: a bad signature (-1022), an unknown API key (401, -2015) and a timeout (the
simulator's latency fault). Then neither the API secret or private key, nor the request's
signature, nor the API key may appear in ``str(exc)``, ``repr(exc)``, the formatted traceback
(causes included), ``repr(client)`` or any log record of the client's side captured at DEBUG
(urllib3, aiohttp and ours; the simulator's own server-side records are not the client's).
STYLE.md §6: redact the signature, ``X-MBX-APIKEY`` and keys.
"""

from __future__ import annotations

import logging
import re
import secrets
import traceback
import urllib.parse
from typing import Any

import pytest

from binance import errorcodes
from binance.async_client import AsyncClient
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceError, BinanceTimeoutException

from .conftest import call, close

#: Loggers of the simulator's server side (it runs in this process); everything else is ours
#: or a library the client uses.
_SERVER_SIDE = ("binance.sim", "aiohttp.access", "aiohttp.server", "aiohttp.web")

KEY_TYPES = ["HMAC", "RSA", "Ed25519"]
FAULTS = ["bad-signature", "unknown-key", "timeout"]


def _secret_parts(credentials: Any) -> list[str]:
    """The secret, or every line of the private key's PEM body (a line alone is a leak)."""
    if credentials.key_type == "HMAC":
        return [credentials.api_secret]
    lines = credentials.private_key.strip().splitlines()
    return [line for line in lines if not line.startswith("-----") and len(line) >= 16]


def _signature(request: Any) -> str:
    """The signature the request carried (its URL or body), read from the request object."""
    for text in (request.url.partition("?")[2], (request.body or b"").decode()):
        values = urllib.parse.parse_qs(text).get("signature")
        if values:
            return values[0]
    raise AssertionError(f"no signature in {request!r}")


def _client_logs(caplog: Any) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record)
        for record in caplog.records
        if not record.name.startswith(_SERVER_SIDE)
    )


def _client(kind: str, sim: Any, api_key: str, signing: Any) -> Any:
    """A client sending ``api_key`` and signing with ``signing``'s secret or private key."""
    cls = Client if kind == "sync" else AsyncClient
    return cls(api_key, signing.api_secret, base_url=sim.rest_url, private_key=signing.private_key)


async def _provoke(
    fault: str, kind: str, sim: Any, credentials: Any
) -> tuple[Any, BinanceError, Any]:
    """Make the error; return the client used, the exception and the signing credentials."""
    signing = credentials
    if fault == "bad-signature":
        # The key is right; the signing secret is another account's, of the same type.
        signing = sim.new_account(key_type=credentials.key_type)
        client = _client(kind, sim, credentials.api_key, signing)
    elif fault == "unknown-key":
        client = _client(kind, sim, secrets.token_hex(32), credentials)
    else:
        client = _client(kind, sim, credentials.api_key, credentials)
    try:
        if fault == "timeout":
            await call(client, "get_account")  # the clock is measured before the slow call
            sim.faults.set_latency(1500, path="/api/v3/account")
            with pytest.raises(BinanceTimeoutException) as info:
                await call(client, "get_account", requests_params={"timeout": 0.3})
        else:
            expected = {
                "bad-signature": errorcodes.INVALID_SIGNATURE,
                "unknown-key": errorcodes.REJECTED_MBX_KEY,
            }[fault]
            with pytest.raises(BinanceAPIException) as info:
                await call(client, "get_account")
            assert (info.value.code, info.value.status_code) == (
                expected.code,
                expected.http_status,
            )
        return client, info.value, signing
    except BaseException:
        await close(client)
        raise


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("key_type", KEY_TYPES)
async def test_no_secret_in_errors_reprs_or_logs(kind, sim, key_type, fault, caplog):
    """After the error, no secret, signature or API key in the exception, client or logs."""
    caplog.set_level(logging.DEBUG)
    credentials = sim.new_account(key_type=key_type)
    try:
        client, exc, signing = await _provoke(fault, kind, sim, credentials)
    finally:
        sim.faults.reset()
    try:
        api_key = client.API_KEY
        signature = _signature(exc.request)
        forbidden = {
            "API key": [api_key],
            "secret": _secret_parts(credentials) + _secret_parts(signing),
            "signature": [signature, urllib.parse.quote(signature, safe="")],
        }
        texts = {
            "str(exc)": str(exc),
            "repr(exc)": repr(exc),
            "traceback": "".join(traceback.format_exception(exc)),
            "repr(client)": repr(client),
            "logs": _client_logs(caplog),
        }
        if kind == "sync":  # urllib3 logs each request line at DEBUG: the capture works
            assert "/api/v3/account?" in texts["logs"]
        for where, text in texts.items():
            for what, values in forbidden.items():
                assert not any(v in text for v in values), f"{what} in {where}:\n{text}"
            # Whatever the signature's value, a signature= in text is always redacted.
            assert re.findall(r"signature=(?!<redacted>)", text) == [], f"{where}: {text}"
    finally:
        await close(client)
