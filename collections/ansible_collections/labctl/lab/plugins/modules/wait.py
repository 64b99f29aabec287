#!/usr/bin/python
"""Ansible module labctl.lab.wait: the one way labctl waits for a cluster state."""

DOCUMENTATION = r"""
---
module: wait
short_description: Wait until a Kubernetes lab reaches a state
description:
  - Polls a condition every I(interval) seconds until it holds I(stable_for) times in a row or I(timeout) passes.
  - Returns what was observed and when the condition first held, so drills can record expectations.
  - Runs on the Ansible controller with the labctl Python package.
options:
  condition:
    description:
      - What to poll.
      - node_pods splits the pods (of I(selector), or all in I(namespace)) into C(on_nodes) (bound to I(names))
        and C(elsewhere), each with total, running, ready (non-terminating) and terminating counts and pod names.
      - api_read GETs the default namespace (or I(path)), a read the API server must answer from etcd (unlike
        C(api), which reads /version); observes ok (true when answered), status and reason, and with I(path) the
        object read; C(expect: {ok: false}) holds when the request errors or the connection fails (etcd or the API
        server down).
      - healthy holds when every node is Ready, every Deployment of I(names) is available and every one of I(urls)
        answers 200, in one observation (C(healthy), C(nodes), C(apps), C(serving) and a one-line C(summary)).
      - files holds when every path of I(names) exists on the controller (observes C(missing)); with I(started_file)
        it waits for waits started in the background to have made their first poll.
    type: str
    required: true
    choices: [api, nodes, deployment, pods, http, node_pods, api_read, healthy, files]
  kubeconfig:
    description: Kubeconfig of the lab (not needed for http and files).
    type: path
  name:
    description: Deployment name (condition deployment).
    type: str
  names:
    description:
      - Node names to consider (condition nodes; all nodes when empty), or whose pods to count (condition node_pods),
        or the Deployments that must be available (condition healthy), or the paths that must exist (condition files).
    type: list
    elements: str
  count:
    description: Exact number of nodes expected (condition nodes).
    type: int
  namespace:
    description: Namespace (deployment, pods).
    type: str
    default: default
  selector:
    description: Label selector (condition pods).
    type: str
  since_resource_version:
    description:
      - Condition pods only. Instead of polling, replay the pods' history from this resource version (the
        C(observed.resource_version) of an earlier pods wait) and judge the state after every change, so a
        change that came and went before this task started (a one-second dip) is still seen.
    type: str
  urls:
    description: What must answer 200 (condition healthy).
    type: list
    elements: dict
    suboptions:
      name: {description: What answers (shown in the summary)., type: str, required: true}
      url: {description: Its URL., type: str, required: true}
  url:
    description: URL (condition http). Observes status, the body's start and, with C(expect: {body_contains: TEXT}), found.
    type: str
  server:
    description:
      - API server URL that replaces the kubeconfig's (conditions api, api_read), to ask one API server of an HA
        control plane directly instead of through the load balancer.
    type: str
  path:
    description: API path to read (condition api_read), e.g. /api/v1/namespaces/default/services/redis-master.
    type: str
  ca_file:
    description: CA bundle for an https URL.
    type: path
  expect:
    description: Keys the observation must match; suffixes _at_least, _at_most, _contains compare.
    type: dict
    default: {}
  timeout:
    description: Seconds before giving up.
    type: float
    default: 120
  interval:
    description: Seconds between polls.
    type: float
    default: 1
  stable_for:
    description: Consecutive polls the condition must hold.
    type: int
    default: 1
  fail_on_timeout:
    description: Fail the task when the condition never held (false for drills, which record it).
    type: bool
    default: true
  started_file:
    description:
      - A file created once the first poll is over (answered or failed), for a wait started with C(async) that must
        be watching before the next task breaks something (see condition files). Not with I(since_resource_version).
    type: path
  stop_file:
    description:
      - Ends the wait, unmet and with C(stopped) true (never a failure), once this file exists or the directory that
        would hold it is gone (checked between polls, every 50 ms): a watch started with C(async) that a later
        task ends when the drill has seen what the watch covers. Not with I(since_resource_version).
    type: path
author: labctl developers
"""

EXAMPLES = r"""
- name: Wait for every node to be Ready
  labctl.lab.wait:
    condition: nodes
    kubeconfig: "{{ lab_kubeconfig }}"
    count: 3
    expect: {ready: true}
    timeout: 180
"""

RETURN = r"""
met: {description: Whether the condition held before the deadline., type: bool, returned: always}
observed: {description: The last observation., type: raw, returned: always}
at: {description: When the condition first held (ISO 8601), or null., type: str, returned: always}
waited_since: {description: When waiting started (ISO 8601)., type: str, returned: always}
elapsed_s: {description: Seconds spent waiting., type: float, returned: always}
polls: {description: Number of polls., type: int, returned: always}
stopped: {description: Whether I(stop_file) ended the wait., type: bool, returned: always}
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "condition": {
        "type": "str",
        "required": True,
        "choices": ["api", "nodes", "deployment", "pods", "http", "node_pods", "api_read", "healthy", "files"],
    },
    "kubeconfig": {"type": "path"},
    "name": {"type": "str"},
    "names": {"type": "list", "elements": "str"},
    "count": {"type": "int"},
    "namespace": {"type": "str", "default": "default"},
    "selector": {"type": "str"},
    "since_resource_version": {"type": "str"},
    "url": {"type": "str"},
    "urls": {
        "type": "list",
        "elements": "dict",
        "options": {"name": {"type": "str", "required": True}, "url": {"type": "str", "required": True}},
    },
    "server": {"type": "str"},
    "path": {"type": "str"},
    "ca_file": {"type": "path"},
    "expect": {"type": "dict", "default": {}},
    "timeout": {"type": "float", "default": 120},
    "interval": {"type": "float", "default": 1},
    "stable_for": {"type": "int", "default": 1},
    "fail_on_timeout": {"type": "bool", "default": True},
    "started_file": {"type": "path"},
    "stop_file": {"type": "path"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        from labctl.wait_task import run
    except ImportError as error:
        module.fail_json(msg=f"labctl.lab.wait needs the labctl package on the controller: {error}")
        return
    outcome, failure = run(module.params)
    if failure:
        module.fail_json(msg=failure, changed=False, **outcome)
    module.exit_json(changed=False, **outcome)


if __name__ == "__main__":
    main()
