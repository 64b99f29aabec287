# The output contract labctl reads (terraform/README.md, labctl/providers/terraform.py):
# `terraform output -json > out.json && labctl inventory from-terraform out.json --lab LAB`.

locals {
  # Lists are built by index, not from the map, so worker-10 comes after worker-9.
  node_view = {
    for name, role in local.nodes : name => {
      name       = name
      id         = openstack_compute_instance_v2.node[name].id
      public_ip  = openstack_networking_floatingip_v2.node[name].address
      private_ip = openstack_networking_port_v2.node[name].all_fixed_ips[0]
    }
  }
  # Clients and kubelets reach the API through the load balancer node in HA, else the first controller.
  api_front = var.controllers > 1 ? "api-lb" : "controller-1"
}

output "lab_name" {
  description = "The lab this configuration built."
  value       = var.lab_name
}

output "provider" {
  description = "Always openstack."
  value       = "openstack"
}

output "ssh_user" {
  description = "The image's login user."
  value       = var.ssh_user
}

output "controllers" {
  description = "Controllers: [{name, public_ip, private_ip, id}]."
  value       = [for i in range(1, var.controllers + 1) : local.node_view["controller-${i}"]]
}

output "workers" {
  description = "Workers: [{name, public_ip, private_ip, id}]."
  value       = [for i in range(1, var.workers + 1) : local.node_view["worker-${i}"]]
}

output "api_lb" {
  description = "The API load balancer node in the HA topology (else empty): [{name, public_ip, private_ip, id}]."
  value       = [for name, node in local.node_view : node if local.nodes[name] == "api_lb"]
}

output "api_endpoint" {
  description = "Where clients reach the Kubernetes API."
  value       = "https://${local.node_view[local.api_front].public_ip}:${var.api_port}"
}

output "inventory_vars" {
  description = "Extra inventory variables, as `labctl up openstack` sets them."
  value = {
    api_endpoint_host = local.node_view[local.api_front].public_ip
    openstack_cloud   = var.cloud
  }
}
