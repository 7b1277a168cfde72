"""The engine adapter over shardrun's own extension: turns under one CPU deadline, the
watchdog's interrupt, bytecode, the module cache and unhandled rejections per request."""

from __future__ import annotations

import threading
import time

import pytest

from shardrun.engine import adapter
from shardrun.engine.adapter import BadBytecode, BudgetExceeded, Interrupted, Isolate, compile_script, live_isolates
from shardrun.engine.bytecode import MODULES
from shardrun.engine.watchdog import Watchdog
from shardrun.errors import RuntimeFault
from shardrun.runtime import prelude
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import MAX_REJECTION_LINES, WorkerIsolate
from shardrun.runtime.script import Script

from .conftest import drive


def new() -> Isolate:
    return Isolate(memory_limit=64 << 20, stack_limit=1 << 20)


def worker(src: str) -> WorkerIsolate:
    return WorkerIsolate(Script.from_source(src, "w.js"))


def test_a_turns_deadline_spans_its_promise_jobs():
    # An await loop never returns to the host: only a deadline over the whole turn stops it.
    iso = new()
    with iso:
        fn = iso.eval("() => { (async () => { for (;;) await null })() }")
        t0 = time.thread_time()
        with pytest.raises(BudgetExceeded):
            iso.turn(fn, (), 0.05)
        used = time.thread_time() - t0
    assert 0.04 < used < 0.5, used


def test_a_turn_reports_the_cpu_it_used():
    iso = new()
    with iso:
        fn = iso.eval("(n) => { let s = 0; for (let i = 0; i < n; i++) s += i; return s }")
        value, jobs, used = iso.turn(fn, (1000,), 1.0)
    assert value == 499500 and jobs == 0 and 0 <= used < 0.5


def test_interrupt_from_another_thread_stops_a_turn():
    iso = new()
    timer = threading.Timer(0.05, iso.interrupt)
    with iso:
        fn = iso.eval("() => { for (;;) {} }")
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(Interrupted):
            iso.turn(fn, (), 30.0)
    timer.join()
    assert time.monotonic() - t0 < 5


def test_the_watchdog_interrupts_first_and_does_not_kill_when_that_works():
    stuck: list[object] = []
    dog = Watchdog(stuck.append, poll=0.005)
    iso = new()
    try:
        with iso:
            fn = iso.eval("() => { for (;;) {} }")
            dog.arm(0.05, "turn", iso.interrupt, 5.0)  # the engine's own deadline is far away
            try:
                with pytest.raises(Interrupted):
                    iso.turn(fn, (), 30.0)
            finally:
                dog.disarm()
    finally:
        dog.stop()
    assert stuck == []


def test_the_watchdog_ends_a_turn_the_interrupt_did_not_stop():
    stuck: list[object] = []
    done = threading.Event()
    dog = Watchdog(lambda s: (stuck.append(s), done.set()), poll=0.005)
    calls: list[int] = []
    try:
        dog.arm(0.02, "turn", lambda: calls.append(1), 0.02)
        t0 = time.thread_time()
        while not done.is_set() and time.thread_time() - t0 < 5:  # a "native call" that never polls
            pass
        dog.disarm()
    finally:
        dog.stop()
    assert calls == [1] and stuck == ["turn"]


def test_a_second_thread_gets_isolate_busy():
    iso = new()
    errors: list[str] = []
    with iso:

        def other() -> None:
            try:
                with iso:
                    pass
            except RuntimeFault as exc:
                errors.append(exc.code)

        t = threading.Thread(target=other)
        t.start()
        t.join(5)
    assert errors == ["E_ISOLATE_BUSY"]


def test_bytecode_round_trip_and_refusals():
    code = compile_script("(a) => a * 2", "double.js")
    iso = new()
    with iso:
        assert iso.load(code)(21) == 42
        with pytest.raises(BadBytecode, match="corrupt"):
            iso.load(code[:-1] + bytes([code[-1] ^ 1]))
        with pytest.raises(BadBytecode, match="truncated"):
            iso.load(code[:-3])
        other_build = code[:12] + b"0" * 64 + code[76:]
        with pytest.raises(BadBytecode, match="another engine build"):
            iso.load(other_build)
    assert code[12:76].decode() == adapter.ENGINE_BUILD


def test_compile_script_leaves_no_isolate_behind():
    before = live_isolates()
    compile_script("1 + 1", "x.js")
    assert live_isolates() == before


def test_prelude_chunks_are_compiled_once_per_process():
    assert prelude.bytecode("fetch_api") is prelude.bytecode("fetch_api")
    w = worker("export default { fetch() { return new Response(new TextEncoder().encode('hi')) } }")
    call = w.submit("fetch", HttpRequest("GET", "https://x.test/"))
    assert call.result is not None and call.result.ok and call.result.value.body == b"hi"


def test_worker_modules_are_compiled_once_and_the_cache_is_bounded(monkeypatch):
    src = "export default { task() { return 7 } }"
    worker(src)
    n = len(MODULES)
    code = MODULES.get(new(), src, "<input>")
    worker(src)
    assert len(MODULES) == n and MODULES.get(new(), src, "<input>") is code
    monkeypatch.setattr(MODULES, "entries", 3)
    for i in range(6):
        assert worker(f"export default {{ task() {{ return {i} }} }}").submit("task", None).result.value == i
    assert len(MODULES) <= 3


