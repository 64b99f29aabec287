resource "aws_lb_target_group" "guestbook" {
  name                 = "${local.prefix}-gb"
  port                 = var.node_port
  protocol             = "TCP"
  vpc_id               = aws_vpc.lab.id
  target_type          = "instance"
  preserve_client_ip   = "false"
  deregistration_delay = 30
  health_check {
    protocol = "TCP"
    port     = "traffic-port"
  }
  tags = { Name = "${local.prefix}-gb" }
}

resource "aws_lb" "guestbook" {
  #checkov:skip=CKV_AWS_91:a lab's load balancer keeps no access logs (no bucket to own)
  #checkov:skip=CKV_AWS_150:labs are disposable: `labctl down` must be able to delete it
  #checkov:skip=CKV2_AWS_28:a network load balancer takes no WAF
  #checkov:skip=CKV2_AWS_20:a network load balancer passes TCP through, it has no HTTP to redirect
  name                             = "${local.prefix}-nlb"
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = [aws_subnet.lb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = false
  tags                             = { Name = "${local.prefix}-nlb" }
}

resource "aws_lb_listener" "guestbook" {
  #checkov:skip=CKV_AWS_2:the guestbook is plain HTTP passed through TCP, as in the local lab
  #checkov:skip=CKV_AWS_103:no TLS termination at a TCP listener
  load_balancer_arn = aws_lb.guestbook.arn
  port              = var.lb_port
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.guestbook.arn
  }
}
