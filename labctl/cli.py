"""The labctl command line: parse, call the library, render. Nothing else lives here.

Exit codes: 0 success, 1 a drill's verdict is fail, 2 usage or input error,
3 infrastructure error.
"""

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Typer 0.29 (pinned in pyproject) carries its own Click; its usage error has no public name.
from typer._click.exceptions import UsageError as ClickUsageError

from labctl import __version__, completion
from labctl.cli_class import class_app
from labctl.cli_common import (
    EPILOG,
    PLAIN,
    LabOpt,
    OutputOpt,
    VerboseOpt,
    YesOpt,
    bare_help,
    emit,
    err_console,
    fail,
    make_ui,
    new_table,
    open_lab,
    output_asked,
    report_error,
)
from labctl.errors import EXIT_DRILL_FAILED, EXIT_INFRA, EXIT_USAGE, LabctlError, NotAvailableError, UsageError, one_line

# Imported by the commands that use them: `labctl --help` and completion load none of
# rich's tables, pydantic, yaml, ansible-runner or boto3.
if TYPE_CHECKING:
    from labctl.ui import Ui

app = typer.Typer(
    name="labctl",
    help="Stand up a real Kubernetes lab, break it on purpose, watch it heal.\n\n" + EPILOG,
    epilog=EPILOG,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    **PLAIN,
)
bundle_app = typer.Typer(
    help="The offline bundle: every binary, image and node filesystem a local cluster needs.",
    epilog=EPILOG,
    invoke_without_command=True,
    callback=bare_help,
    **PLAIN,
)
inventory_app = typer.Typer(help="Inventories from other tools.", epilog=EPILOG, invoke_without_command=True, callback=bare_help, **PLAIN)
app.add_typer(bundle_app, name="bundle")
app.add_typer(inventory_app, name="inventory")

# --- lifecycle ------------------------------------------------------------


@app.command()
def up(
    provider: Annotated[str | None, typer.Argument(help="local (default), aws or openstack.", show_default=False)] = None,
    lab: LabOpt = "default",
    config_file: Annotated[Path | None, typer.Option("--config", "-c", help="A labctl.yaml to use.")] = None,
    controllers: Annotated[int | None, typer.Option(help="Controllers (1, or 3 for the HA topology).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker nodes.")] = None,
    kubernetes_version: Annotated[str | None, typer.Option("--kubernetes-version", help="e.g. v1.36.3.")] = None,
    fast_failover: Annotated[
        bool, typer.Option("--fast-failover", help="Classroom pace: node failures detected in 20 s, pods evicted after 30 s.")
    ] = False,
    provision_only: Annotated[
        bool, typer.Option("--provision-only", help="Stop once the machines exist and the inventory is written.")
    ] = False,
    region: Annotated[str | None, typer.Option(help="AWS region.")] = None,
    os_name: Annotated[str | None, typer.Option("--os", help="AWS: debian or flatcar.")] = None,
    allow_from: Annotated[
        str | None, typer.Option("--allow-from", help="Cloud: CIDR admitted to SSH and the API (default: your address).")
    ] = None,
    engine: Annotated[str | None, typer.Option(help="AWS: ansible (default) or terraform.")] = None,
    cloud: Annotated[str | None, typer.Option(help="OpenStack: cloud name from clouds.yaml.")] = None,
    image: Annotated[str | None, typer.Option(help="OpenStack: image name.")] = None,
    flavor: Annotated[str | None, typer.Option(help="OpenStack: flavor name.")] = None,
    external_network: Annotated[str | None, typer.Option("--external-network", help="OpenStack: external network.")] = None,
    offline: Annotated[bool, typer.Option(help="Cloud: push the offline bundle instead of downloading releases.")] = False,
    reconcile: Annotated[bool, typer.Option(help="Run the whole install even when nothing changed since the last up.")] = False,
    timings: Annotated[
        bool,
        typer.Option(help="Show where the time went: each phase, split into waiting on Kubernetes, Ansible and labctl."),
    ] = False,
    yes: YesOpt = False,
    output: OutputOpt = "text",
    verbose: VerboseOpt = False,
) -> None:
    """Provision a lab, install Kubernetes, deploy nginx and the guestbook, check them."""
    from labctl import lifecycle
    from labctl.providers import ProviderOptions

    try:
        ui = make_ui(output, verbose, yes)
        the_lab = open_lab(lab)
        overrides: dict[str, Any] = {
            "topology.controllers": controllers,
            "topology.workers": workers,
            "kubernetes_version": kubernetes_version,
            "aws.region": region,
            "aws.os": os_name,
            "aws.allow_from": allow_from,
            "aws.engine": engine,
            "openstack.cloud": cloud,
            "openstack.image": image,
            "openstack.flavor": flavor,
            "openstack.external_network": external_network,
        }
        # One flag for both clouds: the lab's provider decides which section is read.
        overrides["openstack.allow_from"] = allow_from
        if fast_failover:
            overrides.update(
                {
                    "node_failure.node_monitor_grace_period_s": 20,
                    "node_failure.not_ready_toleration_s": 30,
                    "node_failure.unreachable_toleration_s": 30,
                }
            )
        config = lifecycle.resolve_config(the_lab, provider, config_file, overrides)
        options = ProviderOptions(yes=yes, provision_only=provision_only, offline=offline, reconcile=reconcile)
        summary = lifecycle.up(the_lab, config, ui, options)
    except LabctlError as error:
        fail(error, output)
        return
    profile = summary.pop("profile")
    if ui.json:
        ui.emit_json({**summary, "profile": profile} if timings else summary)
        return
    changed = sum(summary.get("changed", {}).values())
    ui.out.print(f"lab [bold]{lab}[/] is {summary['phase']} on {summary['provider']} in {summary['seconds']:.0f}s ({changed} changed)")
    for name, check in (summary.get("checks") or {}).items():
        ui.out.print(f"  [green]✓[/] {name}: {check}")
    if timings:
        from labctl.profile import render

        for table in render(profile):
            ui.out.print(table)


