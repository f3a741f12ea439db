"""Read queries over the gateway's tables, one module per subject area; writes live in persist."""
