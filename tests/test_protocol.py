"""The wire protocol: round trips and malformed frames (no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shardrun import protocol as p

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.integers(0, 2**53),
    st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True),
    st.sampled_from(["fetch", "task", "scheduled"]),
    json_values,
)
def test_request_round_trip(rid, worker, kind, arg):
    msg = p.decode(p.encode_request(rid, worker, kind, arg, tenant="t"))
    assert msg.type == p.REQUEST and msg.name == "REQUEST"
    assert p.request_fields(msg) == (rid, worker, kind, arg)
    assert msg.body["tenant"] == "t"


@given(st.integers(0, 2**53), st.booleans(), json_values)
def test_reply_round_trip(rid, ok, payload):
    msg = p.decode(p.encode_reply(rid, ok, payload, shard=1))
    assert msg.body["id"] == rid and msg.body["ok"] is ok and msg.body["shard"] == 1
    assert msg.body["value" if ok else "error"] == payload


def test_other_types_round_trip():
    assert p.decode(p.encode_ready(3, 1234, 2)).body == {"shard": 3, "pid": 1234, "gen": 2}
    assert p.decode(p.encode_heartbeat(inflight=2)).body == {"inflight": 2}
    assert p.decode(p.encode_disconnect("cpu", 7)).body == {"reason": "cpu", "id": 7}


@given(st.lists(st.binary(max_size=40), max_size=5))
def test_garbage_never_crashes(frames):
    try:
        p.decode(frames)
    except p.ProtocolError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "frames,words",
    [
        ([b"SR1", p.REQUEST], "expected 3 frames"),
        ([b"XX9", p.REQUEST, b"{}"], "bad header"),
        ([b"SR1", b"\x09", b"{}"], "unknown message type"),
        ([b"SR1", p.REQUEST, b"{nope"], "not JSON"),
        ([b"SR1", p.REQUEST, b"[1]"], "not a JSON object"),
    ],
)
def test_malformed_frames_say_why(frames, words):
    with pytest.raises(p.ProtocolError, match=words):
        p.decode(frames)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "1", "worker": "a", "kind": "task"},
        {"id": 1, "worker": "", "kind": "task"},
        {"id": 1, "worker": "a", "kind": "eval"},
        {"id": True, "worker": "a", "kind": "task"},
    ],
)
def test_bad_request_fields(body):
    with pytest.raises(p.ProtocolError):
        p.request_fields(p.decode(p.encode(p.REQUEST, body)))


def test_a_failed_replys_error_is_read_whatever_its_shape():
    assert p.reply_error({"error": {"code": "E_CPU_LIMIT", "message": "m"}}) == ("E_CPU_LIMIT", "m")
    for body in ({}, {"error": [1]}, {"error": {"code": "E_MADE_UP"}}, {"error": {"code": 5, "message": 7}}):
        assert p.reply_error(body) == ("E_INTERNAL", "")
