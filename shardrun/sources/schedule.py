"""Cron triggers: the [triggers] table of a worker.toml and the arithmetic of its firings (croniter).

    [triggers]
    crons = ["*/5 * * * *", "0 3 * * mon"]     # 5 fields (minute hour day month weekday), UTC;
                                               # a 6th field is seconds: "* * * * * */10"

Which firing runs, after a pause (a node down, a slow tick): only the latest one that is due,
and only if it is at most `max_late_s` late; the earlier missed ones are skipped (counted,
never replayed in a burst). Everything here is pure: the clock is an argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MAX_CRONS = 10  # per worker
MAX_CRON_CHARS = 128
UTC = dt.UTC


def check_cron(expr: str) -> str:
    """The expression, if croniter reads it and it fires at all; else ValueError naming the problem."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("a cron expression must be a non-empty string")
    if len(expr) > MAX_CRON_CHARS:
        raise ValueError(f"a cron expression of more than {MAX_CRON_CHARS} characters")
    fields = expr.split()
    if not expr.startswith("@") and len(fields) not in (5, 6):
        raise ValueError(f"{expr!r} has {len(fields)} fields; use 5 (minute hour day month weekday) or 6 (+ seconds)")
    try:
        it = croniter(expr, dt.datetime(2000, 1, 1, tzinfo=UTC))
        it.get_next(dt.datetime)
    except (CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, ValueError, KeyError) as exc:
        raise ValueError(f"{expr!r} is not a cron expression croniter reads: {exc}") from None
    return expr


Cron = Annotated[str, AfterValidator(check_cron)]


class TriggerConfig(BaseModel):
    """[triggers] of a worker.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crons: tuple[Cron, ...] = Field(
        (), max_length=MAX_CRONS, description="cron expressions (UTC) that fire `scheduled`"
    )

    @field_validator("crons")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("the same cron expression twice")
        return v


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, UTC)


def latest_due(expr: str, now: float) -> float:
    """The most recent firing time of `expr` at or before `now` (epoch seconds)."""
    return float(croniter(expr, _dt(int(now) + 1)).get_prev(float))  # get_prev is strictly before


def next_firings(expr: str, after: float, n: int) -> list[float]:
    """The next `n` firing times strictly after `after`."""
    it = croniter(expr, _dt(after))
    return [float(it.get_next(float)) for _ in range(n)]


@dataclass(frozen=True)
class Firing:
    """One firing of one worker's cron: what the claim is keyed on."""

    worker: str
    cron: str
    scheduled: float  # epoch seconds, whole

    def event(self) -> dict[str, object]:
        """The `scheduled` handler's argument: Cloudflare's ScheduledController fields."""
        return {"cron": self.cron, "scheduledTime": int(self.scheduled * 1000), "type": "scheduled"}


@dataclass(frozen=True)
class Plan:
    """What one look at one cron gives: the firing to run (or None) and how many were skipped."""

    firing: Firing | None
    skipped: int


def plan(worker: str, expr: str, now: float, last: float | None, max_late_s: float) -> Plan:
    """Which firing of `expr` runs now, given the last one this node knows ran (or started from).

    Only the latest due firing after `last` runs, if it is at most max_late_s late; the
    ones between are skipped (their number, up to 1000 counted, is returned)."""
    due = latest_due(expr, now)
    if last is not None and due <= last:
        return Plan(None, 0)
    skipped = 0
    if last is not None:
        it = croniter(expr, _dt(last))
        while skipped < 1000 and it.get_next(float) < due:
            skipped += 1
    if now - due > max_late_s:
        return Plan(None, skipped + 1)
    return Plan(Firing(worker, expr, due), skipped)
