"""Prometheus metrics of the news collector (the shared provider and publish metrics come from
`cryptohub.common.telemetry.metrics`)."""

from prometheus_client import Counter

anomalies = Counter(
    "cryptohub_news_anomalies_total",
    "Problems met in provider bodies and items, by source and kind: malformed_xml, empty_feed, "
    "unreadable_body, html_title, missing_url, bad_url, missing_title, missing_date, bad_date, "
    "future_date, stale_date, removed, bad_value, filtered_nsfw, filtered_stickied.",
    ["source", "kind"],
)
articles = Counter(
    "cryptohub_news_articles_total",
    "Articles after parsing, by source and outcome: published, duplicate_url, duplicate_title, "
    "duplicate_event (JetStream already had it), publish_failed.",
    ["source", "outcome"],
)
polls = Counter(
    "cryptohub_news_polls_total",
    "Polls by source and outcome: ok, not_modified, failed, skipped_offline.",
    ["source", "outcome"],
)
parses = Counter(
    "cryptohub_news_bodies_parsed_total",
    "Provider bodies parsed, by source (an answer of 304 Not Modified is never parsed).",
    ["source"],
)
index_values = Counter(
    "cryptohub_news_index_values_total",
    "Sentiment index values (Fear & Greed), by outcome: published, already_published.",
    ["name", "outcome"],
)
