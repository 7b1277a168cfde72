"""The worker runtime: a worker's script in an isolate, its event loop and host operations.

`isolate` (WorkerIsolate: requests in, results out, limits held), `prelude` and `js/` (the Web
APIs), `boundary` (the trust boundary: what leaves an isolate is checked here), `calls` (the
values a request carries), `script`, `jsonin` (strict JSON input).
"""
