"""env bindings: worker.toml errors, KV on both stores, caps, tenant isolation, metrics counts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shardrun.bindings.config import BindingSettings, check_data_dir
from shardrun.errors import ShardrunError

from .bindings import Node, close_all
from .queues import DATABASE_URL, check_postgres

KV = '[[kv_namespaces]]\nbinding = "KV"\nid = "cache"\n'


@pytest.fixture(autouse=True)
def close_nodes() -> object:
    yield
    close_all()


def task(body: str) -> str:
    return "export default { async task(p, env) {\n" + body + "\n} }"


def catch(expr: str) -> str:
    """JS that returns {code, message} of what `expr` (awaited) throws, or {ok: value}."""
    return task(
        f"try {{ return {{ ok: await ({expr}) }}; }} catch (e) {{ return {{ code: e.code, message: e.message }}; }}"
    )


def node(tmp_path: Path, toml: str, js: str = task("return 1"), **kw: object) -> Node:
    return Node(tmp_path, {"w": (js, toml)}, **kw)  # type: ignore[arg-type]


# ---- worker.toml -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[[r2_buckets]]\nbinding = "B"\nbucket_name = "x"\n', ["r2_buckets", "unknown binding type"]),
        ('[[queues.consumers]]\nqueue = "x"\n', ["queues.consumers", "unknown binding type"]),
        (KV + '[[d1_databases]]\nbinding = "KV"\ndatabase_name = "a"\n', ["d1_databases[0].binding", "already bound"]),
        (KV + '[env]\nKV = "x"\n', ["kv_namespaces[0].binding", "[env]"]),
        ('[[kv_namespaces]]\nbinding = "KV"\n', ["kv_namespaces[0]", "id"]),
        ('[[kv_namespaces]]\nbinding = "a-b"\nid = "x"\n', ["kv_namespaces[0].binding", "not a valid name"]),
        ('[[kv_namespaces]]\nbinding = "K"\nid = "../x"\n', ["kv_namespaces[0]", "id"]),
        (KV + "[bindings.caps.kv]\ncalls = -1\n", ["bindings.caps.kv.calls"]),
        (KV + "[bindings.caps.blob]\ncalls = 1\n", ["bindings.caps.blob", "unknown kind"]),
    ],
)
def test_bad_binding_config_names_the_field(tmp_path: Path, toml: str, names: list[str]) -> None:
    n = node(tmp_path, toml)
    with pytest.raises(ShardrunError) as err:
        n.registry.get("w")
    assert err.value.code == "E_WORKER_CONFIG"
    for name in names:
        assert name in err.value.message


def test_a_worker_toml_lowers_caps_but_cannot_raise_them(tmp_path: Path) -> None:
    toml = KV + "[bindings.caps.kv]\ncalls = 5000\nconcurrent = 2\n"
    caps = node(tmp_path, toml).registry.get("w").bindings.caps
    assert (caps["kv"].calls, caps["kv"].concurrent) == (1000, 2)
    assert (caps["d1"].calls, caps["d1"].concurrent) == (100, 5)


def test_data_dir_that_cannot_be_made_is_a_boot_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ShardrunError) as err:
        check_data_dir(tmp_path / "file" / "data")
    assert err.value.code == "E_DATA_DIR"
    assert "file/data" in err.value.message


def test_serve_refuses_to_start_without_a_writable_data_dir(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "file").write_text("")
    env = {**os.environ, "SHARDRUN_BINDINGS__DATA_DIR": str(tmp_path / "file" / "data")}
    p = subprocess.run(
        [sys.executable, "-m", "shardrun", "serve", "--shards", "1"],
        capture_output=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert p.returncode != 0
    assert b"E_DATA_DIR" in p.stderr + p.stdout


# ---- KV ----------------------------------------------------------------------------
API = task(
    """
  await env.KV.put("a", "hello", { metadata: { v: 1 } });
  await env.KV.put("b/1", new Uint8Array([1, 2, 3]));
  await env.KV.put("b/2", JSON.stringify({ x: [1] }));
  await env.KV.put("B/3", "upper");
  const stream = await env.KV.get("a", { type: "stream" });
  const t = await new Response(stream).text();
  const got = {
    text: await env.KV.get("a"), json: await env.KV.get("b/2", "json"),
    bytes: [...new Uint8Array(await env.KV.get("b/1", "arrayBuffer"))], stream: t,
    meta: await env.KV.getWithMetadata("a"), missing: await env.KV.get("nope"),
    missingMeta: await env.KV.getWithMetadata("nope"),
  };
  const page1 = await env.KV.list({ prefix: "b/", limit: 1 });
  const page2 = await env.KV.list({ prefix: "b/", cursor: page1.cursor });
  await env.KV.delete("a");
  got.deleted = await env.KV.get("a");
  got.pages = [page1.keys.map((k) => k.name), page1.list_complete, page2.keys.map((k) => k.name), page2.list_complete];
  got.all = (await env.KV.list()).keys.map((k) => k.name);
  return got;
