"""Load benchmarks: reference views, scenarios and the `make bench` runner (bench.run)."""
