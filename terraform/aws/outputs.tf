# The output contract shared with terraform/openstack (terraform/README.md):
# `labctl inventory from-terraform` turns `terraform output -json` into the inventory.

locals {
  worker_ids         = sort(data.aws_instances.workers.ids)
  worker_public_ips  = zipmap(data.aws_instances.workers.ids, data.aws_instances.workers.public_ips)
  worker_private_ips = zipmap(data.aws_instances.workers.ids, data.aws_instances.workers.private_ips)
}

output "lab_name" {
  description = "The lab these machines belong to."
  value       = var.lab_name
}

output "provider" {
  description = "Which provider made them."
  value       = "aws"
}

output "ssh_user" {
  description = "Login user of the image (labctl runs the roles as root through sudo)."
  value       = local.images[var.os].user
}

output "controllers" {
  description = "Controller nodes: name, addresses, instance id."
  value = [{
    name       = "controller-1"
    id         = aws_instance.controller.id
    public_ip  = aws_instance.controller.public_ip
    private_ip = aws_instance.controller.private_ip
  }]
}

output "workers" {
  description = "Worker nodes of the Auto Scaling group, named worker-1… by instance id."
  value = [for index, id in local.worker_ids : {
    name       = "worker-${index + 1}"
    id         = id
    public_ip  = local.worker_public_ips[id]
    private_ip = local.worker_private_ips[id]
  }]
}

output "api_endpoint" {
  description = "Kubernetes API of the lab."
  value       = "https://${aws_instance.controller.public_ip}:${var.api_port}"
}

output "guestbook_url" {
  description = "The guestbook frontend through the network load balancer."
  value       = "http://${aws_lb.guestbook.dns_name}"
}

output "python_interpreter" {
  description = "Python for Ansible on the nodes ('' = the image's own)."
  value       = var.os == "flatcar" ? "/opt/bin/python3" : ""
}

output "inventory_vars" {
  description = "Extra top-level inventory variables."
  value = {
    aws_region = var.region
    node_os    = var.os
  }
}
