from pathlib import Path

import pytest

from labctl.config import LabConfig, apply_overrides, load_config, parse_config
from labctl.errors import UsageError


def test_defaults_are_valid() -> None:
    config = LabConfig()
    assert config.provider == "local"
    assert config.topology.controllers == 1 and config.topology.workers == 2
    assert config.apps.nginx.node_port == 31000 and config.apps.nginx.replicas == 3
    assert config.node_failure.not_ready_toleration_s == 300


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.yaml") == LabConfig()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topology": {"workers": "many"}}, "topology.workers"),
        ({"topology": {"controllers": 2}}, "odd"),
        ({"apps": {"nginx": {"node_port": 80}}}, "apps.nginx.node_port"),
        ({"kubernetes_version": "latest"}, "v1.36.3"),
        ({"network": {"cluster_dns": "192.168.0.10"}}, "cluster_dns"),
        ({"local": {"subnet": "8.8.8.0/24"}}, "private"),
        ({"local": {"bridge": "a-very-long-bridge-name"}}, "15"),
        ({"provider": "gcp"}, "provider"),
        ({"apps": {"guestbook": {"node_port": 31000}}}, "must differ"),
        ({"oops": 1}, "unknown key 'oops'"),
        ({"network": {"pod_cidr": "10.244.0.0/23"}}, "network.pod_cidr 10.244.0.0/23 has a /24 for 1 nodes"),
    ],
)
def test_invalid_configs_name_the_field(data: dict, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_config(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_overrides_merge_and_revalidate() -> None:
    config = apply_overrides(LabConfig(), {"topology.workers": 4, "kubernetes_version": "1.35.4", "aws.region": None})
    assert config.topology.workers == 4
    assert config.kubernetes_version == "v1.35.4"
    with pytest.raises(UsageError):
        apply_overrides(LabConfig(), {"topology.workers": 0})


def test_local_subnet_must_fit_topology() -> None:
    with pytest.raises(UsageError) as caught:
        parse_config({"local": {"subnet": "10.1.0.0/28"}, "topology": {"workers": 20}})
    assert "has room for" in str(caught.value)
