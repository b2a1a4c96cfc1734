"""What runs inside a Tekton step: the ``iib-step`` CLI and the image, registry and bundle code."""
