"""Benchmarks: run with `python -m bench` from the repository root (not part of the timed test run)."""
