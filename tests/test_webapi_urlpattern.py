"""URLPattern (urlpattern-polyfill, bundled as the urlpattern chunk) against a subset of WPT's
urlpattern/resources/urlpatterntestdata.json: its first cases (pathname patterns, base URLs,
named groups, regexp groups, modifiers, wildcards) and some further on (string patterns,
protocols, hosts, ports, search and hash, patterns and inputs that are errors)."""

from __future__ import annotations

import json

from .conftest import eval_js

E = "example.com"
WPT_CASES = [
    ([{"pathname": "/foo/bar"}], [{"pathname": "/foo/bar"}], {"pathname": ["/foo/bar", {}]}),
    ([{"pathname": "/foo/bar"}], [{"pathname": "/foo/ba"}], None),
    ([{"pathname": "/foo/bar"}], [{"pathname": "/foo/bar/"}], None),
    ([{"pathname": "/foo/bar"}], ["https://example.com/foo/bar"],
     {"hostname": [E, {"0": E}], "pathname": ["/foo/bar", {}], "protocol": ["https", {"0": "https"}]}),
    ([{"pathname": "/foo/bar"}], ["https://example.com/foo/bar/baz"], None),
    ([{"pathname": "/foo/bar"}], [{"pathname": "/foo/bar", "baseURL": "https://example.com"}],
     {"hostname": [E, {"0": E}], "pathname": ["/foo/bar", {}], "protocol": ["https", {"0": "https"}]}),
    ([{"pathname": "/foo/bar", "baseURL": "https://example.com?query#hash"}], [{"pathname": "/foo/bar"}], None),
    ([{"pathname": "/foo/bar", "baseURL": "https://example.com?query#hash"}],
     [{"protocol": "https", "hostname": E, "pathname": "/foo/bar", "search": "otherquery", "hash": "otherhash"}],
     {"hash": ["otherhash", {"0": "otherhash"}], "hostname": [E, {}], "pathname": ["/foo/bar", {}],
      "protocol": ["https", {}], "search": ["otherquery", {"0": "otherquery"}]}),
    ([{"pathname": "/foo/bar", "baseURL": "https://example.com?query#hash"}], ["https://example.com/foo/bar?query#hash"],
     {"hash": ["hash", {"0": "hash"}], "hostname": [E, {}], "pathname": ["/foo/bar", {}], "protocol": ["https", {}],
      "search": ["query", {"0": "query"}]}),
    ([{"pathname": "/foo/bar", "baseURL": "https://example.com?query#hash"}], ["https://other.com/foo/bar"], None),
    ([{"pathname": "/foo/bar", "baseURL": "https://example.com?query#hash"}], [{"pathname": "/foo/bar", "baseURL": "http://example.com"}], None),
    ([{"pathname": "/foo/:bar"}], [{"pathname": "/foo/bar"}], {"pathname": ["/foo/bar", {"bar": "bar"}]}),
    ([{"pathname": "/foo/([^\\/]+?)"}], [{"pathname": "/foo/bar"}], {"pathname": ["/foo/bar", {"0": "bar"}]}),
    ([{"pathname": "/foo/:bar"}], [{"pathname": "/foo/index.html"}], {"pathname": ["/foo/index.html", {"bar": "index.html"}]}),
    ([{"pathname": "/foo/:bar"}], [{"pathname": "/foo/bar/"}], None),
    ([{"pathname": "/foo/:bar"}], [{"pathname": "/foo/"}], None),
    ([{"pathname": "/foo/(.*)"}], [{"pathname": "/foo/bar/baz"}], {"pathname": ["/foo/bar/baz", {"0": "bar/baz"}]}),
    ([{"pathname": "/foo/*"}], [{"pathname": "/foo/"}], {"pathname": ["/foo/", {"0": ""}]}),
    ([{"pathname": "/foo/*"}], [{"pathname": "/foo"}], None),
    ([{"pathname": "/foo/:bar(.*)"}], [{"pathname": "/foo/bar/baz"}], {"pathname": ["/foo/bar/baz", {"bar": "bar/baz"}]}),
    ([{"pathname": "/foo/:bar?"}], [{"pathname": "/foo"}], {"pathname": ["/foo", {"bar": None}]}),
    ([{"pathname": "/foo/:bar?"}], [{"pathname": "/foobar"}], None),
    ([{"pathname": "/foo/:bar+"}], [{"pathname": "/foo/bar/baz"}], {"pathname": ["/foo/bar/baz", {"bar": "bar/baz"}]}),
    ([{"pathname": "/foo/:bar+"}], [{"pathname": "/foo"}], None),
    ([{"pathname": "/foo/:bar*"}], [{"pathname": "/foo"}], {"pathname": ["/foo", {"bar": None}]}),
    ([{"pathname": "/foo/:bar*"}], [{"pathname": "/foo/"}], None),
    ([{"pathname": "/foo/*?"}], [{"pathname": "/foo/bar/baz"}], {"pathname": ["/foo/bar/baz", {"0": "bar/baz"}]}),
]  # fmt: skip
# string patterns, protocols, hosts, ports, search and hash (further on in the same file);
# "error" as the match: the constructor (pattern) or exec (match) throws a TypeError
H = "https"
WPT_MORE = [
    ([{"protocol": "javascript", "pathname": "var x = 1;"}], [{"protocol": "javascript", "pathname": "var x = 1;"}],
     {"protocol": ["javascript", {}], "pathname": ["var x = 1;", {}]}),
    ([{"protocol": "(data|javascript)", "pathname": "var x = 1;"}], [{"protocol": "javascript", "pathname": "var x = 1;"}],
     {"protocol": ["javascript", {"0": "javascript"}], "pathname": ["var x = 1;", {}]}),
    ([{"protocol": "(https|javascript)", "pathname": "var x = 1;"}], [{"protocol": "javascript", "pathname": "var x = 1;"}], None),
    ([{"pathname": "/foo/bar"}], ["./foo/bar", "https://example.com"],
     {"hostname": [E, {"0": E}], "pathname": ["/foo/bar", {}], "protocol": [H, {"0": H}]}),
    ([{"pathname": "/foo/bar"}], [{"pathname": "/foo/bar"}, "https://example.com"], "error"),
    (["https://example.com:8080/foo?bar#baz"], [{"pathname": "/foo", "search": "bar", "hash": "baz", "baseURL": "https://example.com:8080"}],
     {"protocol": [H, {}], "hostname": [E, {}], "port": ["8080", {}], "pathname": ["/foo", {}], "search": ["bar", {}], "hash": ["baz", {}]}),
    (["/foo?bar#baz", "https://example.com:8080"], [{"pathname": "/foo", "search": "bar", "hash": "baz", "baseURL": "https://example.com:8080"}],
     {"protocol": [H, {}], "hostname": [E, {}], "port": ["8080", {}], "pathname": ["/foo", {}], "search": ["bar", {}], "hash": ["baz", {}]}),
    (["/foo"], None, "error"),
    (["example.com/foo"], None, "error"),
    (["http{s}?://{*.}?example.com/:product/:endpoint"], ["https://sub.example.com/foo/bar"],
     {"protocol": [H, {}], "hostname": ["sub.example.com", {"0": "sub"}], "pathname": ["/foo/bar", {"product": "foo", "endpoint": "bar"}]}),
    (["https://example.com?foo"], ["https://example.com/?foo"], {"protocol": [H, {}], "hostname": [E, {}], "pathname": ["/", {}], "search": ["foo", {}]}),
    (["https://example.com/*?foo"], ["https://example.com/?foo"], None),
    (["https://example.com/:name\\?foo"], ["https://example.com/bar?foo"],
     {"protocol": [H, {}], "hostname": [E, {}], "pathname": ["/bar", {"name": "bar"}], "search": ["foo", {}]}),
    (["https://example.com/"], ["https://example.com:8080/"], None),
    (["data:foobar"], None, "error"),
    (["data\\:foobar"], ["data:foobar"], {"protocol": ["data", {}], "pathname": ["foobar", {}]}),
    (["https://{sub.}?example.com/foo"], ["https://example.com/foo"], {"protocol": [H, {}], "hostname": [E, {}], "pathname": ["/foo", {}]}),
    (["https://(sub.)?example.com/foo"], ["https://example.com/foo"], {"protocol": [H, {}], "hostname": [E, {"0": None}], "pathname": ["/foo", {}]}),
    (["{https://}example.com/foo"], None, "error"),
    (["file:///foo/bar"], ["file:///foo/bar"], {"protocol": ["file", {}], "pathname": ["/foo/bar", {}]}),
    (["(café)://foo"], None, "error"),
]  # fmt: skip


