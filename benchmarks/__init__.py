"""Benchmark and load-test tooling: `scripts/bench` and `scripts/loadtest` (see BENCHMARKS.md).

dataset.py builds a large company with bulk inserts; harness.py starts gunicorn, the SMTP sink
and the billing/mail workers; accounts.py signs customers and the merchant owner in; bench.py
drives wrk against the pages of pages.py and a bare Flask ceiling (ceiling.py), results.py and
targets.py turn the numbers into Markdown; loadtest.py simulates signed-in customers and then
checks invariants.
"""