@app.command()
def down(
    provider: Annotated[
        str | None, typer.Argument(help="With no local state left: aws or openstack, to find the lab by its tags.", show_default=False)
    ] = None,
    lab: LabOpt = "default",
    region: Annotated[str | None, typer.Option(help="AWS region to search (with PROVIDER aws).")] = None,
    cloud: Annotated[str | None, typer.Option(help="OpenStack cloud to search (with PROVIDER openstack).")] = None,
    yes: YesOpt = False,
    output: OutputOpt = "text",
    verbose: VerboseOpt = False,
) -> None:
    """Remove the lab: machines, networks, processes, state (results are kept)."""
    from labctl import lifecycle
    from labctl.providers import ProviderOptions

    try:
        ui = make_ui(output, verbose, yes)
        the_lab = open_lab(lab)
        if provider and not the_lab.exists():
            summary = lifecycle.sweep(the_lab, provider, ui, {"aws.region": region, "openstack.cloud": cloud})
            emit(ui, summary, f"lab [bold]{lab}[/]: {summary['found'] or 'nothing'} found on {provider}, removed")
            return
        summary = lifecycle.down(the_lab, ui, ProviderOptions(yes=yes))
    except LabctlError as error:
        fail(error, output)
        return
    removed = f"lab [bold]{lab}[/] removed in {summary['seconds']:.0f}s"
    hint = " (a cloud lab whose local state is gone: `labctl down aws|openstack --lab NAME` finds it by its tags)"
    emit(ui, summary, removed if summary["removed"] else f"no lab named {lab}: nothing to remove{hint}")


@app.command()
def deploy(lab: LabOpt = "default", output: OutputOpt = "text", verbose: VerboseOpt = False) -> None:
    """(Re)deploy the apps (nginx, guestbook) and check them."""
    from labctl import lifecycle

    try:
        ui = make_ui(output, verbose)
        summary = lifecycle.deploy(open_lab(lab), ui)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"apps deployed on lab [bold]{lab}[/] ({summary['changed']} changed)")


