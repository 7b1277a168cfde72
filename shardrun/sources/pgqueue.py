"""The PostgreSQL task table: schema, and every statement the queue runs.

The table is the task executor's `ow_tasks` (id, script, payload, status, result, error,
created_at, started_at, completed_at) plus what a durable queue needs: queue, tenant,
attempts, max_attempts, priority, lease_until, run_after, error_code, timeout_ms, claimed_by.
`max_attempts` NULL means the worker's [task] max_retries + 1, else the source's default.
`db-init` creates it, or adds the missing columns to an existing seed table.

Status: pending -> running -> completed | failed (bad task: not retried) | dead (attempts
used up: the dead-letter state, with the last reason in `error`); a retried task goes back
to pending with `run_after` in the future.

Every change to a running task is fenced by its attempt number: `attempts` goes up by one
at each claim, and complete/fail/renew only touch the row while `attempts` still equals
the claim's. A worker whose lease ran out (and whose task was claimed again) gets 0 rows:
its late completion is rejected instead of overwriting the newer attempt.
"""

from __future__ import annotations

import re

from shardrun.errors import UsageError

IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}")
STATUSES = ("pending", "running", "completed", "failed", "dead")


def table_name(name: str) -> str:
    if not IDENT.fullmatch(name):
        raise UsageError(f"table name {name!r} must be 1-63 of a-z, 0-9 and _, not starting with a digit")
    return name


def schema(t: str) -> list[str]:
    """Statements that create the table (or upgrade a seed `ow_tasks`), its indexes and its NOTIFY trigger."""
    t = table_name(t)
    return [
        f"""CREATE TABLE IF NOT EXISTS {t} (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            script TEXT NOT NULL,
            payload JSONB,
            status TEXT NOT NULL DEFAULT 'pending',
            result JSONB,
            error TEXT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            started_at TIMESTAMPTZ,
            completed_at TIMESTAMPTZ)""",
        f"""ALTER TABLE {t}
            ADD COLUMN IF NOT EXISTS queue TEXT NOT NULL DEFAULT 'default',
            ADD COLUMN IF NOT EXISTS tenant TEXT,
            ADD COLUMN IF NOT EXISTS attempts INT NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS max_attempts INT CHECK (max_attempts >= 1),
            ADD COLUMN IF NOT EXISTS priority INT NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS lease_until TIMESTAMPTZ,
            ADD COLUMN IF NOT EXISTS run_after TIMESTAMPTZ NOT NULL DEFAULT now(),
            ADD COLUMN IF NOT EXISTS error_code TEXT,
            ADD COLUMN IF NOT EXISTS timeout_ms INT,
            ADD COLUMN IF NOT EXISTS claimed_by TEXT""",
        f"""DO $$ BEGIN
              ALTER TABLE {t} ADD CONSTRAINT {t}_status_check CHECK (status IN {STATUSES!r});
            EXCEPTION WHEN duplicate_object THEN NULL; END $$""",
        f"CREATE INDEX IF NOT EXISTS {t}_ready ON {t} (run_after) WHERE status = 'pending'",
        f"CREATE INDEX IF NOT EXISTS {t}_leased ON {t} (lease_until) WHERE status = 'running'",
        f"""CREATE OR REPLACE FUNCTION {t}_notify() RETURNS TRIGGER AS $$
            BEGIN PERFORM pg_notify('{t}_created', NEW.id::text); RETURN NEW; END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {t}_notify_insert ON {t}",
        f"CREATE TRIGGER {t}_notify_insert AFTER INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_notify()",
    ]


class Statements:
    """The queue's SQL for one table (asyncpg placeholders)."""

    def __init__(self, table: str) -> None:
        t = self.table = table_name(table)
        self.channel = f"{t}_created"
        # Pending tasks that are due, and running tasks whose lease ran out (their worker died
        # or lost the database): best queue first for this workloop, then oldest.
        self.claim = f"""
            WITH c AS (
                SELECT id, status AS was FROM {t}
                WHERE ((status = 'pending' AND run_after <= now()) OR (status = 'running' AND lease_until < now()))
                  AND ($2::bool OR queue = ANY($1::text[]))
                ORDER BY COALESCE(array_position($1::text[], queue), 1000000), priority DESC, run_after, created_at
                LIMIT $3
                FOR UPDATE SKIP LOCKED)
            UPDATE {t} AS t SET status = 'running', attempts = t.attempts + 1, started_at = now(),
                lease_until = now() + make_interval(secs => $4), claimed_by = $5
            FROM c WHERE t.id = c.id
            RETURNING t.id, t.script, t.payload::text AS payload, t.tenant, t.queue, t.timeout_ms, t.priority,
                      t.attempts, t.max_attempts, c.was"""
        # Idempotent for its own attempt: a retry after a lost reply (the first write did commit)
        # finds the row completed by the same attempt and reports it completed, changing nothing.
        self.complete_many = f"""
            UPDATE {t} AS t SET status = 'completed',
                result = CASE WHEN t.status = 'running' THEN x.result::jsonb ELSE t.result END,
                error = NULL, error_code = NULL, lease_until = NULL,
                completed_at = CASE WHEN t.status = 'running' THEN now() ELSE t.completed_at END
            FROM unnest($1::uuid[], $2::int[], $3::text[]) AS x(id, attempt, result)
            WHERE t.id = x.id AND t.attempts = x.attempt AND t.status IN ('running', 'completed')
            RETURNING t.id"""
        # $5: the failure is permanent. Otherwise: pending again after a backoff that doubles
        # with each attempt, or dead once the attempts are used up ($8: attempts when the row
        # does not say).
        self.fail = f"""
            UPDATE {t} SET
                status = CASE WHEN $5 THEN 'failed' WHEN attempts >= COALESCE(max_attempts, $8) THEN 'dead' ELSE 'pending' END,
                error_code = $3,
                error = CASE WHEN NOT $5 AND attempts >= COALESCE(max_attempts, $8)
                             THEN 'dead-lettered after ' || attempts || ' attempts: ' || $4 ELSE $4 END,
                run_after = CASE WHEN NOT $5 AND attempts < COALESCE(max_attempts, $8)
                            THEN now() + make_interval(secs => LEAST($6 * power(2, attempts - 1), $7)) ELSE run_after END,
                completed_at = CASE WHEN $5 OR attempts >= COALESCE(max_attempts, $8) THEN now() END,
                lease_until = NULL
            WHERE id = $1 AND attempts = $2 AND status = 'running'
            RETURNING status"""
        self.renew = f"""
            UPDATE {t} AS t SET lease_until = now() + make_interval(secs => $3)
            FROM unnest($1::uuid[], $2::int[]) AS x(id, attempt)
            WHERE t.id = x.id AND t.attempts = x.attempt AND t.status = 'running'
            RETURNING t.id"""
        self.exists = "SELECT to_regclass($1) IS NOT NULL"
