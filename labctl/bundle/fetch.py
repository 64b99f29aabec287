"""Fill the bundle from official release downloads, for machines with internet.

Every artifact has a download URL template and a published-checksum URL
template (kubespray-style names, e.g. `kubelet_download_url`,
`etcd_checksum_url`), overridable from a YAML file such as an offline
mirror's variables. A download lands in a temp file, is checked against its
published sha256, and only then renamed into place and recorded; a 404 or a
mismatch stops the fetch with the artifact and URL named.
"""

import hashlib
import re
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from labctl.bundle import catalog
from labctl.bundle.digest import StatCache, sha256_bytes, sha256_file
from labctl.bundle.layout import bundle_dir, exclusive, publish, remove_stale_temps, temp_name
from labctl.bundle.manifest import Manifest, record
from labctl.bundle.spec import ArtifactSpec
from labctl.bundle.versions import GO_ARCH
from labctl.errors import InfraError, UsageError

OnStep = Callable[[str, str, str], None]
TIMEOUT = 60
CHUNK = 1 << 20

GH_RELEASE = "{github_url}/{repo}/releases/download/{version}"

DEFAULT_VARS = {
    "dl_k8s_io_url": "https://dl.k8s.io",
    "github_url": "https://github.com",
    "arch": GO_ARCH,
}


@dataclass(frozen=True)
class Download:
    """Where one artifact comes from: a file, or one member of an archive."""

    key: str
    url: str
    checksum_url: str
    member: str | None = None


def _kube(key: str, binary: str) -> Download:
    url = "{dl_k8s_io_url}/release/{version}/bin/linux/{arch}/" + binary
    return Download(key, url, "{url}.sha256")


def _gh(key: str, repo: str, asset: str, checksum: str, member: str | None = None) -> Download:
    base = GH_RELEASE.replace("{repo}", repo)
    return Download(key, f"{base}/{asset}", checksum.replace("{base}", base), member)


def downloads(spec: ArtifactSpec) -> Download | None:
    """How to fetch spec, or None when only a local build can make it."""
    name = spec.name
    if spec.group == "kubernetes":
        return _kube(name.replace("-", "_"), name)
    if spec.group == "skew":
        binary = name.rsplit("/", 1)[1]
        return _kube(f"{binary}_skew", binary)
    if spec.group == "etcd":
        return _gh("etcd", "etcd-io/etcd", "etcd-{version}-linux-{arch}.tar.gz",
                   "{base}/SHA256SUMS", "etcd-{version}-linux-{arch}/" + name)
    if spec.group == "containerd":
        return _gh("containerd", "containerd/containerd",
                   "containerd-{version_no_v}-linux-{arch}.tar.gz", "{url}.sha256sum", "bin/" + name)
    if spec.group == "runc":
        return _gh("runc", "opencontainers/runc", "runc.{arch}", "{base}/runc.sha256sum")
    if spec.group == "crictl":
        return _gh("crictl", "kubernetes-sigs/cri-tools", "crictl-{version}-linux-{arch}.tar.gz",
                   "{url}.sha256", "crictl")
    if spec.group == "cni":
        return _gh("cni", "containernetworking/plugins", "cni-plugins-linux-{arch}-{version}.tgz",
                   "{url}.sha256", name.split("/", 1)[1])
    if spec.group == "coredns":
        return _gh("coredns", "coredns/coredns", "coredns_{version_no_v}_linux_{arch}.tgz",
                   "{url}.sha256", "coredns")
    return None


def _optional_key(spec: ArtifactSpec) -> str:
    """YAML prefix for artifacts with no public download (images, rootfs)."""
    short = spec.name.split("/", 1)[-1].replace("-", "_")
    return short if spec.kind == "rootfs" else f"{short}_{spec.kind}"


# The built-in templates' {var} placeholders, turned into Jinja's {{ var }} (a kubespray
# variables file uses Jinja, filters included).
_SINGLE_BRACE = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")
_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


def render(template: str, variables: dict[str, str], what: str) -> str:
    """Fill {var} and Jinja {{ var | filter }} placeholders; variables may hold templates themselves."""
    out = template
    for _ in range(5):
        try:
            new = _JINJA.from_string(_SINGLE_BRACE.sub(r"{{ \1 }}", out)).render(variables)
        except jinja2.UndefinedError as exc:
            raise UsageError(f"bundle fetch: {what}: {exc.message} in {template!r}: define it in the sources file") from None
        except jinja2.TemplateError as exc:
            raise UsageError(f"bundle fetch: {what}: cannot render {template!r}: {exc}") from None
        if new == out:
            break
        out = new
    return out


