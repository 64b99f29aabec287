"""The AWS provider: a lab of EC2 instances (Debian 12 or Flatcar) made by Ansible playbooks (or Terraform).

up:   checks (credentials, region, instance types, image, address) → cost
      estimate and confirmation → playbooks/up-aws.yml → inventory from the
      instances → (unless --provision-only) wait until the nodes answer.
down: playbooks/down-aws.yml deletes everything tagged labctl-lab=<lab>, then
      labctl checks nothing is left.
Secrets: keys reach Ansible only through a 0600 credentials file that exists
for the length of one run; ansible-runner never sees them.
"""

import time
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from labctl import known_hosts
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, Node, load_inventory
from labctl.paths import PROJECT_ROOT
from labctl.providers import ProviderContext
from labctl.providers import terraform as tf
from labctl.providers.aws.cost import estimate
from labctl.providers.aws.errors import explain, explain_message
from labctl.providers.aws.network import VpcPlan, claim_vpc
from labctl.providers.aws.nodes import (
    build_inventory,
    describe_machines,
    ensure_ssh_key,
    lab_instances,
    name_workers,
    role_of,
    tags_of,
)
from labctl.providers.aws.offline import node_python_installer, refuse_other_arch
from labctl.providers.aws.preflight import Image, find_image, instance_architecture, pick_zone, resolve_allow_from
from labctl.providers.aws.session import ANSIBLE_PROFILE, AwsSession, endpoint_url, open_session
from labctl.providers.aws.sweep import discover, leftovers
from labctl.providers.aws.userdata import FLATCAR_PYTHON, b64, user_data
from labctl.providers.console_keys import pin_from_console
from labctl.providers.exposure import refuse_whole_internet
from labctl.runner import RunResult, run_playbook

ROOT_VOLUME_GB = 30
WAIT_TIMEOUT_S = 900
TERRAFORM_SOURCE = PROJECT_ROOT / "terraform" / "aws"


@dataclass
class Plan:
    """Everything decided before the first resource is created."""

    aws: AwsSession
    zone: str
    arch: str
    image: Image
    allow_from: str
    controller_type: str
    worker_type: str
    workers: int
    network: VpcPlan


