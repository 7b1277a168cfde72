"""Strict payload parsing: valid JSON round-trips, everything else is E_BAD_JSON."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shardrun.errors import UsageError
from shardrun.runtime.jsonin import depth_of, parse_payload

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_valid_json_round_trips(value):
    text = orjson.dumps(value)
    if depth_of(value) <= 64:
        assert parse_payload(text) == orjson.loads(text)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_fail_cleanly(data):
    try:
        parse_payload(data)
    except UsageError as exc:
        assert exc.code == "E_BAD_JSON" and exc.message


@pytest.mark.parametrize(
    "text", ["", "{", "NaN", "[Infinity]", "1e400", '{"a":1,"a":2}', '"\\ud800"', '"a\x00"', "[" * 65 + "]" * 65]
)
def test_rejected(text):
    with pytest.raises(UsageError) as exc:
        parse_payload(text)
    assert exc.value.code == "E_BAD_JSON"


def test_depth_limit_is_a_setting():
    assert parse_payload("[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(UsageError):
        parse_payload("[[[1]]]", max_depth=2)


def test_size_limit():
    with pytest.raises(UsageError) as exc:
        parse_payload('"' + "x" * 100 + '"', max_bytes=50)
    assert "over the limit of 50" in exc.value.message
