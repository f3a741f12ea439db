"""Sentiment throughput: articles/s of a BERT-base-sized classifier (random weights) and of VADER.

Runs the service's own code path (`BertModel.load` from a saved directory, `predict` = tokenize
with truncation + `torch.inference_mode` forward + label mapping) at batch sizes 1, 8 and 32,
on the CPU and on CUDA when a GPU is usable. Texts are real headlines and summaries from the
recorded Cointelegraph feed, as they are and repeated to fill the token limit. Reports wall-clock
articles/s (median and best pass) and articles per CPU-second (robust to a shared machine with
`--threads 1`). By hand: `.venv/bin/python bench/sentiment.py [--threads 1] [--tokens 64 128]`.
"""

import argparse
import html
import importlib.util
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEED = ROOT / "fixtures" / "providers" / "rss" / "cointelegraph.xml"


def texts_from_feed() -> list[str]:
    """Title + description of every item of the recorded feed, as plain text."""
    raw = FEED.read_text(encoding="utf-8")
    items = re.findall(r"<item>(.*?)</item>", raw, flags=re.S)
    out = []
    for item in items:
        title = re.search(r"<title><!\[CDATA\[(.*?)\]\]>", item, flags=re.S)
        desc = re.search(r"<description><!\[CDATA\[(.*?)\]\]>", item, flags=re.S)
        text = " ".join(filter(None, (title and title.group(1), desc and desc.group(1))))
        out.append(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip())
    return out


def rate(
    predict, texts: list[str], batch: int, *, min_seconds: float
) -> tuple[float, float, float]:
    """Median and best wall-clock articles/s over repeated passes of `batch` texts (after a
    warm-up pass), and articles per CPU-second of this process. The best pass is the one least
    disturbed by other work on a shared machine; per CPU-second does not depend on it (with one
    thread: with more, a thread waiting for a busy core may spin and count too)."""
    predict(texts[:batch])
    rates, done, started, cpu_started = [], 0, time.perf_counter(), time.process_time()
    i = 0
    while time.perf_counter() - started < min_seconds or len(rates) < 3:
        chunk = [texts[(i + k) % len(texts)] for k in range(batch)]
        i += batch
        t0 = time.perf_counter()
        predict(chunk)
        rates.append(batch / (time.perf_counter() - t0))
        done += batch
    per_cpu_s = done / (time.process_time() - cpu_started)
    return statistics.median(rates), max(rates), per_cpu_s


def bench_vader(texts: list[str]) -> None:
    from cryptohub.sentiment.vader import VaderModel

    model = VaderModel()
    per_s, best, _ = rate(model.predict, texts, 32, min_seconds=2)
    print(f"vader (lexicon fallback) batch 32: median {per_s:.0f}, best {best:.0f} articles/s")


def bench_bert(
    texts: list[str], tokens: list[int], batches: list[int], seconds: float, threads: int
) -> None:
    import torch

    from cryptohub.sentiment.bert import BertModel
    from cryptohub.sentiment.synthetic import BERT_BASE, build_classifier
    from cryptohub.sentiment.weights import locate_weights

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    # The recorded texts as they are, and each repeated so that it fills max_tokens.
    corpora = {"recorded": texts, "full": [" ".join([t] * 20) for t in texts]}
    with tempfile.TemporaryDirectory(prefix="bench-bert-base-") as tmp:
        directory = build_classifier(
            Path(tmp),
            id2label={0: "Bearish", 1: "Neutral", 2: "Bullish"},
            size=BERT_BASE,
            vocab_size=30522,
            max_positions=512,
        )
        weights = locate_weights(str(directory))
        for device in devices:
            name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
            for max_tokens in tokens:
                model = BertModel.load(
                    weights, device=device, max_tokens=max_tokens, threads=threads
                )
                params = sum(p.numel() for p in model._model.parameters())
                print(f"BERT-base shape, {params / 1e6:.0f}M parameters (random), on {name}")
                for label, corpus in corpora.items():
                    encode = model._tokenizer
                    lengths = [
                        len(encode(t, truncation=True, max_length=model.max_length)["input_ids"])
                        for t in corpus
                    ]
                    mean = statistics.mean(lengths)
                    for batch in batches:
                        per_s, best, per_cpu = rate(
                            model.predict, corpus, batch, min_seconds=seconds
                        )
                        print(
                            f"bert-base {device:4} {torch.get_num_threads()} threads, {label:8} "
                            f"texts (mean {mean:3.0f} tokens, max {max_tokens})  batch {batch:2}: "
                            f"median {per_s:5.1f}, best {best:5.1f} articles/s, "
                            f"{per_cpu:5.1f} per CPU-second  "
                            f"(load {os.getloadavg()[0]:.1f})"
                        )
        if not torch.cuda.is_available():
            print("no usable GPU here: CUDA figures not measured")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[128])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement, at least")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads (0: default)")
    parser.add_argument("--no-vader", action="store_true")
    args = parser.parse_args()
    texts = texts_from_feed()
    print(f"python {platform.python_version()}, {len(texts)} recorded articles from {FEED.name}")
    if not args.no_vader:
        bench_vader(texts)
    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: BERT not measured (make install-bert)")
        return 0
    bench_bert(texts, args.tokens, args.batches, args.seconds, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
