"""AWS credentials, region and API clients for one lab: resolved once, checked early, never logged.

Every client honours AWS_ENDPOINT_URL (and the per-service AWS_ENDPOINT_URL_EC2 …)
because botocore reads them itself when no endpoint is passed; the same value is
handed to the Ansible modules, so the whole provider can be pointed at an emulator.
"""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from labctl.errors import InfraError, UsageError
from labctl.providers.aws.errors import explain

# The profile name only exists inside the lab's own credentials file.
ANSIBLE_PROFILE = "labctl"

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=10, read_timeout=60)


def endpoint_url() -> str:
    """The emulator or private endpoint the user pointed AWS tools at ('' for the real AWS)."""
    return os.environ.get("AWS_ENDPOINT_URL", "")


@dataclass
class AwsSession:
    region: str
    session: boto3.Session

    def client(self, service: str) -> Any:
        # endpoint_url stays None so botocore applies AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> itself.
        return self.session.client(service, region_name=self.region, config=_BOTO_CONFIG)  # type: ignore[call-overload]

    def check_credentials(self) -> dict[str, str]:
        """Ask STS who we are: the cheapest call that proves the keys work; returns account and ARN."""
        if self.session.get_credentials() is None:
            raise UsageError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`"
            )
        try:
            identity = self.client("sts").get_caller_identity()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise InfraError(explain(error, f"checking the AWS credentials in {self.region}")) from None
        return {"account": str(identity.get("Account", "")), "arn": str(identity.get("Arn", ""))}

    @contextlib.contextmanager
    def ansible_env(self, lab_dir: Path) -> Iterator[dict[str, str]]:
        """Credentials for a playbook run, in files that exist only in this process's memory.

        ansible-runner writes the environment of a run into its artifacts, so keys must
        not travel as variables; and a file on disk would outlive a killed labctl. An
        anonymous memory file (memfd) held by this process is reachable by its children
        as /proc/<pid>/fd/<n> and vanishes with the process, however it ends. Nothing
        is written to LAB_DIR.
        """
        frozen = self._frozen_credentials()
        lines = [f"[{ANSIBLE_PROFILE}]", f"aws_access_key_id = {frozen.access_key}", f"aws_secret_access_key = {frozen.secret_key}"]
        if frozen.token:
            lines.append(f"aws_session_token = {frozen.token}")
        with contextlib.ExitStack() as files:
            credentials = files.enter_context(_memory_file("aws-credentials", "\n".join(lines) + "\n"))
            # A lab-owned config too, so a same-named profile in ~/.aws/config cannot interfere.
            config = files.enter_context(_memory_file("aws-config", f"[profile {ANSIBLE_PROFILE}]\nregion = {self.region}\n"))
            yield {
                "AWS_SHARED_CREDENTIALS_FILE": credentials,
                "AWS_CONFIG_FILE": config,
                "AWS_PROFILE": ANSIBLE_PROFILE,
                "AWS_REGION": self.region,
            }

    def _frozen_credentials(self) -> Any:
        found = self.session.get_credentials()
        if found is None:
            raise UsageError("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
        return found.get_frozen_credentials()


@contextlib.contextmanager
def _memory_file(name: str, text: str) -> Iterator[str]:
    """TEXT in a memfd only this process holds; yields the path other processes open it by."""
    fd = os.memfd_create(name)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        yield f"/proc/{os.getpid()}/fd/{fd}"
    finally:
        os.close(fd)


def known_regions(session: boto3.Session) -> set[str]:
    """Regions botocore knows for EC2 in every partition (offline: from its bundled endpoint data)."""
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return regions


def open_session(region: str) -> AwsSession:
    """A session for REGION ('' = from the environment or profile); fails with one line when there is none."""
    try:
        session = boto3.Session()
    except botocore.exceptions.ProfileNotFound as error:
        raise InfraError(f"AWS profile not found ({error}): fix AWS_PROFILE or run `aws configure --profile NAME`") from None
    chosen = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or session.region_name or ""
    if not chosen:
        raise UsageError("no AWS region given: pass --region REGION (e.g. --region eu-central-1), or set aws.region or AWS_REGION")
    regions = known_regions(session)
    if chosen not in regions:
        examples = ", ".join(r for r in ("us-east-1", "eu-central-1", "eu-west-1", "ap-southeast-2") if r in regions)
        raise UsageError(f"unknown AWS region '{chosen}': pass a valid --region such as {examples}")
    return AwsSession(region=chosen, session=session)
