"""The front door's metrics tally: the same totals as one inc()/observe() per request."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from shardrun.server.metrics import observe_many

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
seconds = st.lists(st.one_of(st.sampled_from(BUCKETS), st.floats(0, 60, allow_nan=False)), max_size=50)


def samples(h: Histogram) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("le", "")): s.value for m in h.collect() for s in m.samples if "created" not in s.name
    }


@settings(max_examples=60, deadline=None)
@given(seconds)
def test_observe_many_matches_observe_each(values):
    reg = CollectorRegistry()
    one = Histogram("one_seconds", "x", buckets=BUCKETS, registry=reg)
    many = Histogram("many_seconds", "x", buckets=BUCKETS, registry=reg)
    for v in values:
        one.observe(v)
    observe_many(many, values)
    a = {(k[0].replace("one", "x"), k[1]): v for k, v in samples(one).items()}
    b = {(k[0].replace("many", "x"), k[1]): v for k, v in samples(many).items()}
    assert a.keys() == b.keys()
    for k in a:
        assert abs(a[k] - b[k]) <= 1e-9 * max(1.0, abs(a[k])), k


def test_a_flush_that_cannot_open_a_metrics_file_keeps_the_counts(monkeypatch):
    from shardrun.server import metrics

    tally = metrics.HttpTally()
    tally.add("w-emfile", 200, 0.001)
    tally.add("w-emfile", 200, 0.002)

    def no_files(*labels):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(metrics.HTTP_REQUESTS, "labels", no_files)
    tally.flush()
    assert tally.deferred == 1 and tally.counts == {("w-emfile", "200"): 2}
    monkeypatch.undo()
    tally.flush()
    assert tally.counts == {} and tally.seconds == {}
    assert metrics.HTTP_REQUESTS.labels("w-emfile", "200")._value.get() == 2
