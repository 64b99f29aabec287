"""Fixtures for tests of the built offline bundle (helpers live in bundlehelpers, a name no other test dir uses)."""

from bundlehelpers import containerd

__all__ = ["containerd"]
