"""The cryptohub command line: runs the embedded infrastructure and supervises every service."""
