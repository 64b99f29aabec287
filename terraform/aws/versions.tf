terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource carries labctl-lab=<lab>: `labctl down` finds the lab by this tag alone.
  default_tags {
    tags = {
      "labctl-lab" = var.lab_name
    }
  }

  # An emulator or private endpoint (labctl passes AWS_ENDPOINT_URL here).
  dynamic "endpoints" {
    for_each = var.endpoint_url == "" ? [] : [var.endpoint_url]
    content {
      autoscaling = endpoints.value
      ec2         = endpoints.value
      elbv2       = endpoints.value
      iam         = endpoints.value
      sts         = endpoints.value
    }
  }
}
