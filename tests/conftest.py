"""Fixtures shared by the whole suite.

Hygiene: every test must leave no thread behind, and no simulator error may be logged. Tests that
need the local exchange use the ``sim`` fixture below (one LocalExchange on 127.0.0.1 for the
session); users' own suites get the same from the ``binance_sim`` fixture of
``binance.sim.pytest_plugin``.

Hypothesis: CI runs derandomized (the same examples every run, so a red CI is reproducible);
locally examples vary. Neither profile has a deadline: speed lives in benchmarks/.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest
from hypothesis import settings

from waiting import TIMEOUT_SCALE  # every deadline's scale (BINANCE_TEST_TIMEOUT_SCALE)

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a thread running after it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5 * TIMEOUT_SCALE
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


# -- the local exchange (binance.sim) -------------------------------------------------------------

#: Loggers whose ERROR records mean a simulator bug (the REST catch-all logs there).
_SIM_ERROR_LOGGERS = ("binance.sim", "aiohttp.server", "aiohttp.web")


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_simulator_errors():
    """Fail a test during which the simulator logged an error (a bug turned into -1000)."""
    handler = _ErrorRecords()
    loggers = [logging.getLogger(name) for name in _SIM_ERROR_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    assert not handler.records, "simulator logged errors:\n" + "\n".join(
        handler.format(r) for r in handler.records
    )


@pytest.fixture(scope="session")
def sim():
    """One LocalExchange on 127.0.0.1 (free port, fixed seed) for the whole session.

    Every test talks to it from 127.0.0.1, so the per-IP request-weight limits are raised out of
    the way (a whole suite within one minute would otherwise hit 6000); tests of the limits
    start their own LocalExchange with small ones. ORDERS limits stay Binance's (per account).
    """
    from binance.sim import LocalExchange

    with LocalExchange(
        seed=20180101, request_weight_per_minute=10_000_000, raw_requests_per_5m=10_000_000
    ) as exchange:
        yield exchange


@pytest.fixture
def account(sim):
    """A fresh funded account with an HMAC key (read, trade, withdraw); faults reset after."""
    credentials = sim.new_account()
    try:
        yield credentials
    finally:
        sim.faults.reset()


class SimRest:
    """Raw HTTP to a LocalExchange with `requests` (not our client): sign, send, return replies.

    ``signed()`` builds the payload exactly as sent: ``query`` pairs go to the query string,
    ``body`` pairs to a form body, and the signature is appended where ``signature_in`` says.
    Values are percent-encoded before signing (NOTES.md §2.1).
    """

    def __init__(self, base_url: str) -> None:
        import requests

        self.base_url = base_url
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, params=None, headers=None, **kw):
        return self.session.get(self.base_url + path, params=params, headers=headers, **kw)

    @staticmethod
    def encode(pairs) -> str:
        from urllib.parse import quote

        items = pairs.items() if hasattr(pairs, "items") else pairs
        return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in items)

    @staticmethod
    def sign(credentials, payload: bytes) -> str:
        import base64
        import hashlib
        import hmac

        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        key_type = _field(credentials, "key_type")
        if key_type == "HMAC":
            secret = _field(credentials, "api_secret")
            return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        pem = _field(credentials, "private_key").encode()
        key = serialization.load_pem_private_key(pem, password=None)
        if key_type == "RSA":
            raw = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            raw = key.sign(payload)
        return base64.b64encode(raw).decode()

    def signed(
        self,
        method: str,
        path: str,
        credentials,
        query=None,
        body=None,
        *,
        timestamp: int | None = None,
        signature_in: str = "query",
        api_key: str | None = None,
        signature: str | None = None,
        **kw,
    ):
        """Send a signed request; ``timestamp`` defaults to now and goes last in the query
        (or the body when there is no query)."""
        from urllib.parse import quote

        query = dict(query or {})
        body = dict(body) if body is not None else None
        stamp = {"timestamp": int(time.time() * 1000) if timestamp is None else timestamp}
        if body is not None and not query:
            body.update(stamp)
        else:
            query.update(stamp)
        q = self.encode(query)
        b = self.encode(body) if body is not None else ""
        sig = signature if signature is not None else self.sign(credentials, (q + b).encode())
        pair = "signature=" + quote(sig, safe="")
        if signature_in == "body":
            b = b + "&" + pair if b else pair
        else:
            q = q + "&" + pair if q else pair
        key = api_key if api_key is not None else _field(credentials, "api_key")
        headers = {"X-MBX-APIKEY": key}
        if b:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = self.base_url + path + ("?" + q if q else "")
        return self.session.request(method, url, data=b or None, headers=headers, **kw)


def _field(credentials, name: str):
    return credentials[name] if isinstance(credentials, dict) else getattr(credentials, name)


@pytest.fixture
def sim_rest(sim):
    """A `SimRest` for the session's LocalExchange."""
    rest = SimRest(sim.rest_url)
    try:
        yield rest
    finally:
        rest.close()


@pytest.fixture
def make_sim_rest():
    """A factory of `SimRest` for any LocalExchange URL (closed after the test)."""
    made: list[SimRest] = []

    def make(base_url: str) -> SimRest:
        rest = SimRest(base_url)
        made.append(rest)
        return rest

    try:
        yield make
    finally:
        for rest in made:
            rest.close()
