"""One module per provider: its declaration, requests, wire shapes and pure parse functions."""