"""
)


def check_api(n: Node) -> None:
    v = n.value("w")
    assert v["text"] == "hello" and v["json"] == {"x": [1]} and v["bytes"] == [1, 2, 3] and v["stream"] == "hello"
    assert v["meta"] == {"value": "hello", "metadata": {"v": 1}, "cacheStatus": None}
    assert v["missing"] is None and v["missingMeta"]["value"] is None and v["missingMeta"]["metadata"] is None
    assert v["deleted"] is None
    assert v["pages"] == [["b/1"], False, ["b/2"], True]  # the prefix is case-sensitive: B/3 is not under b/
    assert v["all"] == ["B/3", "b/1", "b/2"]


def test_kv_api_on_sqlite(tmp_path: Path) -> None:
    n = node(tmp_path, KV, API)
    check_api(n)
    assert (tmp_path / "data" / "kv.sqlite3").is_file()
    n.close()


@pytest.fixture
def pg_kv(tmp_path: Path) -> dict[str, object]:
    check_postgres()
    table = f"kv_{int(time.time() * 1e6) % 10**12}"
    yield {"kv_backend": "postgres", "kv_database_url": DATABASE_URL, "kv_table": table}
    from .queues import Db

    Db().exec(f"DROP TABLE IF EXISTS {table}")


def test_kv_api_on_postgres(tmp_path: Path, pg_kv: dict[str, object]) -> None:
    n = node(tmp_path, KV, API, **pg_kv)
    check_api(n)
    n.close()
    assert not (tmp_path / "data" / "kv.sqlite3").exists()


def test_postgres_kv_is_shared_by_two_nodes(tmp_path: Path, pg_kv: dict[str, object]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = node(tmp_path / "a", KV, task('await env.KV.put("k", "from a"); return 1'), **pg_kv)
    b = node(tmp_path / "b", KV, task('return await env.KV.get("k")'), **pg_kv)
    a.value("w")
    assert b.value("w") == "from a"
    a.close()
    b.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kv_namespaces_are_per_tenant(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    kw = request.getfixturevalue("pg_kv") if backend == "postgres" else {}
    w = task(
        'if (p.put) await env.KV.put("k", p.put); return [await env.KV.get("k"), (await env.KV.list()).keys.length]'
    )
    n = Node(tmp_path, {"wa": (w, 'tenant = "a"\n' + KV), "wb": (w, 'tenant = "b"\n' + KV)}, **kw)  # type: ignore[arg-type]
    assert n.value("wa", {"put": "secret of a"}) == ["secret of a", 1]
    assert n.value("wb") == [None, 0]  # same binding, same id, another tenant: another namespace
    assert n.value("wb", {"put": "b's"}) == ["b's", 1]
    assert n.value("wa") == ["secret of a", 1]
    n.close()


def test_a_binding_the_worker_does_not_have_is_refused(tmp_path: Path) -> None:
    from shardrun.runtime.calls import HostOp

    # an op forged for a binding its worker.toml does not name: no binding, no access
    n = node(tmp_path, KV, task("await new Promise((r) => setTimeout(r, 50)); return 1"))
    iso = n.isolate("w")
    call = iso.submit("task", {}, tag="w")
    n.host(iso, HostOp(999, call.rid, "binding", {"b": "OTHER", "m": "get", "a": {"key": "k"}}))
    opid, ok, value = iso._settlements[-1][1]
    assert (opid, ok, value["code"]) == (999, False, "E_BINDING_ARGUMENT")
    assert "no binding named 'OTHER'" in value["message"]


@pytest.mark.parametrize(
    ("expr", "code", "words"),
    [
        ('env.KV.put("k".repeat(513), "v")', "E_KV_TOO_LARGE", "513 bytes, over the limit of 512"),
        ('env.KV.get("")', "E_BINDING_ARGUMENT", "empty"),
        ('env.KV.put("k", "v", { metadata: { m: "x".repeat(1100) } })', "E_KV_TOO_LARGE", "metadata"),
        ('env.KV.put("k", "v", { expirationTtl: 10 })', "E_BINDING_ARGUMENT", "at least 60"),
        ("env.KV.list({ limit: 5000 })", "E_BINDING_ARGUMENT", "limit"),
        ('env.KV.list({ cursor: "%%%" })', "E_BINDING_ARGUMENT", "cursor"),
        ('env.KV.get("k", "xml")', None, "type must be"),
    ],
)
def test_kv_bad_input(tmp_path: Path, expr: str, code: str | None, words: str) -> None:
    v = node(tmp_path, KV, catch(expr)).value("w")
    assert "ok" not in v, v
    assert v.get("code") == code and words in v["message"]


def test_kv_value_over_the_limit(tmp_path: Path) -> None:
    # the limit is 25 MiB, lowered to the worker's max_output_bytes
    toml = KV + "[limits]\nmax_output_bytes = 1000\n"
    v = node(tmp_path, toml, catch('env.KV.put("k", "x".repeat(1001))')).value("w")
    assert v["code"] == "E_KV_TOO_LARGE" and "1001 bytes, over the limit of 1000" in v["message"]
    assert (
        node(tmp_path, toml, catch('env.KV.put("k", "x".repeat(1000))')).value("w") == {}
    )  # put resolves to undefined


def test_kv_expired_entries_are_not_returned(tmp_path: Path) -> None:
    n = node(tmp_path, KV, task('await env.KV.put("k", "v", { expirationTtl: 60 }); return (await env.KV.list()).keys'))
    keys = n.value("w")
    assert keys[0]["name"] == "k" and keys[0]["expiration"] >= time.time() + 59
    db = n.stores.kv.db  # type: ignore[attr-defined]
    db.execute("UPDATE kv SET expiration = ?", (time.time() - 1,))
    n2 = node(tmp_path, KV, task('return [await env.KV.get("k"), (await env.KV.list()).keys.length]'))
    assert n2.value("w") == [None, 0]


def test_caps_overflow_and_concurrency(tmp_path: Path) -> None:
    toml = KV + "[bindings.caps.kv]\ncalls = 3\n"
    js = catch('Promise.all([1, 2, 3, 4].map((i) => env.KV.get("k" + i)))')
    n = node(tmp_path, toml, js)
    v = n.value("w")
    assert v["code"] == "E_BINDING_LIMIT" and "3 kv calls" in v["message"]
    counts = dict(n.host.counts)
    assert counts[("w", "KV", "kv", "ok")] == 3 and counts[("w", "KV", "kv", "E_BINDING_LIMIT")] == 1
    # the cap is per request: the next request has its own
    assert node(tmp_path, toml, task('await env.KV.get("a"); await env.KV.get("b"); return 1')).value("w") == 1


def test_operator_caps_come_from_settings(tmp_path: Path) -> None:
    from shardrun.bindings.config import Cap

    s = BindingSettings(caps={"kv": Cap(calls=1, concurrent=1)})
    n = Node(tmp_path, {"w": (catch('env.KV.get("a").then(() => env.KV.get("b"))'), KV)}, caps=s.caps)
    assert n.value("w")["code"] == "E_BINDING_LIMIT"


def test_a_put_over_the_host_operation_limit_fails_in_js(tmp_path: Path) -> None:
    # 2 MiB: under the 25 MiB and max_output_bytes limits, over what one host operation carries
    v = node(tmp_path, KV, catch('env.KV.put("k", new Uint8Array(2 << 20))')).value("w")
    assert v["code"] == "E_KV_TOO_LARGE" and "max_op_bytes" in v["message"]
    # uncaught, it is the request's error code
    r = node(tmp_path, KV, task('await env.KV.put("k", "x".repeat(2 << 20))')).run("w")
    assert not r.ok and r.error is not None and r.error.code == "E_KV_TOO_LARGE"


@pytest.mark.parametrize(
    "args",
    [
        None,
        [],
        {"b": 1, "m": "get"},
        {"b": "KV"},
        {"b": "KV", "m": "nope", "a": {}},
        {"b": "KV", "m": "get", "a": []},
        {"b": "KV", "m": "get", "a": {"key": {"x": 1}}},
        {"b": "KV", "m": "put", "a": {"key": "k", "value": {"b": "!!"}}},
        {"b": "KV", "m": "put", "a": {"key": "k", "value": 5}},
        {"b": "KV", "m": "put", "a": {"key": "k", "value": {"t": "v"}, "expiration": "soon"}},
        {"b": "KV", "m": "list", "a": {"prefix": 5}},
    ],
)
def test_forged_binding_operations_fail_with_a_code(tmp_path: Path, args: object) -> None:
    from shardrun.runtime.calls import HostOp

    n = node(tmp_path, KV, task("await new Promise((r) => setTimeout(r, 50)); return 1"))
    iso = n.isolate("w")
    call = iso.submit("task", {}, tag="w")
    n.host(iso, HostOp(7, call.rid, "binding", args))
    opid, ok, value = iso._settlements[-1][1]
    assert (opid, ok, value["code"]) == (7, False, "E_BINDING_ARGUMENT"), value


def test_calls_over_the_concurrency_cap_wait_their_turn(tmp_path: Path, pg_kv: dict[str, object]) -> None:
    toml = KV + "[bindings.caps.kv]\nconcurrent = 2\n"
    js = task('await env.KV.put("k", "v"); return await Promise.all(Array.from({ length: 9 }, () => env.KV.get("k")))')
    n = node(tmp_path, toml, js, **pg_kv)
    seen = []
    start = n.host._start

    def spy(iso, call, st, *rest):  # type: ignore[no-untyped-def]
        seen.append(st.active)
        return start(iso, call, st, *rest)

    n.host._start = spy  # type: ignore[method-assign]
    assert n.value("w") == ["v"] * 9
    assert max(seen) == 1 and len(seen) == 10  # two in flight at most (and at times); every call ran
