"""The private network of a stage: VPC, endpoints derived from its features, flow logs."""
