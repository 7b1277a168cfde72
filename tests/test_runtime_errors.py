"""Bad scripts and runaway handlers get clear, stable errors (fault matrix rows 1-5, 9, 11-14)."""

from __future__ import annotations

import time

import pytest

from shardrun.engine.limits import Limits

from .conftest import run_js

FAST = Limits(cpu_ms=200, wall_ms=5_000)


def err(r):
    assert not r.ok, r.value
    return r.error


def test_syntax_error_names_line_and_column():
    e = err(run_js("export default {\n  task(p) { return 1 +; }\n}"))
    assert e.code == "E_COMPILE"
    assert "SyntaxError" in e.message and "worker.js:2:" in e.message


def test_missing_default_export():
    e = err(run_js("export function task() { return 1 }"))
    assert e.code == "E_NO_DEFAULT_EXPORT"
    assert "no default export" in e.message


def test_default_export_not_an_object():
    e = err(run_js("export default null"))
    assert e.code == "E_NO_DEFAULT_EXPORT" and "null" in e.message


def test_missing_handler_names_what_is_missing_and_what_exists():
    e = err(run_js("export default { fetch() { return new Response('x') } }"))
    assert e.code == "E_NO_HANDLER"
    assert "no task handler" in e.message and "fetch" in e.message


def test_sync_throw_keeps_the_script_stack():
    e = err(run_js("function boom() { throw new TypeError('bad input') }\nexport default { task() { boom() } }"))
    assert (e.code, e.name, e.message) == ("E_SCRIPT", "TypeError", "bad input")
    assert "at boom (worker.js:1:" in e.stack


def test_async_throw_after_await():
    e = err(run_js("export default { async task() { await null; throw new RangeError('later') } }"))
    assert (e.code, e.name, e.message) == ("E_SCRIPT", "RangeError", "later")


def test_throwing_a_non_error_value():
    e = err(run_js("export default { task() { throw 'just a string' } }"))
    assert e.code == "E_SCRIPT" and e.message == "just a string"


def test_top_level_throw_fails_the_load():
    e = err(run_js("throw new Error('no config');\nexport default { task() {} }"))
    assert e.code == "E_SCRIPT" and "no config" in e.message


def test_top_level_timers_are_refused():
    e = err(run_js("setTimeout(() => {}, 1);\nexport default { task() {} }"))
    assert e.code == "E_SCRIPT" and "top level" in e.message


def test_never_settling_promise_is_reported_at_once():
    t0 = time.monotonic()
    e = err(run_js("export default { task() { return new Promise(() => {}) } }", limits=Limits(wall_ms=20_000)))
    assert e.code == "E_NEVER_RESPONDS"
    assert time.monotonic() - t0 < 2, "should not wait for the deadline"


def test_never_settling_with_a_live_timer_waits_for_the_deadline():
    t0 = time.monotonic()
    e = err(
        run_js(
            "export default { task() { setInterval(() => {}, 10); return new Promise(() => {}) } }",
            limits=Limits(wall_ms=300),
        )
    )
    assert e.code == "E_WALL_TIMEOUT"
    assert 0.25 < time.monotonic() - t0 < 3


def test_infinite_loop_stops_within_budget():
    t0 = time.monotonic()
    e = err(run_js("export default { task() { while (true) {} } }", limits=FAST))
    elapsed = time.monotonic() - t0
    assert e.code == "E_CPU_LIMIT"
    assert elapsed < 0.2 + 0.5, elapsed


def test_await_loop_spread_over_microtasks_is_stopped():
    e = err(run_js("export default { async task() { for (;;) await null } }", limits=FAST))
    assert e.code == "E_CPU_LIMIT"


def test_cpu_budget_is_summed_over_timer_turns():
    src = """
    const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end) {} };
    export default { task() { return new Promise(() => { const tick = () => { spin(20); setTimeout(tick, 0) }; tick() }) } }
    """
    t0 = time.monotonic()
    e = err(run_js(src, limits=Limits(cpu_ms=150, wall_ms=10_000)))
    assert e.code == "E_CPU_LIMIT"
    assert time.monotonic() - t0 < 2


@pytest.mark.parametrize(
    "bomb",
    [
        "const a = []; for (;;) a.push('xxxxxxxxxxxxxxxx' + a.length)",
        "return 'x'.repeat(2 ** 28)",
        "return new ArrayBuffer(2 ** 30)",
        "return new Array(2 ** 25).fill(1.5)",
        "const m = new Map(); for (let i = 0; ; i++) m.set(i, {i})",
    ],
)
def test_memory_bombs_hit_the_memory_limit(bomb):
    e = err(run_js("export default { task() { " + bomb + " } }", limits=Limits(memory_mb=32, cpu_ms=5_000)))
    assert e.code == "E_OOM", e


def test_deep_recursion_is_a_stack_error():
    e = err(run_js("function f(n) { return f(n + 1) + 1 }\nexport default { task() { return f(0) } }"))
    assert e.code == "E_STACK"


def test_deeply_nested_json_parse_in_js_is_a_stack_error():
    e = err(run_js("export default { task() { return JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)) } }"))
    assert e.code == "E_STACK"


@pytest.mark.parametrize(
    "value,words",
    [
        ("() => 1", "function"),
        ("10n", "BigInt"),
        ("(() => { const a = {}; a.self = a; return a })()", "circular"),
        ("Symbol('s')", "symbol"),
    ],
)
def test_results_json_cannot_carry(value, words):
    e = err(run_js(f"export default {{ task() {{ return {value} }} }}"))
    assert e.code == "E_BAD_OUTPUT" and words in e.message


def test_lone_surrogate_result_is_bad_output_not_a_crash():
    e = err(run_js("export default { task() { return { s: 'a\\ud800b' } } }"))
    assert e.code == "E_BAD_OUTPUT" and "surrogate" in e.message


def test_undefined_result_is_null():
    r = run_js("export default { task() {} }")
    assert r.ok and r.value is None


def test_oversize_result_is_refused():
    e = err(run_js("export default { task() { return 'y'.repeat(2000) } }", limits=Limits(max_output_bytes=1000)))
    assert e.code == "E_RESPONSE_TOO_LARGE"


def test_oversize_response_body_is_refused():
    e = err(
        run_js(
            "export default { fetch() { return new Response('y'.repeat(5000)) } }",
            kind="fetch",
            arg=__import__("shardrun").HttpRequest("GET", "https://a.test/"),
            limits=Limits(max_output_bytes=1000),
        )
    )
    assert e.code == "E_RESPONSE_TOO_LARGE"


def test_fetch_handler_must_return_a_response():
    from shardrun import HttpRequest

    e = err(
        run_js("export default { fetch() { return 'hi' } }", kind="fetch", arg=HttpRequest("GET", "https://a.test/"))
    )
    assert e.code == "E_BAD_OUTPUT" and "must return a Response" in e.message


def test_fetch_without_a_host_policy_is_refused_and_says_so():
    r = run_js(
        "export default { async task() { try { await fetch('https://example.com/') } catch (e) { return [e.name, e.code, e.message] } } }"
    )
    assert r.ok and r.value == ["TypeError", "E_FETCH_DISABLED", "fetch() is not enabled for this worker"]


def test_host_operation_arguments_are_capped():
    r = run_js(
        "export default { async task() { try { await fetch('https://example.com/', {method: 'POST', body: 'x'.repeat(2e6)}) } catch (e) { return e.name + ': ' + e.message } } }"
    )
    assert r.ok and r.value.startswith("RangeError: fetch(): arguments are")
