"""Benchmarks of the product against its floors (DESIGN §9): ``python -m bench`` (``make bench``, ``make bench-quick``);
``make bench-data`` builds the PostgreSQL data sets of the scale benchmark. See docs/performance.md."""