@app.command()
def status(lab: LabOpt = "default", output: OutputOpt = "text") -> None:
    """Nodes and apps of a lab (works from the lab's state when the cluster is down)."""
    from labctl import status as status_mod

    try:
        ui = make_ui(output)
        data = status_mod.collect(open_lab(lab))
    except LabctlError as error:
        fail(error, output)
        return
    if ui.json:
        ui.emit_json(data)
        return
    api = "[green]reachable[/]" if data["api_reachable"] else "[red]unreachable[/]"
    phase = f"[red]nodes not running ({data['nodes_running']} of {data['nodes_total']})[/]" if "hint" in data else data["phase"]
    ui.out.print(f"lab [bold]{data['lab']}[/] · {data['provider']} · {phase} · Kubernetes {data['kubernetes_version']} · API {api}")
    if "hint" in data:
        ui.out.print(f"[yellow]{data['hint']}[/]")
    nodes = new_table("node", "role", "ip", "ready", "kubelet")
    for node in data["nodes"]:
        nodes.add_row(node["name"], node["role"], node["ip"], "[green]yes[/]" if node["ready"] else "[red]no[/]", node["kubelet_version"])
    ui.out.print(nodes)
    apps = new_table("app", "desired", "available")
    for item in data["apps"]:
        ok = item["available"] >= item["desired"] > 0
        apps.add_row(item["name"], str(item["desired"]), f"[{'green' if ok else 'red'}]{item['available']}[/]")
    ui.out.print(apps)
    if "api_lb" in data:
        _print_api_lb(ui, data["api_lb"])
    machines = [m for m in data.get("machines", []) if "state" in m]
    if machines and data["provider"] != "local":
        table = new_table("machine", "role", "ip", "state")
        for m in machines:
            table.add_row(m["name"], m.get("role", ""), m.get("ip", ""), m["state"])
        ui.out.print(table)


def _print_api_lb(ui: "Ui", api_lb: dict[str, Any]) -> None:
    if "error" in api_lb:
        ui.out.print(f"API load balancer: [red]{api_lb['error']}[/] ({api_lb['stats']})")
        return
    table = new_table("API backend", "address", "state", "last check")
    for backend in api_lb["backends"]:
        colour = "green" if backend["state"] == "UP" else "red" if backend["state"].startswith("DOWN") else "yellow"
        table.add_row(backend["name"], backend.get("address", ""), f"[{colour}]{backend['state']}[/]", backend["check"])
    ui.out.print(table)
    ui.out.print(f"load balancer stats: {api_lb['stats']}")


# --- drills -----------------------------------------------------------------


