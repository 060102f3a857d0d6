"""jieba's "paddle mode" lexical tagger (Baidu LAC small), run with numpy instead of PaddlePaddle.

jieba 0.42 ships a trained character-level BiGRU-CRF tagger in ``jieba/lac_small`` (weights in
``model_baseline/``, vocabulary ``word.dic``, tags ``tag.dic``: POS tags plus ``PER``, ``LOC``,
``ORG`` and ``TIME`` entities). jieba runs it only through ``use_paddle=True``, which needs the
PaddlePaddle framework. This module reads the same weight files from the installed jieba
package (nothing is downloaded, nothing is copied into piguard) and computes the same network:
character embedding (128), two bidirectional GRU layers (128 per direction, PaddlePaddle's
``dynamic_gru`` with its default gate layout), a linear layer to the 57 tags, and Viterbi
decoding with the CRF transition matrix.

The weights are Baidu's (LAC, Apache-2.0) as distributed in jieba (MIT). piguard neither trains
nor tunes them. ``tag(text)`` returns one tag per character, e.g. ``PER-B``, ``PER-I``, ``n-B``.
"""

from __future__ import annotations

import struct
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["LacTagger", "lac_tagger"]

_HIDDEN = 128
# Longest run tagged in one pass; longer texts are cut at punctuation (or hard at this length).
_MAX_CHUNK = 400
# Sequences tagged together; larger batches amortise the per-step overhead of numpy calls.
_BATCH = 64
_BREAKS = frozenset("。！？；!?;\n")
# The model was trained on half-width text: its full-width punctuation embeddings are untrained
# and derail the tagging (a name followed by "，" swallows it). One code point for one, so the
# tags still line up with the original text.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: " ",
    **{ord(k): v for k, v in {
        "。": ".", "、": ",", "“": '"', "”": '"', "‘": "'", "’": "'", "《": "<", "》": ">",
        "〈": "<", "〉": ">", "「": '"', "」": '"', "『": '"', "』": '"', "【": "[", "】": "]",
        "〔": "[", "〕": "]", "—": "-", "–": "-", "…": ".", "～": "~",
    }.items()},
}


