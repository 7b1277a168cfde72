"""The engine layer: the only code that touches the JS engine (quickjs-ng).

`adapter` wraps the engine in isolates with a thread guard, turns and engine errors; `limits`
is the value object of what a request may use; `watchdog` stops JS that will not yield.
"""
