"""URL and URLSearchParams: parsed on the host by ada (js/src/url.js, shardrun/runtime/hostfns/url.py).

The WPT data (tests/test_wpt_url.py, tests/test_wpt.py) covers the parser and the setters; these
cover what is the runtime's own: the host functions' argument checks and limits, the per-isolate
cache, searchParams kept in sync with the URL both ways, the WebIDL shapes, and that tenant code
cannot change what the prelude's own parsing (a Request's URL) gives.
"""

from __future__ import annotations

import pytest

from shardrun.runtime.hostcall import HostCallError, HostState
from shardrun.runtime.hostfns import url as host

from .conftest import eval_js


# ---- the host functions ------------------------------------------------------------------
def test_parse_gives_every_component_and_none_for_an_invalid_url():
    st = HostState()
    got = host.parse(st, "https://u:p@EXAMPLE.com:8080/a/../b?q=1#h", None)
    assert len(got) == len(host.COMPONENTS)
    assert got == [
        "https://u:p@example.com:8080/b?q=1#h",
        "https:",
        "u",
        "p",
        "example.com:8080",
        "example.com",
        "8080",
        "/b",
        "?q=1",
        "#h",
        "https://example.com:8080",
    ]
    assert host.parse(st, "../c", "https://a.test/x/y")[0] == "https://a.test/c"
    assert host.parse(st, "no scheme", None) is None
    assert host.parse(st, "http://[::1", None) is None


@pytest.mark.parametrize(
    "args",
    [(5, None), (None, None), ("https://a.test/", 5), (b"https://a.test/", None)],
    ids=["int", "none", "int-base", "bytes"],
)
def test_parse_refuses_what_is_not_a_string(args):
    with pytest.raises(HostCallError) as e:
        host.parse(HostState(), *args)
    assert e.value.code == "E_HOST_ARGUMENT"


def test_a_string_over_the_limit_is_refused_with_the_reason():
    long = "https://a.test/" + "a" * host.MAX_CHARS
    assert "over the limit" in host.parse(HostState(), long, None)
    assert "over the limit" in host.parse(HostState(), "x", long)
    assert "over the limit" in host.set_component(HostState(), "https://a.test/", "pathname", long)


def test_lone_surrogates_become_replacement_characters():
    assert host.parse(HostState(), "https://a.test/\ud800?\udfff#x\ud83d", None)[0] == (
        "https://a.test/%EF%BF%BD?%EF%BF%BD#x%EF%BF%BD"
    )


def test_set_runs_one_setter_and_refuses_an_unknown_one():
    st = HostState()
    assert host.set_component(st, "https://a.test/x", "pathname", "/a b")[0] == "https://a.test/a%20b"
    assert host.set_component(st, "https://a.test/x", "port", "nope")[0] == "https://a.test/x"  # ignored, as specified
    for prop in ("origin", "href", "__class__", 5):
        with pytest.raises(HostCallError):
            host.set_component(st, "https://a.test/", prop, "x")
    with pytest.raises(HostCallError):
        host.set_component(st, "not a url", "hash", "x")


def test_the_path_follows_the_2025_standard():
    st = HostState()
    assert host.parse(st, "https://a.test/a^b?c^d#e^f", None)[0] == "https://a.test/a%5Eb?c^d#e^f"
    assert host.parse(st, "sc:space  ?q", None)[7] == "space %20"
    p = host.parse(st, "sc:space  #f", None)
    assert host.set_component(st, p[0], "hash", "")[0] == "sc:space %20"


# ---- the URL class ------------------------------------------------------------------------------
def test_getters_setters_and_errors():
    assert eval_js("""
      const u = new URL('../c?x=1#h', 'https://user:pw@Example.COM:8443/a/b');
      const got = [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash];
      u.pathname = '/p q'; u.port = '443'; u.hash = ''; u.username = '';
      got.push(u.href);
      const errors = [];
      for (const f of [() => new URL('nope'), () => new URL('x', 'nope'), () => new URL(), () => { u.href = 'nope' }, () => new URL(Symbol())]) {
        try { f(); errors.push('no error') } catch (e) { errors.push(e.constructor === TypeError ? e.message : 'not a TypeError') }
      }
      got.push(errors, u.href);
      return got;
    """) == [
        "https://user:pw@example.com:8443/c?x=1#h",
        "https://example.com:8443",
        "https:",
        "user",
        "pw",
        "example.com:8443",
        "example.com",
        "8443",
        "/c",
        "?x=1",
        "#h",
        "https://:pw@example.com/p%20q?x=1",
        [
            "Invalid URL: nope",
            "Invalid base URL: nope",
            "URL: 1 argument required, but only 0 present",
            "Invalid URL: nope",
            "cannot convert a Symbol to a string",
        ],
        "https://:pw@example.com/p%20q?x=1",
    ]