class AwsProvider:
    name = "aws"
    supports_offline = True

    # --- Provider protocol ------------------------------------------------------

    def provision(self, ctx: ProviderContext) -> Inventory:
        if ctx.config.topology.controllers != 1:
            raise UsageError("the aws provider builds one controller: set topology.controllers to 1 (--controllers 1)")
        if ctx.config.aws.engine == "terraform":
            tf.binary()  # fail before any check or prompt when terraform is missing
        plan = self._plan(ctx)
        self._confirm(ctx, plan)
        ctx.lab.update_state(
            aws_region=plan.aws.region,
            aws_engine=ctx.config.aws.engine,
            aws_os=ctx.config.aws.os,
            aws_ssh_user=plan.image.ssh_user,
            aws_ami=plan.image.ami_id,
        )
        public_key = ensure_ssh_key(ctx.lab.ssh_key_path)
        if ctx.config.aws.engine == "terraform":
            inventory = self._apply_terraform(ctx, plan, public_key)
        else:
            result = self._run(ctx, plan.aws, "up-aws.yml", "create the lab on AWS", self._up_vars(ctx, plan, public_key))
            resources = dict(result.stats.get("aws") or {})
            ctx.lab.update_state(aws_resources=resources)
            inventory = self._inventory(ctx, plan.aws, self._inventory_vars(ctx, plan, resources))
        # --offline: the nodes get every binary and image from the bundle, pushed over SSH.
        inventory.vars["artifacts_source"] = "push" if ctx.options.offline else "upstream"
        inventory.write(ctx.lab.inventory_path)
        ctx.ui.info(f"[green]✓[/] inventory written: {', '.join(n.name for n in inventory.nodes)}")
        if not ctx.options.provision_only:
            self._pin_host_keys(ctx, plan.aws, inventory)
            self._wait_ready(ctx)
        return inventory

    def destroy(self, ctx: ProviderContext) -> None:
        state = ctx.lab.read_state()
        region = state.get("aws_region")
        if not region:
            # Recorded once the region was checked: without it nothing can have been created.
            ctx.ui.info(f"lab {ctx.lab.name} has nothing on AWS")
            return
        aws = open_session(region)
        aws.check_credentials()
        if state.get("aws_engine") == "terraform" and (ctx.lab.dir / "terraform" / "terraform.tfstate").exists():
            with ctx.ui.status("terraform destroy (terraform/aws)"):
                tf.destroy(ctx.lab.dir / "terraform", ctx.lab.logs_dir / "terraform.log")
        # For every engine: whatever any run left behind is found by its tag.
        found = discover(aws, ctx.lab.name)
        if not leftovers(found):
            ctx.ui.info(f"[green]✓[/] nothing of lab {ctx.lab.name} is left on AWS")
            return
        self._run(ctx, aws, "down-aws.yml", "remove the lab from AWS", {"aws_lab_found": found, "aws_lab_wait_timeout": WAIT_TIMEOUT_S})
        remaining = leftovers(discover(aws, ctx.lab.name))
        if remaining:
            raise InfraError(
                f"lab {ctx.lab.name} still has {len(remaining)} AWS resource(s) ({', '.join(remaining[:5])}): "
                f"run `labctl down --lab {ctx.lab.name}` again in a few minutes"
            )

    def machines(self, ctx: ProviderContext) -> list[dict[str, Any]]:
        aws = self._session_of(ctx)
        return describe_machines(lab_instances(aws, ctx.lab.name, ("pending", "running", "shutting-down", "stopping", "stopped")))

    def add_worker(self, ctx: ProviderContext) -> Inventory:
        aws = self._session_of(ctx)
        before = {i["InstanceId"] for i in lab_instances(aws, ctx.lab.name) if role_of(i) == "worker"}
        scale_vars = {"aws_lab_add_workers": 1, "aws_lab_wait_timeout": WAIT_TIMEOUT_S}
        result = self._run(ctx, aws, "scale-aws.yml", "add a worker on AWS", scale_vars)
        desired = int(result.stats.get("aws_workers_desired") or len(before) + 1)
        instances = self._wait_for_workers(aws, ctx.lab.name, desired)
        ctx.lab.update_state(aws_workers_desired=desired)
        previous = load_inventory(ctx.lab.inventory_path).vars if ctx.lab.inventory_path.exists() else {}
        inventory = self._inventory(ctx, aws, previous, instances)
        new = [n.name for n in inventory.by_role("worker") if n.extra.get("instance_id") not in before]
        if not new:
            raise InfraError(
                f"the worker group of lab {ctx.lab.name} grew to {desired} but no new instance appeared: check its activity history"
            )
        inventory.write(ctx.lab.inventory_path)
        self._pin_host_keys(ctx, aws, inventory, [n for n in inventory.nodes if n.name in new])
        ctx.lab.update_state(nodes=[n.name for n in inventory.nodes])
        ctx.ui.info(f"[green]✓[/] new worker {', '.join(new)}")
        return inventory

    def sweep_state(self, ctx: ProviderContext) -> dict[str, Any]:
        return {"aws_region": open_session(ctx.config.aws.region).region}

    def describe_leftovers(self, ctx: ProviderContext) -> str:
        aws = self._session_of(ctx)
        aws.check_credentials()
        names = leftovers(discover(aws, ctx.lab.name))
        return f"{len(names)} resource(s) in {aws.region}: {', '.join(names[:6])}{' …' if len(names) > 6 else ''}" if names else ""

    def remove_worker(self, ctx: ProviderContext, name: str) -> Inventory:
        """Terminate worker NAME (through its Auto Scaling group, one less desired) and write the inventory without it."""
        aws = self._session_of(ctx)
        current = load_inventory(ctx.lab.inventory_path)
        node = current.node(name)
        if node.role != "worker":
            raise UsageError(f"{name} is a {node.role}, not a worker")
        live = {i["InstanceId"]: i for i in lab_instances(aws, ctx.lab.name)}
        instance = live.get(str(node.extra.get("instance_id", "")))
        if instance is not None:
            group = tags_of(instance).get("aws:autoscaling:groupName")
            try:
                if group:
                    aws.client("autoscaling").terminate_instance_in_auto_scaling_group(
                        InstanceId=instance["InstanceId"], ShouldDecrementDesiredCapacity=True
                    )
                    desired = aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group])
                    ctx.lab.update_state(aws_workers_desired=desired["AutoScalingGroups"][0]["DesiredCapacity"])
                else:
                    aws.client("ec2").terminate_instances(InstanceIds=[instance["InstanceId"]])
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
                raise InfraError(explain(error, f"terminating worker {name} ({instance['InstanceId']})")) from None
            self._wait_gone(aws, ctx.lab.name, instance["InstanceId"])
        current.nodes = [n for n in current.nodes if n.name != name]
        current.write(ctx.lab.inventory_path)
        known_hosts.forget(ctx.lab.known_hosts_path, [node.ansible_host])
        ctx.lab.update_state(nodes=[n.name for n in current.nodes])
        ctx.ui.info(f"[green]✓[/] worker {name} terminated")
        return current

    # --- before anything is created ---------------------------------------------

    def _plan(self, ctx: ProviderContext) -> Plan:
        settings = ctx.config.aws
        allow_from = resolve_allow_from(settings.allow_from)
        refuse_whole_internet(allow_from, ctx.options.yes)
        aws = open_session(settings.region)
        where = ctx.lab.read_state().get("aws_region")
        if where and where != aws.region:
            raise UsageError(
                f"lab {ctx.lab.name} lives in {where}, not {aws.region}: `labctl down --lab {ctx.lab.name}` first, or use another --lab"
            )
        identity = aws.check_credentials()
        types = [settings.controller_instance_type, settings.worker_instance_type]
        arch = instance_architecture(aws, types)
        if ctx.options.offline:
            refuse_other_arch(arch, types)
            if settings.os == "flatcar":
                # Built before any machine exists: a lab that cannot get its Python must not bill.
                node_python_installer(ctx.config.kubernetes_version)
        zone = pick_zone(aws, types)
        image = find_image(aws, settings.os, arch, settings.ami)
        workers = max(ctx.config.topology.workers, int(ctx.lab.read_state().get("aws_workers_desired") or 0))
        network = claim_vpc(aws, ctx.lab, ctx.config)
        ctx.ui.info(f"AWS account {identity['account']}, region {aws.region}, zone {zone}, VPC {network.vpc}")
        return Plan(aws, zone, arch, image, allow_from, settings.controller_instance_type, settings.worker_instance_type, workers, network)

    def _confirm(self, ctx: ProviderContext, plan: Plan) -> None:
        counts: dict[str, int] = {}
        for instance_type, count in ((plan.controller_type, 1), (plan.worker_type, plan.workers)):
            counts[instance_type] = counts.get(instance_type, 0) + count
        cost = estimate(plan.aws.region, counts, root_volume_gb=ROOT_VOLUME_GB)
        ctx.ui.info(
            f"lab {ctx.lab.name}: 1 controller ({plan.controller_type}) + {plan.workers} workers ({plan.worker_type}), "
            f"{ctx.config.aws.os} {plan.image.name or plan.image.ami_id} ({plan.image.ami_id}), SSH and API open to {plan.allow_from}"
        )
        for line in cost.lines:
            ctx.ui.info(f"  {line}")
        ctx.ui.info(f"estimated cost: {cost.summary()}")
        if not (ctx.options.yes or ctx.ui.confirm(f"Create these AWS resources for {cost.hourly:.2f} {cost.currency}/hour?")):
            raise UsageError("cancelled: nothing was created on AWS")

    # --- the playbooks ------------------------------------------------------------

    def _up_vars(self, ctx: ProviderContext, plan: Plan, public_key: str) -> dict[str, Any]:
        lab, os_name = ctx.lab.name, ctx.config.aws.os
        return {
            "aws_lab_zone": plan.zone,
            "aws_lab_vpc_cidr": str(plan.network.vpc),
            "aws_lab_node_subnet_cidr": str(plan.network.node_subnet),
            "aws_lab_lb_subnet_cidr": str(plan.network.lb_subnet),
            "aws_lab_allow_from": plan.allow_from,
            "aws_lab_ami": plan.image.ami_id,
            "aws_lab_root_device": plan.image.root_device,
            "aws_lab_root_volume_gb": ROOT_VOLUME_GB,
            "aws_lab_controller_type": plan.controller_type,
            "aws_lab_worker_type": plan.worker_type,
            "aws_lab_workers": plan.workers,
            "aws_lab_public_key": public_key,
            "aws_lab_controller_user_data": user_data(os_name, lab, "controller", public_key, plan.arch, ctx.options.offline),
            "aws_lab_worker_user_data_b64": b64(user_data(os_name, lab, "worker", public_key, plan.arch, ctx.options.offline)),
            "aws_lab_node_port": ctx.config.apps.guestbook.node_port,
            "aws_lab_operator_node_ports": [ctx.config.apps.nginx.node_port, ctx.config.apps.guestbook.node_port],
            "aws_lab_wait_timeout": WAIT_TIMEOUT_S,
        }

    def _run(self, ctx: ProviderContext, aws: AwsSession, playbook: str, title: str, extravars: dict[str, Any]) -> RunResult:
        base = {
            "aws_lab_name": ctx.lab.name,
            "aws_lab_region": aws.region,
            "aws_lab_endpoint_url": endpoint_url(),
            "aws_lab_profile": ANSIBLE_PROFILE,
        }
        with aws.ansible_env(ctx.lab.dir) as env, ctx.ui.playbook(title) as progress:
            result = run_playbook(
                playbook, logs_dir=ctx.lab.logs_dir, extravars={**base, **extravars}, sink=progress, verbose=ctx.verbose, env=env
            )
        if not result.succeeded:
            if result.failures:
                failure = result.failures[0]
                detail = explain_message(failure.message, f"task '{failure.task}'")
            else:
                detail = f"ansible exited {result.rc} ({result.status})"
            raise InfraError(
                f"{title} failed: {detail} — logs in {result.artifacts_dir}; `labctl down --lab {ctx.lab.name}` removes what exists"
            )
        ctx.ui.info(f"[green]✓[/] {title} ({result.seconds:.0f}s, {result.total_changed} changed)")
        return result

    def _pin_host_keys(self, ctx: ProviderContext, aws: AwsSession, inventory: Inventory, nodes: list[Node] | None = None) -> None:
        ec2 = aws.client("ec2")

        def console(node: Node) -> str:
            instance = str(node.extra.get("instance_id", ""))
            try:
                try:
                    reply = ec2.get_console_output(InstanceId=instance, Latest=True)
                except botocore.exceptions.ClientError as error:
                    # Only Nitro instances keep the latest output; the others answer with the buffered one.
                    if error.response.get("Error", {}).get("Code") != "UnsupportedOperation":
                        raise
                    reply = ec2.get_console_output(InstanceId=instance)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
                raise InfraError(explain(error, f"reading the console of {node.name} ({instance})")) from None
            return str(reply.get("Output") or "")

        with ctx.ui.status("reading the nodes' SSH host keys from their consoles"):
            pin_from_console(inventory, ctx.lab.known_hosts_path, console, WAIT_TIMEOUT_S, nodes)

    def _wait_ready(self, ctx: ProviderContext) -> None:
        with ctx.ui.playbook("wait for the nodes") as progress:
            result = run_playbook(
                "ready-aws.yml",
                logs_dir=ctx.lab.logs_dir,
                inventory=ctx.lab.inventory_path,
                extravars=self._ready_vars(ctx),
                sink=progress,
                verbose=ctx.verbose,
            )
        if not result.succeeded:
            detail = result.failures[0].line() if result.failures else f"ansible exited {result.rc}"
            raise InfraError(
                f"nodes did not come up: {detail} — check that --allow-from covers your address; logs in {result.artifacts_dir}"
            )

    def _ready_vars(self, ctx: ProviderContext) -> dict[str, Any]:
        extravars: dict[str, Any] = {"aws_ready_timeout": WAIT_TIMEOUT_S}
        if ctx.options.offline and ctx.config.aws.os == "flatcar":
            extravars["node_python_installer"] = str(node_python_installer(ctx.config.kubernetes_version))
        return extravars

    # --- the inventory --------------------------------------------------------------

    def _inventory_vars(self, ctx: ProviderContext, plan: Plan, resources: dict[str, Any]) -> dict[str, Any]:
        inventory_vars: dict[str, Any] = {"aws_region": plan.aws.region, "node_os": ctx.config.aws.os}
        if resources.get("load_balancer_dns"):
            inventory_vars["guestbook_url"] = f"http://{resources['load_balancer_dns']}"
        return inventory_vars

    def _inventory(
        self, ctx: ProviderContext, aws: AwsSession, inventory_vars: dict[str, Any], instances: list[dict[str, Any]] | None = None
    ) -> Inventory:
        found = instances if instances is not None else lab_instances(aws, ctx.lab.name, ("pending", "running"))
        name_workers(aws, found)
        state = ctx.lab.read_state()
        inventory = build_inventory(
            ctx.lab.name,
            found,
            ssh_user=str(state.get("aws_ssh_user") or "admin"),
            inventory_vars=inventory_vars,
            ssh_key_path=ctx.lab.ssh_key_path,
            python_interpreter=FLATCAR_PYTHON if state.get("aws_os") == "flatcar" else "",
        )
        controllers = inventory.by_role("controller")
        if not controllers:
            raise InfraError(f"lab {ctx.lab.name} has no running controller on AWS: run `labctl up aws --lab {ctx.lab.name}` again")
        # Nodes reach the API at its private address (the security group admits the API only
        # from the operator); the operator's kubeconfig uses the public one.
        inventory.vars["api_endpoint_host"] = controllers[0].node_ip
        inventory.vars["api_client_host"] = controllers[0].ansible_host
        return inventory

    def _wait_for_workers(self, aws: AwsSession, lab: str, desired: int, timeout: float = WAIT_TIMEOUT_S) -> list[dict[str, Any]]:
        """Instances of the lab once DESIRED workers run (the group reports InService a little before EC2 does)."""
        deadline = time.monotonic() + timeout
        while True:
            instances = lab_instances(aws, lab, ("pending", "running"))
            running = [i for i in instances if role_of(i) == "worker" and i["State"]["Name"] == "running"]
            if len(running) >= desired:
                return instances
            if time.monotonic() > deadline:
                raise InfraError(
                    f"only {len(running)} of {desired} workers of lab {lab} run after {timeout:.0f}s: check the group's activity history"
                )
            time.sleep(5)

    def _wait_gone(self, aws: AwsSession, lab: str, instance_id: str, timeout: float = WAIT_TIMEOUT_S) -> None:
        delay_s = 2
        waiter = aws.client("ec2").get_waiter("instance_terminated")
        try:
            waiter.wait(InstanceIds=[instance_id], WaiterConfig={"Delay": delay_s, "MaxAttempts": max(1, int(timeout // delay_s))})
        except botocore.exceptions.WaiterError:
            message = f"instance {instance_id} of lab {lab} is still not terminated after {timeout:.0f}s: run the command again"
            raise InfraError(message) from None

    def _session_of(self, ctx: ProviderContext) -> AwsSession:
        region = ctx.lab.read_state().get("aws_region") or ctx.config.aws.region
        if not region:
            raise UsageError(f"lab {ctx.lab.name} was never created on AWS: run `labctl up aws --lab {ctx.lab.name}`")
        return open_session(region)

    # --- the terraform engine ----------------------------------------------------------

    def _apply_terraform(self, ctx: ProviderContext, plan: Plan, public_key: str) -> Inventory:
        lab, os_name = ctx.lab.name, ctx.config.aws.os
        tfvars = {
            "lab_name": lab,
            "region": plan.aws.region,
            "availability_zone": plan.zone,
            "vpc_cidr": str(plan.network.vpc),
            "node_subnet_cidr": str(plan.network.node_subnet),
            "lb_subnet_cidr": str(plan.network.lb_subnet),
            "allow_from": plan.allow_from,
            "os": os_name,
            "architecture": plan.arch,
            "ami_id": plan.image.ami_id,
            "root_device_name": plan.image.root_device,
            "root_volume_gb": ROOT_VOLUME_GB,
            "controller_instance_type": plan.controller_type,
            "worker_instance_type": plan.worker_type,
            "worker_count": plan.workers,
            "ssh_public_key": public_key,
            "node_port": ctx.config.apps.guestbook.node_port,
            "operator_node_ports": [ctx.config.apps.nginx.node_port, ctx.config.apps.guestbook.node_port],
            "controller_user_data": user_data(os_name, lab, "controller", public_key, plan.arch, ctx.options.offline),
            "worker_user_data": user_data(os_name, lab, "worker", public_key, plan.arch, ctx.options.offline),
            "endpoint_url": endpoint_url(),
        }
        with ctx.ui.status("terraform apply (terraform/aws)"):
            output = tf.apply(TERRAFORM_SOURCE, ctx.lab.dir / "terraform", tfvars, ctx.lab.logs_dir / "terraform.log")
        inventory = tf.inventory_from_output(output, lab, ssh_key_path=ctx.lab.ssh_key_path)
        self._adopt_names(plan.aws, inventory)
        return inventory

    def _adopt_names(self, aws: AwsSession, inventory: Inventory) -> None:
        """Tag instances with Terraform's node names, so a later add_worker keeps them."""
        instances = {i["InstanceId"]: i for i in lab_instances(aws, inventory.lab, ("pending", "running"))}
        ec2 = aws.client("ec2")
        for node in inventory.nodes:
            instance_id = node.extra.get("instance_id")
            if instance_id in instances and tags_of(instances[instance_id]).get("labctl-node") != node.name:
                ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "labctl-node", "Value": node.name}])


PROVIDER = AwsProvider()
