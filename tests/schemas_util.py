"""Validate JSON payloads against the response schemas of Binance's official OpenAPI spec.

``validate_response("GET", "/api/v3/depth", payload)`` checks ``payload`` against the schema
``shared/binance-api/spot_api.yaml`` gives for that operation's response (status 200 unless
told), and fails the test with the JSON path of the first problem. Import it in any test as
``from schemas_util import validate_response``: pytest puts ``tests/`` on ``sys.path`` because
``tests/`` has a ``conftest.py`` and no ``__init__.py`` (rootdir-based "prepend" import mode).

The spec is OpenAPI 3.0: its schemas are translated to JSON Schema draft 4 once (``$ref``
inlined, ``nullable`` turned into a ``"null"`` type) and cached. A few places where the spec
contradicts Binance's documented payloads are corrected in ``_ERRATA``, each with its reason;
everything else is checked as the spec says.

Binance's example payloads (``examples/`` beside the spec: REST at the top, stream and WebSocket
API ones under ``ws/``) are read through ``example_path`` and ``load_example``, here only.

Spec and examples live outside the repository (``../shared/binance-api/`` from the repo root;
``$BINANCE_SPOT_API_YAML`` moves both, the examples being looked for next to the spec). A clone
without them still runs the suite: every test that needs them is skipped with the reason, not
failed.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

__all__ = [
    "EXAMPLES_DIR",
    "SPEC_PATH",
    "example_path",
    "has_operation",
    "has_response",
    "load_example",
    "load_spec",
    "missing_reason",
    "response_schema",
    "validate_response",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where the spec is looked for.
SPEC_PATH = Path(
    os.environ.get(
        "BINANCE_SPOT_API_YAML", REPO_ROOT.parent / "shared" / "binance-api" / "spot_api.yaml"
    )
)
#: Where Binance's example payloads are looked for (REST at the top, streams under ``ws/``).
EXAMPLES_DIR = SPEC_PATH.parent / "examples"

# OpenAPI-only keywords that JSON Schema would ignore anyway; dropped to keep schemas small.
_OPENAPI_ONLY = ("example", "examples", "xml", "externalDocs", "discriminator", "deprecated")


def missing_reason(path: Path) -> str:
    """The skip reason for a test that needs ``path`` of Binance's reference material."""
    return (
        f"{path} not found: Binance's spec and examples are not in this checkout "
        "(expected in ../shared/binance-api beside the repository, or set BINANCE_SPOT_API_YAML)"
    )


def example_path(name: str) -> Path:
    """The path of one of Binance's example payloads; skips the calling test if it is missing.

    Args:
        name: Relative to ``EXAMPLES_DIR``: ``"depth.json"``, ``"ws/trade.json"``.
    """
    path = EXAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(missing_reason(path))
    return path


