"""The market collector: prices with consensus, candles, global market and DeFi TVL."""
