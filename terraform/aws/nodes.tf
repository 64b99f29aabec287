locals {
  images = {
    debian  = { owner = "136693071363", name = "debian-12-${var.architecture == "arm64" ? "arm64" : "amd64"}-*", user = "admin" }
    flatcar = { owner = "075585003325", name = "Flatcar-stable-*", user = "core" }
  }
  ami = var.ami_id != "" ? var.ami_id : data.aws_ami.official[0].id
  metadata = {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }
}

# Looked up by the publisher's account, so a look-alike image of someone else is never picked.
data "aws_ami" "official" {
  count       = var.ami_id == "" ? 1 : 0
  most_recent = true
  owners      = [local.images[var.os].owner]
  filter {
    name   = "name"
    values = [local.images[var.os].name]
  }
  filter {
    name   = "architecture"
    values = [var.architecture]
  }
  filter {
    name   = "state"
    values = ["available"]
  }
}

resource "aws_key_pair" "lab" {
  key_name   = local.prefix
  public_key = var.ssh_public_key
}

resource "aws_instance" "controller" {
  #checkov:skip=CKV_AWS_88:the controller is reached over SSH and the API from allow_from only
  #checkov:skip=CKV_AWS_126:detailed monitoring costs money and a lab does not need it
  #checkov:skip=CKV2_AWS_41:nodes call no AWS API, so they get no IAM role
  ami                         = local.ami
  instance_type               = var.controller_instance_type
  subnet_id                   = aws_subnet.nodes.id
  vpc_security_group_ids      = [aws_security_group.nodes.id]
  key_name                    = aws_key_pair.lab.key_name
  user_data                   = var.controller_user_data != "" ? var.controller_user_data : null
  user_data_replace_on_change = false
  ebs_optimized               = true
  root_block_device {
    volume_size           = var.root_volume_gb
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }
  metadata_options {
    http_endpoint               = local.metadata.http_endpoint
    http_tokens                 = local.metadata.http_tokens
    http_put_response_hop_limit = local.metadata.http_put_response_hop_limit
    instance_metadata_tags      = local.metadata.instance_metadata_tags
  }
  tags = {
    Name          = "${local.prefix}-controller-1"
    "labctl-role" = "controller"
    "labctl-node" = "controller-1"
  }
  volume_tags = { "labctl-lab" = var.lab_name }
}

resource "aws_launch_template" "worker" {
  name                   = "${local.prefix}-worker"
  image_id               = local.ami
  instance_type          = var.worker_instance_type
  key_name               = aws_key_pair.lab.key_name
  vpc_security_group_ids = [aws_security_group.nodes.id]
  user_data              = var.worker_user_data != "" ? base64encode(var.worker_user_data) : null
  ebs_optimized          = true
  block_device_mappings {
    device_name = var.root_device_name
    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }
  metadata_options {
    http_endpoint               = local.metadata.http_endpoint
    http_tokens                 = local.metadata.http_tokens
    http_put_response_hop_limit = local.metadata.http_put_response_hop_limit
    instance_metadata_tags      = local.metadata.instance_metadata_tags
  }
  # default_tags do not reach what a template launches: tag instances and volumes here.
  tag_specifications {
    resource_type = "instance"
    tags          = { "labctl-lab" = var.lab_name, "labctl-role" = "worker" }
  }
  tag_specifications {
    resource_type = "volume"
    tags          = { "labctl-lab" = var.lab_name }
  }
  tags = { Name = "${local.prefix}-worker" }
}

resource "aws_autoscaling_group" "workers" {
  name                      = "${local.prefix}-workers"
  min_size                  = 0
  max_size                  = var.worker_count + 1
  desired_capacity          = var.worker_count
  vpc_zone_identifier       = [aws_subnet.nodes.id]
  target_group_arns         = [aws_lb_target_group.guestbook.arn]
  health_check_type         = "EC2"
  health_check_grace_period = 300
  launch_template {
    id      = aws_launch_template.worker.id
    version = "$Latest"
  }
  dynamic "tag" {
    for_each = {
      Name          = "${local.prefix}-worker"
      "labctl-lab"  = var.lab_name
      "labctl-role" = "worker"
    }
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
  # labctl's scale-up drill grows the group; a later apply must not shrink it back.
  lifecycle {
    ignore_changes = [desired_capacity, max_size]
  }
}

# The group's instances, once it has reached its capacity.
data "aws_instances" "workers" {
  instance_tags = {
    "aws:autoscaling:groupName" = aws_autoscaling_group.workers.name
  }
  instance_state_names = ["running"]
  depends_on           = [aws_autoscaling_group.workers]
}
