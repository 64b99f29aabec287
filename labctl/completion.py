"""Shell completion: drill ids, lab names, node names. Never raises: a completion offers nothing instead."""

import typer


def drill_ids(incomplete: str) -> list[str]:
    from labctl.drills import CATALOG

    return [name for name in ["all", *(d.id for d in CATALOG)] if name.startswith(incomplete)]


def lab_names(incomplete: str) -> list[str]:
    from labctl.lab import list_labs

    try:
        return [name for name in list_labs() if name.startswith(incomplete)]
    except Exception:  # noqa: BLE001 - a broken LABCTL_HOME completes to nothing
        return []


def node_names(ctx: typer.Context, incomplete: str) -> list[str]:
    from labctl.inventory import load_inventory
    from labctl.lab import Lab

    try:
        inventory = load_inventory(Lab(ctx.params.get("lab") or "default").inventory_path)
    except Exception:  # noqa: BLE001 - no such lab or inventory completes to nothing
        return []
    return [n.name for n in inventory.nodes if n.role != "api_lb" and n.name.startswith(incomplete)]
