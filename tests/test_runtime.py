"""The isolate event loop: concurrency, timers, waitUntil, console, guards and isolation."""

from __future__ import annotations

import threading
import time

import pytest

from shardrun.engine.limits import Limits
from shardrun.errors import RuntimeFault, ScriptError

from .conftest import drive, run_js, worker

SLEEPER = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default { async task(p) { await sleep(p.ms); return p.id } }
"""


def test_a_handler_awaiting_a_timer_does_not_block_the_next_request():
    w = worker(SLEEPER)
    done = []
    slow = w.submit("task", {"ms": 300, "id": "slow"}, on_result=lambda c: done.append(c.result.value))
    fast = w.submit("task", {"ms": 10, "id": "fast"}, on_result=lambda c: done.append(c.result.value))
    drive(w, [slow, fast])
    assert done == ["fast", "slow"]


def test_many_requests_in_flight_interleave():
    w = worker(SLEEPER)
    t0 = time.monotonic()
    calls = [w.submit("task", {"ms": 50, "id": i}) for i in range(200)]
    drive(w, calls)
    assert [c.result.value for c in calls] == list(range(200))
    assert time.monotonic() - t0 < 2.0  # 200 x 50 ms sequentially would be 10 s


def test_timers_fire_in_order_and_can_be_cleared():
    r = run_js("""
    export default { task() { return new Promise((resolve) => {
      const seen = [];
      setTimeout(() => seen.push('b'), 20);
      setTimeout(() => seen.push('a'), 5);
      const t = setTimeout(() => seen.push('never'), 10);
      clearTimeout(t);
      let n = 0;
      const iv = setInterval(() => { seen.push('i' + n); if (++n === 3) clearInterval(iv) }, 1);
      queueMicrotask(() => seen.push('micro'));
      setTimeout(() => resolve(seen), 40);
    }) } }""")
    assert r.ok
    v = r.value
    assert v[0] == "micro" and "never" not in v
    assert v.index("a") < v.index("b") and [x for x in v if x.startswith("i")] == ["i0", "i1", "i2"]


def test_wait_until_runs_after_the_response_and_the_request_finishes_after_it():
    w = worker("""
    export default { task(p, env, ctx) {
      ctx.waitUntil(new Promise((r) => setTimeout(() => { console.log('background done'); r() }, 30)));
      return 'answered';
    } }""")
    c = w.submit("task", {})
    assert c.result.ok and c.result.value == "answered"
    assert not c.finished
    drive(w, [c])
    assert [line.text for line in c.logs] == ["background done"]


def test_wait_until_is_cut_off_at_the_deadline():
    w = worker(
        "export default { task(p, env, ctx) { ctx.waitUntil(new Promise((r) => setTimeout(r, 10_000))); return 1 } }",
        limits=Limits(wall_ms=200),
    )
    c = w.submit("task", {})
    drive(w, [c])
    assert c.result.ok and any("cut off" in line.text for line in c.logs)


def test_console_is_captured_per_request_with_levels():
    r = run_js("""export default { task() {
      console.log('plain', 1, {a: [1, 2]}); console.warn('careful'); console.error(new TypeError('bad'));
      console.info(undefined, null, 10n); console.debug('dbg'); const o = {}; o.o = o; console.log(o);
    } }""")
    assert r.ok
    got = [(line.level, line.text.splitlines()[0]) for line in r.logs]
    assert got == [
        ("log", 'plain 1 {"a":[1,2]}'),
        ("warn", "careful"),
        ("error", "TypeError: bad"),
        ("info", "undefined null 10n"),
        ("debug", "dbg"),
        ("log", '{"o":"[Circular]"}'),
    ]


def test_console_output_is_capped():
    r = run_js(
        "export default { task() { for (let i = 0; i < 10000; i++) console.log('x'.repeat(100)) } }",
        limits=Limits(max_log_bytes=5000),
    )
    assert r.ok
    assert len(r.logs) <= 52 and "dropped" in r.logs[-1].text


def test_a_second_thread_gets_an_error_not_a_crash():
    w = worker("export default { task(p) { const end = Date.now() + p.ms; while (Date.now() < end) {} return 1 } }")
    started = threading.Event()
    result = {}

    def hold():
        started.set()
        result["call"] = w.submit("task", {"ms": 400})

    t = threading.Thread(target=hold)
    t.start()
    started.wait()
    time.sleep(0.1)
    with pytest.raises(RuntimeFault) as exc:
        w.submit("task", {"ms": 1})
    t.join()
    assert exc.value.code == "E_ISOLATE_BUSY"
    assert result["call"].result.ok


def test_an_isolate_that_hit_a_limit_is_discarded_and_its_other_requests_fail_explicitly():
    w = worker(SLEEPER, limits=Limits(cpu_ms=100))
    other = w.submit("task", {"ms": 1000, "id": "other"})
    w2 = worker(
        "export default { async task(p) { if (p.spin) for (;;) {} await new Promise(r => setTimeout(r, 1000)); return 1 } }",
        limits=Limits(cpu_ms=100),
    )
    waiting = w2.submit("task", {})
    spinning = w2.submit("task", {"spin": True})
    assert spinning.result.error.code == "E_CPU_LIMIT"
    assert waiting.result.error.code == "E_ISOLATE_DISCARDED"
    assert w2.discarded
    with pytest.raises(RuntimeFault) as exc:
        w2.submit("task", {})
    assert exc.value.code == "E_ISOLATE_DISCARDED"
    drive(w, [other])
    assert other.result.value == "other"


def test_an_isolate_whose_request_threw_is_retired_after_its_other_requests_finish():
    w = worker(
        "export default { async task(p) { if (p.fail) throw new Error('x'); await new Promise(r => setTimeout(r, 50)); return 'ok' } }"
    )
    ok = w.submit("task", {})
    bad = w.submit("task", {"fail": True})
    assert bad.result.error.code == "E_SCRIPT"
    assert w.retiring and not w.discarded
    with pytest.raises(RuntimeFault):
        w.submit("task", {})
    drive(w, [ok])
    assert ok.result.value == "ok"
    w.pump()
    assert w.discarded


def test_prototype_pollution_stays_in_its_own_isolate():
    a = worker(
        "export default { task() { Object.prototype.polluted = 'yes'; Array.prototype.map = null; JSON.parse = () => 42; return 1 } }"
    )
    b = worker("export default { task() { return [({}).polluted ?? 'clean', typeof [].map, JSON.parse('7')] } }")
    assert a.submit("task", {}).result.ok
    assert b.submit("task", {}).result.value == ["clean", "function", 7]


def test_polluted_json_does_not_confuse_the_host():
    w = worker(
        "export default { task() { JSON.stringify = () => 'lies'; JSON.parse = () => ({}); return {real: true} } }"
    )
    assert w.submit("task", {}).result.value == {"real": True}
    assert w.submit("task", {}).result.value == {"real": True}


def test_env_is_passed_to_handlers():
    r = run_js(
        "export default { task(p, env) { return env.GREETING + ' ' + p.name } }", {"name": "x"}, env={"GREETING": "hi"}
    )
    assert r.value == "hi x"


def test_no_file_system_process_or_module_access():
    r = run_js("""export default { async task() {
      const out = [typeof std, typeof os, typeof require, typeof process, typeof Deno];
      try { await import('/etc/passwd'); out.push('imported') } catch (e) { out.push(e.message) }
      return out } }""")
    assert r.value[:5] == ["undefined"] * 5 and r.value[5].endswith("absolute import paths are not allowed")


def test_static_import_of_a_file_fails_to_load():
    with pytest.raises(ScriptError) as exc:
        worker("import x from '/etc/passwd';\nexport default { task() { return x } }")
    assert exc.value.code == "E_IMPORT"
    assert "cannot import '/etc/passwd' from 'worker.js': absolute import paths are not allowed" in exc.value.message
