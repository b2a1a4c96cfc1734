"""The OpenAPI documentation page with every asset served by the API itself (no CDN).

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package (Swagger UI's release, packaged
for Python, pinned in the lock) and are served under ``/ui/swagger/``; the page is
``/schema/swagger`` (also ``/schema``). Without the package the docs page is left out and
``/schema/openapi.json`` is still served.
"""

from __future__ import annotations

from typing import Any

ASSETS = "/ui/swagger"


def docs_parts() -> tuple[list[Any], list[Any]]:
    """(render plugins, route handlers) for the docs page and its assets."""
    from litestar.openapi.plugins import SwaggerRenderPlugin
    from litestar.static_files import create_static_files_router

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return [], []
    plugin = SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        path="/swagger",
    )
    assets = create_static_files_router(path=ASSETS, directories=[str(swagger_ui_path)], name="swagger-ui")
    return [plugin], [assets]
