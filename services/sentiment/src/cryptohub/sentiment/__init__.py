"""CryptoHub sentiment: scores news articles with CryptoBERT models and aggregates per asset."""
