"""Tekton for iib-step: load and check our Tekton YAML, Tekton bundles, and the local runner."""
