"""Run a playbook with ansible-runner and hand back what it did.

Events stream into a live progress view; `set_stats` data (aggregated under
`_run`) comes back as a dict; the failing host/task/message is extracted so
the user sees one clear line instead of a wall of JSON. Full artifacts stay in
the lab's logs/ directory.
"""

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_runner.interface import init_runner

from labctl.paths import PLAYBOOKS_DIR, PROJECT_ROOT, ROLES_DIR

GUARD = Path(__file__).resolve().parent / "playbook_guard.py"

# What a playbook sees of labctl's environment. ansible-runner records a run's whole
# environment in artifacts/<id>/command, so an allowlist of settings and non-secret
# pointers (a credentials *file*, a cloud *name*) rather than a list of known secrets:
# whatever else a user exported (GITHUB_TOKEN, VAULT_TOKEN…) never reaches the disk.
ALLOWED_ENV = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR", "SSH_AUTH_SOCK", "PYTHONPATH",
        # The collection's plugins import labctl, which must find the same labs and bundle.
        "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
        "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_CA_BUNDLE",
        "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD",
    }
)
ALLOWED_ENV_PREFIXES = ("LC_", "LABCTL_", "AWS_ENDPOINT_URL_")

# What ansible-runner itself sets for its event callback (kept in the run's environment).
RUNNER_ENV = (
    "ANSIBLE_STDOUT_CALLBACK",
    "ORIGINAL_STDOUT_CALLBACK",
    "ANSIBLE_CALLBACK_PLUGINS",
    "ANSIBLE_CACHE_PLUGIN",
    "ANSIBLE_CACHE_PLUGIN_CONNECTION",
    "ANSIBLE_LOAD_CALLBACK_PLUGINS",
    "ANSIBLE_RETRY_FILES_ENABLED",
    "ANSIBLE_HOST_KEY_CHECKING",
    "AD_HOC_COMMAND_ID",
    "AWX_ISOLATED_DATA_DIR",
)


@dataclass
class TaskFailure:
    host: str
    task: str
    message: str

    def line(self) -> str:
        return f"{self.host}: task '{self.task}' failed: {self.message}"


@dataclass
class RunResult:
    playbook: str
    status: str
    rc: int
    stats: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    ok: dict[str, int] = field(default_factory=dict)
    failures: list[TaskFailure] = field(default_factory=list)
    artifacts_dir: Path | None = None
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status == "successful" and self.rc == 0

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


EventSink = Callable[[dict[str, Any]], None]


def _message_of(result: dict[str, Any]) -> str:
    # A failed loop says only "One or more items failed": report the first failed item instead.
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            label = item.get("item")
            inner = _message_of(item)
            return f"item {label}: {inner}" if label is not None and not isinstance(label, dict) else inner
    for key in ("msg", "stderr", "reason", "exception"):
        value = result.get(key)
        if value:
            text = value if isinstance(value, str) else str(value)
            lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
            if lines:
                return lines[-1] if key == "exception" else " ".join(lines)[:400]
    if result.get("unreachable"):
        return "host unreachable"
    return "failed (see logs)"


class EventCollector:
    """Reduces runner events to what labctl needs; forwards each to a progress sink."""

    def __init__(self, sink: EventSink | None = None) -> None:
        self.sink = sink
        self.failures: list[TaskFailure] = []
        self.stats: dict[str, Any] = {}
        self.changed: dict[str, int] = {}
        self.ok: dict[str, int] = {}

    def __call__(self, event: dict[str, Any]) -> bool:
        name = event.get("event", "")
        data = event.get("event_data") or {}
        if name in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            result = data.get("res") or {}
            self.failures.append(TaskFailure(data.get("host", "?"), data.get("task", "?"), _message_of(result)))
        elif name == "playbook_on_stats":
            self.stats = dict(data.get("artifact_data") or {})
            self.changed = dict(data.get("changed") or {})
            self.ok = dict(data.get("ok") or {})
        if self.sink is not None:
            self.sink(event)
        # True keeps the event in the artifacts on disk (the full log).
        return True


def allowed_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k in ALLOWED_ENV or k.startswith(ALLOWED_ENV_PREFIXES)}


def ansible_bin_dir() -> Path:
    """The ansible-playbook installed beside this Python (the venv), whatever PATH says."""
    return Path(sys.executable).parent


def ansible_env() -> dict[str, str]:
    path = os.environ.get("PATH", "")
    return {
        "PATH": f"{ansible_bin_dir()}:{path}" if str(ansible_bin_dir()) not in path.split(":") else path,
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROLES_DIR),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # ansible-runner turns host key checking off unless told otherwise.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        **mitogen_env(),
    }


def mitogen_env() -> dict[str, str]:
    """Mitogen's strategy: one persistent Python per host runs every task, instead of a fresh one per task
    (the collection's labctl.lab.mitogen_unpinned: mitogen's linear strategy without its CPU pinning)."""
    return {"ANSIBLE_STRATEGY": "labctl.lab.mitogen_unpinned"}


def run_playbook(
    playbook: str,
    *,
    logs_dir: Path,
    inventory: Path | str | None = None,
    extravars: dict[str, Any] | None = None,
    sink: EventSink | None = None,
    verbose: bool = False,
    limit: str | None = None,
    env: dict[str, str] | None = None,
) -> RunResult:
    """Run PLAYBOOK (a name under playbooks/ or a path); never raises on task failure."""
    path = Path(playbook)
    if not path.is_absolute():
        path = PLAYBOOKS_DIR / playbook
    private = logs_dir / "runner"
    private.mkdir(parents=True, exist_ok=True)
    ident = time.strftime("%Y%m%dT%H%M%S") + f"-{path.stem}-{os.getpid()}"
    collector = EventCollector(sink)
    started = time.monotonic()
    wanted = {**allowed_environment(os.environ), **ansible_env(), **(env or {})}
    runner = init_runner(
        private_data_dir=str(private),
        playbook=str(path),
        inventory=str(inventory) if inventory is not None else None,
        extravars=extravars or {},
        envvars=wanted,
        ident=ident,
        limit=limit,
        event_handler=collector,
        # No cancel handler: ansible-runner's would take over SIGINT and SIGTERM for good and,
        # on one, kill only the playbook's process group (Ansible's workers have sessions of
        # their own). Left alone, the signal ends labctl and the guard kills every process below.
        cancel_callback=lambda: False,
        quiet=not verbose,
        suppress_env_files=True,
        rotate_artifacts=50,
        json_mode=False,
    )
    # The runner starts from the whole of os.environ: keep only what we chose and its own callback settings.
    runner.config.env = {k: v for k, v in runner.config.env.items() if k in wanted or k in RUNNER_ENV}
    # The playbook dies with this process (the guard's parent), however it ends.
    runner.config.command = [sys.executable, str(GUARD), str(os.getpid()), "--", *runner.config.command]
    runner.run()
    return RunResult(
        playbook=path.name,
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 1),
        stats=collector.stats,
        changed=collector.changed,
        ok=collector.ok,
        failures=collector.failures,
        artifacts_dir=private / "artifacts" / ident,
        seconds=time.monotonic() - started,
    )