@app.command()
def drill(
    names: Annotated[
        list[str] | None, typer.Argument(help="Drill ids, or 'all'.", show_default=False, autocompletion=completion.drill_ids)
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the drills.")] = False,
    lab: LabOpt = "default",
    no_inject: Annotated[
        bool, typer.Option("--no-inject", hidden=True, help="Run every phase but the fault (proves checks can fail).")
    ] = False,
    probe_interval: Annotated[
        str | None,
        typer.Option(
            "--probe-interval",
            metavar="SECONDS",
            help="Seconds between availability samples, 0.2 to 10 (default: the lab's drills.probe_interval_s, 1).",
            show_default=False,
        ),
    ] = None,
    watch_: Annotated[
        bool, typer.Option("--watch", "-w", help="A live view of nodes, pods, the probe and the drill (plain lines without a terminal).")
    ] = False,
    output: OutputOpt = "text",
    verbose: VerboseOpt = False,
) -> None:
    """Run failure drills: inject, observe, restore, verify, with an availability probe."""
    from labctl import drills

    try:
        ui = make_ui(output, verbose)
        # Parsed here, not by Click: a bad value is one line naming the range, like every other bad input.
        interval_s = None
        if probe_interval is not None:
            from labctl.probe import parse_interval

            interval_s = parse_interval(probe_interval)
        if list_:
            # The whole spec in JSON (roles/drill_<id>/meta/drill.yml), what a reader needs in the table.
            if ui.json:
                ui.emit_json([d.to_json() for d in drills.CATALOG])
            else:
                table = new_table("id", "seeds", "target", "description")
                for d in drills.CATALOG:
                    table.add_row(d.id, ",".join(d.seeds), d.target + (" (HA)" if d.needs_ha else ""), d.description)
                ui.out.print(table)
            return
        selected = drills.resolve(names or [])
        the_lab = open_lab(lab).require()
        try:
            from labctl import drill_runner
        except ModuleNotFoundError:
            raise NotAvailableError("running drills") from None
        ids = [d.id for d in selected]
        if watch_:
            from labctl.cluster_watch import ClusterWatch
            from labctl.watch import LiveWatch

            ui.live_progress = False
            with LiveWatch(ui.err, f"lab {lab}", ClusterWatch(the_lab.kubeconfig_path)) as live:
                outcomes = drill_runner.run_drills(the_lab, ids, ui, skip_inject=no_inject, probe_interval_s=interval_s, watch=live)
        else:
            outcomes = drill_runner.run_drills(the_lab, ids, ui, skip_inject=no_inject, probe_interval_s=interval_s)
    except LabctlError as error:
        fail(error, output)
        return
    if ui.json:
        ui.emit_json(outcomes[0] if len(outcomes) == 1 else outcomes)
    else:
        from labctl.report.text import render_results

        render_results(ui.out, outcomes)
    if any(o["verdict"] != "pass" for o in outcomes):
        raise typer.Exit(EXIT_DRILL_FAILED if all(o["verdict"] in ("pass", "fail") for o in outcomes) else EXIT_INFRA)


@app.command()
def watch(
    lab: LabOpt = "default",
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).", min=0)] = None,
) -> None:
    """A live view of a lab: nodes, app pods per node, the apps' availability over the last minute."""
    try:
        the_lab = open_lab(lab).require()
        from rich.console import Console

        from labctl.watch import watch_lab

        # The view is this command's output: on stdout, so `labctl watch > file` keeps the plain lines.
        watch_lab(the_lab, Console(highlight=False), seconds)
    except LabctlError as error:
        fail(error)
    except KeyboardInterrupt:
        return


@app.command()
def recover(lab: LabOpt = "default", output: OutputOpt = "text", verbose: VerboseOpt = False) -> None:
    """Undo any fault a crashed or killed drill left in place (from the undo journal)."""
    try:
        ui = make_ui(output, verbose)
        the_lab = open_lab(lab).require()
        try:
            from labctl import recovery
        except ModuleNotFoundError:
            raise NotAvailableError("recover") from None
        summary = recovery.recover(the_lab, ui)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"recovered {len(summary['undone'])} fault(s); cluster healthy: {summary['healthy']}")


@app.command()
def results(
    result_id: Annotated[str | None, typer.Argument(help="Show one result by id.", show_default=False)] = None,
    lab: LabOpt = "default",
    output: OutputOpt = "text",
) -> None:
    """List stored drill results, or show one."""
    from labctl import results as results_mod

    try:
        ui = make_ui(output)
        the_lab = open_lab(lab)
        if result_id:
            one = results_mod.load_one(the_lab.results_dir, result_id)
            if ui.json:
                ui.emit_json(one)
            else:
                from labctl.report.text import render_results

                render_results(ui.out, [one])
            return
        found = results_mod.load_all(the_lab.results_dir)
    except LabctlError as error:
        fail(error, output)
        return
    from labctl import score

    if ui.json:
        ui.emit_json(
            [{**{k: r.get(k) for k in ("id", "drill", "verdict", "started", "duration_s")}, "score": score.of(r)["value"]} for r in found]
        )
        return
    table = new_table("id", "drill", "verdict", "started", "seconds", "score")
    for r in found:
        colour = {"pass": "green", "fail": "red"}.get(r.get("verdict", ""), "yellow")
        seconds, value = f"{r.get('duration_s', 0):.0f}", f"{score.of(r)['value']:.1f}"
        table.add_row(r["id"], r["drill"], f"[{colour}]{r['verdict']}[/]", r["started"], seconds, value)
    ui.out.print(table if found else f"no results for lab {lab} yet: run `labctl drill NAME`")


