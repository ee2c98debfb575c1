"""LocalExchange lifecycle: background thread vs. caller's loop, clean shutdown, settings."""

from __future__ import annotations

import threading

import aiohttp
import pytest
import requests

from binance.sim import LocalExchange
from waiting import TIMEOUT_SCALE as SCALE


def test_thread_mode_starts_serves_and_joins():
    """`with` serves from a background thread and leaves no thread behind."""
    before = set(threading.enumerate())
    with LocalExchange(seed=2, background_market=False) as ex:
        assert ex.rest_url.startswith("http://127.0.0.1:") and not ex.rest_url.endswith("/")
        assert ex.stream_url == ex.rest_url.replace("http://", "ws://")
        assert ex.ws_api_url == ex.stream_url + "/ws-api/v3"
        assert requests.get(ex.rest_url + "/api/v3/ping", timeout=10 * SCALE).json() == {}
        assert set(threading.enumerate()) - before
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive()]
    with pytest.raises(requests.ConnectionError):
        requests.get(ex.rest_url + "/api/v3/ping", timeout=5 * SCALE)


async def test_async_mode_runs_on_the_callers_loop():
    """`async with` serves on the running loop, without a thread."""
    before = set(threading.enumerate())
    async with LocalExchange(seed=2, background_market=False) as ex:
        assert set(threading.enumerate()) == before
        async with aiohttp.ClientSession() as session:
            async with session.get(ex.rest_url + "/api/v3/time") as reply:
                assert reply.status == 200
                assert "serverTime" in await reply.json()
        credentials = ex.new_account({"USDT": "10"})
        assert ex.exchange.balance(credentials.account_id, "USDT")[0] == 10


def test_settings_are_split_between_server_and_engine():
    """Server settings land in SimConfig, engine ones in ExchangeConfig; unknown ones fail."""
    ex = LocalExchange(seed=3, request_weight_per_minute=42, background_market=False)
    assert ex.config.request_weight_per_minute == 42
    assert ex.limits.rate_limits()[0]["limit"] == 42
    assert ex.exchange.config.background_market is False
    with pytest.raises(TypeError, match="bogus"):
        LocalExchange(bogus=1)


def test_ws_settings_are_accepted_by_local_exchange():
    """``ws_<field>`` settings reach both WebSocket servers; an unknown one fails at once."""
    ex = LocalExchange(seed=3, ws_lifetime_s=5, ws_shutdown_notice_s=1, background_market=False)
    assert ex.config.ws.lifetime_s == 5 and ex.config.ws.shutdown_notice_s == 1
    with ex:
        adapters = [a for a in ex.server.adapters if hasattr(a, "settings")]
        assert len(adapters) == 2  # market streams and the WebSocket API
        for adapter in adapters:
            assert adapter.settings.lifetime_s == 5 and adapter.settings.shutdown_notice_s == 1
            assert adapter.settings.ping_interval_s == 20.0  # the rest stay Binance's
    with pytest.raises(TypeError, match="ws_lifetime"):
        LocalExchange(ws_lifetime=5)


def test_new_account_credentials_and_repr(sim):
    """new_account gives a funded account; repr never shows the secret."""
    creds = sim.new_account({"BTC": "1.5"}, key_type="RSA", permissions=("read",))
    assert creds.key_type == "RSA" and creds.permissions == ("read",)
    assert creds.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert creds.private_key not in repr(creds)
    assert sim.call(sim.exchange.balance, creds.account_id, "BTC")[0] == 1.5
    assert creds.as_dict()["api_key"] == creds.api_key
    secret = sim.api_secret
    assert secret not in repr(sim) and secret not in repr(sim.keys[0:0])
