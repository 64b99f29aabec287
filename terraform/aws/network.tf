data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:only the first zone is used, and only when availability_zone is not given
  state = "available"
}

locals {
  prefix = "labctl-${var.lab_name}"
  zone   = var.availability_zone != "" ? var.availability_zone : data.aws_availability_zones.available.names[0]
}

resource "aws_vpc" "lab" {
  #checkov:skip=CKV2_AWS_11:flow logs need a log group and a role; a disposable lab keeps none
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = { Name = local.prefix }
}

# The default security group of the VPC admits nothing (nodes use their own).
resource "aws_default_security_group" "lab" {
  vpc_id = aws_vpc.lab.id
  tags   = { Name = "${local.prefix}-default" }
}

resource "aws_subnet" "nodes" {
  vpc_id            = aws_vpc.lab.id
  cidr_block        = var.node_subnet_cidr
  availability_zone = local.zone
  #checkov:skip=CKV_AWS_130:nodes are reached over SSH; the security group admits only allow_from
  map_public_ip_on_launch = true
  tags                    = { Name = "${local.prefix}-nodes" }
}

resource "aws_subnet" "lb" {
  vpc_id            = aws_vpc.lab.id
  cidr_block        = var.lb_subnet_cidr
  availability_zone = local.zone
  tags              = { Name = "${local.prefix}-lb" }
}

resource "aws_internet_gateway" "lab" {
  vpc_id = aws_vpc.lab.id
  tags   = { Name = local.prefix }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.lab.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.lab.id
  }
  tags = { Name = local.prefix }
}

resource "aws_route_table_association" "nodes" {
  subnet_id      = aws_subnet.nodes.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "lb" {
  subnet_id      = aws_subnet.lb.id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "nodes" {
  name        = "${local.prefix}-nodes"
  description = "labctl lab ${var.lab_name}: SSH and API from the operator, all between nodes, NodePort from the load balancer"
  vpc_id      = aws_vpc.lab.id
  tags        = { Name = "${local.prefix}-nodes" }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.nodes.id
  description       = "SSH from the operator"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.allow_from
}

resource "aws_vpc_security_group_ingress_rule" "api" {
  security_group_id = aws_security_group.nodes.id
  description       = "Kubernetes API from the operator"
  ip_protocol       = "tcp"
  from_port         = var.api_port
  to_port           = var.api_port
  cidr_ipv4         = var.allow_from
}

resource "aws_vpc_security_group_ingress_rule" "node_to_node" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "node to node"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.nodes.id
}

resource "aws_vpc_security_group_ingress_rule" "node_port" {
  security_group_id = aws_security_group.nodes.id
  description       = "guestbook NodePort from the load balancer"
  ip_protocol       = "tcp"
  from_port         = var.node_port
  to_port           = var.node_port
  # The target group does not preserve client addresses: the load balancer's subnet is the only source.
  cidr_ipv4 = var.lb_subnet_cidr
}

resource "aws_vpc_security_group_ingress_rule" "operator_node_ports" {
  for_each          = toset([for port in var.operator_node_ports : tostring(port)])
  security_group_id = aws_security_group.nodes.id
  description       = "the apps' NodePorts from the operator (labctl's checks and availability probe)"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.allow_from
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.nodes.id
  description       = "nodes reach package mirrors and release downloads"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