def _read_tensor(path: Path) -> Any:
    """A PaddlePaddle 1.x LoDTensor file: versions, LoD, a TensorDesc protobuf, raw FP32 data."""
    import numpy as np

    raw = path.read_bytes()
    offset = 4  # uint32 LoDTensor version
    (lod_levels,) = struct.unpack_from("<Q", raw, offset)
    offset += 8
    for _ in range(lod_levels):
        (size,) = struct.unpack_from("<Q", raw, offset)
        offset += 8 + size
    offset += 4  # uint32 Tensor version
    (desc_size,) = struct.unpack_from("<i", raw, offset)
    offset += 4
    desc = raw[offset : offset + desc_size]
    offset += desc_size
    dims: list[int] = []
    data_type = -1
    i = 0
    while i < len(desc):
        key = desc[i]
        i += 1
        value = 0
        shift = 0
        while True:  # varint
            byte = desc[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if key == 0x08:
            data_type = value
        elif key == 0x10:
            dims.append(value)
        else:
            raise ValueError(f"{path.name}: unexpected tensor description field {key:#x}")
    if data_type != 5:  # FP32
        raise ValueError(f"{path.name}: expected FP32 data, found type {data_type}")
    count = 1
    for dim in dims:
        count *= dim
    return np.frombuffer(raw, dtype="<f4", count=count, offset=offset).reshape(dims)


def _read_vocab(path: Path) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        index, _, token = line.partition("\t")
        if token and token not in vocab:
            vocab[token] = int(index)
    return vocab


class _Gru:
    """One direction of PaddlePaddle's ``fc`` + ``dynamic_gru`` (origin_mode=False)."""

    def __init__(self, folder: Path, fc: int, gru: int) -> None:
        import numpy as np

        self.fc_w = _read_tensor(folder / f"fc_{fc}.w_0")
        self.fc_b = _read_tensor(folder / f"fc_{fc}.b_0").reshape(-1)
        weight = _read_tensor(folder / f"gru_{gru}.w_0").reshape(-1)
        d = _HIDDEN
        # Paddle stores the [D, 3D] weight as a [D, 2D] gate block followed by a [D, D] block.
        self.w_gates = np.ascontiguousarray(weight[: 2 * d * d].reshape(d, 2 * d))
        self.w_cand = np.ascontiguousarray(weight[2 * d * d :].reshape(d, d))
        self.bias = _read_tensor(folder / f"gru_{gru}.b_0").reshape(-1)

    def run(self, inputs: Any, lengths: Any, *, reverse: bool) -> Any:
        """Hidden states [B, T, D] for right-padded inputs [B, T, in] of the given lengths."""
        import numpy as np

        d = _HIDDEN
        batch, steps = inputs.shape[0], inputs.shape[1]
        if reverse:
            inputs = _reverse_each(inputs, lengths)
        x = inputs @ self.fc_w + (self.fc_b + self.bias)  # [B, T, 3D]: update, reset, candidate
        out = np.empty((batch, steps, d), dtype=np.float32)
        h = np.zeros((batch, d), dtype=np.float32)
        w_gates, w_cand = self.w_gates, self.w_cand
        for t in range(steps):
            xt = x[:, t]
            gates = xt[:, : 2 * d] + h @ w_gates
            gates = 1.0 / (1.0 + np.exp(-gates))
            update, reset = gates[:, :d], gates[:, d:]
            cand = np.tanh(xt[:, 2 * d :] + (reset * h) @ w_cand)
            h = h + update * (cand - h)  # (1 - u) * h + u * c
            out[:, t] = h
        # Padding positions hold garbage that no real position depends on (forward: they come
        # after; reversed: each sequence starts at its own last character).
        return _reverse_each(out, lengths) if reverse else out


def _reverse_each(values: Any, lengths: Any) -> Any:
    """Reverse each row's first ``length`` steps, leaving the padding where it is."""
    import numpy as np

    steps = values.shape[1]
    index = np.arange(steps)[None, :]
    source = np.where(index < lengths[:, None], lengths[:, None] - 1 - index, index)
    return np.take_along_axis(values, source[:, :, None], axis=1)


class LacTagger:
    """Per-character tags from jieba's LAC small model (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        import numpy as np

        self.vocab = _read_vocab(folder / "word.dic")
        self.tags = [name for _, name in sorted(_read_tag_dic(folder / "tag.dic").items())]
        weights = folder / "model_baseline"
        self.embedding = _read_tensor(weights / "word_emb")
        self.layers = [
            (_Gru(weights, 0, 0), _Gru(weights, 1, 1)),
            (_Gru(weights, 2, 2), _Gru(weights, 3, 3)),
        ]
        self.out_w = _read_tensor(weights / "fc_4.w_0")
        self.out_b = _read_tensor(weights / "fc_4.b_0").reshape(-1)
        crf = _read_tensor(weights / "crfw")
        self.start, self.end, self.trans = crf[0], crf[1], np.ascontiguousarray(crf[2:])
        self.oov = self.vocab["OOV"]

    def _decode(self, pieces: list[str]) -> list[list[int]]:
        """Best tag indices for each piece, computed as one padded batch.

        BLAS runs single-threaded here: the matrices are small, and on a busy machine
        OpenBLAS's thread hand-offs made tagging ten times slower in CPU time.
        """
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._decode_batch(pieces)

    def _decode_batch(self, pieces: list[str]) -> list[list[int]]:
        import numpy as np

        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        steps = int(lengths.max())
        ids = np.zeros((len(pieces), steps), dtype=np.int64)
        get, oov = self.vocab.get, self.oov
        for row, piece in enumerate(pieces):
            ids[row, : len(piece)] = [get(ch, oov) for ch in piece]
        h = self.embedding[ids]
        for forward, backward in self.layers:
            h = np.concatenate(
                [forward.run(h, lengths, reverse=False), backward.run(h, lengths, reverse=True)], axis=2
            )
        emission = h @ self.out_w + self.out_b  # [B, T, K]
        # Viterbi over the CRF (start/end scores, tag-to-tag transitions), all rows at once;
        # a row whose text has ended keeps its score.
        score = self.start + emission[:, 0]
        back = np.zeros((len(pieces), steps, emission.shape[2]), dtype=np.int64)
        for t in range(1, steps):
            total = score[:, :, None] + self.trans[None]
            best = total.argmax(axis=1)
            new = np.take_along_axis(total, best[:, None, :], axis=1)[:, 0] + emission[:, t]
            live = (t < lengths)[:, None]
            score = np.where(live, new, score)
            back[:, t] = best
        score = score + self.end
        out: list[list[int]] = []
        for row, length in enumerate(lengths.tolist()):
            path = [int(score[row].argmax())]
            for t in range(length - 1, 0, -1):
                path.append(int(back[row, t, path[-1]]))
            path.reverse()
            out.append(path)
        return out

    def tag(self, text: str) -> list[str]:
        """One tag per code point of ``text`` (``PER-B``, ``PER-I``, ``ns-B``, ..., ``O``)."""
        return self.tag_many([text])[0]

    def tag_many(self, texts: list[str]) -> list[list[str]]:
        """``tag`` for several texts, computed in padded batches (much faster than one by one)."""
        pieces: list[tuple[int, str]] = []
        for number, text in enumerate(texts):
            pieces.extend((number, chunk) for chunk in _chunks(text.translate(_HALF_WIDTH)))
        tagged: list[list[str]] = [[] for _ in texts]
        # Similar lengths share a batch, so little time goes into padding.
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][1]))
        results: dict[int, list[str]] = {}
        for first in range(0, len(order), _BATCH):
            batch = [i for i in order[first : first + _BATCH] if pieces[i][1].strip()]
            if batch:
                for i, path in zip(batch, self._decode([pieces[i][1] for i in batch]), strict=True):
                    results[i] = [self.tags[k] for k in path]
        for i, (number, chunk) in enumerate(pieces):
            tagged[number].extend(results.get(i) or ["w-B"] * len(chunk))
        return tagged


def _chunks(text: str) -> list[str]:
    """Pieces of at most ``_MAX_CHUNK`` code points, cut after sentence punctuation."""
    if len(text) <= _MAX_CHUNK:
        return [text]
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + _MAX_CHUNK, len(text))
        if end < len(text):
            cut = max((i for i in range(start + 1, end) if text[i - 1] in _BREAKS), default=end)
            end = cut
        pieces.append(text[start:end])
        start = end
    return pieces


def _read_tag_dic(path: Path) -> dict[int, str]:
    tags: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        index, _, name = line.partition("\t")
        if name:
            tags[int(index)] = name
    return tags


@cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


@cache
def lac_tagger() -> LacTagger:
    """The tagger over the installed jieba's ``lac_small`` files (loaded once, about 11 MB)."""
    folder = Path(str(resources.files("jieba").joinpath("lac_small")))
    return LacTagger(folder)
