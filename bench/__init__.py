"""``make bench``: benchmarks of real work at real sizes. One module per area, each with ``run()``."""
