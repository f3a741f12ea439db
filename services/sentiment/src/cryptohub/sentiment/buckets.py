"""The service's own KV buckets: articles already scored, and each asset's recent articles."""

from datetime import timedelta
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from cryptohub.common.streams import NEWS

__all__ = ["ASSETS_TTL", "SCORED_TTL", "ensure_bucket"]

# A scored mark lives as long as the article can be redelivered from NEWS.
SCORED_TTL: Final = NEWS.max_age
# An asset's window only needs the last 24 h; a symbol with no news for two days disappears.
ASSETS_TTL: Final = timedelta(days=2)


async def ensure_bucket(js: JetStreamContext, bucket: str, *, ttl: timedelta) -> KeyValue:
    """The bucket, created (file-backed, one value per key, entries expire after `ttl`) if
    missing; an existing bucket is used as it is."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        config = KeyValueConfig(
            bucket=bucket,
            description="cryptohub sentiment service state",
            history=1,
            ttl=ttl.total_seconds(),
            storage=StorageType.FILE,
        )
        return await js.create_key_value(config)
