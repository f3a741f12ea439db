"""Health: watches every provider call, owns provider state (KV provider_state) and alerts."""
