#!/usr/bin/python
"""Ansible module labctl.lab.certificate_check: every certificate of a node, checked on the node in one pass."""

DOCUMENTATION = r"""
---
module: certificate_check
short_description: Verify and read every certificate of a node against reference CAs
description:
  - Finds the C(*.crt) files of a node's Kubernetes and etcd directories and checks each one with the node's own
    C(openssl): its signature against the CA it must chain to (C(openssl verify)), etcd's also against the
    cluster CA (they must not chain to it), and its subject, names and validity (C(openssl x509)).
  - The reference CAs are given as PEM text and written to a directory of the module's own, removed before it
    returns, so the check leaves nothing on the node.
  - Standard library and the C(openssl) command only, so it runs on any node with Python.
options:
  node:
    description: The node's name in the inventory, copied into each entry (the module cannot know it).
    type: str
    default: ""
  kube_dir:
    description: Directory of the Kubernetes certificates, checked against I(cluster_ca).
    type: path
    required: true
  etcd_dirs:
    description: Directories of etcd's certificates, checked against I(etcd_ca). Missing directories are skipped.
    type: list
    elements: path
    default: []
  etcd_client_certs:
    description: Certificates in I(kube_dir) that belong to etcd's CA (the API server's etcd client certificate).
    type: list
    elements: path
    default: []
  cluster_ca:
    description: The cluster CA, PEM.
    type: str
    required: true
  etcd_ca:
    description: etcd's CA, PEM. Empty when the lab has none; etcd's certificates then count as not verified.
    type: str
    default: ""
  min_valid_days:
    description: A certificate counts as valid long enough when it is still valid this many days from now.
    type: int
    default: 30
author: labctl developers
"""

EXAMPLES = r"""
- name: Check the certificates of controller-1
  labctl.lab.certificate_check:
    node: controller-1
    kube_dir: /etc/kubernetes/pki
    etcd_dirs: [/etc/etcd/pki]
    etcd_client_certs: [/etc/kubernetes/pki/apiserver-etcd-client.crt]
    cluster_ca: "{{ lookup('ansible.builtin.file', lab_pki_dir ~ '/ca.crt') }}"
    etcd_ca: "{{ lookup('ansible.builtin.file', lab_pki_dir ~ '/etcd/ca.crt') }}"
  delegate_to: controller-1
"""

RETURN = r"""
certificates:
  description: >-
    One entry per certificate, sorted by path: node, path, ca (cluster or etcd: the CA it must chain to), verified
    (it chains to that CA), cluster_signed (it chains to the cluster CA), expired, valid_min (still valid
    min_valid_days from now), not_before and not_after (ISO 8601, UTC), subject (its common name), sans
    (DNS:name and IP:address).
  type: list
  elements: dict
  returned: always
"""

import calendar
import glob
import os
import re
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

OPENSSL_TIME = "%b %d %H:%M:%S %Y GMT"


def find_certificates(directory):
    return sorted(glob.glob(os.path.join(directory, "*.crt"))) if os.path.isdir(directory) else []


def verified_paths(module, ca_file, paths):
    """The paths openssl verifies against ca_file: it prints `<path>: OK` for each one that chains."""
    if not ca_file or not paths:
        return set()
    _, out, _ = module.run_command(["openssl", "verify", "-CAfile", ca_file, *paths])
    return {line[: -len(": OK")] for line in out.splitlines() if line.endswith(": OK")}


def epoch(openssl_time):
    return calendar.timegm(time.strptime(re.sub(r"\s+", " ", openssl_time.strip()), OPENSSL_TIME))


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_x509_text(text):
    """openssl x509 -noout -subject -startdate -enddate -ext subjectAltName -nameopt RFC2253, read into fields."""
    fields = {"subject": "", "not_before": None, "not_after": None, "sans": []}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("subject="):
            cn = re.search(r"(?:^|,)CN=((?:\\.|[^,])*)", line[len("subject=") :])
            fields["subject"] = cn.group(1).replace("\\", "") if cn else ""
        elif line.startswith("notBefore="):
            fields["not_before"] = epoch(line[len("notBefore=") :])
        elif line.startswith("notAfter="):
            fields["not_after"] = epoch(line[len("notAfter=") :])
        elif "Subject Alternative Name" in line and i + 1 < len(lines):
            names = [n.strip() for n in lines[i + 1].split(",") if n.strip()]
            fields["sans"] = [re.sub(r"^IP Address:", "IP:", n) for n in names]
    return fields


def read_certificate(module, path):
    rc, out, err = module.run_command(
        ["openssl", "x509", "-in", path, "-noout", "-subject", "-startdate", "-enddate", "-ext", "subjectAltName", "-nameopt", "RFC2253"]
    )
    if rc != 0:
        return None, (err or out).strip()
    return parse_x509_text(out), ""


def write_ca(workdir, name, pem):
    if not pem.strip():
        return ""
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(pem.strip() + "\n")
    return path


def main():
    module = AnsibleModule(
        argument_spec={
            "node": {"type": "str", "default": ""},
            "kube_dir": {"type": "path", "required": True},
            "etcd_dirs": {"type": "list", "elements": "path", "default": []},
            "etcd_client_certs": {"type": "list", "elements": "path", "default": []},
            "cluster_ca": {"type": "str", "required": True},
            "etcd_ca": {"type": "str", "default": ""},
            "min_valid_days": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    p = module.params
    if module.get_bin_path("openssl") is None:
        module.fail_json(msg="openssl is not installed on this node: the certificates cannot be verified")
    etcd_clients = set(p["etcd_client_certs"])
    kube = [c for c in find_certificates(p["kube_dir"]) if c not in etcd_clients]
    etcd = sorted({c for d in p["etcd_dirs"] for c in find_certificates(d)} | {c for c in etcd_clients if os.path.isfile(c)})

    workdir = tempfile.mkdtemp(prefix="labctl-certificate-check-")
    try:
        cluster_ca = write_ca(workdir, "cluster-ca.crt", p["cluster_ca"])
        etcd_ca = write_ca(workdir, "etcd-ca.crt", p["etcd_ca"])
        by_cluster = verified_paths(module, cluster_ca, kube + etcd)
        by_etcd = verified_paths(module, etcd_ca, etcd)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    now = time.time()
    horizon = now + p["min_valid_days"] * 86400
    certificates, unreadable = [], []
    for path in sorted(kube + etcd):
        fields, error = read_certificate(module, path)
        if fields is None:
            unreadable.append(f"{path}: {error}")
            continue
        in_etcd = path in etcd
        start, end = fields["not_before"], fields["not_after"]
        certificates.append(
            {
                "node": p["node"],
                "path": path,
                "ca": "etcd" if in_etcd else "cluster",
                "verified": path in (by_etcd if in_etcd else by_cluster),
                "cluster_signed": path in by_cluster,
                "expired": end is None or end <= now,
                "valid_min": start is not None and end is not None and start <= horizon < end,
                "not_before": iso(start) if start is not None else "",
                "not_after": iso(end) if end is not None else "",
                "subject": fields["subject"],
                "sans": fields["sans"],
            }
        )
    if unreadable:
        module.fail_json(msg="certificates openssl cannot read: " + "; ".join(unreadable), certificates=certificates)
    module.exit_json(changed=False, certificates=certificates)


if __name__ == "__main__":
    main()
