"""The schema helper: Binance's own REST examples pass, broken payloads fail."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from schemas_util import (
    EXAMPLES_DIR,
    SPEC_PATH,
    _to_json_schema,
    has_operation,
    has_response,
    load_example,
    missing_reason,
    response_schema,
    validate_response,
)


def _rest_examples() -> list[dict]:
    index = EXAMPLES_DIR / "index.json"
    if not index.is_file():
        return []
    return [
        e
        for e in json.loads(index.read_text())
        if e.get("method") and e.get("path") and not e["file"].startswith("legacy/")  # retired
    ]


def _rest_example_params() -> list:
    """One case per REST example, or one skipped case saying why there are none."""
    cases = [pytest.param(e, id=e["file"]) for e in _rest_examples()]
    reason = missing_reason(EXAMPLES_DIR / "index.json")
    return cases or [pytest.param({}, id="no-examples", marks=pytest.mark.skip(reason=reason))]


def _status(entry: dict) -> int:
    """The HTTP status an example answers with, from its index variant."""
    variant = entry.get("variant", "")
    match = re.search(r"HTTP (\d{3})", variant)
    if match:
        return int(match.group(1))
    return 400 if variant.startswith("error") else 200


@pytest.mark.parametrize("entry", _rest_example_params())
def test_binance_rest_example_validates(entry: dict) -> None:
    """Every documented REST payload of an operation in the spec matches its schema."""
    method, path, status = entry["method"], entry["path"], _status(entry)
    if not has_operation(method, path):
        pytest.skip(f"{method} {path} is not in spot_api.yaml (the spec predates or dropped it)")
    if not has_response(method, path, status):
        pytest.skip(f"spot_api.yaml describes no {status} answer for {method} {path}")
    if "placeholders" in entry.get("variant", ""):
        pytest.skip("docs skeleton with empty placeholder objects, not a real payload")
    validate_response(method, path, load_example(entry["file"]), status)


def test_examples_cover_the_core_endpoints() -> None:
    """The example set exercises the endpoints the simulator serves most."""
    if not _rest_examples():
        pytest.skip(missing_reason(EXAMPLES_DIR / "index.json"))
    covered = {(e["method"], e["path"]) for e in _rest_examples()}
    for endpoint in [
        ("GET", "/api/v3/exchangeInfo"),
        ("GET", "/api/v3/depth"),
        ("POST", "/api/v3/order"),
        ("GET", "/api/v3/account"),
    ]:
        assert endpoint in covered
        assert has_operation(*endpoint)


def _depth() -> dict:
    """A valid order book answer (rest-api.md's example)."""
    return {
        "lastUpdateId": 1027024,
        "bids": [["4.00000000", "431.00000000"]],
        "asks": [["4.00000200", "12.00000000"]],
    }


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda p: p.pop("lastUpdateId"), "'lastUpdateId' is a required property"),
        (lambda p: p.update(lastUpdateId="1027024"), "is not of type 'integer'"),
        (lambda p: p.update(bids={}), "is not of type 'array'"),
    ],
    ids=["missing-field", "wrong-type", "object-for-array"],
)
def test_broken_payload_fails_naming_the_problem(mutate, where: str) -> None:
    """A payload that breaks the schema fails the test with the path and reason."""
    payload = _depth()
    mutate(payload)
    with pytest.raises(pytest.fail.Exception, match=re.escape(where)):
        validate_response("GET", "/api/v3/depth", payload)


def test_error_payloads_use_the_error_schema() -> None:
    """A 400 answer is checked against the error schema, not the success one."""
    validate_response("GET", "/api/v3/depth", {"code": -1121, "msg": "Invalid symbol."}, 400)
    with pytest.raises(pytest.fail.Exception):
        validate_response("GET", "/api/v3/depth", {"code": "-1121"}, 400)


def test_unknown_operations_are_a_test_mistake() -> None:
    """Asking for an operation the spec lacks raises LookupError, not a silent pass."""
    with pytest.raises(LookupError):
        validate_response("GET", "/api/v3/noSuchEndpoint", {})
    with pytest.raises(LookupError):
        validate_response("GET", "/api/v3/depth", {}, 418)
    assert not has_response("GET", "/api/v3/noSuchEndpoint")


def test_exchange_info_filter_erratum_keeps_filter_type_required() -> None:
    """The filters erratum relaxes only the PRICE_FILTER fields: filterType stays required."""
    schema = response_schema("GET", "/api/v3/exchangeInfo")
    items = schema["properties"]["symbols"]["items"]["properties"]["filters"]["items"]
    assert items["required"] == ["filterType"]
    payload = load_example("exchangeInfo.json")
    del payload["symbols"][0]["filters"][0]["filterType"]
    with pytest.raises(pytest.fail.Exception, match="filterType"):
        validate_response("GET", "/api/v3/exchangeInfo", payload)


def test_openapi_translation() -> None:
    """$ref is inlined, nullable admits null, and 'example' keywords (not properties) go."""
    spec = {
        "components": {
            "schemas": {
                "price": {"type": "string", "nullable": True, "example": "1.0"},
                "side": {"type": "string", "enum": ["BUY", "SELL"], "nullable": True},
                "peg": {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
            }
        }
    }
    node = {
        "type": "object",
        "properties": {
            "p": {"$ref": "#/components/schemas/price"},
            "s": {"$ref": "#/components/schemas/side"},
            "g": {"$ref": "#/components/schemas/peg"},
            "example": {"type": "integer"},
        },
    }
    assert _to_json_schema(spec, node) == {
        "type": "object",
        "properties": {
            "p": {"type": ["string", "null"]},
            "s": {"type": ["string", "null"], "enum": ["BUY", "SELL", None]},
            "g": {
                "anyOf": [{"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}]
            },
            "example": {"type": "integer"},
        },
    }


def test_spec_location_is_relative_to_the_repository() -> None:
    """The spec is looked up at ../shared/binance-api/spot_api.yaml from the repo root."""
    if "BINANCE_SPOT_API_YAML" in os.environ:
        pytest.skip("spec location overridden by BINANCE_SPOT_API_YAML")
    repo_root = Path(__file__).resolve().parent.parent
    assert SPEC_PATH == repo_root.parent / "shared" / "binance-api" / "spot_api.yaml"
