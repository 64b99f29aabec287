"""Every version and image name the offline bundle pins, in one place.

Other code (cluster roles, drills) imports the image names from here so the
names the bundle writes and the names pods ask for cannot drift apart.
"""

from typing import Final

KUBERNETES_VERSION: Final = "v1.36.3"
# An older kubelet/kubectl for the kubelet-version-skew drill.
SKEW_VERSION: Final = "v1.35.4"

ETCD_VERSION: Final = "v3.6.16"
CONTAINERD_VERSION: Final = "v2.2.9"
RUNC_VERSION: Final = "v1.3.6"
CNI_PLUGINS_VERSION: Final = "v1.9.1"
# Only some cri-tools releases are served by the module proxy; v1.36.0 is.
CRICTL_VERSION: Final = "v1.36.0"
COREDNS_VERSION: Final = "v1.14.7"

PAUSE_VERSION: Final = "3.10.1"
# Tags follow the Debian bookworm package the image is built from.
NGINX_VERSION: Final = "1.22.1"
REDIS_VERSION: Final = "7.0.15"
# v2: a replica read gives up after 300 ms and the master answers (a gone replica no longer stalls reads for 2 s).
GUESTBOOK_VERSION: Final = "v2"

DEBIAN_SUITE: Final = "bookworm"

PAUSE_IMAGE: Final = f"registry.k8s.io/pause:{PAUSE_VERSION}"
NGINX_IMAGE: Final = f"docker.io/library/nginx:{NGINX_VERSION}"
REDIS_IMAGE: Final = f"docker.io/library/redis:{REDIS_VERSION}"
GUESTBOOK_IMAGE: Final = f"localhost/labctl/guestbook-frontend:{GUESTBOOK_VERSION}"
COREDNS_IMAGE: Final = f"registry.k8s.io/coredns/coredns:{COREDNS_VERSION}"

IMAGES: Final = {
    "pause": PAUSE_IMAGE,
    "nginx": NGINX_IMAGE,
    "redis": REDIS_IMAGE,
    "guestbook": GUESTBOOK_IMAGE,
    "coredns": COREDNS_IMAGE,
}

KUBERNETES_BINARIES: Final = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)
SKEW_BINARIES: Final = ("kubelet", "kubectl")
CNI_PLUGINS: Final = ("bridge", "host-local", "loopback", "portmap", "ptp", "bandwidth")

# The Kubernetes release builds flags the bundle copies (and the prebuild uses).
KUBE_BUILD_DATE: Final = "2026-01-01T00:00:00Z"
GO_ARCH: Final = "amd64"
