"""Container images of the bundle: pause, nginx, redis, guestbook, coredns.

pause and guestbook are the project's own programs; nginx and redis are
Debian bookworm packages in a minimal Debian root; coredns wraps the
bundle's own coredns binary.
"""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from labctl.bundle import debian, oci
from labctl.bundle.gobuild import GoTarget
from labctl.bundle.layout import SOURCE_ROOT
from labctl.bundle.oci import FileEntry, ImageConfig
from labctl.bundle.spec import ArtifactSpec, BuildContext, Inputs, Maker, hash_tree
from labctl.bundle.versions import (
    COREDNS_IMAGE,
    DEBIAN_SUITE,
    GUESTBOOK_IMAGE,
    NGINX_IMAGE,
    NGINX_VERSION,
    PAUSE_IMAGE,
    REDIS_IMAGE,
    REDIS_VERSION,
)
from labctl.errors import InfraError

IMAGE_SRC = SOURCE_ROOT / "images"
HERE = Path(__file__).resolve().parent
# Changing how archives are written must rebuild every image.
WRITER_CODE = (HERE / "oci.py", HERE / "images.py")


def _code_inputs(*extra: Path) -> dict[str, str]:
    return hash_tree(*WRITER_CODE, *extra)


def _run(cmd: list[str], log: Path, what: str, cwd: Path | None = None) -> None:
    with open(log, "a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise InfraError(f"bundle: {what}: `{' '.join(cmd[:3])} …` failed; see {log}")


# --- pause -------------------------------------------------------------------

def _gcc_version() -> str:
    debian.require_tool("gcc", "gcc libc6-dev")
    out = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True)
    return out.stdout.strip()


def _pause_inputs(ctx: BuildContext) -> dict[str, Any]:
    return {"ref": PAUSE_IMAGE, "gcc": _gcc_version(),
            "code": _code_inputs(IMAGE_SRC / "pause")}


def _make_pause(ctx: BuildContext, out: Path) -> None:
    log = ctx.log_file("images/pause")
    log.write_text("")
    binary = ctx.scratch / "pause"
    _run(["gcc", "-static", "-Os", "-Wall", "-o", str(binary), str(IMAGE_SRC / "pause/pause.c")],
         log, "images/pause: gcc -static (fix: apt-get install -y gcc libc6-dev)")
    _run(["strip", str(binary)], log, "images/pause: strip")
    layer = oci.layer_from_entries([FileEntry("pause", source=binary, mode=0o755)])
    # 65535 is the user upstream's pause image runs as: it needs no privilege.
    oci.write_image_archive(out, PAUSE_IMAGE, [layer],
                            ImageConfig(entrypoint=["/pause"], user="65535:65535"))


# --- guestbook ---------------------------------------------------------------

GUESTBOOK = GoTarget(IMAGE_SRC / "guestbook", "labctl.local/guestbook")


def _guestbook_inputs(ctx: BuildContext) -> dict[str, Any]:
    return {"ref": GUESTBOOK_IMAGE, "go": GUESTBOOK.inputs(ctx),
            "code": _code_inputs(IMAGE_SRC / "guestbook")}


def _make_guestbook(ctx: BuildContext, out: Path) -> None:
    binary = ctx.scratch / "guestbook"
    GUESTBOOK.build(ctx, binary, "images/guestbook")
    layer = oci.layer_from_entries([FileEntry("guestbook", source=binary, mode=0o755)])
    cfg = ImageConfig(entrypoint=["/guestbook"], ports=["80/tcp"],
                      env=[f"PATH={oci.DEFAULT_PATH}", "PORT=80"])
    oci.write_image_archive(out, GUESTBOOK_IMAGE, [layer], cfg)


# --- coredns -----------------------------------------------------------------

def _coredns_inputs(ctx: BuildContext) -> dict[str, Any]:
    return {"ref": COREDNS_IMAGE, "binary": ctx.shas.get("coredns"), "code": _code_inputs()}


def _make_coredns(ctx: BuildContext, out: Path) -> None:
    binary = ctx.root / "bin/coredns"
    if not binary.exists():
        raise InfraError("bundle: images/coredns needs bin/coredns; fix: build the coredns artifact")
    layer = oci.layer_from_entries([FileEntry("coredns", source=binary, mode=0o755)])
    cfg = ImageConfig(entrypoint=["/coredns"], ports=["53/tcp", "53/udp", "9153/tcp"])
    oci.write_image_archive(out, COREDNS_IMAGE, [layer], cfg)


