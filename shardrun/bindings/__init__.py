"""Bindings: what a worker reaches through `env` besides variables and secrets (KV, databases,
queue producers, static assets). None yet: with no binding there is no access.
"""
