"""pxsec: turn on PX-Security (Portworx authorization) in Kubernetes manifests."""

__version__ = "0.1.0"
