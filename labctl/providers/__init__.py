"""Providers make machines and write the lab's inventory; all produce the same shape.

A provider knows nothing of drills; drills know nothing of providers.
"""

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from labctl.config import PROVIDERS, LabConfig
from labctl.errors import NotAvailableError, UsageError
from labctl.inventory import Inventory
from labctl.lab import Lab
from labctl.ui import Ui


@dataclass
class ProviderContext:
    lab: Lab
    config: LabConfig
    ui: Ui
    # Provider-specific switches from the CLI: yes, provision_only, offline, engine, …
    options: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False


class Provider(Protocol):
    name: str

    def provision(self, ctx: ProviderContext) -> Inventory:
        """Create (or find) the lab's machines and write lab.inventory_path. Idempotent."""
        ...

    def destroy(self, ctx: ProviderContext) -> None:
        """Remove everything the provider created for the lab. Idempotent; works after a half-built up."""
        ...

    def machines(self, ctx: ProviderContext) -> list[dict[str, Any]]:
        """The machines as the provider sees them: [{"name", "role", "ip", "state"}]."""
        ...

    def add_worker(self, ctx: ProviderContext) -> Inventory:
        """One more worker (the scale-up drill); returns the new inventory."""
        ...


def get_provider(name: str) -> Provider:
    if name not in PROVIDERS:
        raise UsageError(f"unknown provider '{name}': valid providers are {', '.join(PROVIDERS)}")
    try:
        module = importlib.import_module(f"labctl.providers.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"labctl.providers.{name}":
            raise NotAvailableError(f"the {name} provider") from None
        raise
    provider: Provider = module.PROVIDER
    return provider
