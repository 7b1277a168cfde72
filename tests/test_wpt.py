"""The web-platform-tests files for the Web APIs (tests/wpt), run in isolates (tier `wpt`).

Each file fails on a regression (a subtest that passed, or a new one, failing), on an
unexpected pass (a known failure in tests/wpt/expectations.json that now passes: remove it)
and when fewer subtests ran than before. The files are not committed: scripts/wpt-refresh
copies them from the WPT commits named in tests/wpt/sources.json; without them these tests skip.
"""

from __future__ import annotations

import pytest

from . import wpt_runner

FILES = wpt_runner.test_files()
EXPECTED = wpt_runner.load_expectations()

pytestmark = pytest.mark.wpt


@pytest.mark.skipif(not FILES, reason="no WPT files in tests/wpt/suite: run scripts/wpt-refresh")
@pytest.mark.parametrize("path", FILES or ["-"])
def test_wpt_file(path):
    assert path in EXPECTED, f"{path} has no expectations: run python -m tests.wpt_runner --update {path}"
    out = wpt_runner.run_file(path)
    problems = wpt_runner.compare(path, out, EXPECTED[path])
    assert not problems, "\n".join(problems)


def test_expectations_name_files_that_exist():
    """An expectation for a file the suite no longer has is stale."""
    if not FILES:
        pytest.skip("no WPT files")
    assert sorted(set(EXPECTED) - set(FILES)) == []


def test_every_known_failure_has_a_reason():
    for path, e in EXPECTED.items():
        assert e.get("all_fail", "-").strip(), path
        for name, reason in e.get("fail", {}).items():
            assert reason.strip(), (path, name)


def test_compare_finds_regressions_unexpected_passes_and_missing_subtests():
    out = wpt_runner.Outcome(0, None, [("a", 0, None), ("b", 1, "boom"), ("c", 0, None)])
    assert wpt_runner.compare("f.any.js", out, {"total": 3, "fail": {"b": "known"}}) == []
    problems = wpt_runner.compare("f.any.js", out, {"total": 4, "fail": {"c": "known"}})
    assert problems[0].startswith("3 subtests ran, 4 expected")
    assert problems[1] == "regression: 'b': FAIL: boom"
    assert problems[2].startswith("unexpected pass") and "'c'" in problems[2]


def test_a_file_runs_in_a_fresh_isolate_with_testharness():
    if not FILES:
        pytest.skip("no WPT files")
    out = wpt_runner.run_file("url/urlsearchparams-append.any.js")
    assert out.status == 0 and len(out.results) >= 4 and out.passed == {n for n, _, _ in out.results}
