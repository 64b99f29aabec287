"""Strategy labctl.lab.mitogen_unpinned: mitogen's linear strategy, with its processes left to the kernel's scheduler.

Mitogen pins the processes it starts to CPUs. On a host with two or three, it keeps CPU 0 for its connection
multiplexer and pins Ansible's main process and every task's worker to the others, one each in turn; what the
multiplexer starts (the SSH clients, this host's Python for `localhost` tasks, and so the commands it runs) may run
anywhere but CPU 0. On two cores, all but the multiplexer then share one core: commands run on this host see one
CPU, and several labs' playbooks at once (a class) queue on that core while the other idles. This strategy pins
nothing, on any host. Everything else is mitogen's linear strategy unchanged. Measured before and after in
benchmarks/RESULTS.md ("mitogen's CPU pinning").
"""

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy

DOCUMENTATION = """
name: mitogen_unpinned
short_description: mitogen's linear strategy without CPU pinning
description:
  - Runs tasks as ansible.builtin.linear does, through mitogen's persistent Pythons, with mitogen's CPU affinity
    policy replaced by one that pins nothing.
author: labctl
"""

# The base policy's methods do nothing: mitogen's setup of the main process, the multiplexer and each worker calls
# them through this module attribute, so every process it forks keeps the affinity it was started with.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Linear):  # type: ignore[misc,valid-type]
    pass
