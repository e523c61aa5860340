"""Deterministic seeded synthetic weights, bit-identical to include/bc1s/io/synthetic.hpp.

SPEC (keep identical to the C++ header; tests/io/synthetic_test.cpp checks the C++ side against a
fixture written by this file, tests/data/parity/synthetic_values.json):

  For a Hugging Face parameter name `name` (e.g.
  "distilbert.transformer.layer.0.attention.q_lin.weight"), element index i (row-major over the
  Hugging Face shape, e.g. [out, in] for a Linear weight) and a 64-bit seed:

    fnv1a64(bytes): h = 0xcbf29ce484222325; for each byte b: h = (h ^ b) * 0x100000001b3
    splitmix64(s):  z = s + 0x9e3779b97f4a7c15                 (the standard SplitMix64 output
                    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9     for state s: the gamma step,
                    z = (z ^ (z >> 27)) * 0x94d049bb133111eb     then the finaliser)
                    return z ^ (z >> 31)
    h = fnv1a64(name) ^ seed
    u = splitmix64(h + i)                  all of the above in uint64, wrapping
    k = u >> 40                            top 24 bits, 0 .. 2^24-1
    x = (k + 0.5) / 2^24                   in (0, 1), exact in float64
    t = 2x - 1 = (2k + 1 - 2^24) / 2^24    in (-1, 1), exact in float64
    value = float32( offset + scale * t )  arithmetic in float64, ONE rounding to float32

  offset and scale are dyadic, so scale * t is exact in float64 and the only float64 rounding is
  in `offset + product` (an FMA gives the same bits); numpy and C++ agree bit for bit.
  Values are uniform on (offset - scale, offset + scale); std = scale / sqrt(3).

  | parameter kind (matched on the name)                           | offset | scale | std   |
  |----------------------------------------------------------------|--------|-------|-------|
  | *word_embeddings.weight                                        | 0      | 1/16  | 0.036 |
  | *position_embeddings.weight                                    | 0      | 1/32  | 0.018 |
  | LayerNorm weight (name has "LayerNorm" or "layer_norm", .weight) | 1    | 3/32  | 0.054 |
  | LayerNorm bias   (same, .bias)                                 | 0      | 3/64  | 0.027 |
  | any other *.weight (Linear: q/k/v/out_lin, ffn.lin1/lin2,      | 0      | 1/16  | 0.036 |
  |   pre_classifier, classifier)                                  |        |       |       |
  | any other *.bias (Linear biases)                               | 0      | 1/64  | 0.009 |
  | anything else                                                  | 0      | 1/16  | 0.036 |

Usage:
  from synthetic import synthetic_tensor, distilbert_state_dict
  sd = distilbert_state_dict(dim=64, heads=4, hidden=128, layers=2, vocab=30522,
                             max_positions=512, num_labels=2, seed=1234)   # name -> torch tensor
  model.load_state_dict(sd, strict=False)
"""
from __future__ import annotations

import numpy as np

_U64 = np.uint64
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


def fnv1a64(name: str) -> int:
    h = _FNV_OFFSET
    for b in name.encode("utf-8"):
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h


