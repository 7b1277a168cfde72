"""URL and URLSearchParams against web-platform-tests data (tests/data/wpt)."""

from __future__ import annotations

from . import wpt

# The data here (WPT at 04f8022) predates the standard's 2025 change that percent-encodes "^" in
# a URL's path, which the runtime follows (shardrun/runtime/hostfns/url.py; the newer WPT copy in
# tests/wpt/suite expects it too): these cases expect "^" as it was.
KNOWN_PARSING_FAILURES = {
    "foo://host/ !\"$%&'()*+,-./:;<=>@[\\]^_`{|}~",
    "wss://host/ !\"$%&'()*+,-./:;<=>@[\\]^_`{|}~",
}
KNOWN_SETTER_FAILURES = {
    "pathname: a:/ <- \x00\x01\t\n\r\x1f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\x7f\x80\x81\xc9\xe9",
}


def test_wpt_url_pass_rates():
    out = wpt.run()
    parsing, setters = out["parsing"], out["setters"]
    print(f"WPT urltestdata: {parsing['passed']}/{parsing['total']}; setters: {setters['passed']}/{setters['total']}")
    assert set(parsing["failed"]) <= KNOWN_PARSING_FAILURES, parsing["failed"]
    assert parsing["passed"] >= parsing["total"] - len(KNOWN_PARSING_FAILURES)
    assert set(setters["failed"]) <= KNOWN_SETTER_FAILURES, setters["failed"]
    assert setters["passed"] >= setters["total"] - len(KNOWN_SETTER_FAILURES)
