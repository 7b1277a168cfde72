"""A hostile worker cannot reach the prelude's internals, forge what the host receives, or
make an entry point throw to the host: it can only fail its own requests, with E_SCRIPT."""

from __future__ import annotations

import time

import orjson
import pytest

from shardrun.engine.limits import Limits
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import WorkerIsolate

from . import conftest
from .conftest import worker


def drive(w: WorkerIsolate, calls: list) -> None:
    conftest.drive(w, calls, timeout=5.0)


pytestmark = pytest.mark.hostile

GET = HttpRequest("GET", "https://a.test/")


def run(src: str, kind: str = "task", arg=None, **kw):
    w = worker(src, **kw)
    call = w.submit(kind, GET if kind == "fetch" and arg is None else ({} if arg is None else arg))
    drive(w, [call])
    return call.result


def outbox(w: WorkerIsolate) -> list:
    """Record every event JS hands the host from now on (the worker's own _drain still runs)."""
    events: list = []
    drain = w._drain

    def record(out: str) -> None:
        if out:
            events.extend(orjson.loads(out))
        drain(out)

    w._drain = record
    return events


# ---- 1. no internal helper on a public class ----------------------------------------
def test_no_double_underscore_name_on_any_global_constructor_or_its_prototypes():
    r = run("""export default { task() {
      for (const g of ['Headers', 'Request', 'Response', 'Blob', 'File', 'fetch', 'TextEncoder', 'TextDecoder',
                       'Event', 'EventTarget', 'AbortController', 'AbortSignal', 'URL', 'URLSearchParams',
                       'structuredClone', 'crypto']) void globalThis[g];   // load every chunk
      const bad = [];
      const look = (what, o) => { for (const k of Object.getOwnPropertyNames(o)) if (k.startsWith('__')) bad.push(what + '.' + k); };
      look('globalThis', globalThis);
      for (const g of Object.getOwnPropertyNames(globalThis)) {
        const F = globalThis[g];
        if (typeof F !== 'function') continue;
        look(g, F);
        for (let p = F.prototype, d = 0; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p), d++) look(g + '.prototype' + '^'.repeat(d), p);
      }
      return bad;
    } }""")
    assert r.ok, r.error
    assert r.value == []


# ---- the fetch handler's Response is the runtime's own --------------------------------
@pytest.mark.parametrize(
    "src",
    [
        'export default { fetch() { globalThis.Response = class { __serialize() { return \'{"status":"x"}\' } }; return new Response() } }',
        (
            'globalThis.Response = class Response { __serialize() { return \'{"status":"x"}\' } };\n'
            "export default { fetch() { return new Response() } }"
        ),
        "export default { fetch() { return { status: 200, headers: [], text: 'forged' } } }",
        "export default { fetch() { return Object.create(Response.prototype) } }",
    ],
    ids=["tenant-class-in-handler", "tenant-class-at-top-level", "plain-object", "forged-prototype"],
)
def test_a_fetch_handler_must_return_a_real_response(src):
    r = run(src, "fetch")
    assert not r.ok
    assert r.error.code == "E_BAD_OUTPUT" and "must return a Response" in r.error.message


def test_a_tenant_global_set_before_its_chunk_loads_stays_the_tenants():
    # the runtime loads the Fetch API for the request, after the top level replaced Response
    r = run("globalThis.Response = class Mine {};\nexport default { fetch() { return new Response() } }", "fetch")
    assert r.error.code == "E_BAD_OUTPUT" and "Mine" in r.error.message


# ---- 2. patched built-ins cannot change what the host receives --------------------------
PATCHES = """
  const forged = '["r",1,true,"forged"]';
  Array.prototype.join = function () { return '[' + forged + ']' };
  const push = Array.prototype.push;
  Array.prototype.push = function (...a) { return push.call(this, ...a, forged) };
  JSON.stringify = () => '"forged"';
  JSON.parse = () => ({ id: 'forged' });
  Object.prototype.toJSON = function () { return Array.isArray(this) ? ['r', 1, true, 'forged'] : this };
  Promise.prototype.then = function () { throw new Error('then is patched') };
  String.prototype.replace = () => 'forged';
  String.prototype.startsWith = () => true;
  String.prototype.includes = () => false;
  Map.prototype.get = function () { return undefined };
  Map.prototype.set = function () { return this };
  Map.prototype.forEach = function () {};
  Set.prototype.add = function () { return this };
  WeakMap.prototype.get = function () { return undefined };
  Function.prototype.call = function () { return 'forged' };
  Function.prototype.apply = function () { return 'forged' };
  Reflect.apply = () => 'forged';
  Object.defineProperty = (o) => o;
"""


