-- One table per event kind. Every table starts with the same columns:
--   event_id      the fact's id (Nats-Msg-Id, 128 bits as uuid): inserts are idempotent on it
--   subject       the NATS subject it came on
--   stream_seq    its JetStream stream sequence
--   published_at  when JetStream stored it
--   source, observed_at, received_at   as in the event
--   payload       the event's JSON exactly as published
-- Time-range tables carry a BRIN index on observed_at (rows arrive roughly in time order, so a
-- BRIN index stays tiny and lets range scans and retention deletes skip most of the table).

CREATE TABLE price_ticks (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    symbol text NOT NULL,
    quote text NOT NULL,
    price double precision NOT NULL,
    volume_24h double precision,
    market_cap double precision,
    change_24h_pct double precision,
    confidence double precision
);
CREATE INDEX price_ticks_symbol_time ON price_ticks (symbol, observed_at DESC);
CREATE INDEX price_ticks_time_brin ON price_ticks USING brin (observed_at);

CREATE TABLE candles (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    symbol text NOT NULL,
    "interval" text NOT NULL,
    open_time timestamptz NOT NULL,
    open double precision NOT NULL,
    high double precision NOT NULL,
    low double precision NOT NULL,
    close double precision NOT NULL,
    volume double precision NOT NULL,
    quote text NOT NULL,
    is_final boolean NOT NULL
);
CREATE INDEX candles_series ON candles (symbol, "interval", open_time);
CREATE INDEX candles_time_brin ON candles USING brin (observed_at);

CREATE TABLE market_globals (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    total_market_cap_usd double precision NOT NULL,
    total_volume_usd double precision NOT NULL,
    btc_dominance_pct double precision NOT NULL,
    eth_dominance_pct double precision,
    active_cryptocurrencies bigint,
    market_cap_change_24h_pct double precision
);
CREATE INDEX market_globals_time ON market_globals (observed_at DESC);

CREATE TABLE tvl_points (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    protocol text NOT NULL,
    chain text,
    tvl_usd double precision NOT NULL,
    change_1d_pct double precision
);
CREATE INDEX tvl_points_protocol_time ON tvl_points (protocol, observed_at DESC);
CREATE INDEX tvl_points_time_brin ON tvl_points USING brin (observed_at);

CREATE TABLE gas_quotes (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    chain text NOT NULL,
    slow_gwei double precision NOT NULL,
    standard_gwei double precision NOT NULL,
    fast_gwei double precision NOT NULL,
    base_fee_gwei double precision,
    block_number bigint
);
CREATE INDEX gas_quotes_chain_time ON gas_quotes (chain, observed_at DESC);
CREATE INDEX gas_quotes_time_brin ON gas_quotes USING brin (observed_at);

CREATE TABLE block_heads (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    chain text NOT NULL,
    number bigint NOT NULL,
    hash text NOT NULL,
    tx_count bigint NOT NULL,
    gas_used bigint,
    base_fee_gwei double precision
);
CREATE INDEX block_heads_chain_number ON block_heads (chain, number DESC);
CREATE INDEX block_heads_time_brin ON block_heads USING brin (observed_at);

CREATE TABLE whale_transfers (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    chain text NOT NULL,
    tx_hash text NOT NULL,
    from_address text NOT NULL,
    to_address text NOT NULL,
    symbol text NOT NULL,
    amount double precision NOT NULL,
    usd_value double precision,
    block_number bigint
);
CREATE INDEX whale_transfers_time ON whale_transfers (observed_at DESC, event_id DESC);
CREATE INDEX whale_transfers_chain_time ON whale_transfers (chain, observed_at DESC);

CREATE TABLE articles (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    article_id text NOT NULL,
    url text NOT NULL,
    title text NOT NULL,
    summary text NOT NULL,
    outlet text,
    language text,
    symbols text[] NOT NULL
);
CREATE INDEX articles_time ON articles (observed_at DESC, event_id DESC);
CREATE INDEX articles_article_id ON articles (article_id);
CREATE INDEX articles_symbols ON articles USING gin (symbols);

CREATE TABLE article_sentiments (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    article_id text NOT NULL,
    model text NOT NULL,
    model_revision text,
    label text NOT NULL,
    score double precision NOT NULL
);
CREATE INDEX article_sentiments_article ON article_sentiments (article_id, observed_at DESC);
CREATE INDEX article_sentiments_time_brin ON article_sentiments USING brin (observed_at);

CREATE TABLE asset_sentiments (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    symbol text NOT NULL,
    "window" text NOT NULL,
    score double precision NOT NULL,
    label text NOT NULL,
    article_count bigint NOT NULL,
    confidence double precision NOT NULL
);
CREATE INDEX asset_sentiments_symbol_time ON asset_sentiments (symbol, "window", observed_at DESC);

CREATE TABLE sentiment_indexes (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    name text NOT NULL,
    value integer NOT NULL,
    classification text NOT NULL
);
CREATE INDEX sentiment_indexes_name_time ON sentiment_indexes (name, observed_at DESC);

CREATE TABLE provider_attempts (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    provider text NOT NULL,
    endpoint text NOT NULL,
    ok boolean NOT NULL,
    status integer,
    latency_ms double precision NOT NULL,
    error_kind text
);
CREATE INDEX provider_attempts_provider_time ON provider_attempts (provider, observed_at DESC);
CREATE INDEX provider_attempts_time_brin ON provider_attempts USING brin (observed_at);

CREATE TABLE provider_status_changes (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    provider text NOT NULL,
    previous text NOT NULL,
    "current" text NOT NULL,
    reason text NOT NULL
);
CREATE INDEX provider_status_changes_provider_time
    ON provider_status_changes (provider, observed_at DESC);

CREATE TABLE alerts (
    event_id uuid PRIMARY KEY,
    subject text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    source text NOT NULL,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    payload json NOT NULL,
    alert_id text NOT NULL,
    rule text NOT NULL,
    severity text NOT NULL,
    state text NOT NULL,
    message text NOT NULL,
    provider text,
    category text
);
CREATE INDEX alerts_alert_time ON alerts (alert_id, observed_at DESC);
CREATE INDEX alerts_time ON alerts (observed_at DESC);

-- Acknowledgements of alerts by an operator (POST /api/v1/alerts/{id}/ack).
CREATE TABLE alert_acks (
    alert_id text PRIMARY KEY,
    acked_at timestamptz NOT NULL,
    acked_by text NOT NULL,
    note text
);

-- The newest event of each (subject, source), upserted with every batch: live state is warmed
-- from it at start without scanning the event tables.
CREATE TABLE latest_events (
    subject text NOT NULL,
    source text NOT NULL,
    stream text NOT NULL,
    stream_seq bigint NOT NULL,
    published_at timestamptz NOT NULL,
    observed_at timestamptz NOT NULL,
    payload json NOT NULL,
    PRIMARY KEY (subject, source)
);
