"""Health at work: consume attempts, carry out the monitor's transitions and alerts, then ack."""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import nats.errors

from cryptohub.common.bus.publish import EventPublisher, PublishError
from cryptohub.common.events import ProviderStateRecord, ProviderStatusChange
from cryptohub.health import metrics
from cryptohub.health.alertbook import alert_event
from cryptohub.health.feed import AttemptFeed, Delivery
from cryptohub.health.monitor import Change, Monitor
from cryptohub.health.notify import Notifier
from cryptohub.health.store import StateStore
from cryptohub.health.tracker import ProviderMemo

__all__ = ["HealthService", "Timing"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_NEVER = datetime.min.replace(tzinfo=UTC)
_REMEMBER = 100_000  # sequences of applied attempts kept to recognise redeliveries


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Timing:
    tick: timedelta = timedelta(seconds=1)
    refresh: timedelta = timedelta(seconds=5)
    lookback: timedelta = timedelta(minutes=5)
    stop_within: float = 10.0
    notify_flush_within: float = 5.0


class HealthService:
    """One loop: pull a batch of attempts, feed the monitor, publish status changes, write KV,
    open and resolve alerts, and only then acknowledge the batch. What fails (NATS away) is
    retried on the next turn; acked attempts are never applied twice."""

    def __init__(
        self,
        monitor: Monitor,
        feed: AttemptFeed,
        store: StateStore,
        publisher: EventPublisher,
        notifier: Notifier,
        *,
        source: str = "health",
        timing: Timing | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.monitor = monitor
        self._feed = feed
        self._store = store
        self._publisher = publisher
        self._notifier = notifier
        self._source = source
        self._timing = timing or Timing()
        self._clock = clock
        self._changes: deque[Change] = deque()
        self._forced: set[str] = set()
        self._to_ack: list[Delivery] = []
        self._floor = 0  # stream sequence up to which the start-up replay counted attempts
        self._recent: set[int] = set()  # sequences applied by this run, the latest _REMEMBER
        self._recent_order: deque[int] = deque()
        self._records: dict[str, ProviderStateRecord] = {}
        self._memos: dict[str, ProviderMemo] = {}
        self._written_at: dict[str, datetime] = {}
        self._next_tick = _NEVER
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Restore the previous run, rebuild the windows from the attempt stream, then run."""
        now = self._clock()
        records = await self._store.load_records()
        memos, alerts = await self._store.load_memory()
        self.monitor.restore(records, memos, alerts)
        self._records = {r.provider: r for r in records}
        self._memos = {m.provider: m for m in memos}
        since = now - self._timing.lookback
        acked = await self._feed.open(since)
        self._floor = acked
        replayed = 0
        async for attempt in self._feed.history(since, acked):
            self.monitor.replay(attempt)
            replayed += 1
        log.info(
            "restored %d provider states and %d open alerts; rebuilt windows from %d attempts",
            len(records),
            len(alerts),
            replayed,
        )
        for record in records:
            metrics.set_state(record.provider, record.state)
        metrics.set_open_alerts(self.monitor.alerts.open)
        self._notifier.start()
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="health")

    async def stop(self) -> None:
        """Finish the turn in progress, save what the monitor knows, stop notifying."""
        self._stopping.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(self._timing.stop_within):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self._save(self._clock(), self.monitor.trackers, every=True)
        except Exception:
            log.exception("could not save health's memory at shutdown")
        with contextlib.suppress(nats.errors.Error):  # NATS already gone: nothing to close
            await self._feed.close()
        await self._notifier.stop(self._timing.notify_flush_within)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._turn()
            except asyncio.CancelledError:
                raise
            except (nats.errors.Error, PublishError) as exc:  # NATS away: the turn is retried
                log.warning("health turn failed: %s: %s; retrying", type(exc).__name__, exc)
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("health turn failed; retrying")
                await asyncio.sleep(1.0)

    async def _turn(self) -> None:
        deliveries = await self._feed.fetch(self._timing.tick.total_seconds())
        metrics.attempts_consumed.inc(len(deliveries))
        now = self._clock()
        touched: set[str] = set()
        for delivery in deliveries:
            self._to_ack.append(delivery)
            if delivery.attempt is None or not self._first_time(delivery.seq):
                continue  # unreadable, or a redelivery of one already counted
            touched.add(delivery.attempt.provider)
            self._changes.extend(self.monitor.observe(delivery.attempt, now))
        if now >= self._next_tick:
            self._changes.extend(self.monitor.tick(now))
            self._next_tick = now + self._timing.tick
            touched.update(self.monitor.trackers)
        await self._publish_changes(now)
        await self._save(now, touched)
        await self._settle_alerts(now)
        for delivery in self._to_ack:
            if delivery.attempt is None:
                await delivery.msg.term()
            else:
                await delivery.msg.ack()
        self._to_ack.clear()
        self.ready.set()

    def _first_time(self, seq: int) -> bool:
        """Whether this stream sequence was neither replayed at start nor applied already. A
        redelivery (a turn that failed before its ack, or acks lost when NATS restarted) is
        acked again but never counted twice."""
        if seq <= self._floor or seq in self._recent:
            return False
        self._recent.add(seq)
        self._recent_order.append(seq)
        if len(self._recent_order) > _REMEMBER:
            self._recent.discard(self._recent_order.popleft())
        return True

    async def _publish_changes(self, now: datetime) -> None:
        while self._changes:
            change = self._changes[0]
            t = change.transition
            event = ProviderStatusChange(
                provider=change.provider,
                previous=t.previous,
                current=t.current,
                reason=t.reason,
                source=self._source,
                observed_at=t.at,
                received_at=now,
            )
            await self._publisher.publish(event)
            self._changes.popleft()
            self._forced.add(change.provider)
            metrics.transitions.labels(change.provider, t.previous, t.current).inc()
            log.info("%s: %s -> %s (%s)", change.provider, t.previous, t.current, t.reason)

    async def _save(self, now: datetime, providers: Iterable[str], *, every: bool = False) -> None:
        """Write the KV record and health's memo of each provider whose state changed or that
        was never written, and of the others, when changed, once their refresh is due (`every`:
        now)."""
        for provider in sorted({*providers, *self._forced}):
            if provider not in self.monitor.trackers:
                continue
            forced = provider in self._forced or provider not in self._records
            due = every or now - self._written_at.get(provider, _NEVER) >= self._timing.refresh
            if not (forced or due):
                continue
            record = self.monitor.record(provider, now)
            if forced or record != self._records[provider]:
                await self._store.put_record(record)
                self._records[provider] = record
                metrics.set_state(provider, record.state)
            memo = self.monitor.memo(provider)
            if memo != self._memos.get(provider):
                await self._store.put_memo(memo)
                self._memos[provider] = memo
            self._written_at[provider] = now
            self._forced.discard(provider)
        for memo in self.monitor.unheard_memos():
            if memo.provider not in self._memos:
                await self._store.put_memo(memo)
                self._memos[memo.provider] = memo

    async def _settle_alerts(self, now: datetime) -> None:
        plan = self.monitor.plan_alerts(now)
        if not plan:
            return
        book = self.monitor.alerts
        for alert in plan.to_open:
            event = alert_event(alert, "open", at=now, received_at=now, source=self._source)
            stored = await self._publisher.publish(event)
            await self._store.put_alert(alert)
            book.opened(alert)
            log.warning("alert open: %s (%s)", alert.message, alert.id)
            if stored:
                self._notifier.notify(event)
        for alert in plan.to_resolve:
            closing = alert
            if closing.resolved_at is None:
                closing = msgspec.structs.replace(alert, resolved_at=now)
                await self._store.put_alert(closing)
                book.opened(closing)
            event = alert_event(closing, "resolved", at=now, received_at=now, source=self._source)
            stored = await self._publisher.publish(event)
            await self._store.drop_alert(closing)
            book.resolved(closing)
            log.info("alert resolved: %s (%s)", closing.message, closing.id)
            if stored:
                self._notifier.notify(event)
        metrics.set_open_alerts(book.open)
