"""labctl: a Kubernetes lab provisioner with failure drills, driven by Ansible."""

__version__ = "0.1.0"
