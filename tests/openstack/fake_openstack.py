"""A small fake OpenStack cloud over real HTTP, for labctl's OpenStack provider tests.

It speaks just enough of Keystone v3, Nova v2.1, Neutron v2.0 and Glance v2
for openstacksdk and the openstack.cloud modules to do what labctl asks of
them. It is deliberately strict: a method/path it does not know, or a list
filter it does not implement, answers 501 and is recorded in `unexpected`, so
a test fails when the product starts making calls the fake does not model
(rather than the fake silently answering something wrong).

What it models: tokens and the service catalog, flavors, images, keypairs,
limits, servers (ACTIVE at once, addresses from their ports and floating IPs),
networks, subnets with address allocation, routers with gateways and
interfaces, security groups and rules, ports, floating IPs, and Neutron's
"in use" refusals (409) so that teardown order matters. What it does not:
scheduling, boot, real quotas (errors are injected with `inject`), DHCP ports,
policy, microversion differences.
"""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_openstack_api import ApiError, Cloud, Handler, Injection, Json, NotModelled, Request, Route, new_id
from fake_openstack_compute import ComputeApi
from fake_openstack_network import NetworkApi


class FakeOpenStack:
    """The fake cloud: `start()` serves it on 127.0.0.1:<random port>, `stop()` shuts it down."""

    def __init__(self, username: str, password: str, project_name: str = "lab") -> None:
        self.username = username
        self.password = password
        self.project_name = project_name
        self.cloud = Cloud()
        self.unexpected: list[str] = []
        self.calls: list[str] = []
        self.injections: list[Injection] = []
        self.routes: list[Route] = []
        self.base_url = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.compute = ComputeApi(self)
        self.network = NetworkApi(self)
        self._add_identity_routes()
        self._add_image_routes()
        self.compute.add_routes()
        self.network.add_routes()

    # --- serving ----------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, headers = fake.dispatch(self.command, self.path, dict(self.headers), raw)
                payload = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openstack", daemon=True)
        self._thread.start()
        self.compute.seed()
        self.network.seed()
        self._seed_images()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/identity/v3"

    # --- routing ----------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}/?$"), handler))

    def inject(self, method: str, pattern: str, *, nth: int, status: int, body: Json) -> None:
        """Answer the nth matching call with an error instead (a quota error, say)."""
        self.injections.append(Injection(method, re.compile(f"^{pattern}/?$"), nth, status, body))

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        call = f"{method} {path}" + (f"?{parts.query}" if parts.query else "")
        self.calls.append(call)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"error": {"code": 400, "message": "body is not JSON"}}, {}
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None or route.method != method:
                continue
            if not self._authorised(path, headers):
                return (
                    401,
                    {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}},
                    {},
                )
            for injection in self.injections:
                if injection.method == method and injection.pattern.match(path):
                    injection.seen += 1
                    if injection.seen == injection.nth:
                        return injection.status, injection.body, {}
            try:
                with self.cloud.lock:
                    result = route.handler(Request(method, path, query, body, match))
            except ApiError as error:
                return error.status, error.body, {}
            except NotModelled as error:
                self.unexpected.append(f"{call}: {error}")
                return 501, {"error": {"code": 501, "message": f"not modelled by the fake: {error}"}}, {}
            status, answer = result[0], result[1]
            extra_headers = result[2] if len(result) > 2 else {}  # type: ignore[misc]
            return status, answer, extra_headers
        self.unexpected.append(call)
        return 501, {"error": {"code": 501, "message": f"not modelled by the fake: {method} {path}"}}, {}

    def _authorised(self, path: str, headers: dict[str, str]) -> bool:
        if path.startswith("/identity") or path.rstrip("/") in ("/compute", "/network", "/image", "/compute/v2.1"):
            return True
        token = next((v for k, v in headers.items() if k.lower() == "x-auth-token"), "")
        return token in self.cloud.tokens

    # --- identity -----------------------------------------------------------------
    def _add_identity_routes(self) -> None:
        self.route("GET", "/identity/v3", self._identity_version)
        self.route("POST", "/identity/v3/auth/tokens", self._issue_token)

    def _identity_version(self, request: Request) -> tuple[int, Any]:
        return 200, {
            "version": {
                "id": "v3.14",
                "status": "stable",
                "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{self.auth_url}/"}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
            }
        }

    def _issue_token(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        auth = (request.body or {}).get("auth", {})
        password = auth.get("identity", {}).get("password", {}).get("user", {})
        scope = auth.get("scope", {}).get("project", {})
        if password.get("name") != self.username or password.get("password") != self.password:
            raise ApiError(
                401, {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}
            )
        if scope.get("name") not in (self.project_name, None) and scope.get("id") != self.cloud.project_id:
            raise ApiError(401, {"error": {"code": 401, "title": "Unauthorized", "message": "No project matches the scope."}})
        token = uuid.uuid4().hex
        self.cloud.tokens.add(token)
        domain = {"id": "default", "name": "Default"}
        body = {
            "token": {
                "methods": ["password"],
                "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2024-01-01T00:00:00.000000Z",
                "user": {"id": self.cloud.user_id, "name": self.username, "domain": domain, "password_expires_at": None},
                "project": {"id": self.cloud.project_id, "name": self.project_name, "domain": domain},
                "roles": [{"id": "member-role", "name": "member"}],
                "catalog": self._catalog(),
            }
        }
        return 201, body, {"X-Subject-Token": token}

    def _catalog(self) -> list[Json]:
        def service(kind: str, name: str, url: str) -> Json:
            endpoint = {"id": new_id(), "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url}
            return {"id": new_id(), "type": kind, "name": name, "endpoints": [endpoint]}

        return [
            service("identity", "keystone", self.auth_url),
            service("compute", "nova", f"{self.base_url}/compute/v2.1"),
            service("network", "neutron", f"{self.base_url}/network"),
            service("image", "glance", f"{self.base_url}/image"),
        ]

    # --- image --------------------------------------------------------------------
    def _add_image_routes(self) -> None:
        self.route("GET", "/image", self._image_versions)
        self.route("GET", "/image/v2/images", self._list_images)
        self.route("GET", r"/image/v2/images/(?P<id>[^/]+)", self._get_image)

    def _seed_images(self) -> None:
        for name, user in (("debian-12", None), ("ubuntu-24.04", "ubuntu"), ("cirros-0.6", None)):
            image = {
                "id": new_id(),
                "name": name,
                "status": "active",
                "visibility": "public",
                "disk_format": "qcow2",
                "container_format": "bare",
                "min_disk": 0,
                "min_ram": 0,
                "size": 1024,
                "tags": [],
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "self": "",
                "file": "",
                "schema": "/v2/schemas/image",
                "owner": self.cloud.project_id,
                "protected": False,
            }
            if user:
                image["os_admin_user"] = user
            self.cloud.images[image["id"]] = image

    def _image_versions(self, request: Request) -> tuple[int, Any]:
        return 300, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": [{"rel": "self", "href": f"{self.base_url}/image/v2/"}]}]}

    def _list_images(self, request: Request) -> tuple[int, Any]:
        filters = request.filters({"name", "limit", "marker", "status", "visibility", "sort_key", "sort_dir", "sort"})
        images = list(self.cloud.images.values())
        if "name" in filters:
            images = [i for i in images if i["name"] == filters["name"][0]]
        # Glance's sort syntax (Terraform's data source sends it): key[:asc|desc][,key...], last key first.
        for part in reversed((filters.get("sort") or [""])[0].split(",") if "sort" in filters else []):
            key, _, direction = part.partition(":")
            images.sort(key=lambda image, key=key: str(image.get(key, "")), reverse=direction == "desc")
        if "marker" in filters:
            # One page holds everything: a marker means the client is past the end.
            images = []
        return 200, {"images": images, "schema": "/v2/schemas/images", "first": "/v2/images"}

    def _get_image(self, request: Request) -> tuple[int, Any]:
        image = self.cloud.images.get(request.arg("id"))
        if image is None:
            raise ApiError(404, "404 Not Found: No image found with ID " + request.arg("id"))
        return 200, image

    # --- what tests look at -------------------------------------------------------------
    def leftovers(self) -> dict[str, list[str]]:
        """Everything a lab could have left behind (the seeded external network aside)."""
        c = self.cloud
        return {
            "servers": [s["name"] for s in c.servers.values()],
            "keypairs": list(c.keypairs),
            "floating_ips": [f["floating_ip_address"] for f in c.floating_ips.values()],
            "ports": [p["name"] or p["id"] for p in c.ports.values() if not p["device_owner"].startswith("network:router_gateway")],
            "routers": [r["name"] for r in c.routers.values()],
            "subnets": [s["name"] for s in c.subnets.values() if not c.networks[s["network_id"]]["router:external"]],
            "networks": [n["name"] for n in c.networks.values() if not n["router:external"]],
            "security_groups": [g["name"] for g in c.security_groups.values() if g["name"] != "default"],
        }
