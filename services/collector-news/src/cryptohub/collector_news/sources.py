"""Every source the settings ask for, as provider clients, requests and bound parse functions."""

import functools
import logging
from collections.abc import Mapping
from datetime import timedelta

import httpx

from cryptohub.collector_news.dates import DatePolicy
from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.poller import Source
from cryptohub.collector_news.providers.cryptopanic import (
    cryptopanic_request,
    cryptopanic_spec,
    parse_posts,
)
from cryptohub.collector_news.providers.fear_greed import ALTERNATIVE_ME
from cryptohub.collector_news.providers.feeds import (
    feed_request,
    feed_spec,
    parse_feed,
    resolve_feed,
)
from cryptohub.collector_news.providers.newsapi import (
    newsapi_request,
    newsapi_spec,
    parse_everything,
)
from cryptohub.collector_news.providers.reddit import REDDIT, parse_listing, reddit_request
from cryptohub.collector_news.settings import Settings
from cryptohub.common.providers import ProviderClient, ProviderSpec, resolve
from cryptohub.common.providers.client import AttemptSink

__all__ = ["build_sources", "fear_greed_client"]

log = logging.getLogger(__name__)


def _policy(settings: Settings) -> DatePolicy:
    return DatePolicy(
        max_age=settings.article_max_age, future_skew=timedelta(seconds=settings.future_skew_s)
    )


class _Clients:
    def __init__(
        self,
        http: httpx.AsyncClient,
        attempts: AttemptSink | None,
        environ: Mapping[str, str] | None,
        service: str,
    ) -> None:
        self._http = http
        self._attempts = attempts
        self._environ = environ
        self._service = service

    def make(self, spec: ProviderSpec, *, feed: bool = False) -> ProviderClient:
        resolved = resolve_feed(spec, self._environ) if feed else resolve(spec, self._environ)
        return ProviderClient(resolved, self._http, attempts=self._attempts, source=self._service)


def _cryptopanic(settings: Settings, clients: _Clients, policy: DatePolicy) -> Source:
    client = clients.make(cryptopanic_spec(monthly_credits=settings.cryptopanic_monthly_credits))
    return Source(
        name=client.name,
        client=client,
        request=cryptopanic_request(path=settings.cryptopanic_path),
        parse=functools.partial(parse_posts, normaliser=Normaliser(client.name, policy)),
        interval=settings.cryptopanic_interval_s,
    )


def _newsapi(settings: Settings, clients: _Clients, policy: DatePolicy) -> Source:
    client = clients.make(newsapi_spec(monthly_credits=settings.newsapi_monthly_credits))
    return Source(
        name=client.name,
        client=client,
        request=newsapi_request(query=settings.newsapi_query, language=settings.newsapi_language),
        parse=functools.partial(
            parse_everything,
            normaliser=Normaliser(client.name, policy),
            language=settings.newsapi_language,
        ),
        interval=settings.newsapi_interval_s,
    )


def build_sources(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    attempts: AttemptSink | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Source]:
    """One Source per feed, per subreddit, and for CryptoPanic and NewsAPI when their keys are
    set (a source whose key is missing is left out, said once in the log)."""
    clients = _Clients(http, attempts, environ, settings.service)
    policy = _policy(settings)
    sources: list[Source] = []
    for feed_settings in settings.feeds:
        feed = feed_settings.feed()
        normaliser = Normaliser(feed.name, policy)
        sources.append(
            Source(
                name=feed.name,
                client=clients.make(
                    feed_spec(feed, per_minute=settings.feed_requests_per_minute), feed=True
                ),
                request=feed_request(feed),
                parse=functools.partial(parse_feed, feed=feed, normaliser=normaliser),
                interval=settings.feed_interval_s,
            )
        )
    if settings.reddit_subreddits:
        reddit = clients.make(REDDIT)
        normaliser = Normaliser(REDDIT.name, policy)
        sources.extend(
            Source(
                name=REDDIT.name,
                client=reddit,
                request=reddit_request(sub, limit=settings.reddit_limit),
                parse=functools.partial(parse_listing, normaliser=normaliser),
                interval=settings.reddit_interval_s,
            )
            for sub in settings.reddit_subreddits
        )
    for keyed in (_cryptopanic(settings, clients, policy), _newsapi(settings, clients, policy)):
        if keyed.client.enabled:
            sources.append(keyed)
        else:
            log.info("%s", keyed.client.provider.disabled_reason)
    return sources


def fear_greed_client(
    http: httpx.AsyncClient,
    *,
    attempts: AttemptSink | None = None,
    environ: Mapping[str, str] | None = None,
    service: str = "collector-news",
) -> ProviderClient:
    return _Clients(http, attempts, environ, service).make(ALTERNATIVE_ME)
