"""The kit runtime: the logic every handler shares (validate, route, call Bedrock, meter)."""