def test_wpt_urlpattern_subset():
    cases = WPT_CASES + WPT_MORE
    got = eval_js(
        f"const cases = {json.dumps([[p, i] for p, i, _ in cases])}, out = [];"
        r"""
      for (const [pattern, inputs] of cases) {
        let r;
        try { const p = new URLPattern(...pattern); if (inputs === null) { out.push('made'); continue } r = p.exec(...inputs) }
        catch (e) { out.push(e.name === 'TypeError' ? 'error' : e.name); continue }
        if (r === null) { out.push(null); continue }
        const m = {};
        for (const k of ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash']) {
          const g = {};
          for (const [n, v] of Object.entries(r[k].groups)) g[n] = v === undefined ? null : v;
          if (r[k].input !== '' || Object.keys(g).length) m[k] = [r[k].input, g];
        }
        out.push(m);
      }
      return out"""
    )
    for (pattern, inputs, expected), result in zip(cases, got, strict=True):
        if expected == "error" or result in ("error", "made"):
            assert result == expected, (pattern, inputs)
        elif expected is None:
            assert result is None, (pattern, inputs)
        else:
            # the harness checks the components the case lists; the others are wildcards
            assert result is not None, (pattern, inputs)
            assert {k: result.get(k, ["", {}]) for k in expected} == expected, (pattern, inputs)


def test_pattern_strings_test_and_errors():
    got = eval_js(r"""
      const out = [new URLPattern({ pathname: '/foo/(.*)' }).pathname, URLPattern.name];
      const route = new URLPattern('/books/:id', 'https://example.com');
      out.push(route.test('https://example.com/books/42'), route.exec('https://example.com/books/42').pathname.groups.id);
      out.push(new URLPattern('https://*.example.com/*').test('https://api.example.com/v1'), route.test('https://example.com/authors/1'));
      for (const bad of [() => new URLPattern({ pathname: '/:id(' }), () => new URLPattern('/relative')]) {
        try { bad(); out.push('no error') } catch (e) { out.push(e.name) }
      }
      return out""")
    assert got == ["/foo/*", "URLPattern", True, "42", True, False, "TypeError", "TypeError"]
