"""Adapters: how each orchestrator (Helm, kustomize, kpt, Argo CD) hands pxsec its input."""