# --- Debian-based: nginx, redis --------------------------------------------

def _debian_root(ctx: BuildContext, name: str, package: str, version: str) -> Path:
    root = ctx.scratch / f"{name}-root"
    if root.exists():
        shutil.rmtree(root)
    debian.mmdebstrap(root, variant="essential", include=[package],
                      log=ctx.log_file(f"images/{name}"))
    got = debian.package_version(root, package)
    if got != version:
        raise InfraError(
            f"bundle: images/{name}: Debian has {package} {got}, the image tag says {version}; "
            f"fix: set the {name.upper()}_VERSION in labctl/bundle/versions.py to {got}"
        )
    # Logs and caches of the build itself mean nothing inside an image.
    for junk in ("var/log/apt", "var/log/dpkg.log", "var/log/alternatives.log",
                 "var/cache/debconf/config.dat-old", "var/cache/debconf/templates.dat-old",
                 "var/lib/dpkg/status-old", "etc/machine-id"):
        path = root / junk
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return root


def _debian_inputs(name: str, ref: str, package: str) -> Inputs:
    def inputs(ctx: BuildContext) -> dict[str, Any]:
        return {"ref": ref, "suite": DEBIAN_SUITE, "package": package,
                "dpkg": list(debian.DPKG_EXCLUDES),
                "code": _code_inputs(HERE / "debian.py", IMAGE_SRC / name)}
    return inputs


def _make_nginx(ctx: BuildContext, out: Path) -> None:
    root = _debian_root(ctx, "nginx", "nginx-light", NGINX_VERSION)
    # Like the upstream image: logs go to the container's stdout/stderr.
    logdir = root / "var/log/nginx"
    logdir.mkdir(parents=True, exist_ok=True)
    for name, target in (("access.log", "/dev/stdout"), ("error.log", "/dev/stderr")):
        (logdir / name).unlink(missing_ok=True)
        os.symlink(target, logdir / name)
    layer = oci.layer_from_dir(root)
    shutil.rmtree(root)
    # Debian's nginx.conf runs workers as www-data, which base-passwd creates.
    cfg = ImageConfig(cmd=["nginx", "-g", "daemon off;"], ports=["80/tcp"], stop_signal="SIGQUIT")
    oci.write_image_archive(out, NGINX_IMAGE, [layer], cfg)


def _make_redis(ctx: BuildContext, out: Path) -> None:
    root = _debian_root(ctx, "redis", "redis-server", REDIS_VERSION)
    src = IMAGE_SRC / "redis"
    shutil.copy(src / "labctl.conf", root / "etc/redis/labctl.conf")
    for script in ("docker-entrypoint.sh", "redis-server"):
        dest = root / "usr/local/bin" / script
        shutil.copy(src / script, dest)
        dest.chmod(0o755)
    (root / "data").mkdir(exist_ok=True)
    layer = oci.layer_from_dir(root)
    shutil.rmtree(root)
    cfg = ImageConfig(entrypoint=["docker-entrypoint.sh"], cmd=["redis-server"],
                      ports=["6379/tcp"], workdir="/data")
    oci.write_image_archive(out, REDIS_IMAGE, [layer], cfg)


def specs() -> list[ArtifactSpec]:
    def image(name: str, ref: str, lane: str, inputs: Inputs, make: Maker,
              depends: tuple[str, ...] = ()) -> ArtifactSpec:
        return ArtifactSpec(
            name=f"images/{name}", kind="image", version=ref.rpartition(":")[2],
            relpath=f"images/{name}.tar", source=ref, group="images", lane=lane,
            inputs=inputs, make=make, depends=depends, mode=0o644,
        )

    return [
        image("pause", PAUSE_IMAGE, "go", _pause_inputs, _make_pause),
        image("guestbook", GUESTBOOK_IMAGE, "go", _guestbook_inputs, _make_guestbook),
        image("coredns", COREDNS_IMAGE, "go", _coredns_inputs, _make_coredns, ("coredns",)),
        image("nginx", NGINX_IMAGE, "debian", _debian_inputs("nginx", NGINX_IMAGE, "nginx-light"),
              _make_nginx),
        image("redis", REDIS_IMAGE, "debian", _debian_inputs("redis", REDIS_IMAGE, "redis-server"),
              _make_redis),
    ]
