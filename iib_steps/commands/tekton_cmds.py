"""``iib-step tekton``: every Tekton command module registers on ``tekton_app`` when imported here."""

from iib_steps.apps import tekton_app
from iib_steps.commands import tekton_bundle_cmds, tekton_run_cmds

__all__ = ["tekton_app", "tekton_bundle_cmds", "tekton_run_cmds"]
