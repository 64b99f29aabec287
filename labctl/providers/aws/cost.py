"""What a lab costs per hour on AWS, from the dated price table kept in the repo (no pricing API call)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PRICES_PATH = Path(__file__).with_name("prices.yaml")
HOURS_PER_MONTH = 730


@dataclass
class Estimate:
    region: str
    as_of: str
    currency: str
    lines: list[str] = field(default_factory=list)
    hourly: float = 0.0
    unknown: list[str] = field(default_factory=list)
    fallback_region: str = ""

    def summary(self) -> str:
        parts = [f"about {self.hourly:.2f} {self.currency}/hour ({self.hourly * 24:.2f}/day)"]
        if self.unknown:
            parts.append(f"not counting {', '.join(self.unknown)} (no price in the table)")
        source = f"prices of {self.fallback_region}, {self.region} may differ" if self.fallback_region else f"{self.region} prices"
        parts.append(f"{source} as of {self.as_of}")
        return "; ".join(parts)


def load_prices(path: Path = PRICES_PATH) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _regional(table: dict[str, Any], region: str, default: str) -> tuple[Any, bool]:
    if region in table:
        return table[region], False
    return table[default], True


def estimate(
    region: str,
    nodes: dict[str, int],
    *,
    root_volume_gb: int,
    load_balancers: int = 1,
    prices: dict[str, Any] | None = None,
) -> Estimate:
    """NODES maps instance type → count; every node has a public IPv4 and a gp3 root volume."""
    table = prices or load_prices()
    default = str(table["default_region"])
    instance_prices, fell_back = _regional(table["instances"], region, default)
    nlb_hour, _ = _regional(table["nlb_hour"], region, default)
    gb_month, _ = _regional(table["ebs_gp3_gb_month"], region, default)
    result = Estimate(
        region=region, as_of=str(table["as_of"]), currency=str(table["currency"]), fallback_region=default if fell_back else ""
    )
    count = sum(nodes.values())
    for instance_type, how_many in sorted(nodes.items()):
        price = instance_prices.get(instance_type)
        if price is None:
            result.unknown.append(instance_type)
            result.lines.append(f"{how_many} × {instance_type}: price unknown")
            continue
        result.hourly += how_many * float(price)
        result.lines.append(f"{how_many} × {instance_type} at {float(price):.4f}/h")
    volumes = count * root_volume_gb * float(gb_month) / HOURS_PER_MONTH
    addresses = (count + load_balancers) * float(table["public_ipv4_hour"])
    balancers = load_balancers * float(nlb_hour)
    result.hourly += volumes + addresses + balancers
    result.lines.append(f"{count} × {root_volume_gb} GiB gp3 at {volumes:.4f}/h")
    result.lines.append(f"{count + load_balancers} public IPv4 addresses at {addresses:.4f}/h")
    result.lines.append(f"{load_balancers} network load balancer at {balancers:.4f}/h (plus LCU usage)")
    return result
