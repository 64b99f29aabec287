#!/usr/bin/python
"""Ansible module labctl.lab.dns_query: resolve an A record through a given DNS server."""

DOCUMENTATION = r"""
---
module: dns_query
short_description: Resolve a name through a specific DNS server
description:
  - Sends one DNS query over UDP (standard library only, so it runs on any node with Python).
options:
  name:
    description: Name to resolve.
    type: str
    required: true
  server:
    description: DNS server address.
    type: str
    required: true
  port:
    description: DNS server port.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for the answer.
    type: float
    default: 2
author: labctl developers
"""

EXAMPLES = r"""
- name: Resolve the redis master through cluster DNS
  labctl.lab.dns_query:
    name: redis-master.default.svc.cluster.local
    server: 10.96.0.10
"""

RETURN = r"""
addresses: {description: A records in the answer., type: list, elements: str, returned: always}
rcode: {description: DNS response code (0 is NOERROR)., type: int, returned: always}
"""

import random
import socket
import struct

from ansible.module_utils.basic import AnsibleModule


def build_query(name: str, ident: int) -> bytes:
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack(">HH", 1, 1)


def skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def parse_answer(data: bytes, ident: int) -> tuple[int, list[str]]:
    got_id, flags, qdcount, ancount, _, _ = struct.unpack(">HHHHHH", data[:12])
    if got_id != ident:
        raise ValueError("answer id does not match the query")
    offset = 12
    for _ in range(qdcount):
        offset = skip_name(data, offset) + 4
    addresses = []
    for _ in range(ancount):
        offset = skip_name(data, offset)
        rtype, _, _, rdlength = struct.unpack(">HHIH", data[offset : offset + 10])
        offset += 10
        if rtype == 1 and rdlength == 4:
            addresses.append(socket.inet_ntoa(data[offset : offset + 4]))
        offset += rdlength
    return flags & 0x000F, addresses


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "server": {"type": "str", "required": True},
            "port": {"type": "int", "default": 53},
            "timeout": {"type": "float", "default": 2},
        },
        supports_check_mode=True,
    )
    ident = random.randint(0, 0xFFFF)
    query = build_query(module.params["name"], ident)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(module.params["timeout"])
    try:
        sock.sendto(query, (module.params["server"], module.params["port"]))
        data, _ = sock.recvfrom(4096)
        rcode, addresses = parse_answer(data, ident)
    except (OSError, ValueError) as error:
        module.fail_json(msg=f"DNS query for {module.params['name']} to {module.params['server']} failed: {error}", addresses=[], rcode=-1)
        return
    finally:
        sock.close()
    module.exit_json(changed=False, addresses=addresses, rcode=rcode)


if __name__ == "__main__":
    main()
