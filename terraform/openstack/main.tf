# The same lab as `labctl up openstack` (engine ansible) builds: one network,
# subnet and router, one security group, one key pair, a port + server +
# floating IP per node. Names and markers match, so `labctl down` also finds
# what this configuration made.

locals {
  prefix = "labctl-${var.lab_name}-"
  marker = "labctl-lab=${var.lab_name}"
  nodes = merge(
    { for i in range(1, var.controllers + 1) : "controller-${i}" => "controller" },
    { for i in range(1, var.workers + 1) : "worker-${i}" => "worker" },
    var.controllers > 1 ? { "api-lb" = "api_lb" } : {},
  )
}

data "openstack_images_image_v2" "node" {
  name        = var.image
  most_recent = true
}

data "openstack_compute_flavor_v2" "node" {
  name = var.flavor
}

data "openstack_networking_network_v2" "external" {
  name     = var.external_network
  external = true
}

resource "openstack_compute_keypair_v2" "lab" {
  name       = "${local.prefix}key"
  public_key = file(var.ssh_public_key_file)
}

resource "openstack_networking_network_v2" "lab" {
  name           = "${local.prefix}net"
  description    = local.marker
  admin_state_up = true
  tags           = [local.marker]
}

resource "openstack_networking_subnet_v2" "lab" {
  name        = "${local.prefix}subnet"
  description = local.marker
  network_id  = openstack_networking_network_v2.lab.id
  cidr        = var.subnet_cidr
  ip_version  = 4
  tags        = [local.marker]
}

resource "openstack_networking_router_v2" "lab" {
  name                = "${local.prefix}router"
  description         = local.marker
  external_network_id = data.openstack_networking_network_v2.external.id
  tags                = [local.marker]
}

resource "openstack_networking_router_interface_v2" "lab" {
  router_id = openstack_networking_router_v2.lab.id
  subnet_id = openstack_networking_subnet_v2.lab.id
}

resource "openstack_networking_secgroup_v2" "lab" {
  name        = "${local.prefix}sg"
  description = local.marker
  tags        = [local.marker]
}

resource "openstack_networking_secgroup_rule_v2" "ssh" {
  description       = "SSH from the operator"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = var.allow_from
}

resource "openstack_networking_secgroup_rule_v2" "api" {
  description       = "Kubernetes API from the operator"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.api_port
  port_range_max    = var.api_port
  remote_ip_prefix  = var.allow_from
}

resource "openstack_networking_secgroup_rule_v2" "node_ports" {
  description       = "NodePorts from the operator"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.node_port_min
  port_range_max    = var.node_port_max
  remote_ip_prefix  = var.allow_from
}

resource "openstack_networking_secgroup_rule_v2" "icmp" {
  description       = "ping from the operator"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "icmp"
  remote_ip_prefix  = var.allow_from
}

resource "openstack_networking_secgroup_rule_v2" "internal" {
  description       = "everything between the lab's nodes"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  remote_group_id   = openstack_networking_secgroup_v2.lab.id
}

# Nodes reach the API at its floating IP (the endpoint in every kubeconfig);
# the router hairpins that traffic with its gateway address as the source.
resource "openstack_networking_secgroup_rule_v2" "api_hairpin" {
  description       = "Kubernetes API from the nodes via floating IPs"
  security_group_id = openstack_networking_secgroup_v2.lab.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = var.api_port
  port_range_max    = var.api_port
  remote_ip_prefix  = "${openstack_networking_router_v2.lab.external_fixed_ip[0].ip_address}/32"
}

# A port per node carries the security group and lets pod and service traffic
# through port security; the server and the floating IP hang off it.
resource "openstack_networking_port_v2" "node" {
  for_each           = local.nodes
  name               = "${local.prefix}${each.key}-port"
  description        = local.marker
  network_id         = openstack_networking_network_v2.lab.id
  admin_state_up     = true
  security_group_ids = [openstack_networking_secgroup_v2.lab.id]
  tags               = [local.marker]

  fixed_ip {
    subnet_id = openstack_networking_subnet_v2.lab.id
  }

  allowed_address_pairs {
    ip_address = var.pod_cidr
  }

  allowed_address_pairs {
    ip_address = var.service_cidr
  }
}

resource "openstack_compute_instance_v2" "node" {
  for_each  = local.nodes
  name      = "${local.prefix}${each.key}"
  image_id  = data.openstack_images_image_v2.node.id
  flavor_id = data.openstack_compute_flavor_v2.node.id
  key_pair  = openstack_compute_keypair_v2.lab.name
  user_data = "#cloud-config\nhostname: ${each.key}\npreserve_hostname: false\n"

  metadata = {
    "labctl-lab"  = var.lab_name
    "labctl-node" = each.key
    "labctl-role" = each.value
  }

  network {
    port = openstack_networking_port_v2.node[each.key].id
  }
}

resource "openstack_networking_floatingip_v2" "node" {
  for_each    = local.nodes
  pool        = data.openstack_networking_network_v2.external.name
  port_id     = openstack_networking_port_v2.node[each.key].id
  description = local.marker
  tags        = [local.marker]

  # Neutron refuses a floating IP until the subnet is routed to the external network.
  depends_on = [openstack_networking_router_interface_v2.lab]
}