def test_the_module_cache_can_be_resized_to_fewer_entries_and_bytes():
    from shardrun.engine.bytecode import ModuleCache

    cache = ModuleCache(entries=10, max_bytes=1 << 20)
    iso = new()
    codes = [cache.get(iso, f"export default {i}", f"m{i}.js") for i in range(6)]
    assert len(cache) == 6
    cache.resize(4, 1 << 20)
    assert len(cache) == 4 and cache.get(iso, "export default 5", "m5.js") is codes[5]  # the newest stay
    cache.resize(100, len(codes[0]) + 1)  # a byte bound under two entries keeps one
    assert len(cache) == 1


@pytest.mark.parametrize("damage", ["truncated", "another engine build", "corrupt"])
def test_a_damaged_module_cache_entry_is_logged_and_compiled_again(damage, caplog, tmp_path):
    (tmp_path / "lib.js").write_text(f"export const v = {len(damage)};")
    (tmp_path / "index.js").write_text("import { v } from './lib.js'; export default { task() { return v } }")
    script = Script.from_dir(tmp_path, "w")
    assert WorkerIsolate(script).submit("task", None).result.value == len(damage)
    sources = {"<input>": script.source, "lib.js": (script.modules or {})["lib.js"]}
    for name, src in sources.items():
        key = MODULES._key(src, name)
        code = MODULES._codes[key]
        MODULES._codes[key] = {
            "truncated": code[:-7],
            "another engine build": code[:12] + b"0" * 64 + code[76:],
            "corrupt": code[:-1] + bytes([code[-1] ^ 1]),
        }[damage]
    with caplog.at_level("WARNING", logger="shardrun.engine"):
        assert WorkerIsolate(script).submit("task", None).result.value == len(damage)
    warned = [r.getMessage() for r in caplog.records if r.name == "shardrun.engine"]
    assert len(warned) == 2 and all(damage in m and "compiling it again" in m for m in warned)
    assert {"'<input>'", "'lib.js'"} == {m.split()[4] for m in warned}
    for name, src in sources.items():
        adapter.check_bytecode(MODULES._codes[MODULES._key(src, name)])  # rebuilt: good again


def test_an_unhandled_rejection_before_responding_fails_the_request():
    w = worker(
        "export default { task() { Promise.reject(new Error('lost')); return new Promise((r) => setTimeout(r, 50)) } }"
    )
    call = w.submit("task", None)
    assert call.result is not None and not call.result.ok
    assert call.result.error.code == "E_UNHANDLED_REJECTION" and "Error: lost" in call.result.error.message
    (line,) = [x for x in call.result.logs if x.level == "error"]
    assert line.text.startswith("Uncaught (in promise) Error: lost") and "w.js" in line.text


def test_an_unhandled_rejection_after_responding_is_logged_only():
    w = worker("export default { async task() { Promise.reject(new Error('late')); return 'ok' } }")
    call = w.submit("task", None)
    assert call.result is not None and call.result.ok and call.result.value == "ok"
    assert [x.level for x in call.result.logs] == ["error"] and "late" in call.result.logs[0].text


def test_a_rejection_handled_in_the_same_turn_is_not_reported():
    w = worker(
        "export default { async task() { const p = Promise.reject(1); await null; p.catch(() => {}); return 1 } }"
    )
    call = w.submit("task", None)
    assert call.result is not None and call.result.ok and call.result.logs == []


def test_a_flood_of_rejections_logs_a_capped_number_of_lines():
    w = worker(
        "export default { task() { for (let i = 0; i < 100; i++) Promise.reject(new Error('e' + i));"
        " return new Promise((r) => setTimeout(r, 50)) } }"
    )
    call = w.submit("task", None)
    assert call.result is not None and call.result.error.code == "E_UNHANDLED_REJECTION"
    errors = [x for x in call.result.logs if x.level == "error"]
    assert len(errors) == MAX_REJECTION_LINES + 1 and "not logged" in errors[-1].text
    assert w.unhandled_rejections == 100 and call.rejections == 100


def test_a_flood_over_the_engines_cap_is_still_counted_in_full():
    # 1000 in one turn (the engine records at most 256 until they are taken), then 300 more in a
    # timer turn of a request that has responded: every one counted, 11 lines each request.
    w = worker(
        "export default { task(p) { for (let i = 0; i < p; i++) Promise.reject(new Error('e' + i));"
        " return new Promise((r) => setTimeout(r, 50)) } }"
    )
    call = w.submit("task", 1000)
    assert call.result is not None and call.result.error.code == "E_UNHANDLED_REJECTION"
    assert call.rejections == 1000 and w.unhandled_rejections == 1000
    assert len([x for x in call.result.logs if x.level == "error"]) == MAX_REJECTION_LINES + 1
    w = worker(
        "Promise.reject(new Error('top'));"
        "export default { fetch(req, env, ctx) { ctx.waitUntil(new Promise((r) => setTimeout(() => {"
        " for (let i = 0; i < 300; i++) Promise.reject(i); r() }, 1))); return new Response('') } }"
    )
    assert w.top_level_rejections == 1
    call = w.submit("fetch", HttpRequest("GET", "https://x.test/"))
    drive(w, [call])
    assert call.result is not None and call.result.ok and call.rejections == 300
    assert len([x for x in call.result.logs if x.level == "error"]) == MAX_REJECTION_LINES + 1
