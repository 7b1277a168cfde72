// Streamed response bodies: a fetch request the host marked `stream` whose Response has a
// stream body is answered with its head at once and its body in ["c", rid, b64] pieces as the
// stream gives them, at most `credit` bytes ahead of what the host took (limits.streamWindow
// to start with), then ["e", rid] or ["x", rid, error]. Loaded by core on the first such answer.
(function (sr) {
  "use strict";
  const { uncurry, is, Prom, TypeErr, RangeErr, b64, bytesLen, U8 } = sr.prim;
  const subarray = uncurry(Object.getPrototypeOf(U8.prototype).subarray);
  const PIECE = 256 << 10;   // bytes per ["c"] event at most
  const quiet = (p) => { try { p.catch(() => {}); } catch (_) {} };
  sr.streamOut = (r, head, reader) => {
    r.waiting++;   // before respond(): the request is not finished while its body streams
    r.reader = reader;
    r.credit = sr.limits.streamWindow;
    r.sent = 0;
    r.wake = null;
    sr.respond(r, true, head);
    pump(r, reader);
  };
  async function pump(r, reader) {
    let err = null;
    try {
      for (;;) {
        while (r.credit <= 0 && r.reader) await new Prom((resolve) => { r.wake = resolve; });
        if (!r.reader) return;   // cancelled by the host
        const x = await reader.read();
        if (!r.reader) return;
        if (x.done) break;
        const c = x.value;
        if (!is(c, U8)) throw sr.fail("E_BAD_OUTPUT", TypeErr, "a response body stream must give Uint8Array chunks, it gave " + sr.describe(c));
        const n = bytesLen(c), max = sr.limits.maxStreamBytes;
        r.sent += n;
        if (r.sent > max) throw sr.fail("E_RESPONSE_TOO_LARGE", RangeErr, "the response body stream gave over " + max + " bytes, its limit");
        for (let i = 0; i < n; i += PIECE) sr.emit('["c",' + r.rid + ',"' + b64(subarray(c, i, i + PIECE)) + '"]');
        r.credit -= n;
      }
    } catch (e) { err = e; }
    if (!r.reader) return;
    r.reader = null;
    if (err === null) sr.emit('["e",' + r.rid + "]");
    else {
      sr.emit('["x",' + r.rid + "," + sr.infoJson(sr.errInfo(err)) + "]");
      try { quiet(reader.cancel(err)); } catch (_) {}
    }
    r.waiting--;
    sr.maybeFinish(r);
  }
  // The host gave up (the client went away): the source's cancel runs.
  sr.streamStop = (r) => {
    const reader = r.reader, wake = r.wake;
    r.reader = r.wake = null;
    try { quiet(reader.cancel(new TypeErr("the client went away"))); } catch (_) {}
    if (wake) wake();
  };
  sr.streamCredit = (r, n) => {
    r.credit += n;
    const wake = r.wake;
    r.wake = null;
    if (wake) wake();
  };
  // Nothing is left that could feed the stream (no timers, no host operations): it fails.
  sr.streamStrand = (r) => {
    const reader = r.reader;
    r.reader = null;
    r.waiting--;
    sr.emit('["x",' + r.rid + ',{"code":"E_NEVER_RESPONDS","name":"Error","stack":"","message":"the response body stream will never give more: it is waiting and nothing is left that could feed it (no timers, no host operations)"}]');
    try { quiet(reader.cancel(new TypeErr("the stream will never give more"))); } catch (_) {}
  };
});
