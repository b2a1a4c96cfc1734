"""Errors of the catalog package. Their text is opm's where opm has one."""


class CatalogError(Exception):
    """Something about a catalog, a bundle or a request on them is wrong; the message says what."""
