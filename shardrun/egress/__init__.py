"""fetch() from workers: the egress policy, the HTTP client thread, internal routes, the host ops."""
