"""Randomly initialised classifiers built on this machine, for tests and the benchmark.

No download: a WordPiece tokenizer is trained on a few sentences and a BERT classifier of the
requested size is initialised at random, then both are saved with `save_pretrained`, exactly
as a real model directory looks. Needs PyTorch.
"""

from pathlib import Path
from typing import Final

__all__ = ["BERT_BASE", "TINY", "BertSize", "build_classifier", "install_in_hf_cache"]

_CORPUS: Final = (
    "Bitcoin surges to a new all-time high as ETF inflows grow",
    "Hackers stole ether from an exchange hot wallet",
    "Ethereum developers schedule the next network upgrade",
    "Regulators fine a crypto lender over missing disclosures",
    "Markets are calm while traders wait for the central bank",
)
_ROLES: Final = {
    "unk_token": "[UNK]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


class BertSize:
    """The dimensions of a BERT encoder."""

    def __init__(self, *, hidden: int, layers: int, heads: int, intermediate: int) -> None:
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate


TINY: Final = BertSize(hidden=32, layers=2, heads=2, intermediate=64)
BERT_BASE: Final = BertSize(hidden=768, layers=12, heads=12, intermediate=3072)


def build_classifier(
    directory: Path,
    *,
    id2label: dict[int, str],
    size: BertSize = TINY,
    vocab_size: int = 300,
    max_positions: int = 64,
    seed: int = 0,
) -> Path:
    """Save a random BERT sequence classifier and its WordPiece tokenizer in `directory`.

    A `vocab_size` beyond what the few training sentences yield only pads the embedding table
    (as a real 30k vocabulary would, for the benchmark); the tokenizer keeps its own.
    """
    import torch  # type: ignore[import-not-found,unused-ignore]
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    tokenizer = Tokenizer(models.WordPiece(unk_token=_ROLES["unk_token"]))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(
        _CORPUS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=list(_ROLES.values()))
    )
    cls, sep = _ROLES["cls_token"], _ROLES["sep_token"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        pair=f"{cls} $A {sep} $B {sep}",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, model_max_length=max_positions, **_ROLES
    )
    config = BertConfig(
        vocab_size=max(vocab_size, tokenizer.get_vocab_size()),
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=size.intermediate,
        max_position_embeddings=max_positions,
        id2label=id2label,
        label2id={name: index for index, name in id2label.items()},
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def install_in_hf_cache(model_dir: Path, cache_dir: Path, repo_id: str, commit: str) -> Path:
    """Copy a saved model into a Hugging Face cache layout: `models--org--name/refs/main`
    holds the commit, `snapshots/<commit>/` the files. The snapshot folder is returned."""
    repo = cache_dir / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in model_dir.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot
