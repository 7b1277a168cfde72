"""`shardrun serve`: the processes and the path of a request through them.

`supervisor` forks and watches the others; in the router, `http` (connections) and `frontdoor`
(HTTP to worker calls) take requests, `table` admits and routes them (`routing`: tenant to
shard), `router` owns the sockets; in a shard, `shard` runs them in warm isolates (`cache`,
`turns`: fair run queues). `procs` (start method, exit codes), `metrics`.
"""
