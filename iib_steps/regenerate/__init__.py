"""Bundle regeneration with ``operator-manifest``: pinning, organization customizations (iib.md §6)."""