def load_sources(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"bundle fetch: cannot read sources file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"bundle fetch: {path} must be a mapping of variable: value")
    return {str(k): str(v) for k, v in data.items()}


def _open(url: str, name: str, what: str) -> Any:
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        raise InfraError(
            f"bundle fetch: {name}: {what} {url} returned HTTP {exc.code}; "
            f"fix: check the version, or point the URL elsewhere in the sources file"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InfraError(f"bundle fetch: {name}: cannot reach {url} ({reason}); "
                         f"fix: check the network or the sources file") from exc


def published_sha256(text: str, url: str, name: str, checksum_url: str) -> str:
    """The sha256 a checksum file publishes for url (bare hash or sha256sum lines)."""
    basename = url.rsplit("/", 1)[-1]
    hashes = []
    for line in text.splitlines():
        match = re.search(r"\b([0-9a-fA-F]{64})\b", line)
        if not match:
            continue
        hashes.append(match.group(1).lower())
        rest = line.replace(match.group(1), "").strip().lstrip("*").strip()
        if rest and rest.split("/")[-1] == basename:
            return match.group(1).lower()
    if len(hashes) == 1:
        return hashes[0]
    raise InfraError(f"bundle fetch: {name}: no sha256 for {basename} in {checksum_url}")


def _download(url: str, dest: Path, name: str) -> str:
    h = hashlib.sha256()
    with _open(url, name, "download") as resp, open(dest, "wb") as out:
        while chunk := resp.read(CHUNK):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def _extract(archive: Path, member: str, dest: Path, name: str, url: str) -> None:
    wanted = member.lstrip("./")
    with tarfile.open(archive) as tar:
        for info in tar:
            if info.isfile() and info.name.lstrip("./") == wanted:
                src = tar.extractfile(info)
                assert src is not None
                with src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                return
    raise InfraError(f"bundle fetch: {name}: {url} has no member {member}")


@dataclass(frozen=True)
class Plan:
    """One artifact's resolved URLs."""

    spec: ArtifactSpec
    url: str
    checksum_url: str
    member: str | None


def plan(spec: ArtifactSpec, kube_version: str, overrides: dict[str, str]) -> Plan | None:
    """Resolve spec's URLs from defaults and the sources file; None if it has none."""
    dl = downloads(spec)
    key = dl.key if dl else _optional_key(spec)
    url_t = overrides.get(f"{key}_download_url", dl.url if dl else None)
    sum_t = overrides.get(f"{key}_checksum_url", dl.checksum_url if dl else None)
    if url_t is None or sum_t is None:
        return None
    variables = {**DEFAULT_VARS, **overrides, "kube_version": kube_version,
                 "version": spec.version, "version_no_v": spec.version.lstrip("v")}
    url = render(url_t, variables, spec.name)
    checksum_url = render(sum_t, {**variables, "url": url}, spec.name)
    member = render(dl.member, variables, spec.name) if dl and dl.member else None
    return Plan(spec, url, checksum_url, member)


class _Fetcher:
    """Downloads shared by several artifacts (one archive, many binaries) happen once."""

    def __init__(self, root: Path, work: Path, manifest: Manifest, cache: StatCache,
                 order: list[str]) -> None:
        self.root, self.work, self.manifest, self.cache, self.order = root, work, manifest, cache, order
        self.checksums: dict[str, str] = {}
        self.archives: dict[str, Path] = {}

    def published(self, p: Plan) -> str:
        if p.checksum_url not in self.checksums:
            with _open(p.checksum_url, p.spec.name, "checksum") as resp:
                self.checksums[p.checksum_url] = resp.read().decode(errors="replace")
        return published_sha256(self.checksums[p.checksum_url], p.url, p.spec.name, p.checksum_url)

    def up_to_date(self, p: Plan, recipe: str) -> bool:
        entry = self.manifest.artifacts.get(p.spec.name)
        final = self.root / p.spec.relpath
        return bool(entry and entry.recipe == recipe and final.is_file()
                    and self.cache.lookup(final) == entry.sha256)

    def download(self, p: Plan, want: str) -> Path:
        if p.url not in self.archives:
            blob = self.work / f"dl-{len(self.archives)}"
            got = _download(p.url, blob, p.spec.name)
            if got != want:
                raise InfraError(
                    f"bundle fetch: {p.spec.name}: sha256 of {p.url} is {got}, "
                    f"but {p.checksum_url} publishes {want}; nothing was installed; "
                    f"fix: retry, or check the mirror"
                )
            self.archives[p.url] = blob
        return self.archives[p.url]

    def install(self, p: Plan, blob: Path, recipe: str) -> int:
        spec = p.spec
        final = self.root / spec.relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(final)
        try:
            if p.member:
                _extract(blob, p.member, tmp, spec.name, p.url)
            else:
                shutil.copyfile(blob, tmp)
            sha, size = sha256_file(tmp), tmp.stat().st_size
            publish(tmp, final, spec.mode)
        finally:
            tmp.unlink(missing_ok=True)
        record(self.manifest, self.cache, self.root, self.order, spec, final,
               sha=sha, size=size, source=p.url, recipe=recipe)
        return size


def fetch(kube_version: str, *, sources: Path | None = None, on_step: OnStep | None = None,
          only: list[str] | None = None) -> dict[str, Any]:
    from labctl.bundle.build import select

    started = time.monotonic()
    step = on_step or (lambda *_: None)
    overrides = load_sources(sources)
    specs = catalog.specs(kube_version)
    chosen = select(specs, only)
    root = bundle_dir(kube_version)
    root.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"fetched": [], "skipped": [], "not_fetched": []}

    with exclusive(root):
        remove_stale_temps(root)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
        fetcher = _Fetcher(root, work, Manifest.load(root, kube_version), StatCache(root),
                           [s.name for s in specs])
        try:
            for spec in chosen:
                p = plan(spec, kube_version, overrides)
                if p is None:
                    result["not_fetched"].append(spec.name)
                    step(spec.name, "skip", "no download for this artifact; build it locally")
                    continue
                try:
                    want = fetcher.published(p)
                    # The recipe of a fetched artifact is where it came from and what it must hash to.
                    recipe = sha256_bytes(f"fetch\0{p.url}\0{want}\0{p.member}".encode())
                    if fetcher.up_to_date(p, recipe):
                        result["skipped"].append(spec.name)
                        step(spec.name, "skip", "up to date")
                        continue
                    step(spec.name, "start", p.url)
                    size = fetcher.install(p, fetcher.download(p, want), recipe)
                except InfraError as exc:
                    step(spec.name, "fail", str(exc))
                    raise
                result["fetched"].append(spec.name)
                step(spec.name, "done", f"{size / 1e6:.1f} MB")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    result["seconds"] = round(time.monotonic() - started, 1)
    return result