@app.command()
def report(
    lab: LabOpt = "default",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory for report.html and junit.xml (default: the lab's results).")
    ] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="Only these result ids (repeatable).")] = None,
    output: OutputOpt = "text",
) -> None:
    """Write JUnit XML and a self-contained HTML report of the lab's drill results."""
    from labctl import results as results_mod

    try:
        ui = make_ui(output)
        the_lab = open_lab(lab)
        found = results_mod.load_all(the_lab.results_dir)
        if ids:
            found = [r for r in found if any(r["id"].startswith(i) for i in ids)]
        if not found:
            raise UsageError(f"no drill results for lab {lab}: run `labctl drill NAME` first")
        try:
            from labctl.report import write_reports
        except ImportError:
            raise NotAvailableError("reports") from None
        target = out_dir or the_lab.results_dir
        paths = write_reports(found, target)
    except LabctlError as error:
        fail(error, output)
        return
    from labctl import score

    suite = score.suite(found)
    drills_n = f"{suite['drills']} drill{'s' if suite['drills'] != 1 else ''}"
    shown = f"suite score: {suite['value']:.1f}/100 over {drills_n} ({suite['results']} results, {suite['formula']})"
    emit(ui, {**{k: str(v) for k, v in paths.items()}, "score": suite}, "\n".join([*(f"{k}: {v}" for k, v in paths.items()), shown]))


node_app = typer.Typer(help="Grow or shrink a running lab.", epilog=EPILOG, invoke_without_command=True, callback=bare_help, **PLAIN)
app.add_typer(node_app, name="node")


@node_app.command("add")
def node_add(lab: LabOpt = "default", output: OutputOpt = "text", verbose: VerboseOpt = False) -> None:
    """Add one worker: the provider makes the machine, the install roles join it."""
    try:
        ui = make_ui(output, verbose)
        try:
            from labctl import nodes
        except ModuleNotFoundError:
            raise NotAvailableError("adding nodes") from None
        summary = nodes.add_worker(open_lab(lab).require(), ui)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"node {summary['node']} joined lab {lab}")


@node_app.command("remove")
def node_remove(
    name: Annotated[
        str,
        typer.Argument(help="Worker to remove (drained, deleted from the cluster, machine removed).", autocompletion=completion.node_names),
    ],
    lab: LabOpt = "default",
    output: OutputOpt = "text",
    verbose: VerboseOpt = False,
) -> None:
    """Remove one worker added with `labctl node add`."""
    try:
        ui = make_ui(output, verbose)
        try:
            from labctl import nodes
        except ModuleNotFoundError:
            raise NotAvailableError("removing nodes") from None
        summary = nodes.remove_worker(open_lab(lab).require(), name, ui)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"node {name} removed from lab {lab}")


user_app = typer.Typer(help="Users of a lab besides its admin.", epilog=EPILOG, invoke_without_command=True, callback=bare_help, **PLAIN)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (the certificate's CN, as RBAC sees it).")],
    role: Annotated[str, typer.Option(help="ClusterRole bound to the user: view, edit, admin or cluster-admin.")] = "cluster-admin",
    lab: LabOpt = "default",
    output: OutputOpt = "text",
    verbose: VerboseOpt = False,
) -> None:
    """Give a user their own client certificate (RBAC-bound), kubeconfig and SSH key for this lab."""
    from labctl import users

    try:
        ui = make_ui(output, verbose)
        summary = users.add(open_lab(lab), name, role, ui)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"user [bold]{name}[/] ({role}) on lab {lab}: KUBECONFIG={summary['kubeconfig']}\n"
                      f"  ssh: {summary['nodes'][0]['ssh'] if summary['nodes'] else ''}")


# --- access -------------------------------------------------------------------


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def kubectl(ctx: typer.Context, lab: LabOpt = "default") -> None:
    """Run kubectl against the lab (all further arguments go to kubectl)."""
    from labctl import access

    try:
        code = access.kubectl(open_lab(lab).require(), list(ctx.args))
    except LabctlError as error:
        fail(error)
        return
    raise typer.Exit(code)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ssh(
    ctx: typer.Context,
    node: Annotated[str, typer.Argument(help="Node name, e.g. worker-1.", autocompletion=completion.node_names)],
    lab: LabOpt = "default",
) -> None:
    """Open a shell on a node (or run the further arguments there)."""
    from labctl import access

    try:
        code = access.ssh(open_lab(lab).require(), node, list(ctx.args))
    except LabctlError as error:
        fail(error)
        return
    raise typer.Exit(code)


