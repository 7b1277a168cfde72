"""workerd's scheduler.wait, and Event.isTrusted (js/src/navigator.js, js/src/events.js)."""

from __future__ import annotations

from .conftest import eval_js


def test_scheduler_wait_resolves_after_the_delay_and_honours_a_signal():
    got = eval_js(r"""
      const t0 = Date.now(), out = [];
      out.push(await scheduler.wait(20), Date.now() - t0 >= 20);
      const ac = new AbortController(), waiting = scheduler.wait(60000, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('stop')), 5);
      try { await waiting; out.push('resolved') } catch (e) { out.push(e.message) }
      try { await scheduler.wait(1, { signal: AbortSignal.abort() }) } catch (e) { out.push(e.name) }
      try { await scheduler.wait(1, { signal: {} }) } catch (e) { out.push(e.name) }
      setTimeout = () => { throw new Error('patched') };
      await scheduler.wait(1);
      out.push(Object.prototype.toString.call(scheduler), String(scheduler.wait.name), scheduler.wait.length);
      return out""")
    assert got == [None, True, "stop", "AbortError", "TypeError", "[object Scheduler]", "wait", 0]


def test_events_are_not_trusted():
    assert eval_js(
        "return [new Event('x').isTrusted, new CustomEvent('y').isTrusted, 'isTrusted' in Event.prototype]"
    ) == [
        False,
        False,
        True,
    ]