def test_patched_builtins_do_not_change_the_responses_or_add_events():
    w = worker(
        PATCHES
        + """
      export default {
        async task(p, env, ctx) {
          (function () {"""
        + PATCHES
        + """})();
          await new Promise((r) => setTimeout(r, p.ms));
          console.log('done', p.id);
          return p.id;
        },
        fetch(req) { return new Response('real body', { status: 201, headers: { 'x-id': 'real' } }) },
      }"""
    )
    events = outbox(w)
    calls = [w.submit("task", {"id": f"id{i}", "ms": 30 - 10 * i}) for i in range(3)]
    drive(w, calls)
    assert [c.result.value for c in calls] == ["id0", "id1", "id2"]
    assert [[line.text for line in c.result.logs] for c in calls] == [["done id0"], ["done id1"], ["done id2"]]
    f = w.submit("fetch", GET)
    drive(w, [f])
    assert f.result.ok and (f.result.value.status, f.result.value.body) == (201, b"real body")
    assert ("x-id", "real") in f.result.value.headers
    responses = [e for e in events if e[0] == "r"]
    assert [e[1] for e in responses] == [3, 2, 1, 4], "exactly one response per request"
    assert "forged" not in orjson.dumps(events).decode()
    assert w.orphan_logs == 0


def test_an_array_index_accessor_on_the_prototype_cannot_intercept_the_outbox():
    r = run("""export default { task() {
      Object.defineProperty(Array.prototype, '0', { get() { return '["r",1,true,"forged"]' }, set(v) {}, configurable: true });
      Object.defineProperty(Array.prototype, '1', { get() { return 'forged' }, set(v) {}, configurable: true });
      console.log('still here');
      return 'real';
    } }""")
    assert r.ok and r.value == "real"
    assert [line.text for line in r.logs] == ["still here"]


def test_ctx_does_not_expose_the_request_state():
    w = worker("""export default { async task(p, env, ctx) {
      for (const s of Object.getOwnPropertySymbols(ctx)) { const st = ctx[s]; st.rid = 1; st.responded = false; }
      return p.id;
    } }""")
    slow = w.submit("task", {"id": "one"})
    drive(w, [slow])
    w2 = w.submit("task", {"id": "two"})
    drive(w, [w2])
    assert (slow.result.value, w2.result.value) == ("one", "two")


# ---- 3. nothing a tenant throws escapes to the host ------------------------------------
REVOKED = "(() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy })()"
TRAPS_THROW = "new Proxy({}, new Proxy({}, { get() { return () => { throw new Error('trap') } } }))"
HOSTILE_VALUES = {
    "revoked-proxy": REVOKED,
    "proxy-whose-traps-throw": TRAPS_THROW,
    "getters-throw": "{ get name() { throw 1 }, get message() { throw 2 }, get stack() { throw 3 } }",
    "getters-return-objects": "{ get name() { return {} }, get message() { return { toString() { throw 1 } } }, get stack() { return [] } }",
}


@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
@pytest.mark.parametrize(
    "how",
    [
        "task() { throw V }",  # dispatch
        "async task() { await null; throw V }",  # a promise job
        "task() { return new Promise((_, no) => setTimeout(() => no(V), 1)) }",  # fire
        "task() { return new Promise(() => setTimeout(() => { throw V }, 1)) }",  # fire, the callback throws
        "async task() { try { await fetch('https://x.test/') } catch (_) {} throw V }",  # settle
        "fetch() { throw V }",
    ],
    ids=["sync", "async", "timer-reject", "timer-throw", "after-host-op", "fetch"],
)
def test_a_hostile_exception_is_a_script_error(how, value):
    src = "const V = " + value + ";\nexport default { " + how + " }"
    r = run(src, "fetch" if how.startswith("fetch") else "task")
    assert not r.ok
    assert r.error.code == "E_SCRIPT", r.error


def test_a_thenable_whose_then_getter_throws_is_a_script_error():
    r = run("export default { task() { return { get then() { throw new TypeError('no then') } } } }")
    assert (r.error.code, r.error.message) == ("E_SCRIPT", "no then")


def test_each_readable_part_of_a_hostile_error_is_kept():
    r = run("export default { task() { throw { get name() { throw 1 }, message: 'kept', stack: {} } } }")
    assert (r.error.code, r.error.name, r.error.message) == ("E_SCRIPT", "Error", "kept")
    r = run("export default { task() { throw { name: { toString() { throw 1 } }, message: 'kept too' } } }")
    assert (r.error.name, r.error.message) == ("Error", "kept too")


@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_hostile_values_in_logs_and_wait_until_are_printed_not_thrown(value):
    r = run(
        "const V = "
        + value
        + ";\nexport default { task(p, env, ctx) { console.log('v', V); ctx.waitUntil(Promise.reject(V)); return 1 } }"
    )
    assert r.ok and r.value == 1
    assert r.logs[0].text.startswith("v ")


@pytest.mark.parametrize("value", [REVOKED, TRAPS_THROW], ids=["revoked-proxy", "proxy-whose-traps-throw"])
def test_a_hostile_top_level_or_default_export_fails_the_load_as_a_script_error(value):
    from shardrun.errors import ScriptError

    for src in ("throw " + value + ";\nexport default {}", "export default " + value):
        with pytest.raises(ScriptError) as exc:
            worker(src)
        assert exc.value.code == "E_SCRIPT", src


