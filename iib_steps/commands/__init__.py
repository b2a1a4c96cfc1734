"""One module per group of ``iib-step`` commands."""
