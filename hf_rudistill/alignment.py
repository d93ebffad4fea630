"""Teacher-to-student token mapping: every teacher token greedily split into student tokens.

:meth:`VocabMapping.build` splits each source (teacher) vocabulary entry longest-match-first, left to
right, into target (student) tokens — WordPiece MaxMatch, with the continuation prefix (``##``) on
word-internal pieces; SentencePiece ``▁`` and byte-level ``Ġ`` are ordinary characters of the token
strings, so the same search serves them. A token with no complete split becomes the target's unknown
token; special tokens map to the target's special token of the same role.

The splits are stored as two arrays (CSR: ``offsets``, ``pieces``), and :meth:`VocabMapping.align`
turns a batch of teacher ids into student-side ids with array gathers only: concatenating the pieces of
teacher tokens ``t_1..t_n`` gives the student-side input, and ``span_index[b, j]`` names the teacher
position that student position ``j`` belongs to.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .vocab import tokenizer_family

CONFIG_NAME = "vocab_mapping.json"
WEIGHTS_NAME = "vocab_mapping.safetensors"
SPECIAL_ROLES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


@dataclass
class AlignedBatch:
    """Teacher ids (B, T) rewritten with student tokens (B, S)."""

    input_ids: np.ndarray
    """(B, S) student ids: the pieces of every teacher token, in order, then padding."""
    attention_mask: np.ndarray
    """(B, S) 1 on pieces, 0 on padding."""
    span_index: np.ndarray
    """(B, S) the teacher position each student position belongs to; -1 on padding."""
    span_length: np.ndarray
    """(B, T) number of pieces of each teacher token kept (0 for padding and for tokens cut by ``max_length``)."""
    teacher_mask: np.ndarray
    """(B, T) 1 where a real teacher token kept all its pieces (the positions a per-token loss may read)."""


@dataclass
class VocabMapping:
    """Greedy split of every source vocabulary entry into target tokens, stored as CSR arrays."""

    offsets: np.ndarray
    """(V_source + 1,) int64: the pieces of source id ``i`` are ``pieces[offsets[i]:offsets[i+1]]``."""
    pieces: np.ndarray
    """(N,) int64 target ids."""
    target_pad_id: int
    target_unk_id: int
    metadata: dict = field(default_factory=dict)
    """Family, vocabulary sizes, names of the tokenizers, special-token correspondence, unknown count."""

    @property
    def source_vocab_size(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def split(self, source_id: int) -> list[int]:
        """Target ids of one source id."""
        return self.pieces[self.offsets[source_id] : self.offsets[source_id + 1]].tolist()

    @classmethod
    def build(cls, source_tokenizer, target_tokenizer) -> VocabMapping:
        """Split every entry of ``source_tokenizer``'s vocabulary into ``target_tokenizer`` tokens.

        Raises ``ValueError`` when the two tokenizers spell sub-words differently (e.g. WordPiece vs
        byte-level BPE), or when the target lacks a special token the source has.
        """
        source_family, target_family = tokenizer_family(source_tokenizer), tokenizer_family(target_tokenizer)
        if source_family != target_family:
            raise ValueError(
                f"Cannot map a {source_family.name} vocabulary onto a {target_family.name} one: their sub-word "
                "conventions differ. Train the student vocabulary with train_student_tokenizer(..., teacher_tokenizer)"
                " or prune_vocabulary(teacher_tokenizer, ...) so both tokenizers are of the same kind."
            )
        specials = {}
        for role in SPECIAL_ROLES:
            source_token = getattr(source_tokenizer, role, None)
            if source_token is None:
                continue
            target_token = getattr(target_tokenizer, role, None)
            if target_token is None:
                raise ValueError(
                    f"The student tokenizer has no {role} but the teacher has {source_token!r}; a student "
                    "vocabulary must keep the teacher's special tokens."
                )
            specials[str(source_token)] = str(target_token)

        target_vocab = target_tokenizer.get_vocab()
        target_special = set(target_tokenizer.all_special_tokens)
        matchable = {token: index for token, index in target_vocab.items() if token not in target_special}
        longest = max(map(len, matchable), default=1)
        prefix = target_family.continuation_prefix
        unk_id = target_tokenizer.unk_token_id
        if unk_id is None:
            raise ValueError(
                "The student tokenizer has no unknown token, so unmatched teacher tokens cannot be mapped."
            )

        source_vocab = source_tokenizer.get_vocab()
        splits: list[list[int]] = [[unk_id]] * len(source_tokenizer)
        unknown = 0
        for token, source_id in source_vocab.items():
            if token in specials:
                splits[source_id] = [target_vocab[specials[token]]]
                continue
            split = greedy_split(token, matchable, prefix, longest)
            if split is None:
                unknown += 1
                split = [unk_id]
            splits[source_id] = split
        offsets = np.zeros(len(splits) + 1, dtype=np.int64)
        np.cumsum([len(split) for split in splits], out=offsets[1:])
        pieces = np.fromiter((piece for split in splits for piece in split), dtype=np.int64, count=offsets[-1])
        metadata = {
            "family": source_family.name,
            "source_vocab_size": len(source_tokenizer),
            "target_vocab_size": len(target_tokenizer),
            "source_name_or_path": getattr(source_tokenizer, "name_or_path", ""),
            "target_name_or_path": getattr(target_tokenizer, "name_or_path", ""),
            "special_tokens": specials,
            "unknown_splits": unknown,
        }
        pad_id = target_tokenizer.pad_token_id
        return cls(offsets, pieces, pad_id if pad_id is not None else unk_id, unk_id, metadata)

    def align(self, input_ids, attention_mask=None, max_length: int | None = None) -> AlignedBatch:
        """Rewrite a (B, T) batch of source ids with target pieces, using array operations only.

        Padding (``attention_mask == 0``) contributes no pieces. With ``max_length``, the student side is cut
        to that many positions and teacher tokens whose pieces do not all fit get ``span_length`` 0 and
        ``teacher_mask`` 0.
        """
        ids = np.asarray(input_ids, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"align expects a (batch, length) array of ids, got shape {ids.shape}.")
        real = np.ones_like(ids, dtype=bool) if attention_mask is None else np.asarray(attention_mask).astype(bool)
        if ids.size and (ids.min() < 0 or ids.max() >= self.source_vocab_size):
            raise ValueError(f"Teacher ids must lie in [0, {self.source_vocab_size}); got {ids.min()}..{ids.max()}.")
        batch, length = ids.shape
        lengths = np.where(real, self.offsets[ids + 1] - self.offsets[ids], 0)
        ends = np.cumsum(lengths, axis=1)
        starts = ends - lengths
        if max_length is not None:
            fits = ends <= max_length
            lengths = np.where(fits, lengths, 0)
            starts = np.where(fits, starts, 0)
        row_lengths = lengths.sum(axis=1)
        width = int(row_lengths.max(initial=0))
        flat_lengths = lengths.ravel()
        first = np.cumsum(flat_lengths) - flat_lengths  # index of each teacher token's first piece, batch-wide
        piece = np.arange(int(flat_lengths.sum()))
        source = piece + np.repeat(self.offsets[ids.ravel()] - first, flat_lengths)  # into self.pieces
        row_first = np.cumsum(row_lengths) - row_lengths
        target = piece + np.repeat(np.arange(batch) * width - row_first, row_lengths)  # into the (B, S) output

        out_ids = np.full((batch, width), self.target_pad_id, dtype=np.int64)
        out_mask = np.zeros((batch, width), dtype=np.int64)
        span_index = np.full((batch, width), -1, dtype=np.int64)
        out_ids.ravel()[target] = self.pieces[source]
        out_mask.ravel()[target] = 1
        span_index.ravel()[target] = np.repeat(np.tile(np.arange(length), batch), flat_lengths)
        return AlignedBatch(out_ids, out_mask, span_index, lengths, (real & (lengths > 0)).astype(np.int64))

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        """Write ``vocab_mapping.json`` and ``vocab_mapping.safetensors`` (no pickle) into ``save_directory``."""
        from safetensors.numpy import save_file

        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"target_pad_id": self.target_pad_id, "target_unk_id": self.target_unk_id, **self.metadata}
        with tempfile.TemporaryDirectory(dir=directory) as staging:
            save_file({"offsets": self.offsets, "pieces": self.pieces}, os.path.join(staging, WEIGHTS_NAME))
            Path(staging, CONFIG_NAME).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
            for name in (WEIGHTS_NAME, CONFIG_NAME):
                shutil.move(os.path.join(staging, name), directory / name)

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str | os.PathLike, **hub_kwargs) -> VocabMapping:
        """Load a mapping saved by :meth:`save_pretrained` from a folder or a Hub repository."""
        from safetensors.numpy import load_file

        directory = Path(path_or_repo_id)
        if directory.is_dir():
            config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
            if not config_path.is_file():
                raise FileNotFoundError(f"No {CONFIG_NAME} in {directory}: it holds no vocabulary mapping.")
        else:
            from huggingface_hub import hf_hub_download

            config_path = hf_hub_download(str(path_or_repo_id), CONFIG_NAME, **hub_kwargs)
            weights_path = hf_hub_download(str(path_or_repo_id), WEIGHTS_NAME, **hub_kwargs)
        metadata = json.loads(Path(config_path).read_text())
        arrays = load_file(str(weights_path))
        return cls(
            arrays["offsets"], arrays["pieces"], metadata.pop("target_pad_id"), metadata.pop("target_unk_id"), metadata
        )


def greedy_split(token: str, vocab: dict[str, int], prefix: str | None, longest: int) -> list[int] | None:
    """Longest-match-first split of ``token`` into ids of ``vocab``; ``None`` if some position matches nothing.

    With a continuation ``prefix`` (WordPiece ``##``), a token starting with it is word-internal, so all its
    pieces carry the prefix; otherwise only the pieces after the first do.
    """
    body, lead = token, ""
    if prefix:
        if token.startswith(prefix) and len(token) > len(prefix):
            body, lead = token[len(prefix) :], prefix
    split, start = [], 0
    while start < len(body):
        head = lead if start == 0 else (prefix or "")
        for end in range(min(len(body), start + longest), start, -1):
            piece = vocab.get(head + body[start:end])
            if piece is not None:
                split.append(piece)
                start = end
                break
        else:
            return None
    return split
