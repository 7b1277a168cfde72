"""error.stack as Workers code expects it: "Name: message", then the worker's own frames only."""

from __future__ import annotations

from .conftest import eval_js, run_js


def test_the_first_line_names_the_error_and_no_runtime_frame_is_shown():
    stacks = eval_js("""
      const out = [];
      function inner() { throw new TypeError("boom"); }
      try { inner() } catch (e) { out.push(e.stack) }
      try { new Headers([["a b", "c"]]) } catch (e) { out.push(e.stack) }   // thrown inside the prelude
      try { await null; null.x } catch (e) { out.push(e.stack) }
      try { throw new Error("") } catch (e) { out.push(e.stack) }
      return out""")
    first = [s.splitlines()[0] for s in stacks]
    assert first == [
        "TypeError: boom",
        'TypeError: invalid header name: "a b"',
        "TypeError: cannot read property 'x' of null",
        "Error",
    ]
    assert stacks[0].splitlines()[1].startswith("    at inner (")
    for s in stacks:
        assert "shardrun:" not in s and "<bootstrap>" not in s
        assert all(line.startswith("    at ") for line in s.splitlines()[1:])


def test_an_errors_own_constructors_are_not_its_top_frames():
    stack = eval_js("""
      class PaymentError extends Error {}
      function chargeCard() { throw new PaymentError("card declined"); }
      try { chargeCard() } catch (e) { return e.stack }""")
    assert stack.splitlines()[1].startswith("    at chargeCard (")


def test_a_workers_own_prepare_stack_trace_is_used_and_a_hostile_error_is_harmless():
    got = eval_js("""
      const mine = [];
      const bad = Object.create(Error.prototype, { name: { get() { throw new Error("no") } } });
      Error.captureStackTrace(bad);
      mine.push(typeof bad.stack);
      Error.prepareStackTrace = (e, sites) => "custom " + sites.length;
      mine.push(new Error("x").stack.startsWith("custom "));
      return mine""")
    assert got == ["string", True]


def test_a_reported_error_carries_the_clean_stack():
    r = run_js("export default { task() { throw new RangeError('too far') } }")
    assert r.error is not None and r.error.stack.splitlines()[0] == "RangeError: too far"
    assert "worker.js" in r.error.stack and "shardrun:" not in r.error.stack


def test_the_stack_is_formatted_on_first_read_so_a_name_set_after_super_is_in_it():
    got = eval_js(r"""
      class PaymentError extends Error { constructor(m) { super(m); this.name = 'PaymentError' } }
      function pay() { throw new PaymentError('card declined') }
      const out = [];
      try { pay() } catch (e) { out.push(e.stack.split('\n')[0], e.stack.split('\n')[1].trim().split(' ')[1]); e.name = 'Later'; out.push(e.stack.split('\n')[0]) }
      const lateMessage = new Error('first'); lateMessage.message = 'second'; out.push(lateMessage.stack.split('\n')[0]);
      const target = {}; Error.captureStackTrace(target); out.push(typeof target.stack, target.stack.split('\n')[0]);
      const own = new Error('x'); Error.captureStackTrace(own); out.push(typeof own.stack);
      const set = new Error('y'); set.stack = 'mine'; out.push(set.stack);
      out.push(Object.getOwnPropertyNames(new Error('z')).includes('stack'), JSON.stringify(new RangeError('r')));
      out.push(typeof new DOMException('m', 'AbortError').stack);
      return out""")
    assert got == [
        "PaymentError: card declined",
        "pay",
        "PaymentError: card declined",  # read once, kept (as V8 does)
        "Error: second",
        "string",
        "Error",
        "string",
        "mine",
        False,
        "{}",
        "string",
    ]


def test_the_prepare_stack_trace_workers_see_returns_text_and_can_be_put_back():
    got = eval_js(r"""
      const out = [], orig = Error.prepareStackTrace;
      class Late extends Error { constructor(m) { super(m); this.name = 'Late' } }
      Error.prepareStackTrace = (e, sites) => sites;   // the call-sites trick libraries use
      const sites = new Error('x').stack;
      out.push(Array.isArray(sites) && typeof sites[0].getFileName === 'function');
      Error.prepareStackTrace = (e, s) => 'wrapped ' + orig(e, s).split('\n')[0];   // chaining to the original
      out.push(new Error('chained').stack);
      Error.prepareStackTrace = orig;   // put back: lazy again
      out.push(Error.prepareStackTrace === orig, typeof orig(new Error('direct'), []), new Late('back').stack.split('\n')[0]);
      return out""")
    assert got == [True, "wrapped Error: chained", True, "string", "Late: back"]