def test_a_url_over_the_length_limit_is_a_type_error_in_js():
    assert eval_js("""
      const long = 'https://a.test/' + 'a'.repeat(2 * 1024 * 1024), u = new URL('https://a.test/');
      const out = [URL.canParse(long), URL.parse(long)];
      for (const f of [() => new URL(long), () => new URL('/x', long), () => { u.pathname = long }]) {
        try { f(); out.push('no error') } catch (e) { out.push(e.constructor === TypeError && e.message.includes('over the limit')) }
      }
      return out;
    """) == [False, None, True, True, True]


def test_statics_serialisation_and_shapes():
    assert eval_js("""
      const d = Object.getOwnPropertyDescriptor(URL.prototype, 'pathname');
      return [URL.name, URL.length, URL.canParse('https://a.test'), URL.canParse('a', 'nope'), URL.canParse('/x', 'https://a.test'),
        URL.parse('nope'), URL.parse('/x', 'https://a.test').href, URL.parse('https://a.test') instanceof URL,
        JSON.stringify({ u: new URL('https://a.test/x') }), String(new URL('https://a.test')), `${new URL('https://a.test/y')}`,
        Object.prototype.toString.call(new URL('https://a.test')), typeof d.get, typeof d.set, d.enumerable, d.configurable,
        Reflect.ownKeys(new URL('https://a.test')).length, URLSearchParams.prototype[Symbol.iterator] === URLSearchParams.prototype.entries,
        Object.prototype.toString.call(new URLSearchParams().keys())];
    """) == [
        "URL",
        1,
        True,
        False,
        True,
        None,
        "https://a.test/x",
        True,
        '{"u":"https://a.test/x"}',
        "https://a.test/",
        "https://a.test/y",
        "[object URL]",
        "function",
        "function",
        True,
        True,
        0,
        True,
        "[object URLSearchParams Iterator]",
    ]


def test_a_url_from_the_cache_is_its_own_object():
    assert eval_js("""
      const s = 'https://a.test/x?q=1';
      const a = new URL(s);
      a.pathname = '/changed'; a.searchParams.set('q', '2');
      const b = new URL(s);
      return [a.href, b.href, b.searchParams.get('q'), new URL('y', s).href, new URL('y', 'https://a.test/x?q=1').href];
    """) == ["https://a.test/changed?q=2", "https://a.test/x?q=1", "1", "https://a.test/y", "https://a.test/y"]


def test_a_setter_answered_from_the_cache_changes_only_its_own_url():
    assert eval_js("""
      const a = new URL('https://a.test/x?k=1'), b = new URL('https://a.test/x?k=1');
      const sp = b.searchParams;
      a.pathname = '/y'; b.pathname = '/y'; b.hash = 'h'; a.search = '?k=2'; b.search = '?k=2';
      return [a.href, b.href, sp.get('k'), new URL('https://a.test/x?k=1').href];
    """) == ["https://a.test/y?k=2", "https://a.test/y?k=2#h", "2", "https://a.test/x?k=1"]


def test_search_params_follow_the_url_and_the_url_follows_them():
    assert eval_js("""
      const u = new URL('https://a.test/p?a=1&b=2#h');
      const sp = u.searchParams, out = [sp === u.searchParams, sp.get('a')];
      sp.append('c', 'x y!'); out.push(u.href);
      sp.delete('a'); out.push(u.search);
      u.search = '?z=9'; out.push(sp.get('z'), sp.has('b'), sp.size);
      u.href = 'https://b.test/?k=v'; out.push(sp.get('k'), sp.get('z'));
      sp.delete('k'); out.push(u.href);
      sp.set('n', '1'); sp.set('n', '2'); out.push(u.href);
      const o = new URL('sc:opaque ?q#f'); o.searchParams.delete('q'); out.push(o.href);
      return out;
    """) == [
        True,
        "1",
        "https://a.test/p?a=1&b=2&c=x+y%21#h",
        "?b=2&c=x+y%21",
        "9",
        False,
        1,
        "v",
        None,
        "https://b.test/",
        "https://b.test/?n=2",
        "sc:opaque%20#f",
    ]


