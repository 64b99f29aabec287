variable "lab_name" {
  description = "Lab name: 1-20 lowercase letters, digits or '-', starting with a letter."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.lab_name))
    error_message = "lab_name: use 1-20 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "availability_zone" {
  description = "Zone of the lab; empty = the region's first available zone."
  type        = string
  default     = ""
}

variable "allow_from" {
  description = "CIDR admitted to SSH and the Kubernetes API (your address, e.g. 203.0.113.7/32)."
  type        = string
  validation {
    condition     = can(cidrnetmask(var.allow_from))
    error_message = "allow_from must be an IPv4 CIDR such as 203.0.113.7/32."
  }
}

variable "os" {
  description = "Node image: debian (Debian 12) or flatcar (Flatcar Container Linux stable)."
  type        = string
  default     = "debian"
  validation {
    condition     = contains(["debian", "flatcar"], var.os)
    error_message = "os must be debian or flatcar."
  }
}

variable "architecture" {
  description = "CPU architecture of the instance types: x86_64 or arm64."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  description = "Image of every node; empty = the newest official image of var.os (looked up by owner and name)."
  type        = string
  default     = ""
}

variable "root_device_name" {
  description = "Root device name of the image."
  type        = string
  default     = "/dev/xvda"
}

variable "root_volume_gb" {
  description = "Root volume size of every node, GiB."
  type        = number
  default     = 30
}

variable "controller_instance_type" {
  description = "Instance type of the controller."
  type        = string
  default     = "t3.medium"
}

variable "worker_instance_type" {
  description = "Instance type of the workers."
  type        = string
  default     = "t3.medium"
}

variable "worker_count" {
  description = "Workers in the Auto Scaling group at creation (labctl's scale-up raises it later)."
  type        = number
  default     = 2
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed on every node (labctl generates the lab's key)."
  type        = string
}

variable "node_port" {
  description = "NodePort of the guestbook frontend, behind the network load balancer."
  type        = number
  default     = 31080
}

variable "api_port" {
  description = "Kubernetes API port."
  type        = number
  default     = 6443
}

variable "lb_port" {
  description = "Listener port of the network load balancer."
  type        = number
  default     = 80
}

variable "vpc_cidr" {
  description = "VPC network (must not overlap the cluster's pod and service networks)."
  type        = string
  default     = "10.60.0.0/16"
}

variable "node_subnet_cidr" {
  description = "Subnet of the nodes."
  type        = string
  default     = "10.60.1.0/24"
}

variable "lb_subnet_cidr" {
  description = "Subnet of the load balancer alone: nodes admit the NodePort from it only."
  type        = string
  default     = "10.60.2.0/26"
}

variable "controller_user_data" {
  description = "First-boot data of the controller (cloud-config or Ignition JSON; labctl writes it)."
  type        = string
  default     = ""
}

variable "worker_user_data" {
  description = "First-boot data of the workers (plain text; encoded here)."
  type        = string
  default     = ""
}

variable "endpoint_url" {
  description = "AWS API endpoint override, for an emulator; empty = AWS."
  type        = string
  default     = ""
}

variable "operator_node_ports" {
  description = "The apps' NodePorts the operator's checks and availability probe reach on every node."
  type        = list(number)
  default     = [31000, 31080]
}
