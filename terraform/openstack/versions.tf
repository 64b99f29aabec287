terraform {
  required_version = ">= 1.5"
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
  }
}

# Credentials come from clouds.yaml (OS_CLIENT_CONFIG_FILE / ~/.config/openstack),
# exactly as for `labctl up openstack`: never from variables, so never in state or plans.
provider "openstack" {
  cloud = var.cloud
}
