#!/usr/bin/python
"""Ansible module labctl.lab.certificates: a directory's CAs, certificates and key pairs in one pass."""

DOCUMENTATION = r"""
---
module: certificates
short_description: Keep a set of CAs, CA-signed certificates and key pairs in one directory
description:
  - One task for what is otherwise a key, a signing request and a signature task per certificate.
  - Each file is kept while it still matches what is asked (key type, subject, names, usages, issuer, validity)
    and made again otherwise, so a second run with the same input changes nothing.
  - Private keys are written 0600, certificates and public keys 0644, each by an atomic rename.
  - Needs the cryptography package on the host that runs it (the Ansible controller).
options:
  path:
    description: Directory the names below are relative to; made 0700 with any sub-directory a name needs.
    type: path
    required: true
  ca_path:
    description: Directory the certificates' C(ca) names are relative to (defaults to I(path)).
    type: path
  authorities:
    description: Self-signed CAs (ECDSA P-384), written as NAME.key and NAME.crt.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: File name without extension, may hold a sub-directory., type: str, required: true}
      cn: {description: Common name., type: str, required: true}
      days: {description: Validity in days., type: int, default: 3650}
  certificates:
    description: Certificates (ECDSA P-256 keys) signed by a CA, written as NAME.key and NAME.crt.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: File name without extension, may hold a sub-directory., type: str, required: true}
      ca: {description: The signing CA's name under I(ca_path)., type: str, default: ca}
      cn: {description: Common name., type: str, required: true}
      org: {description: Organization (Kubernetes reads it as the group)., type: str}
      sans: {description: Subject alternative names as DNS:name or IP:address., type: list, elements: str, default: []}
      usages: {description: Extended key usages., type: list, elements: str, choices: [serverAuth, clientAuth], required: true}
      days: {description: Validity in days., type: int, default: 365}
  key_pairs:
    description: RSA 2048 key pairs, written as NAME.key and NAME.pub (the service-account signing key).
    type: list
    elements: str
    default: []
  renew_before_days:
    description: A certificate with fewer days left than this is signed again.
    type: int
    default: 30
author: labctl developers
"""

EXAMPLES = r"""
- name: Issue the lab's certificates
  labctl.lab.certificates:
    path: /var/lib/labctl/labs/default/pki
    authorities: [{name: ca, cn: labctl default CA}]
    certificates:
      - {name: admin, cn: admin, org: "system:masters", usages: [clientAuth]}
    key_pairs: [service-account]
"""

RETURN = r"""
written: {description: Files (relative to path) written by this run., type: list, elements: str, returned: always}
"""

import datetime
import ipaddress
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

USAGES = {"serverAuth": "SERVER_AUTH", "clientAuth": "CLIENT_AUTH"}
# Certificates start a little in the past: a node's clock may trail the controller's.
BACKDATE = datetime.timedelta(minutes=5)


class Directory:
    """Reads and writes the files under one directory; records what it wrote; writes nothing in check mode."""

    def __init__(self, root, check_mode):
        self.root = root
        self.check_mode = check_mode
        self.written = []

    def file(self, name):
        return os.path.join(self.root, name)

    def read(self, name):
        try:
            with open(self.file(name), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def write(self, name, data, mode):
        self.written.append(name)
        if self.check_mode:
            return
        target = self.file(name)
        folder = os.path.dirname(target)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".labctl-")
        try:
            os.fchmod(handle, mode)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def ensure_mode(self, name, mode):
        """An existing file keeps its content but gets the mode asked for."""
        target = self.file(name)
        if os.path.exists(target) and os.stat(target).st_mode & 0o777 != mode:
            self.written.append(name)
            if not self.check_mode:
                os.chmod(target, mode)


def load_key(data, kind):
    """The private key in data if it is of the kind wanted (an EC curve or RSA), else None."""
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        return None
    if isinstance(kind, ec.EllipticCurve):
        return key if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == kind.name else None
    return key if isinstance(key, rsa.RSAPrivateKey) and key.key_size == kind else None


def new_key(kind):
    return ec.generate_private_key(kind) if isinstance(kind, ec.EllipticCurve) else rsa.generate_private_key(65537, kind)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def ensure_key(files, name, kind):
    """The key at name, made (and written) if missing or of another kind."""
    key = load_key(files.read(name), kind)
    if key is None:
        key = new_key(kind)
        files.write(name, key_pem(key), 0o600)
    else:
        files.ensure_mode(name, 0o600)
    return key


def subject(cn, org=None):
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attributes)


def alt_names(sans):
    names = []
    for san in sans:
        kind, _, value = san.partition(":")
        if kind == "DNS":
            names.append(x509.DNSName(value))
        elif kind == "IP":
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
        else:
            raise ValueError(f"subject alternative name {san!r}: write DNS:name or IP:address")
    return names


def extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def still_good(cert, key, issuer, want_subject, renew_before):
    """Whether cert is the one asked for: its key, its subject, signed by issuer's key, valid long enough."""
    now = datetime.datetime.now(datetime.UTC)
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return False
    if cert.subject != want_subject or cert.issuer != issuer.subject:
        return False
    if cert.not_valid_before_utc > now or cert.not_valid_after_utc - now < renew_before:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def load_cert(data):
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        return None


def new_certificate(subject_name, issuer_name, public_key, days, ca, usage):
    """A certificate valid from a little before now for DAYS, with its basic constraints and key usage."""
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
    )


def ensure_authority(files, spec, renew_before):
    name = spec["name"]
    key = ensure_key(files, f"{name}.key", ec.SECP384R1())
    want = subject(spec["cn"], "labctl")
    cert = load_cert(files.read(f"{name}.crt"))
    usage = extension(cert, x509.KeyUsage) if cert else None
    if cert and still_good(cert, key, cert, want, renew_before) and usage and usage.key_cert_sign:
        files.ensure_mode(f"{name}.crt", 0o644)
        return
    # A CA signs certificates and revocation lists (keyCertSign, cRLSign) and its own signature (digitalSignature).
    usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
    cert = (
        new_certificate(want, want, key.public_key(), spec["days"], ca=True, usage=usage)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def wanted_usages(spec):
    return {getattr(ExtendedKeyUsageOID, USAGES[u]) for u in spec["usages"]}


def ensure_certificate(files, authorities, spec, renew_before):
    name = spec["name"]
    ca_cert, ca_key = authorities(spec["ca"])
    key = ensure_key(files, f"{name}.key", ec.SECP256R1())
    want = subject(spec["cn"], spec.get("org"))
    sans = alt_names(spec["sans"])
    cert = load_cert(files.read(f"{name}.crt"))
    if cert and still_good(cert, key, ca_cert, want, renew_before):
        have_sans = extension(cert, x509.SubjectAlternativeName)
        have_usages = extension(cert, x509.ExtendedKeyUsage)
        if set(have_sans or []) == set(sans) and set(have_usages or []) == wanted_usages(spec):
            files.ensure_mode(f"{name}.crt", 0o644)
            return
    days = min(spec["days"], (ca_cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days)
    # TLS servers and clients: digitalSignature and keyEncipherment, as kubeadm's certificates have.
    usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    usages = sorted(wanted_usages(spec), key=lambda oid: oid.dotted_string)
    builder = (
        new_certificate(want, ca_cert.subject, key.public_key(), days, ca=False, usage=usage)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    files.write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_key_pair(files, name):
    key = ensure_key(files, f"{name}.key", 2048)
    public = public_pem(key)
    if files.read(f"{name}.pub") != public:
        files.write(f"{name}.pub", public, 0o644)
    else:
        files.ensure_mode(f"{name}.pub", 0o644)


def authority_reader(ca_files):
    """Loads each signing CA once; a CA made in this run (check mode) is missing and fails the run."""
    loaded = {}

    def read(name):
        if name not in loaded:
            cert = load_cert(ca_files.read(f"{name}.crt"))
            key_data = ca_files.read(f"{name}.key")
            if cert is None or key_data is None:
                raise ValueError(f"CA {name!r}: {ca_files.file(name + '.crt')} or its key is missing; issue the CA first")
            loaded[name] = (cert, serialization.load_pem_private_key(key_data, password=None))
        return loaded[name]

    return read


def main():
    name_spec = {"type": "str", "required": True}
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "ca_path": {"type": "path"},
            "authorities": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"name": name_spec, "cn": {"type": "str", "required": True}, "days": {"type": "int", "default": 3650}},
            },
            "certificates": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": name_spec,
                    "ca": {"type": "str", "default": "ca"},
                    "cn": {"type": "str", "required": True},
                    "org": {"type": "str"},
                    "sans": {"type": "list", "elements": "str", "default": []},
                    "usages": {"type": "list", "elements": "str", "choices": sorted(USAGES), "required": True},
                    "days": {"type": "int", "default": 365},
                },
            },
            "key_pairs": {"type": "list", "elements": "str", "default": []},
            "renew_before_days": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    params = module.params
    files = Directory(params["path"], module.check_mode)
    ca_files = Directory(params["ca_path"] or params["path"], module.check_mode)
    renew_before = datetime.timedelta(days=params["renew_before_days"])
    if not module.check_mode:
        os.makedirs(params["path"], mode=0o700, exist_ok=True)
    try:
        for spec in params["authorities"]:
            ensure_authority(files, spec, renew_before)
        for name in params["key_pairs"]:
            ensure_key_pair(files, name)
        authorities = authority_reader(ca_files)
        for spec in params["certificates"]:
            ensure_certificate(files, authorities, spec, renew_before)
    except (ValueError, OSError) as error:
        module.fail_json(msg=str(error), written=files.written)
    module.exit_json(changed=bool(files.written), written=files.written)


if __name__ == "__main__":
    main()
