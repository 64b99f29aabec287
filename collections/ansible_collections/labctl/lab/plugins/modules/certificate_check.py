#!/usr/bin/python
"""Ansible module labctl.lab.certificate_check: every certificate of a node, checked on the node in one pass."""

DOCUMENTATION = r"""
---
module: certificate_check
short_description: Verify and read every certificate of a node against reference CAs
description:
  - Finds the C(*.crt) files of a node's Kubernetes and etcd directories and checks their signatures with the node's
    own C(openssl), all in one C(openssl verify) per CA: each against the CA it must chain to, etcd's also against
    the cluster CA (they must not chain to it).
  - Reads each certificate's subject, names and validity from its DER encoding in Python, without a process per
    certificate.
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

import base64
import calendar
import glob
import ipaddress
import os
import re
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule


def find_certificates(directory):
    return sorted(glob.glob(os.path.join(directory, "*.crt"))) if os.path.isdir(directory) else []


def verified_paths(module, ca_file, paths):
    """The paths openssl verifies against ca_file: it prints `<path>: OK` for each one that chains."""
    if not ca_file or not paths:
        return set()
    _, out, _ = module.run_command(["openssl", "verify", "-CAfile", ca_file, *paths])
    return {line[: -len(": OK")] for line in out.splitlines() if line.endswith(": OK")}


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


OID_COMMON_NAME = bytes.fromhex("550403")
OID_SUBJECT_ALT_NAME = bytes.fromhex("551d11")


def der_items(data, start=0, end=None):
    """The (tag, content start, content end) of each DER element in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > end:
            raise ValueError("truncated DER element")
        yield tag, pos, pos + length
        pos += length


def der_children(data, element):
    return list(der_items(data, element[1], element[2]))


def der_time(data, element):
    text = data[element[1]:element[2]].decode("ascii")
    if element[0] == 0x17:  # UTCTime: two-digit years, 1950-2049
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    return calendar.timegm(time.strptime(text.rstrip("Z"), "%Y%m%d%H%M%S"))


def read_pem_certificate(pem):
    """Subject common name, validity (epoch seconds) and SANs (DNS:name, IP:address) of the first certificate in pem."""
    found = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem, re.S)
    if not found:
        raise ValueError("no PEM certificate")
    data = base64.b64decode("".join(found.group(1).split()))
    certificate = next(der_items(data))
    tbs = der_children(data, der_children(data, certificate)[0])
    if tbs[0][0] == 0xA0:  # explicit version
        tbs = tbs[1:]
    validity, subject = der_children(data, tbs[3]), tbs[4]
    fields = {"subject": "", "not_before": der_time(data, validity[0]), "not_after": der_time(data, validity[1]), "sans": []}
    for name_set in der_children(data, subject):
        for attribute in der_children(data, name_set):
            oid, value = der_children(data, attribute)[:2]
            if data[oid[1]:oid[2]] == OID_COMMON_NAME:
                fields["subject"] = data[value[1]:value[2]].decode("utf-8", "replace")
    for element in tbs[5:]:
        if element[0] != 0xA3:  # extensions
            continue
        for extension in der_children(data, der_children(data, element)[0]):
            parts = der_children(data, extension)
            if data[parts[0][1]:parts[0][2]] != OID_SUBJECT_ALT_NAME:
                continue
            names = next(der_items(data, parts[-1][1], parts[-1][2]))
            for tag, start, end in der_children(data, names):
                if tag == 0x82:
                    fields["sans"].append("DNS:" + data[start:end].decode("ascii", "replace"))
                elif tag == 0x87:
                    fields["sans"].append("IP:" + str(ipaddress.ip_address(data[start:end])))
    return fields


def read_certificate(path):
    try:
        with open(path) as f:
            return read_pem_certificate(f.read()), ""
    except OSError as error:
        return None, error.strerror or str(error)
    except (ValueError, IndexError, StopIteration) as error:
        return None, f"not a PEM X.509 certificate ({str(error) or type(error).__name__})"


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
        fields, error = read_certificate(path)
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
                "expired": end <= now,
                "valid_min": start <= horizon < end,
                "not_before": iso(start),
                "not_after": iso(end),
                "subject": fields["subject"],
                "sans": fields["sans"],
            }
        )
    if unreadable:
        module.fail_json(msg="certificates that cannot be read: " + "; ".join(unreadable), certificates=certificates)
    module.exit_json(changed=False, certificates=certificates)


if __name__ == "__main__":
    main()
