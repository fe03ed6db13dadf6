"""What the tools call."""
