"""Versioned SQL migrations of the gateway schema, applied in order by cryptohub.gateway.migrate."""
