"""Locust load for a running `shardrun serve` (HTTP on loopback), spread over N tenants.

    pip install locust
    locust -f scripts/load/locustfile.py --host http://127.0.0.1:8080 --headless -u 64 -r 16 -t 30s
Workers w0..w{TENANTS-1} must exist (scripts/load/wrk-serve makes such a directory).
"""

import os
import random

from locust import FastHttpUser, task

TENANTS = int(os.environ.get("TENANTS", "100"))
PREFIX = os.environ.get("PREFIX", "w")


class Tenant(FastHttpUser):
    @task
    def fetch(self) -> None:
        name = f"{PREFIX}{random.randrange(TENANTS)}"
        self.client.get(f"/w/{name}/", name="/w/[tenant]/")