# ---- 4. console output of finished requests is capped per isolate ----------------------
def test_console_output_after_the_request_finished_is_capped_per_isolate():
    lim = Limits(max_log_bytes=10_000)
    w = worker(
        """export default { task() {
      (async () => { for (let i = 0; i < 1000; i++) { await null; console.log('x'.repeat(100)) } })();
      return 1;
    } }""",
        limits=lim,
    )
    events = outbox(w)
    for _ in range(2):  # the budget is the isolate's: the second request gets nothing more through
        call = w.submit("task", {})
        drive(w, [call])
        assert call.result.value == 1
    lines = [e for e in events if e[0] == "l"]  # what JS let out, none of it kept by the host
    kept = [e[3] for e in lines if e[2] == "log"]
    warnings = [e[3] for e in lines if e[2] == "warn"]
    assert sum(len(text) for text in kept) <= lim.max_log_bytes
    assert len(warnings) == 1 and "finished requests" in warnings[0]
    dropped = [e[1] for e in events if e[0] == "d"]
    assert dropped and dropped[-1] == 2000 - len(kept) == w.orphan_dropped
    assert w.orphan_logs == len(lines)


def test_console_output_of_the_top_level_is_capped(monkeypatch):
    events: list = []
    drain = WorkerIsolate._drain

    def record(self: WorkerIsolate, out: str) -> None:
        if out:
            events.extend(orjson.loads(out))
        drain(self, out)

    monkeypatch.setattr(WorkerIsolate, "_drain", record)
    worker("for (let i = 0; i < 2000; i++) console.log('y'.repeat(1000));\nexport default { task() { return 1 } }")
    lines = [e[3] for e in events if e[0] == "l"]
    assert sum(len(text) for text in lines) < 70_000
    assert "the rest is dropped" in lines[-1]


# ---- 5. a fetch() JS can tell is wrong rejects at once --------------------------------
FORGED_FETCHES = {
    "headers-5": "fetch('https://x.test/', { headers: 5 })",
    "method-object": "fetch('https://x.test/', { method: {} })",
    "body-symbol": "fetch('https://x.test/', { method: 'POST', body: Symbol() })",
    "url-getter-throws": "fetch(Object.create(Request.prototype, { url: { get() { throw new Error('u') } } }))",
    "no-argument": "fetch()",
    "forged-signal": "fetch('https://x.test/', { signal: { aborted: false, addEventListener() {}, removeEventListener() { throw 1 } } })",
    "init-not-an-object": "fetch('https://x.test/', 5)",
}


@pytest.mark.parametrize("call", FORGED_FETCHES.values(), ids=FORGED_FETCHES.keys())
def test_a_forged_fetch_call_rejects_at_once_with_a_type_error(call):
    t0 = time.monotonic()
    r = run(
        "export default { async task() { try { await " + call + "; return 'resolved' }"
        " catch (e) { return [e.name, e.code ?? null, e.message] } } }",
        limits=Limits(wall_ms=20_000),
    )
    assert time.monotonic() - t0 < 2, "must not wait for the wall-clock limit"
    assert r.ok, r.error
    name, code, message = r.value
    assert (name, code) == ("TypeError", None), message  # refused in JS, before the host saw it


# WebIDL: what a tenant's toString() throws reaches the caller unchanged (and nothing reaches the host).
@pytest.mark.parametrize(
    "call, thrown",
    [
        ("fetch({ toString() { throw new Error('no string') } })", ["Error", "no string"]),
        (
            "fetch('https://x.test/', { headers: { a: { toString() { throw new RangeError('v') } } } })",
            ["RangeError", "v"],
        ),
    ],
)
def test_a_throwing_to_string_in_a_fetch_call_rejects_with_its_own_error(call, thrown):
    r = run(
        "export default { async task() { try { await " + call + "; return 'resolved' }"
        " catch (e) { return [e.name, e.message] } } }",
        limits=Limits(wall_ms=20_000),
    )
    assert r.ok, r.error
    assert r.value == thrown


def test_a_request_subclass_overriding_url_still_sends_its_real_url():
    w = worker("""export default { async task() {
      class R extends Request { get url() { throw new Error('u') } }
      try { await fetch(new R('https://real.test/')) } catch (e) { return e.code }
    } }""")
    events = outbox(w)
    call = w.submit("task", {})
    drive(w, [call])
    assert call.result.value == "E_FETCH_DISABLED"
    ops = [e for e in events if e[0] == "o"]
    assert len(ops) == 1 and ops[0][4]["url"] == "https://real.test/"


def test_header_checks_hold_when_string_and_regexp_methods_are_patched():
    r = run("""export default { async task() {
      String.prototype.includes = () => false; RegExp.prototype.test = () => true; RegExp.prototype.exec = () => [''];
      String.prototype.toLowerCase = function () { return 'x-evil\\r\\nset-cookie: a' };
      const errs = [];
      for (const f of [() => new Headers({ a: 'x\\r\\nEvil: 1' }), () => new Headers({ 'bad name': '1' }),
                       () => new Response('', { statusText: '\\n' }), () => new Request('https://x.test/', { method: 'GE T' })]) {
        try { f(); errs.push('accepted') } catch (e) { errs.push(e.name) }
      }
      return errs;
    } }""")
    assert r.value == ["TypeError"] * 4