def splitmix64(s: np.ndarray) -> np.ndarray:
    """Vectorised SplitMix64 output for states s (uint64 array, wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = s + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def tensor_checksum(values: np.ndarray) -> int:
    """Order-sensitive checksum of a float32 tensor (fixture use):
    sum over i of splitmix64((bits_i << 32) ^ i), uint64 wrapping; bits_i = float32 bits of
    element i in C order."""
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32).astype(np.uint64)
    idx = np.arange(bits.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return int(splitmix64((bits << _U64(32)) ^ idx).sum(dtype=np.uint64))


def synthetic_kind(name: str) -> tuple[float, float]:
    """(offset, scale) for a parameter name: the table in the module docstring."""
    is_weight = name.endswith(".weight")
    is_bias = name.endswith(".bias")
    if name.endswith("word_embeddings.weight"):
        return 0.0, 1.0 / 16.0
    if name.endswith("position_embeddings.weight"):
        return 0.0, 1.0 / 32.0
    is_norm = "LayerNorm" in name or "layer_norm" in name
    if is_norm and is_weight:
        return 1.0, 3.0 / 32.0
    if is_norm and is_bias:
        return 0.0, 3.0 / 64.0
    if is_weight:
        return 0.0, 1.0 / 16.0
    if is_bias:
        return 0.0, 1.0 / 64.0
    return 0.0, 1.0 / 16.0


def synthetic_values(name: str, indices, seed: int) -> np.ndarray:
    """float32 values of tensor `name` at the given flat (row-major) indices."""
    idx = np.asarray(indices, dtype=np.uint64)
    h = _U64(fnv1a64(name) ^ (int(seed) & _MASK64))
    with np.errstate(over="ignore"):
        k = splitmix64(idx + h) >> _U64(40)
    # t = (2k + 1 - 2^24) / 2^24, exact in float64 (numerator < 2^25 in magnitude).
    t = ((k * _U64(2) + _U64(1)).astype(np.float64) - 16777216.0) / 16777216.0
    offset, scale = synthetic_kind(name)
    return (offset + scale * t).astype(np.float32)


def synthetic_tensor(name: str, shape, seed: int) -> np.ndarray:
    """The whole synthetic tensor `name` with the Hugging Face shape, float32, C order."""
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    return synthetic_values(name, np.arange(n, dtype=np.uint64), seed).reshape(shape)


def distilbert_parameter_shapes(dim: int, heads: int, hidden: int, layers: int, vocab: int,
                                max_positions: int, num_labels: int) -> list[tuple[str, tuple]]:
    """HF names and shapes of DistilBertForSequenceClassification (same order as the C++)."""
    del heads  # not part of any shape
    out = [
        ("distilbert.embeddings.word_embeddings.weight", (vocab, dim)),
        ("distilbert.embeddings.position_embeddings.weight", (max_positions, dim)),
        ("distilbert.embeddings.LayerNorm.weight", (dim,)),
        ("distilbert.embeddings.LayerNorm.bias", (dim,)),
    ]
    for i in range(layers):
        p = f"distilbert.transformer.layer.{i}."
        for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
            out += [(p + f"attention.{lin}.weight", (dim, dim)), (p + f"attention.{lin}.bias", (dim,))]
        out += [
            (p + "sa_layer_norm.weight", (dim,)),
            (p + "sa_layer_norm.bias", (dim,)),
            (p + "ffn.lin1.weight", (hidden, dim)),
            (p + "ffn.lin1.bias", (hidden,)),
            (p + "ffn.lin2.weight", (dim, hidden)),
            (p + "ffn.lin2.bias", (dim,)),
            (p + "output_layer_norm.weight", (dim,)),
            (p + "output_layer_norm.bias", (dim,)),
        ]
    out += [
        ("pre_classifier.weight", (dim, dim)),
        ("pre_classifier.bias", (dim,)),
        ("classifier.weight", (num_labels, dim)),
        ("classifier.bias", (num_labels,)),
    ]
    return out


def distilbert_state_dict_numpy(dim, heads, hidden, layers, vocab, max_positions, num_labels,
                                seed) -> dict[str, np.ndarray]:
    return {name: synthetic_tensor(name, shape, seed)
            for name, shape in distilbert_parameter_shapes(dim, heads, hidden, layers, vocab,
                                                           max_positions, num_labels)}


def distilbert_state_dict(dim, heads, hidden, layers, vocab, max_positions, num_labels, seed):
    """state_dict (name -> torch.Tensor) for transformers' DistilBertForSequenceClassification."""
    import torch

    return {k: torch.from_numpy(v) for k, v in
            distilbert_state_dict_numpy(dim, heads, hidden, layers, vocab, max_positions,
                                        num_labels, seed).items()}


def load_into(model, seed: int) -> None:
    """Fill every parameter of a DistilBertForSequenceClassification with synthetic values.

    Fails if a model parameter is not covered or a generated name is not a model parameter
    (buffers such as position_ids are left alone).
    """
    c = model.config
    sd = distilbert_state_dict(c.dim, c.n_heads, c.hidden_dim, c.n_layers, c.vocab_size,
                               c.max_position_embeddings, c.num_labels, seed)
    params = dict(model.named_parameters())
    missing = sorted(set(params) - set(sd))
    unexpected = sorted(set(sd) - set(params))
    if missing or unexpected:
        raise RuntimeError(f"synthetic state_dict mismatch: missing={missing} unexpected={unexpected}")
    for name, value in sd.items():
        if tuple(params[name].shape) != tuple(value.shape):
            raise RuntimeError(f"{name}: model shape {tuple(params[name].shape)} != {tuple(value.shape)}")
    model.load_state_dict(sd, strict=False)
