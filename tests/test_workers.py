"""The workers registry: strict names, worker.toml validation, edits take effect."""

from __future__ import annotations

import os
import time

import pytest

from shardrun.errors import ScriptError, UsageError
from shardrun.workers import Registry


@pytest.fixture
def root(tmp_path):
    (tmp_path / "hello.js").write_text("export default { task() { return 1 } }")
    d = tmp_path / "api"
    d.mkdir()
    (d / "index.js").write_text("export default { task(p, env) { return env.K } }")
    (d / "worker.toml").write_text('tenant = "user-7"\nmax_concurrency = 5\n[limits]\ncpu_ms = 50\n[env]\nK = "v"\n')
    return tmp_path


def test_names_and_specs(root):
    reg = Registry(root)
    assert reg.names() == ["api", "hello"]
    h = reg.get("hello")
    assert (h.tenant, h.limits.cpu_ms, h.env) == ("hello", 1000, {})
    a = reg.get("api")
    assert (a.tenant, a.limits.cpu_ms, a.env, a.max_concurrency) == ("user-7", 50, {"K": "v"}, 5)


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "%2e%2e%2f", "..\\\\x", "/abs", "a\x00b", "Hello", "", "a" * 65, "ｈello", "a.js"]
)
def test_bad_names(root, name):
    with pytest.raises(UsageError) as exc:
        Registry(root).get(name)
    assert exc.value.code == "E_BAD_NAME"


def test_unknown_worker(root):
    with pytest.raises(UsageError) as exc:
        Registry(root).get("nope")
    assert exc.value.code == "E_NOT_FOUND"


def test_symlink_out_of_the_directory_is_not_a_worker(root, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "evil.js"
    outside.write_text("export default { task() { return 'evil' } }")
    os.symlink(outside, root / "evil.js")
    with pytest.raises(UsageError) as exc:
        Registry(root).get("evil")
    assert exc.value.code == "E_NOT_FOUND"


@pytest.mark.parametrize(
    "toml,words",
    [
        ("tenant = 5", "tenant"),
        ("nonsense = 1", "nonsense"),
        ("[limits]\ncpu_msx = 1", "unknown limits"),
        ("tenant = ", "not valid TOML"),
        ("[limits]\ncpu_ms = -1", "must be positive"),
        ("[limits]\nmemory_mb = 1.5", "whole numbers"),
        ('[fetch]\nallow = ["http://x.com"]', "[fetch] allow"),
        ("[fetch]\nmax_concurrent = 0", "[fetch] max_concurrent"),
        ("[fetch]\nnope = 1", "[fetch] nope"),
        ('[env]\nK = "a"\n[secrets]\nK = "b"', "in both [env] and [secrets]"),
        ("[task]\nmax_retries = -1", "task.max_retries"),
        ("[task]\npriority = 5000", "task.priority"),
    ],
)
def test_bad_worker_toml(root, toml, words):
    (root / "api" / "worker.toml").write_text(toml)
    with pytest.raises(ScriptError) as exc:
        Registry(root).get("api")
    assert exc.value.code == "E_WORKER_CONFIG" and words in exc.value.message


def test_policy_secrets_and_fetch_defaults(root):
    from shardrun.egress.policy import FetchPolicy

    (root / "api" / "worker.toml").write_text(
        '[env]\nK = "v"\n[secrets]\nS = "x"\n[fetch]\nallow = ["a.example.com"]\n'
        "[task]\ntimeout_ms = 5\nmax_retries = 0\n"
    )
    reg = Registry(root, fetch=FetchPolicy(max_subrequests=7))
    a = reg.get("api")
    assert a.env == {"K": "v", "S": "x"} and a.fetch.allow == ("a.example.com",) and a.fetch.max_subrequests == 7
    assert (a.task.timeout_ms, a.task.max_retries) == (5, 0)
    assert reg.get("hello").fetch.allow == () and reg.get("hello").env == {}


def test_an_edit_is_a_new_version(root):
    reg = Registry(root)
    v1 = reg.get("hello").version
    assert reg.get("hello").version == v1
    time.sleep(0.01)
    (root / "hello.js").write_text("export default { task() { return 2 } }")
    assert reg.get("hello").version != v1


def test_fractional_time_limits_are_kept(root):
    (root / "api" / "worker.toml").write_text("[limits]\ncpu_ms = 0.5\nmemory_mb = 16\n")
    lim = Registry(root).get("api").limits
    assert lim.cpu_ms == 0.5 and lim.memory_mb == 16 and isinstance(lim.memory_mb, int)


def test_recheck_stats_once_per_wakeup_and_sees_edits_after_it(root, monkeypatch):
    reg = Registry(root)
    reg.recheck()
    v1 = reg.get("hello").version
    stats = []
    real = os.stat
    monkeypatch.setattr("shardrun.workers.os.stat", lambda p, *a, **k: stats.append(p) or real(p, *a, **k))
    for _ in range(5):
        assert reg.get("hello").version == v1
    assert stats == []  # loaded in this wake-up: not stat'ed again before the next
    time.sleep(0.01)
    (root / "hello.js").write_text("export default { task() { return 2 } }")
    assert reg.get("hello").version == v1  # the same wake-up as the edit
    reg.recheck()
    v2 = reg.get("hello").version
    assert v2 != v1 and reg.get("hello").version == v2
    n = len(stats)
    reg.recheck()
    reg.get("hello")
    reg.get("hello")
    assert len(stats) - n == 1  # one check per wake-up
