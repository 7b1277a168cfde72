"""shardrun.engine._quickjs, the engine extension: its API, its limits, its loader, its bytecode, its refcounts."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref

import psutil
import pytest

from shardrun.engine import _quickjs as qjs

ASAN = os.environ.get("SHARDRUN_ASAN_RUN") == "1"  # scripts/asan-test: RSS says nothing under ASAN
NATIVE_HEAVY = "const a = new Array(2e6).fill(0); for (;;) a.indexOf(1)"


def iso(**kw) -> qjs.Isolate:
    return qjs.Isolate(memory_limit=kw.pop("memory_limit", 64 << 20), **kw)


# ---- values ---------------------------------------------------------------------------


def test_values_cross_both_ways():
    i = iso()
    assert i.eval("1 + 2") == 3 and i.eval("2.5") == 2.5 and i.eval("'héllo ✓'") == "héllo ✓"
    assert i.eval("null") is None and i.eval("undefined") is None and i.eval("true") is True
    assert i.eval("2n ** 70n") == 2**70
    assert i.eval("new Uint8Array([1, 2, 255])") == b"\x01\x02\xff"
    assert i.eval("new Uint8Array([9, 8, 7]).buffer") == b"\x09\x08\x07"
    assert i.eval("new Uint8Array([1, 2, 3, 4]).subarray(1, 3)") == b"\x02\x03"
    echo = i.eval("(x) => x")
    for v in (None, True, 0, -7, 2**53, 1.5, "", "a\u0000b", "😀"):
        assert echo(v) == v
    assert i.eval(r"'\ud800x'") == "\ud800x"  # a lone surrogate comes out as one
    describe = i.eval("(x) => JSON.stringify(x)")
    assert describe({"a": [1, "x", None, {"b": False}], "c": 2.5}) == '{"a":[1,"x",null,{"b":false}],"c":2.5}'
    assert describe((1, 2)) == "[1,2]"
    assert i.eval("(b) => b instanceof Uint8Array && b.length")(b"abc") == 3
    with pytest.raises(OverflowError):
        echo(2**60)
    with pytest.raises(TypeError, match="cannot pass a set"):
        echo({1, 2})
    with pytest.raises(TypeError, match="keys passed to JS must be str"):
        echo({1: 2})


def test_a_mebibyte_of_bytes_round_trips_without_text():
    i = iso()
    blob = bytes(range(256)) * 4096
    flip = i.eval(
        "(b) => { const o = new Uint8Array(b.length); for (let k = 0; k < b.length; k++) o[k] = 255 - b[k]; return o }"
    )
    assert flip(blob) == bytes(255 - x for x in blob)
    assert i.eval("(b) => b.byteLength")(blob) == 1 << 20


def test_objects_stay_handles_with_get_json_and_type():
    i = iso()
    obj = i.eval("({ n: 1, f(x) { return x * 2 }, arr: [1, 2], p: Promise.resolve(5) })")
    assert isinstance(obj, qjs.Value) and obj.type == "object"
    assert obj.get("n") == 1 and obj.get("missing") is None
    assert obj.get("f").type == "function" and obj.get("f")(21) == 42
    assert obj.get("arr").type == "array" and obj.get("arr").json() == "[1,2]"
    assert obj.get("p").promise_state() == "fulfilled" and obj.get("p").promise_result() == 5
    assert obj.get("arr").promise_state() is None
    other = iso()
    with pytest.raises(TypeError, match="another"):
        other.eval("(x) => x")(obj)


def test_js_errors_carry_name_message_stack_and_code():
    i = iso()
    with pytest.raises(qjs.JSError) as e:
        i.eval("function f() { const e = new TypeError('bad thing'); e.code = 'E_X'; throw e }\nf()", "w.js")
    assert (e.value.name, e.value.message, e.value.code) == ("TypeError", "bad thing", "E_X")
    assert "w.js:1:" in e.value.stack and isinstance(e.value, qjs.EngineError)
    with pytest.raises(qjs.JSError) as e:
        i.eval("throw 42")
    assert (e.value.name, e.value.message, e.value.code) == ("Error", "42", None)
    with pytest.raises(qjs.JSError) as e:
        i.eval("let = = 1", "bad.js")
    assert e.value.name == "SyntaxError" and "bad.js:1:" in e.value.stack


# ---- host functions ---------------------------------------------------------------------


def test_host_functions_work_under_an_armed_budget():
    i = iso()
    seen = []
    i.set_global("host", i.function("host", lambda *a: seen.append(a) or len(seen)))
    i.set_global("rand", i.function("rand", lambda n: bytes(range(n))))
    i.arm(2.0)
    assert i.eval("let t = 0; for (let k = 0; k < 1000; k++) t += host(k, 'x'); t") == sum(range(1, 1001))
    assert i.eval("rand(4)") == b"\x00\x01\x02\x03"
    assert i.disarm() > 0
    assert seen[0] == (0, "x") and len(seen) == 1000


def test_a_raising_host_function_is_a_js_error_with_a_stable_code():
    i = iso()

    class Denied(Exception):
        code = "E_EGRESS_DENIED"
        message = "egress to 10.0.0.1 is not allowed"

    def secret():
        raise ValueError("internal detail")

    i.set_global("secret", i.function("secret", secret))
    i.set_global("denied", i.function("denied", lambda: (_ for _ in ()).throw(Denied())))
    i.set_global("weird", i.function("weird", lambda: object()))
    catch = "(() => { try { %s() } catch (e) { return [e.name, e.code, e.message] } })()"
    assert i.eval(catch % "secret").json() == '["Error","E_INTERNAL","host function \'secret\' failed (ValueError)"]'
    assert isinstance(i.host_error, ValueError) and "internal detail" in str(i.host_error)
    assert i.eval(catch % "denied").json() == (
        '["Error","E_EGRESS_DENIED","host function \'denied\' failed: egress to 10.0.0.1 is not allowed"]'
    )
    assert "cannot pass a object to JS" in i.eval(catch % "weird").get(2)
    with pytest.raises(qjs.JSError) as e:
        i.eval("secret()")
    assert e.value.code == "E_INTERNAL"
    assert i.eval("1 + 1") == 2  # still usable


def test_a_host_function_may_call_back_into_its_isolate():
    i = iso()
    double = i.eval("(x) => x * 2")
    i.set_global("viaHost", i.function("viaHost", lambda x: double(x) + i.eval("1")))
    assert i.eval("viaHost(20)") == 41


# ---- limits -----------------------------------------------------------------------------


@pytest.fixture
def guarded():
    """Isolates whose JS a timer interrupts after a few seconds: a broken deadline fails a test, never hangs it."""
    timers: list[threading.Timer] = []

    def make(**kw) -> qjs.Isolate:
        i = iso(**kw)
        t = threading.Timer(15.0 if ASAN else 3.0, i.interrupt)
        t.start()
        timers.append(t)
        return i

    yield make
    for t in timers:
        t.cancel()


def _cpu(fn) -> float:
    t0 = time.thread_time()
    fn()
    return time.thread_time() - t0


def test_the_cpu_deadline_stops_a_busy_loop(guarded):
    i = guarded()
    i.arm(0.1)
    with pytest.raises(qjs.BudgetExceeded) as e:
        i.eval("for (;;) {}")
    t = i.disarm()
    assert e.value.code == "E_CPU_LIMIT" and 0.1 <= t < 0.4


def test_the_cpu_deadline_stops_an_await_loop_across_jobs(guarded):
    i = guarded()
    i.arm(0.1)
    start = i.eval("async () => { for (;;) await 0 }")
    start()
    with pytest.raises(qjs.BudgetExceeded):
        i.run_jobs()
    assert i.disarm() < 0.4


def test_the_deadline_spans_every_call_of_a_turn(guarded):
    i = guarded()
    spin = i.eval("() => { let s = 0; for (let k = 0; k < 3e5; k++) s += k; return s }")
    one = min(_cpu(spin) for _ in range(3))  # CPU seconds of one call
    i.arm(one * 4.5)
    calls = 0
    with pytest.raises(qjs.BudgetExceeded):
        for _ in range(50):
            spin()
            calls += 1
    assert 2 <= calls <= 8
    i.arm(one * 4.5)
    spin()  # a new turn, a new budget
    i.disarm()


def test_a_deadline_hit_inside_a_host_function_cannot_be_caught_by_js(guarded):
    i = guarded()
    spin = i.eval("() => { for (;;) {} }")
    i.set_global("host", i.function("host", lambda: spin()))
    i.arm(0.05)
    with pytest.raises(qjs.BudgetExceeded):
        i.eval("try { host() } catch (e) { globalThis.caught = String(e) }")
    i.disarm()
    assert i.get_global("caught") is None


def test_cpu_used_is_charged_from_arm(guarded):
    i = guarded()
    i.arm(1.0)
    assert 0 <= i.cpu_used() < 0.01  # nothing ran yet
    i.eval("let s = 0; for (let k = 0; k < 2e5; k++) s += k")
    used = i.disarm()
    assert 0 < used < 1.0 and i.cpu_used() == 0.0


def test_the_lowered_poll_interval_stops_a_native_heavy_loop(guarded):
    assert qjs.POLL_TICKS <= 100
    i = guarded(memory_limit=256 << 20)
    i.arm(0.2)
    with pytest.raises(qjs.BudgetExceeded):
        i.eval(NATIVE_HEAVY)
    # a few times the budget (the engine's default 10,000 ticks ran for seconds); ASAN's build is slower
    assert i.disarm() < (6.0 if ASAN else 1.5)


def test_interrupt_from_another_thread_stops_js_until_rearmed():
    i = iso()
    i.arm(60)
    timer = threading.Timer(0.05, i.interrupt)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(qjs.Interrupted):
        i.eval("for (;;) {}")
    assert time.monotonic() - t0 < 2
    timer.join()
    with pytest.raises(qjs.Interrupted):
        i.eval("1")
    i.arm(1)
    assert i.eval("1") == 1


def test_a_second_thread_gets_isolate_busy_not_a_crash():
    i = iso()
    got: list[BaseException] = []

    def other():
        time.sleep(0.05)
        for call in (lambda: i.eval("1"), i.close, lambda: i.eval("(x) => x")):
            try:
                call()
            except qjs.IsolateBusy as exc:
                got.append(exc)
        i.interrupt()

    t = threading.Thread(target=other)
    t.start()
    i.arm(5)
    with pytest.raises(qjs.Interrupted):
        i.eval("for (;;) {}")
    t.join(5)
    assert len(got) == 3 and got[0].code == "E_ISOLATE_BUSY"
    i.arm(1)
    assert i.eval("2") == 2


def test_values_dropped_by_another_thread_while_js_runs_are_freed_later():
    i = iso()
    objs = [i.eval("({})") for _ in range(50)]
    base = i.memory()["obj_count"]

    def other():
        time.sleep(0.05)
        objs.clear()  # frees Values while the engine runs on the main thread
        i.interrupt()

    t = threading.Thread(target=other)
    t.start()
    i.arm(5)
    with pytest.raises(qjs.Interrupted):
        i.eval("for (;;) {}")
    t.join(5)
    assert i.memory()["obj_count"] <= base - 50


def test_memory_and_stack_caps():
    i = iso(memory_limit=8 << 20)
    with pytest.raises(qjs.OutOfMemory) as e:
        i.eval("const a = []; for (;;) a.push('x'.repeat(1000) + a.length)")
    assert e.value.code == "E_OOM"
    s = iso(stack_limit=256 << 10)
    with pytest.raises(qjs.StackOverflow) as e:
        s.eval("function f(n) { return f(n + 1) + 1 } f(0)")
    assert e.value.code == "E_STACK"
    assert s.eval("1") == 1


def test_memory_figures():
    i = iso()
    before = i.memory()
    keep = i.eval("Array.from({ length: 1000 }, (_, k) => ({ k }))")
    after = i.memory()
    assert {"malloc_size", "malloc_limit", "memory_used_size", "obj_count", "str_count"} <= set(after)
    assert after["obj_count"] >= before["obj_count"] + 1000 and after["malloc_limit"] == 64 << 20
    assert keep.type == "array"


# ---- the rejection tracker ---------------------------------------------------------------


def test_unhandled_rejections_and_their_later_handling_are_recorded():
    i = iso()
    i.eval(
        "Promise.reject(new RangeError('nope')); Promise.reject(1).catch(() => {}); globalThis.p = Promise.reject('late')"
    )
    i.run_jobs()
    first = i.take_rejections()
    assert [(r["event"], r["reason"]) for r in first] == [("unhandled", "RangeError: nope"), ("unhandled", "late")]
    assert "<input>:1:" in first[0]["stack"]
    i.eval("p.catch(() => {})")
    i.run_jobs()
    assert i.take_rejections() == [{"id": first[1]["id"], "event": "handled"}]
    assert i.take_rejections() == []


def test_a_rejection_flood_is_capped():
    i = iso()
    i.eval("for (let k = 0; k < 300; k++) Promise.reject(new Error('e' + k))")
    assert len(i.take_rejections()) == 256 and i.rejections_dropped == 44


# ---- lifetime and refcounts ----------------------------------------------------------------


def test_closing_frees_the_engine_and_kills_its_values():
    i = iso()
    f = i.eval("() => 1")
    i.close()
    i.close()
    assert i.closed
    for call in (f, lambda: i.eval("1"), i.memory):
        with pytest.raises(qjs.IsolateClosed):
            call()


def test_values_created_and_dropped_leave_no_trace():
    i = iso()
    make = i.eval("(k) => ({ k, s: 'v' + k, a: [k] })")
    host_args = []
    i.set_global("keep", i.function("keep", lambda o: host_args.append(o)))
    take = i.eval("(k) => keep({ k })")
    for k in range(1000):  # warm up allocator pools
        make(k)
    gc.collect()
    objs = i.memory()["obj_count"]
    rss = psutil.Process().memory_info().rss
    for k in range(100_000):
        make(k)
        if k % 10 == 0:
            take(k)
            host_args.clear()
    gc.collect()
    assert i.memory()["obj_count"] == objs
    assert ASAN or psutil.Process().memory_info().rss - rss < 8 << 20


def test_isolates_created_and_dropped_leave_no_trace():
    def one() -> None:
        i = qjs.Isolate(memory_limit=8 << 20)
        i.set_global("f", i.function("f", lambda: 1))
        v = i.eval("f(); Promise.reject(new Error('x')); ({ big: 'x'.repeat(1000) })")
        assert v.type == "object"

    for _ in range(300):
        one()
    rss = psutil.Process().memory_info().rss
    for _ in range(10_000):
        one()
    assert ASAN or psutil.Process().memory_info().rss - rss < 8 << 20


def test_isolates_in_reference_cycles_are_collected():
    def one() -> weakref.ref:
        i = qjs.Isolate(memory_limit=8 << 20)
        v = i.eval("({ big: 'x'.repeat(1000) })")
        i.set_global("f", i.function("f", lambda: v))  # isolate -> fn -> value -> isolate
        return weakref.ref(i)

    gc.collect()
    refs = [one() for _ in range(1000)]
    gc.collect()
    assert all(r() is None for r in refs)
