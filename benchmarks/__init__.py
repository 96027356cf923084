"""Benchmark and load-test tooling: `scripts/bench` and `scripts/loadtest` (see BENCHMARKS.md).

dataset.py builds a large company with bulk inserts; harness.py starts gunicorn, the SMTP sink
and the billing/mail workers; bench.py drives wrk against the portal and a bare Flask
ceiling (ceiling.py); loadtest.py simulates signed-in customers and then checks invariants.
"""
