"""Provider declarations and pure parse functions, one module per source."""