@app.command()
def env(lab: LabOpt = "default") -> None:
    """Print `export KUBECONFIG=…` (and PATH to the lab's kubectl): eval "$(labctl env)"."""
    from labctl import access

    try:
        lines = access.env_lines(open_lab(lab).require())
    except LabctlError as error:
        fail(error)
        return
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def doctor(output: OutputOpt = "text", provider: Annotated[str, typer.Option(help="Check for this provider.")] = "local") -> None:
    """Check this host can run a lab: root, systemd-nspawn, kernel features, disk, memory, tools."""
    from labctl import doctor as doctor_mod

    try:
        ui = make_ui(output)
        checks = doctor_mod.run_checks(provider)
    except LabctlError as error:
        fail(error, output)
        return
    if ui.json:
        ui.emit_json(checks)
    else:
        table = new_table("check", "ok", "detail / fix")
        for c in checks:
            table.add_row(
                c["name"], "[green]yes[/]" if c["ok"] else "[red]no[/]", c["detail"] if c["ok"] else f"{c['detail']} — fix: {c['fix']}"
            )
        ui.out.print(table)
    if not all(c["ok"] for c in checks):
        raise typer.Exit(EXIT_INFRA)


# --- bundle ---------------------------------------------------------------------

VersionOpt = Annotated[
    str | None, typer.Option("--kubernetes-version", help="Bundle for this Kubernetes version (default: the default version).")
]


def _bundle_version(version: str | None) -> str:
    from labctl.config import DEFAULT_KUBERNETES_VERSION, parse_config

    return parse_config({"kubernetes_version": version or DEFAULT_KUBERNETES_VERSION}, "flags").kubernetes_version


def _bundle_module() -> Any:
    try:
        import labctl.bundle as bundle
    except ModuleNotFoundError:
        raise NotAvailableError("the offline bundle") from None
    return bundle


def _step_printer(ui: "Ui") -> Any:
    def on_step(name: str, state: str, detail: str) -> None:
        mark = {"done": "[green]✓[/]", "skip": "[dim]=[/]", "fail": "[red]✗[/]", "start": "[cyan]…[/]"}.get(state, state)
        ui.info(f"{mark} {name} {detail}".rstrip())

    return on_step


@bundle_app.command("build")
def bundle_build(
    kubernetes_version: VersionOpt = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Build only these artifacts.")] = None,
    needed_by: Annotated[str | None, typer.Option(
        "--for", help="Only what `up` needs (up), Flatcar --offline labs (flatcar), or one drill (its id).", show_default=False)] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even what is up to date.")] = False,
    output: OutputOpt = "text",
) -> None:
    """Build the bundle from the registries (incremental: nothing changed, nothing rebuilt)."""
    try:
        ui = make_ui(output)
        summary = _bundle_module().build(_bundle_version(kubernetes_version), only=only, needed_by=needed_by,
                                         on_step=_step_printer(ui), force=force)
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"bundle built: {len(summary['built'])} built, {len(summary['skipped'])} up to date, {summary['seconds']:.0f}s")


@bundle_app.command("fetch")
def bundle_fetch(
    kubernetes_version: VersionOpt = None,
    sources: Annotated[Path | None, typer.Option(help="YAML of per-artifact download URLs (kubespray-style offline variables).")] = None,
    output: OutputOpt = "text",
) -> None:
    """Fill the bundle from official release downloads (machines with internet)."""
    try:
        ui = make_ui(output)
        summary = _bundle_module().fetch(_bundle_version(kubernetes_version), sources=sources, on_step=_step_printer(ui))
    except LabctlError as error:
        fail(error, output)
        return
    emit(ui, summary, f"bundle fetched: {json.dumps(summary)}")


