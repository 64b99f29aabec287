"""What the fake cloud's services share: errors, requests, routes, the cloud's state."""

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """An error answer: status and the service's own error body."""

    def __init__(self, status: int, body: Json | str) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


class NotModelled(Exception):
    """The product asked for something the fake does not model: 501 and recorded."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    match: re.Match[str]

    def arg(self, name: str) -> str:
        return self.match.group(name)

    def filters(self, allowed: set[str]) -> dict[str, list[str]]:
        """Query filters, refusing any the fake does not implement (a silently ignored filter would lie)."""
        unknown = set(self.query) - allowed
        if unknown:
            raise NotModelled(f"unsupported query parameters {sorted(unknown)}")
        return self.query


Handler = Callable[[Request], tuple[int, Any]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class Injection:
    method: str
    pattern: re.Pattern[str]
    nth: int
    status: int
    body: Json
    seen: int = 0


@dataclass
class Cloud:
    """Everything the fake cloud holds; services read and change it under `lock`."""

    project_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    user_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    lock: threading.RLock = field(default_factory=threading.RLock)
    tokens: set[str] = field(default_factory=set)
    networks: dict[str, Json] = field(default_factory=dict)
    subnets: dict[str, Json] = field(default_factory=dict)
    routers: dict[str, Json] = field(default_factory=dict)
    ports: dict[str, Json] = field(default_factory=dict)
    security_groups: dict[str, Json] = field(default_factory=dict)
    floating_ips: dict[str, Json] = field(default_factory=dict)
    servers: dict[str, Json] = field(default_factory=dict)
    keypairs: dict[str, Json] = field(default_factory=dict)
    flavors: dict[str, Json] = field(default_factory=dict)
    images: dict[str, Json] = field(default_factory=dict)


def new_id() -> str:
    return str(uuid.uuid4())
