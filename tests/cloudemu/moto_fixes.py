"""moto's gaps that labctl meets, filled (the product code stays as for real AWS).

- autoscaling DisableMetricsCollection is not implemented in moto 5.2.5 (only
  Enable is). amazon.aws.autoscaling_group calls it whenever it updates an
  existing group (a second `up`, the scale-up), so it is added as the inverse
  of moto's EnableMetricsCollection.
- CreateLaunchTemplate stores the template's own tags (resource type
  launch-template) inside LaunchTemplateData, where AWS never puts them; the
  collection then sees a difference on every run and adds a version. They are
  kept out of the data, as AWS does.
- CreateLaunchTemplateVersion keeps UserData as a plain string, which moto's
  Auto Scaling rejects (AssertionError, HTTP 500) when it launches from that
  version; it is decoded as CreateLaunchTemplate does.
"""

from typing import Any


def add_disable_metrics_collection() -> None:
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    def disable_metrics_collection(self: Any) -> Any:
        group = self.autoscaling_backend.describe_auto_scaling_groups([self._get_param("AutoScalingGroupName")])[0]
        wanted = self._get_param("Metrics") or []
        group.metrics = [m for m in getattr(group, "metrics", []) if wanted and m not in wanted]
        return EmptyResult()

    AutoScalingResponse.disable_metrics_collection = disable_metrics_collection  # type: ignore[attr-defined]


def fix_launch_templates() -> None:
    from moto.core.types import Base64EncodedString
    from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend
    from moto.ec2.utils import parse_user_data

    create_template = LaunchTemplateBackend.create_launch_template
    create_version = LaunchTemplate.create_version

    def create_launch_template(self: Any, name: str, description: str, template_data: dict[str, Any], tag_spec: Any) -> Any:
        specs = [s for s in template_data.get("TagSpecifications", []) if s.get("ResourceType") != "launch-template"]
        template_data = {k: v for k, v in template_data.items() if k != "TagSpecifications"}
        if specs:
            template_data["TagSpecifications"] = specs
        return create_template(self, name, description, template_data, tag_spec)

    def create_launch_template_version(self: Any, data: dict[str, Any], description: str) -> Any:
        if data.get("UserData") is not None and not isinstance(data["UserData"], Base64EncodedString):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return create_version(self, data, description)

    LaunchTemplateBackend.create_launch_template = create_launch_template  # type: ignore[method-assign]
    LaunchTemplate.create_version = create_launch_template_version  # type: ignore[method-assign]


def apply() -> None:
    add_disable_metrics_collection()
    fix_launch_templates()
