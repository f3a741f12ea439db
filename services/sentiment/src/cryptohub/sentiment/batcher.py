"""Dynamic batching: texts from concurrent articles are scored together, off the event loop."""

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptohub.sentiment import metrics
from cryptohub.sentiment.labels import Prediction
from cryptohub.sentiment.model import SentimentModel

__all__ = ["Batcher"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Request:
    text: str
    future: asyncio.Future[Prediction] = field(repr=False)
    queued_at: float


class Batcher:
    """One per model. A batch is flushed when it holds `max_batch` texts, or `max_wait`
    seconds after its first text arrived, whichever comes first. While the model runs, new
    texts queue up and form the next batch. The model runs in one worker thread, so PyTorch
    keeps its own intra-op threads and the event loop stays responsive."""

    def __init__(self, model: SentimentModel, *, max_batch: int, max_wait: float) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.model = model
        self._max_batch = max_batch
        self._max_wait = max(0.0, max_wait)
        self._pending: deque[_Request] = deque()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"model-{model.name}")
        self._task: asyncio.Task[None] | None = None

    async def predict(self, text: str) -> Prediction:
        """This text's prediction, scored within the next batch."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"batcher-{self.model.name}")
        future: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(text, future, time.monotonic()))
        self._arrived.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while self._pending:
            request = self._pending.popleft()
            if not request.future.done():
                request.future.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _collect(self) -> list[_Request]:
        """Wait for a first text, then until the batch is full or its deadline has passed."""
        while not self._pending:
            self._arrived.clear()
            await self._arrived.wait()
        deadline = self._pending[0].queued_at + self._max_wait
        while len(self._pending) < self._max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                break
        count = min(self._max_batch, len(self._pending))
        batch = [self._pending.popleft() for _ in range(count)]
        return [request for request in batch if not request.future.done()]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            if not batch:
                continue
            started = time.perf_counter()
            try:
                predictions = await loop.run_in_executor(
                    self._executor, self.model.predict, [r.text for r in batch]
                )
            except Exception as exc:  # handed to every waiting caller
                log.exception("model %s failed on a batch of %d", self.model.name, len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            metrics.batch_size.labels(self.model.name).observe(len(batch))
            metrics.inference_seconds.labels(self.model.name).observe(time.perf_counter() - started)
            for request, prediction in zip(batch, predictions, strict=True):
                if not request.future.done():
                    request.future.set_result(prediction)
