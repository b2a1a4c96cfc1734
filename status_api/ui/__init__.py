"""The status page served by the API at ``/`` (see pages.py), and the docs page's local assets."""

from status_api.ui.docs import docs_parts
from status_api.ui.pages import build_page, builds_page, graph_svg, stylesheet

ROUTES = [builds_page, build_page, graph_svg, stylesheet]

__all__ = ["ROUTES", "docs_parts"]
