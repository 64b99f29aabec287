#!/usr/bin/python
"""Documentation of the action plugin labctl.lab.drill_record (it runs on the controller; there is no module code)."""

DOCUMENTATION = r"""
---
module: drill_record
short_description: Record a running drill's phases, instants, expectations and events
description:
  - Changes the host fact C(drill_record), which labctl reads at the end of the drill (through the run's stats, with
    I(report)) and while it runs (from the task results, for the live view).
  - Every call names exactly one of I(phase), I(fail), I(mark), I(expect), I(event), I(restore), I(expected_s), I(resume) or I(report),
    or several of them as I(steps), applied in order in one task (each Ansible task costs a drill about 40 ms).
  - Times are kept as epoch seconds; I(at) and a wait result's C(at) may be epoch seconds or ISO 8601.
  - Runs on the Ansible controller with the labctl Python package.
options:
  phase:
    description: Close the open phase and open this one (C(done) only closes; C(preflight) starts a new record).
    type: str
    choices: [preflight, inject, observe, restore, verify, done]
  fail:
    description: Close the open phase as failed with this message, which also becomes the drill's error.
    type: str
  mark:
    description: Record a named instant (injected, detected, recovered...), at I(at) or now.
    type: str
  at:
    description: When the instant happened, or when the expectation was seen to hold (a labctl.lab.wait result's
      C(at)); for an expectation, the wait result's C(at) when judged by I(result), else now, when empty.
    type: raw
  expect:
    description: Record an expectation of the catalog, in its words; needs I(expected).
    type: str
  expected:
    description: What should be observed.
    type: raw
  result:
    description: A registered labctl.lab.wait result; its met, observed and at judge the expectation.
    type: dict
  met:
    description: For checks that are not waits, whether the expectation held.
    type: raw
  observed:
    description: What was observed (defaults to the wait result's observation).
    type: raw
  then_mark:
    description: With I(expect), the instant this expectation times when it holds, recorded at the time it was seen.
    type: str
  verifies_restore:
    description: With I(expect), this expectation is the restore's verification (restore.verified is whether it held).
    type: bool
  event:
    description: Record an event for the drill's journal with this message.
    type: str
  kind:
    description: The event's kind (action, observation, preflight...).
    type: str
    default: observation
  restore:
    description: Whether the fault was undone (performed) and the cluster then seen healthy (verified).
    type: dict
  expected_s:
    description: What the cluster's settings say each timed duration should take, in seconds (name to seconds).
    type: dict
  resume:
    description: Go on with this record, which an earlier stage of the same drill handed to labctl (a drill whose fault
      labctl makes through the provider runs in stages).
    type: dict
  steps:
    description: Several actions in order, each a dict of the options above naming one of them; with I(report), the record
      they leave is handed to labctl.
    type: list
    elements: dict
  report:
    description: Hand the whole record to labctl through the run's stats (the engine's last step).
    type: bool
    default: false
author: labctl developers
"""

EXAMPLES = r"""
- name: Record the replacement
  labctl.lab.drill_record:
    expect: the ReplicaSet creates a replacement pod
    expected: 3 pods
    result: "{{ pod_kill_replacement }}"
    then_mark: replacement_created

- name: Mark the fault injected
  labctl.lab.drill_record:
    mark: injected
"""

RETURN = r"""
ansible_facts:
  description: The record after this call, as C(drill_record).
  type: dict
  returned: unless report
"""
