"""The trust boundary (shardrun.runtime.boundary) under garbage: every value comes out clean or raises BadOutput.

Whatever shape a tenant's output has, the checks either return the host's own types with values
that are safe to put on the wire, or raise BadOutput (never another exception). Rendering what
they return never produces a response head with a stray CR, LF or NUL.
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shardrun.runtime import boundary
from shardrun.runtime.boundary import BadOutput
from shardrun.runtime.calls import HttpResponse
from shardrun.server.httpsyntax import render

pytestmark = pytest.mark.hostile

json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
nasty_text = st.text(
    alphabet=st.sampled_from(
        ["a", "b", " ", "\t", "\r", "\n", "\x00", "\x7f", "é", "\u2028", "\ud800", ":", "\x0b", "Ā", "\u0100", "💥"]
    ),
    max_size=20,
)
header_pairs = st.lists(st.lists(nasty_text | json_values, min_size=0, max_size=3), max_size=6)
statuses = st.sampled_from([0, 99, 100, 101, 199, 200, 204, 299, 404, 599, 600, 1000, -5, True, 200.0, "200", None])
response_dicts = st.fixed_dictionaries(
    {},
    optional={
        "status": statuses | json_values,
        "statusText": nasty_text | json_values,
        "headers": header_pairs | json_values,
        "text": nasty_text | json_values,
        "b64": st.text(alphabet="AZaz09+/=\n -_", max_size=12) | json_values,
    },
)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(response_dicts | json_values)
def test_any_response_shape_is_clean_or_bad_output(d):
    try:
        status, reason, headers, body = boundary.response(d, 1 << 20)
    except BadOutput as exc:
        assert str(exc)  # a message that names the problem
        return
    assert type(status) is int and 200 <= status <= 599
    assert isinstance(body, bytes)
    head = render(status, headers, body, reason=reason).split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert re.fullmatch(rb"HTTP/1\.1 [2-5]\d\d( [^\r\n\x00]*)?", lines[0])
    for line in lines[1:]:
        assert b"\r" not in line and b"\n" not in line and b"\x00" not in line
        assert re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9a-z]+: .*", line)


@settings(max_examples=300)
@given(st.text(max_size=30), st.text(max_size=30))
def test_header_bytes_that_split_a_response_are_refused(name, value):
    try:
        n, v = boundary.header_name(name), boundary.header_value(value)
    except BadOutput:
        assert (
            re.search(r"[\r\n\x00]", name + value)
            or not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name)
            or value != value.strip(" \t")
            or any(ord(c) > 255 for c in value)
            or re.search(r"[\r\n\x00]", value)
            or not name
        )
        return
    assert "\r" not in n + v and "\n" not in n + v and "\x00" not in n + v


@pytest.mark.parametrize("status", [0, 99, 100, 101, 199, 600, 1000, -5, True, 200.5, "200", None, [200]])
def test_statuses_outside_200_599_are_bad_output(status):
    with pytest.raises(BadOutput, match="status"):
        HttpResponse.from_js({"status": status, "statusText": "", "headers": []})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statusText", "OK\r\nSet-Cookie: a=b"),
        ("statusText", "x\n"),
        ("statusText", 5),
        ("statusText", "\x00"),
        ("headers", [["x", "a\r\nset-cookie: sid=evil"]]),
        ("headers", [["x\r\nset-cookie", "v"]]),
        ("headers", [["x", "\x00"]]),
        ("headers", [["", "v"]]),
        ("headers", [["a b", "v"]]),
        ("headers", [["x", 5]]),
        ("headers", [["x"]]),
        ("headers", {"x": "y"}),
        ("headers", "x: y"),
        ("headers", [["x", "y", "z"]]),
        ("headers", [["x", "Ā"]]),
        ("headers", [["x", " padded"]]),
        ("b64", "not base64!"),
        ("b64", "QQ"),
        ("b64", 5),
        ("text", 5),
        ("text", "\ud800"),
    ],
)
def test_each_malformed_field_is_named(field, value):
    d = {"status": 200, "statusText": "", "headers": [], field: value}
    with pytest.raises(BadOutput):
        HttpResponse.from_js(d)


def test_sizes_are_capped():
    with pytest.raises(BadOutput, match="limit"):
        boundary.response({"status": 200, "text": "x" * 101}, 100)
    with pytest.raises(BadOutput, match="limit"):
        boundary.response({"status": 200, "b64": base64.b64encode(b"x" * 200).decode()}, 100)
    with pytest.raises(BadOutput, match="headers"):
        boundary.response({"status": 200, "headers": [["x", "v"]] * (boundary.MAX_HEADERS + 1)}, 100)
    with pytest.raises(BadOutput, match="bytes"):
        boundary.response({"status": 200, "headers": [["x", "v" * 16000]] * 10}, 100)


def test_a_clean_response_comes_through_unchanged():
    d = {
        "status": 201,
        "statusText": "Made",
        "headers": [["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["x", "é"]],
        "b64": base64.b64encode(b"\x00\xff").decode(),
    }
    assert HttpResponse.from_js(d) == HttpResponse(
        201, "Made", [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x", "é")], b"\x00\xff"
    )
    assert boundary.wire_response({**d, "extra": 1}, 100) == {
        "status": 201,
        "statusText": "Made",
        "headers": [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x", "é"]],
        "b64": d["b64"],
    }


@pytest.mark.parametrize("status", [0, 99, 1000, -5, "200", None])
def test_render_refuses_what_would_split_the_stream(status):
    with pytest.raises(BadOutput):
        render(status, [], b"")
    with pytest.raises(BadOutput):
        render(200, [("x", "a\r\nset-cookie: evil=1")], b"")
    with pytest.raises(BadOutput):
        render(200, [], b"", reason="OK\r\n\r\nHTTP/1.1 200 OK")


def test_error_info_keeps_only_codes_an_isolate_may_claim():
    assert boundary.error_info({"code": "E_SHUTTING_DOWN", "message": "m"})[0] == "E_SCRIPT"
    assert boundary.error_info({"code": "E_CPU_LIMIT", "message": "m"})[0] == "E_CPU_LIMIT"
    assert boundary.error_info("boom")[0] == "E_SCRIPT"
    code, message, name, stack = boundary.error_info(
        {"code": 5, "message": {"x": 1}, "name": None, "stack": "s" * 10**6}
    )
    assert (code, name) == ("E_SCRIPT", "Error") and len(stack) < 20_000 and isinstance(message, str)


@settings(max_examples=300)
@given(response_dicts | json_values, st.integers(0, 40))
def test_the_wire_check_accepts_exactly_what_the_full_check_accepts(d, cap):
    # the shard checks a body without decoding it; the router decodes it: they must agree
    try:
        boundary.response(d, cap)
        full = True
    except BadOutput:
        full = False
    try:
        boundary.wire_response(d, cap)
        wire = True
    except BadOutput:
        wire = False
    assert wire == full


def test_a_name_seen_before_is_still_lowercased_and_its_value_still_checked():
    for _ in range(2):  # the second round takes the remembered names
        assert boundary.headers([["X-Seen", "v"], ["x-seen", "w"]]) == [("x-seen", "v"), ("x-seen", "w")]
        for bad in ("a\nb", "Ā", " v", "v\t", 5, None):
            with pytest.raises(BadOutput):
                boundary.headers([["X-Seen", bad]])
        with pytest.raises(BadOutput):
            boundary.headers([[5, "v"]])
    wire = boundary.wire_response({"status": 200, "headers": [["X-Seen", "v"], ["ok", "w"]], "text": ""}, 10)
    assert wire == {"status": 200, "statusText": "", "headers": [["x-seen", "v"], ["ok", "w"]], "text": ""}
