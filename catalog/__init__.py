"""The operator-catalog domain in pure Python: what opm does, with no network and no images."""
