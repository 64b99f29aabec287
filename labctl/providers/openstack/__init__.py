"""The OpenStack provider: a network, a router and a server with a floating IP per node (provider.PROVIDER)."""
