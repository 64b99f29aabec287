variable "lab_name" {
  description = "The lab's name: every resource is named labctl-<lab_name>-… and marked labctl-lab=<lab_name>."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.lab_name))
    error_message = "lab_name: 1-20 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "cloud" {
  description = "The cloud's name in clouds.yaml."
  type        = string
}

variable "image" {
  description = "Image name (Debian 12 by default, as on every labctl node)."
  type        = string
  default     = "debian-12"
}

variable "ssh_user" {
  description = "The image's login user."
  type        = string
  default     = "debian"
}

variable "flavor" {
  description = "Flavor of every node."
  type        = string
  default     = "m1.medium"
}

variable "external_network" {
  description = "External network for the router's gateway and the floating IPs."
  type        = string
  default     = "public"
}

variable "allow_from" {
  description = "The only CIDR admitted to SSH, the Kubernetes API, ICMP and NodePorts (your address, e.g. 203.0.113.7/32)."
  type        = string
  validation {
    condition     = can(cidrhost(var.allow_from, 0))
    error_message = "allow_from must be an IPv4 CIDR such as 203.0.113.7/32."
  }
}

variable "controllers" {
  description = "Controllers: 1, or an odd number for etcd quorum (3 adds an API load balancer node)."
  type        = number
  default     = 1
  validation {
    condition     = var.controllers >= 1 && var.controllers <= 7 && var.controllers % 2 == 1
    error_message = "controllers must be odd, 1 to 7."
  }
}

variable "workers" {
  description = "Worker nodes."
  type        = number
  default     = 2
  validation {
    condition     = var.workers >= 1 && var.workers <= 20
    error_message = "workers must be 1 to 20."
  }
}

variable "ssh_public_key_file" {
  description = "Public half of the lab's SSH key (labctl keeps the private half, 0600, in the lab state)."
  type        = string
}

variable "subnet_cidr" {
  description = "The lab subnet; must not overlap pod_cidr or service_cidr."
  type        = string
  default     = "10.42.0.0/24"
}

variable "pod_cidr" {
  description = "Kubernetes pod range: nodes may send from it (allowed address pairs)."
  type        = string
  default     = "10.244.0.0/16"
}

variable "service_cidr" {
  description = "Kubernetes service range: nodes may send from it (allowed address pairs)."
  type        = string
  default     = "10.96.0.0/16"
}

variable "api_port" {
  description = "Kubernetes API port."
  type        = number
  default     = 6443
}

variable "node_port_min" {
  description = "First NodePort."
  type        = number
  default     = 30000
}

variable "node_port_max" {
  description = "Last NodePort."
  type        = number
  default     = 32767
}
