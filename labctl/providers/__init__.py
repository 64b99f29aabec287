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


@dataclass(frozen=True)
class ProviderOptions:
    """The switches of `up` and `down` a provider acts on."""

    yes: bool = False  # no confirmation prompts (costs, a lab open to the internet)
    provision_only: bool = False  # stop once the machines exist and the inventory is written
    offline: bool = False  # push the bundle to the nodes instead of downloading releases
    reconcile: bool = False  # run the install even when nothing it depends on changed


@dataclass
class ProviderContext:
    lab: Lab
    config: LabConfig
    ui: Ui
    options: ProviderOptions = field(default_factory=ProviderOptions)
    verbose: bool = False


class Provider(Protocol):
    name: str
    # Whether `--offline` means anything here (local nodes always run from the bundle).
    supports_offline: bool

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

    def remove_worker(self, ctx: ProviderContext, name: str) -> Inventory:
        """Remove worker NAME's machine (drained and deleted from the cluster by the caller); returns the new inventory."""
        ...

    def sweep_state(self, ctx: ProviderContext) -> dict[str, Any]:
        """The lab state destroy() needs to find a lab by its tags alone (after the local state was lost)."""
        ...

    def describe_leftovers(self, ctx: ProviderContext) -> str:
        """What the provider holds of the lab, found by its tags and names, in a few words ("" when nothing)."""
        ...


def get_provider(name: str) -> Provider:
    if name not in PROVIDERS:
        raise UsageError(f"unknown provider '{name}': valid providers are {', '.join(PROVIDERS)}")
    try:
        module = importlib.import_module(f"labctl.providers.{name}.provider")
    except ModuleNotFoundError as error:
        if error.name in (f"labctl.providers.{name}", f"labctl.providers.{name}.provider"):
            raise NotAvailableError(f"the {name} provider") from None
        raise
    provider: Provider = module.PROVIDER
    return provider
