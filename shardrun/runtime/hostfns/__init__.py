"""The areas of synchronous host functions (see shardrun/runtime/hostcall.py)."""
