"""``iib-step catalog ...``: render, validate, fmt (opm-shaped)."""
