"""Benchmarks, load generation and the fault storm: `shardrun bench`, `loadtest`, `chaos`.

`shardrun bench` is the seed's Worker vs shared-pool vs thread-pinned comparison, re-run here;
`loadgen` drives a running server over HTTP or ZeroMQ; `chaos` is the fault storm and its oracle.

Definitions: ../shared/design/bench-definitions.md (and bench/README.md). One small module
per architecture (`worker`, `shared`, `pinned`), the scenarios in `scenarios`, the table
and JSON in `report`.
"""
