"""Which OpenStack cloud, the OpenStack way: clouds.yaml and OS_CLOUD; a checked connection.

Credentials stay in clouds.yaml (and secure.yaml). labctl only passes the
*path* of those files on to Ansible (OS_CLIENT_CONFIG_FILE), never their
content, because ansible-runner writes a run's environment and variables to
disk.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from keystoneauth1 import exceptions as ksa_exceptions
from openstack import connection
from openstack import exceptions as sdk_exceptions
from openstack.config import loader

from labctl.errors import InfraError, UsageError

SEARCHED = "$OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml"


@dataclass(frozen=True)
class CloudChoice:
    name: str
    config_file: str
    secure_file: str | None

    def ansible_env(self) -> dict[str, str]:
        """What a playbook needs to find the same cloud: paths only, no secrets."""
        env = {"OS_CLIENT_CONFIG_FILE": self.config_file, "OS_CLOUD": self.name}
        if self.secure_file:
            env["OS_CLIENT_SECURE_FILE"] = self.secure_file
        return env


def _load(config_file: str | None) -> loader.OpenStackConfig:
    """clouds.yaml as openstacksdk finds it; a lab's remembered file first (`down` must reach the cloud `up` used)."""
    config_files = list(loader.CONFIG_FILES)
    secure_files = list(loader.SECURE_FILES)
    for wanted, files in ((os.environ.get("OS_CLIENT_CONFIG_FILE"), config_files), (os.environ.get("OS_CLIENT_SECURE_FILE"), secure_files)):
        if wanted:
            files.insert(0, wanted)
    if config_file:
        config_files.insert(0, config_file)
    try:
        # load_envvars=False: credentials come from clouds.yaml only, never from OS_* variables
        # (those would not reach the playbooks, which must see the same cloud).
        return loader.OpenStackConfig(load_envvars=False, config_files=config_files, secure_files=secure_files)
    except sdk_exceptions.ConfigException as error:
        raise UsageError(f"cannot read clouds.yaml: {error} (fix the file and run again)") from None


def choose_cloud(wanted: str, config_file: str | None = None) -> CloudChoice:
    """The cloud named by --cloud / openstack.cloud, else OS_CLOUD, else the only one in clouds.yaml."""
    config = _load(config_file)
    if not config.config_filename:
        raise UsageError(
            f"no clouds.yaml found (looked at {SEARCHED}): download it from your cloud's dashboard "
            "(API Access → Download OpenStack RC / clouds.yaml) and save it as ~/.config/openstack/clouds.yaml"
        )
    names = sorted(config.get_cloud_names())
    name = wanted or os.environ.get("OS_CLOUD", "")
    if not name:
        if len(names) != 1:
            raise UsageError(
                f"{config.config_filename} defines {len(names)} clouds ({', '.join(names) or 'none'}): "
                "pass --cloud NAME, set openstack.cloud in labctl.yaml or export OS_CLOUD"
            )
        name = names[0]
    if name not in names:
        raise UsageError(
            f"cloud '{name}' is not in {config.config_filename} (clouds there: {', '.join(names) or 'none'}): "
            "pass --cloud with one of those names"
        )
    return CloudChoice(name=name, config_file=config.config_filename, secure_file=config.secure_config_filename)


def _root_cause(error: BaseException) -> BaseException:
    """openstacksdk re-raises keystoneauth errors as SDKException; the original says what went wrong."""
    seen = error
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
        if isinstance(seen, ksa_exceptions.ClientException):
            return seen
    return error


@contextmanager
def api_errors(cloud: CloudChoice, doing: str) -> Iterator[None]:
    """Turn SDK and keystoneauth exceptions into one line that names the cloud and a fix."""
    try:
        yield
    except (ksa_exceptions.ClientException, sdk_exceptions.SDKException) as raised:
        error = _root_cause(raised)
        if isinstance(error, ksa_exceptions.Unauthorized):
            raise InfraError(
                f"cloud '{cloud.name}' rejected the credentials in {cloud.config_file} (HTTP 401) while {doing}: "
                "fix the auth section (or the application credential) and run again"
            ) from None
        if isinstance(error, ksa_exceptions.ConnectFailure | ksa_exceptions.ConnectTimeout | ksa_exceptions.DiscoveryFailure):
            raise InfraError(
                f"cannot reach cloud '{cloud.name}' while {doing}: {one_line_of(error)} "
                f"(check auth_url in {cloud.config_file} and your network)"
            ) from None
        if isinstance(error, sdk_exceptions.HttpException):
            raise InfraError(f"cloud '{cloud.name}' refused {doing}: {http_message(error)}") from None
        raise InfraError(f"cloud '{cloud.name}': {doing} failed: {one_line_of(error)}") from None


def one_line_of(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def http_message(error: sdk_exceptions.HttpException) -> str:
    """The service's own message and the status, without the URL clutter."""
    detail = error.details or error.message or str(error)
    return f"{' '.join(str(detail).split())[:300]} (HTTP {error.status_code})"


def connect(cloud: CloudChoice) -> connection.Connection:
    """A connection whose credentials have been checked (a token was issued)."""
    config = _load(cloud.config_file)
    with api_errors(cloud, "authenticating"):
        region = config.get_one(cloud=cloud.name)
        conn = connection.Connection(config=region)
        conn.authorize()
    return conn


def auth_host(conn: connection.Connection) -> tuple[str, int] | None:
    """Host and port of the identity endpoint: what this machine talks to the cloud through."""
    from urllib.parse import urlsplit

    auth: dict[str, Any] = conn.config.config.get("auth") or {}
    url = urlsplit(str(auth.get("auth_url") or ""))
    if not url.hostname:
        return None
    return url.hostname, url.port or (443 if url.scheme == "https" else 80)
