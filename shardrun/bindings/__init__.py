"""Bindings: what a worker reaches through `env` besides variables and secrets. With no binding
there is no access. A binding type is one entry in `types.TYPES` (its worker.toml section, entry
model, default caps and the module that runs its calls) and one in js/src/bindings.js; `host`
runs every call as the `binding` host operation under the request's caps.
"""
