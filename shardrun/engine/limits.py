"""Per-request and per-isolate limits, as one small value object."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    """What a request may use. Times in milliseconds, sizes in bytes unless named."""

    cpu_ms: float = 1_000  # CPU budget of one request, summed over all its JS turns
    wall_ms: float = 30_000  # wall-clock deadline of one request
    memory_mb: int = 64  # heap cap of one isolate
    stack_kb: int = 1_024  # JS stack cap of one isolate
    startup_ms: float = 1_000  # CPU budget for evaluating the script's top level
    grace_ms: float = 100  # after the budget, how long JS that will not yield may run before the watchdog acts
    max_output_bytes: int = 10 << 20  # task result JSON or response body
    max_log_bytes: int = 64 << 10  # console output kept per request
    max_timers: int = 10_000  # live timers per isolate
    max_op_bytes: int = 1 << 20  # arguments of one host operation
    stream_window_bytes: int = 256 << 10  # a streamed body's bytes JS may send ahead of what the client took
    max_stream_bytes: int = 1 << 30  # all of one streamed response body

    def with_(self, **changes: object) -> Limits:
        """A copy with some limits changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def js_view(self) -> dict[str, object]:
        """The limits the JS side enforces itself."""
        return {  # read one by one: dataclasses.asdict() cost 20 µs of every cold start
            "maxOutputBytes": self.max_output_bytes,
            "maxLogBytes": self.max_log_bytes,
            "maxTimers": self.max_timers,
            "maxOpBytes": self.max_op_bytes,
            "streamWindow": self.stream_window_bytes,
            "maxStreamBytes": self.max_stream_bytes,
        }