def test_form_urlencoded_parsing_and_serialising():
    assert eval_js("""
      const ps = new URLSearchParams('?a=1&&b=x+y%20z&c&=e&d=%zz%2&f=%C3%A9%E2%82&g=%EF%BB%BFk&a=2');
      const q = new URLSearchParams({ 'sp ace': "!'()~*-._", 'é': '\\ud800' });
      const r = new URLSearchParams([['b', '2'], ['a', '1'], ['b', '1']]);
      r.sort();
      return [[...ps], ps.getAll('a'), ps.toString(), q.toString(), [...q.keys()], r.toString(), [...r.values()]];
    """) == [
        [
            ["a", "1"],
            ["b", "x y z"],
            ["c", ""],
            ["", "e"],
            ["d", "%zz%2"],
            ["f", "é\ufffd"],
            ["g", "\ufeffk"],
            ["a", "2"],
        ],
        ["1", "2"],
        "a=1&b=x+y+z&c=&=e&d=%25zz%252&f=%C3%A9%EF%BF%BD&g=%EF%BB%BFk&a=2",
        "sp+ace=%21%27%28%29%7E*-._&%C3%A9=%EF%BF%BD",
        ["sp ace", "é"],
        "a=1&b=2&b=1",
        ["1", "2", "1"],
    ]


def test_search_params_iterators_are_live_and_arguments_are_checked():
    assert eval_js("""
      const ps = new URLSearchParams('a=1');
      const it = ps.entries(), seen = [];
      ps.append('b', '2');
      for (const e of it) seen.push(e.join('='));
      const errors = [];
      for (const f of [() => ps.append('x'), () => ps.get(), () => new URLSearchParams([['a']]), () => new URLSearchParams({ [Symbol()]: 1 }),
                       () => ps.forEach(5), () => it.next.call({})]) {
        try { f(); errors.push('no error') } catch (e) { errors.push(e.name) }
      }
      const each = [];
      ps.forEach(function (v, k, o) { each.push([k, v, o === ps, this.t]) }, { t: 1 });
      return [seen, errors, each, ps.has('a', '1'), ps.has('a', '2'), ps.has('a', undefined)];
    """) == [
        ["a=1", "b=2"],
        ["TypeError"] * 6,
        [["a", "1", True, 1], ["b", "2", True, 1]],
        True,
        False,
        True,
    ]


def test_a_form_body_round_trips():
    assert eval_js("""
      const body = new URLSearchParams({ q: 'a b&c', n: 'é' });
      const r = new Response(body);
      const f = await new Response('q=a+b%26c&n=%C3%A9', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
      return [r.headers.get('content-type'), await r.text(), [...f]];
    """) == ["application/x-www-form-urlencoded;charset=UTF-8", "q=a+b%26c&n=%C3%A9", [["q", "a b&c"], ["n", "é"]]]


# ---- tenant code cannot change the prelude's own parsing -------------------------------------
def test_a_replaced_url_class_or_prototype_does_not_change_a_requests_url():
    assert eval_js("""
      const before = new Request('https://a.test/x/../y').url;
      const desc = Object.getOwnPropertyDescriptor(URL.prototype, 'href');
      Object.defineProperty(URL.prototype, 'href', { get() { return 'https://forged.test/' } });
      globalThis.URL = class { constructor() { this.href = 'https://forged.test/' } };
      return [before, new Request('https://a.test/z/../w').url, new Request('https://a.test/x/../y').url, typeof desc.get];
    """) == ["https://a.test/y", "https://a.test/w", "https://a.test/y", "function"]


def test_no_function_reachable_from_url_is_the_host_call():
    # Every function reachable from the classes, their prototypes and instances (by property, getter,
    # setter, return value of a getter) is the class's own: none takes a host function's name.
    bad = eval_js("""
      const u = new URL('https://a.test/?a=1'), seen = new Set(), bad = [];
      const walk = (o, path, depth) => {
        if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || depth > 4) return;
        if (o === Object.prototype || o === Function.prototype || o === Iterator.prototype) return;
        seen.add(o);
        for (const k of Reflect.ownKeys(o)) {
          const d = Object.getOwnPropertyDescriptor(o, k);
          for (const v of [d.value, d.get, d.set]) walk(v, path + '.' + String(k), depth + 1);
        }
        walk(Object.getPrototypeOf(o), path + '^', depth + 1);
        if (typeof o === 'function') {
          try { const r = o('url.parse', 'https://x.test/', null); if (Array.isArray(r)) bad.push(path) } catch (_) {}
        }
      };
      walk(URL, 'URL', 0); walk(URLSearchParams, 'URLSearchParams', 0); walk(u, 'u', 0); walk(u.searchParams, 'sp', 0);
      walk(u.searchParams.entries(), 'it', 0);
      return bad;
    """)
    assert bad == []
