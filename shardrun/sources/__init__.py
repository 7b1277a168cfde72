"""Task sources: PostgreSQL and NATS queues feeding the router, with workloops."""