def load_example(name: str) -> Any:
    """One of Binance's example payloads, decoded; skips the calling test if it is missing."""
    return json.loads(example_path(name).read_bytes())


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The parsed spec (cached for the session); skips the calling test if it is missing."""
    if not SPEC_PATH.is_file():
        pytest.skip(missing_reason(SPEC_PATH))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on 1 MB
    with SPEC_PATH.open("rb") as fh:
        spec: dict[str, Any] = yaml.load(fh, Loader=loader)  # noqa: S506 - safe loader
    return spec


def has_operation(method: str, path: str) -> bool:
    """Whether the spec describes ``method path`` (e.g. ``"GET", "/api/v3/depth"``)."""
    return method.lower() in load_spec().get("paths", {}).get(path, {})


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise LookupError(f"external $ref not supported: {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _to_json_schema(spec: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema draft 4, with every ``$ref`` inlined."""
    if isinstance(node, list):
        return [_to_json_schema(spec, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise LookupError(f"recursive $ref {ref} cannot be inlined")
        return _to_json_schema(spec, _resolve(spec, ref), (*seen, ref))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _OPENAPI_ONLY or key == "nullable":
            continue
        if key == "properties" and isinstance(value, dict):
            # Property names are data, not keywords: never drop one called "example".
            out[key] = {name: _to_json_schema(spec, sub, seen) for name, sub in value.items()}
        else:
            out[key] = _to_json_schema(spec, value, seen)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


# -- errata: where the spec contradicts Binance's documented payloads ------------------------------
# Each fix names its evidence. Global fixes run on every schema; the table below on one response.

#: NOTES.md 4.1 (rest-api.md): order-response fields that appear only for some orders.
_CONDITIONAL_ORDER_FIELDS = frozenset(
    {
        "icebergQty",
        "preventedMatchId",
        "preventedQuantity",
        "stopPrice",
        "strategyId",
        "strategyType",
        "trailingDelta",
        "trailingTime",
        "usedSor",
        "workingFloor",
        "pegPriceType",
        "pegOffsetType",
        "pegOffsetValue",
        "peggedPrice",
        "expiryReason",
    }
)
#: rest-api.md: fields of a ``type=MINI`` ticker (the spec predates ``type``).
_MINI_TICKER_FIELDS = (
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
)


def _global_fixes(node: Any, path: str) -> Any:
    """Spec-wide corrections, applied to every translated schema."""
    if isinstance(node, list):
        return [_global_fixes(item, path) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _global_fixes(value, path) for key, value in node.items()}
    # The spec writes oneOf for alternatives that nest (an ACK order response is a subset of
    # RESULT, which is a subset of FULL), so a FULL payload matches all three and "exactly one"
    # can never hold. Matching any alternative is what the spec means.
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    required = out.get("required")
    if isinstance(required, list):
        drop = set(_CONDITIONAL_ORDER_FIELDS)
        if path.startswith("/api/v3/"):
            drop.add("isIsolated")  # a margin field the spec copied onto spot order lists
        out["required"] = [name for name in required if name not in drop]
    return out


def _exchange_info_filters(schema: dict[str, Any]) -> None:
    # The spec describes every symbol filter as a PRICE_FILTER (minPrice, maxPrice and tickSize
    # required), but filters.md defines a dozen filter types with other fields; only filterType
    # is common to all of them.
    items = schema["properties"]["symbols"]["items"]["properties"]["filters"]["items"]
    items["required"] = ["filterType"]


def _agg_trade_time(schema: dict[str, Any]) -> None:
    # The spec types "T" (trade time, ms) as boolean; its own example is 1498793709153.
    schema["items"]["properties"]["T"] = {"type": "integer"}


def _with_mini(full: dict[str, Any]) -> dict[str, Any]:
    mini = copy.deepcopy(full)
    mini["required"] = [name for name in _MINI_TICKER_FIELDS if name in mini["properties"]]
    return {"anyOf": [full, mini]}


def _ticker_types(schema: dict[str, Any]) -> None:
    # /ticker/24hr and /ticker/tradingDay: one object or a list, FULL or MINI (type=MINI, 2022).
    single = schema["anyOf"][0]  # [single object, list]
    one = _with_mini(single)
    schema["anyOf"] = [one, {"type": "array", "items": one}]


def _rolling_ticker(schema: dict[str, Any]) -> None:
    # /api/v3/ticker: the spec has only the single-symbol object; ``symbols=[...]`` returns a list
    # (rest-api.md), and type=MINI drops the change fields.
    one = _with_mini(copy.deepcopy(schema))
    schema.clear()
    schema["anyOf"] = [one, {"type": "array", "items": one}]


def _deposit_unlock_confirm(schema: dict[str, Any]) -> None:
    # The spec's "unlockConfirm" is a string ("12/12", the 2020 form); today's wallet docs
    # (developers.binance.com, deposit history) show an integer.
    schema["items"]["properties"]["unlockConfirm"] = {"type": ["string", "integer"]}


def _any_key(schema: dict[str, Any], example_key: str) -> dict[str, Any]:
    """The spec's schema for ``example_key`` made the schema of every key (it lists the key of
    its example as a required property); returned for further fixes."""
    value = schema["properties"].pop(example_key)
    required = [name for name in schema.pop("required", []) if name != example_key]
    if required:  # draft 4: "required" must not be empty
        schema["required"] = required
    schema["additionalProperties"] = value
    return value


def _asset_detail(schema: dict[str, Any]) -> None:
    # The spec's only property is its example's coin "CTR", required. wallet docs
    # (developers.binance.com, asset detail): one entry per coin; the example's second coin
    # has "withdrawFee": 0.01 (a number, not the integer the spec says) and no "depositTip"
    # (the reason deposits are suspended, only when they are).
    coin = _any_key(schema, "CTR")
    coin["properties"]["withdrawFee"] = {"type": "number"}
    coin["required"] = [name for name in coin["required"] if name != "depositTip"]


def _withdraw_history(schema: dict[str, Any]) -> None:
    # The spec requires withdrawOrderId; its own description says it "will not be returned if
    # there's no withdrawOrderId for this withdraw".
    item = schema["items"]
    item["required"] = [name for name in item["required"] if name != "withdrawOrderId"]


def _api_trading_status(schema: dict[str, Any]) -> None:
    # The spec requires the example's symbol (BTCUSDT) in "indicators"; wallet docs: indicators
    # per symbol the account traded, so an account with no orders has none ({}).
    _any_key(schema["properties"]["data"]["properties"]["indicators"], "BTCUSDT")


_ERRATA: dict[tuple[str, str, str], Callable[[dict[str, Any]], None]] = {
    ("get", "/api/v3/exchangeInfo", "200"): _exchange_info_filters,
    ("get", "/api/v3/aggTrades", "200"): _agg_trade_time,
    ("get", "/api/v3/ticker/24hr", "200"): _ticker_types,
    ("get", "/api/v3/ticker/tradingDay", "200"): _ticker_types,
    ("get", "/api/v3/ticker", "200"): _rolling_ticker,
    ("get", "/sapi/v1/capital/deposit/hisrec", "200"): _deposit_unlock_confirm,
    ("get", "/sapi/v1/asset/assetDetail", "200"): _asset_detail,
    ("get", "/sapi/v1/capital/withdraw/history", "200"): _withdraw_history,
    ("get", "/sapi/v1/account/apiTradingStatus", "200"): _api_trading_status,
}


def has_response(method: str, path: str, status: int = 200) -> bool:
    """Whether the spec gives a response schema for ``method path`` answering ``status``."""
    try:
        _schema(method.lower(), path, str(status))
    except LookupError:
        return False
    return True


@functools.cache
def _schema(method: str, path: str, status: str) -> dict[str, Any]:
    spec = load_spec()
    operation = spec.get("paths", {}).get(path, {}).get(method)
    if operation is None:
        raise LookupError(f"{method.upper()} {path} is not in {SPEC_PATH.name}")
    responses = operation.get("responses", {})
    response = responses.get(status) or responses.get("default")
    if response is None:
        raise LookupError(f"{method.upper()} {path} has no response {status} in the spec")
    if "$ref" in response:
        response = _resolve(spec, response["$ref"])
    content = response.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    if media is None or "schema" not in media:
        raise LookupError(f"{method.upper()} {path} {status}: the spec gives no JSON schema")
    schema = _global_fixes(_to_json_schema(spec, media["schema"]), path)
    fix = _ERRATA.get((method, path, status))
    if fix is not None:
        fix(schema)
    jsonschema.Draft4Validator.check_schema(schema)
    return schema


def response_schema(method: str, path: str, status: int = 200) -> dict[str, Any]:
    """The JSON Schema (draft 4) of one operation's response, ``$ref``-free; a fresh copy."""
    return copy.deepcopy(_schema(method.lower(), path, str(status)))


@functools.cache
def _validator(method: str, path: str, status: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_schema(method, path, status))


def validate_response(method: str, path: str, payload: Any, status: int = 200) -> None:
    """Fail the test unless ``payload`` matches the spec's response schema.

    Args:
        method: HTTP method, any case (``"GET"``).
        path: The operation's path as in the spec (``"/api/v3/exchangeInfo"``).
        payload: The decoded JSON body.
        status: The HTTP status whose response schema applies (200 by default).

    Raises:
        LookupError: The spec has no such operation or response (a mistake in the test).
        pytest.fail.Exception: ``payload`` does not match; the message names the JSON path.
    """
    validator = _validator(method.lower(), path, str(status))
    error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path) or "(root)"
        pytest.fail(
            f"{method.upper()} {path} response {status} does not match spot_api.yaml at "
            f"{where}: {error.message}",
            pytrace=False,
        )
