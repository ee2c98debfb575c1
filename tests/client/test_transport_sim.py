"""Transport options: the seed's requests_params and proxy environment variables, for both
clients, against the local exchange."""

from __future__ import annotations

import socket

import pytest

from binance.exceptions import BinanceConnectionException

from .conftest import call, close, make_client


def _dead_proxy():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_proxy_environment_variables_are_honoured(kind, sim, monkeypatch):
    """HTTP_PROXY sends the request to the proxy (here: a closed port, so it fails), and
    NO_PROXY for the host sends it direct again."""
    monkeypatch.setenv("HTTP_PROXY", _dead_proxy())
    monkeypatch.setenv("http_proxy", _dead_proxy())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_client(kind, sim)
    try:
        with pytest.raises(BinanceConnectionException):
            await call(client, "ping")
    finally:
        await close(client)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = make_client(kind, sim)
    try:
        assert await call(client, "ping") == {}
    finally:
        await close(client)


@pytest.mark.parametrize("trust_env", [False, True])
async def test_a_callers_aiohttp_session_decides_on_environment_proxies(
    sim, monkeypatch, trust_env
):
    """An AsyncClient on the caller's aiohttp session follows that session's trust_env: with
    False, HTTP_PROXY is not used; with True, it is."""
    import aiohttp

    from binance import AsyncClient

    monkeypatch.setenv("HTTP_PROXY", _dead_proxy())
    monkeypatch.setenv("http_proxy", _dead_proxy())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with aiohttp.ClientSession(trust_env=trust_env) as session:
        client = AsyncClient(sim.api_key, sim.api_secret, base_url=sim.rest_url, session=session)
        if trust_env:
            with pytest.raises(BinanceConnectionException):
                await client.ping()
        else:
            assert await client.ping() == {}
        await client.close_connection()


async def test_requests_params_proxies_globally_and_per_call(kind, sim):
    """A proxy in the constructor's requests_params applies to every call; a call's own
    requests_params override it (the seed's two places)."""
    client = make_client(kind, sim, requests_params={"proxies": {"http": _dead_proxy()}})
    try:
        with pytest.raises(BinanceConnectionException):
            await call(client, "ping")
        direct = {"proxies": {"http": None}}
        assert await call(client, "ping", requests_params=direct) == {}
    finally:
        await close(client)


async def test_requests_params_headers_are_added_but_never_replace_ours(sim):
    """Extra headers from requests_params go out; the API key header stays ours."""
    from binance import Client

    client = Client(
        sim.api_key,
        sim.api_secret,
        {"headers": {"X-Extra": "1", "X-MBX-APIKEY": "wrong"}, "timeout": 5},
        base_url=sim.rest_url,
    )
    try:
        account = client.get_account()
        assert account["canTrade"]
    finally:
        client.close()
