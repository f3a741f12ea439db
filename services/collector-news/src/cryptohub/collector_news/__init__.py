"""collector-news: crypto news from RSS/Atom, CryptoPanic, NewsAPI and Reddit, plus Fear & Greed."""
