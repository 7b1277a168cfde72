"""`shardrun bench`: the seed's Worker vs shared-pool vs thread-pinned comparison, re-run here.

Definitions: ../shared/design/bench-definitions.md (and bench/README.md). One small module
per architecture (`worker`, `shared`, `pinned`), the scenarios in `scenarios`, the table
and JSON in `report`.
"""
