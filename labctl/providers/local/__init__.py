"""The local provider: systemd-nspawn nodes from the bundle's root filesystem on a bridge of the host (provider.PROVIDER)."""