@bundle_app.command("status")
def bundle_status(kubernetes_version: VersionOpt = None, output: OutputOpt = "text") -> None:
    """Where the bundle is and which artifacts are present."""
    try:
        ui = make_ui(output)
        data = _bundle_module().status(_bundle_version(kubernetes_version))
    except LabctlError as error:
        fail(error, output)
        return
    if ui.json:
        ui.emit_json(data)
        return
    ui.out.print(f"bundle {data['path']} (Kubernetes {data['kubernetes_version']})")
    table = new_table("artifact", "version", "present", "needed by", "sha256")
    for c in data["components"]:
        needed_by = "up" if c["needed_by"] == "up" else _bundle_module().purpose(c["needed_by"])
        table.add_row(c["name"], c.get("version", ""), "[green]yes[/]" if c["present"] else "[red]no[/]", needed_by,
                      (c.get("sha256") or "")[:16])
    ui.out.print(table)
    for purpose in dict.fromkeys(c["needed_by"] for c in data["components"] if not c["present"]):
        ui.out.print(f"missing for {_bundle_module().purpose(purpose)}: {', '.join(_bundle_module().missing_for(data, purpose))} — "
                     f"`labctl bundle build --for {purpose}`")


@bundle_app.command("verify")
def bundle_verify(kubernetes_version: VersionOpt = None, output: OutputOpt = "text") -> None:
    """Re-hash every artifact; name any that differs from the manifest."""
    try:
        ui = make_ui(output)
        bad = _bundle_module().verify(_bundle_version(kubernetes_version))
    except LabctlError as error:
        fail(error, output)
        return
    emit(
        ui, {"ok": not bad, "mismatched": bad}, "bundle verified: all artifacts match" if not bad else f"[red]mismatch:[/] {', '.join(bad)}"
    )
    if bad:
        raise typer.Exit(EXIT_INFRA)


@inventory_app.command("from-terraform")
def inventory_from_terraform(
    output_file: Annotated[Path, typer.Argument(help="Saved `terraform output -json`.")],
    lab: LabOpt = "default",
    write: Annotated[bool, typer.Option(help="Write it as the lab's inventory.")] = False,
) -> None:
    """Turn `terraform output -json` (terraform/aws or terraform/openstack) into labctl's inventory."""
    try:
        try:
            from labctl.providers import terraform
        except ModuleNotFoundError:
            raise NotAvailableError("terraform inventories") from None
        inventory = terraform.inventory_from_output_file(output_file, lab)
        if write:
            the_lab = open_lab(lab)
            the_lab.create()
            inventory.write(the_lab.inventory_path)
    except LabctlError as error:
        fail(error)
        return
    import yaml

    sys.stdout.write(yaml.safe_dump(inventory.to_ansible(), sort_keys=False))


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"labctl {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version.")] = False,
) -> None:
    """labctl"""
    bare_help(ctx)


def main() -> None:
    # Click reports usage errors with exit 2 already; anything uncaught is an infrastructure error.
    try:
        # Named, not sys.argv[0]: `python -m labctl` must complete and print usage as `labctl`.
        # Not standalone: Click's own usage report is three lines; labctl's errors are one.
        code = app(prog_name="labctl", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except ClickUsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "labctl"
        report_error(f"{one_line(error.format_message())} — see `{where} -h`", EXIT_USAGE, output_asked(sys.argv[1:]))
        sys.exit(EXIT_USAGE)
    except typer.Abort:
        err_console().print("aborted")
        sys.exit(1)
    except LabctlError as error:  # pragma: no cover - commands catch their own
        err_console().print(f"error: {one_line(str(error))}")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err_console().print("interrupted: if a drill was running, run `labctl recover` to undo its fault")
        sys.exit(130)
    except Exception as error:
        if os.environ.get("LABCTL_DEBUG"):
            raise
        err_console().print(f"error: internal error: {error.__class__.__name__}: {error} (LABCTL_DEBUG=1 shows the traceback)")
        sys.exit(EXIT_INFRA)


_ = EXIT_USAGE


app.add_typer(class_app, name="class")
