"""The AWS provider: a VPC, a controller and an Auto Scaling group of workers per lab (provider.PROVIDER)."""
