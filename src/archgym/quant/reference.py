"""A plain-numpy reference of the core's arithmetic (docs/quant.md, "The arithmetic").

Written from the definition, not from the C++: the tests check that the core's
integer accumulators, logits and every layer's quantized input equal these
bit for bit on integer configurations (all bits in 1..8).  Layers that run in
float (a 32 in wbits or abits) agree to rounding only (sums in another order).
Slow and simple: for tests and for reading.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FLOAT_BITS = 32
BIAS_LIMIT = 2 ** 30
ZERO_CHANNEL = 1e-30
INT32_MAX = 2 ** 31 - 1


def quantize_weights(w: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(q int64 (out, K), scale float64 (out,)) of float32 weights (out, ...) at 1..8 bits.

    Symmetric per output channel.  b >= 2: scale = max|w| / (2^(b-1) - 1),
    q = clip(rint(w / scale), -qmax, qmax).  b = 1: q = sign(w) (0 -> +1),
    scale = mean|w| (summed in index order).  A channel with max|w| < 1e-30 is
    all zeros with scale 1.
    """
    w = np.asarray(w, dtype=np.float64).reshape(len(w), -1)
    out, K = w.shape
    maxabs = np.abs(w).max(axis=1)
    zero = maxabs < ZERO_CHANNEL
    if bits == 1:
        scale = np.cumsum(np.abs(w), axis=1)[:, -1] / K
        q = np.where(w < 0, -1, 1).astype(np.int64)
    else:
        qmax = float(2 ** (bits - 1) - 1)
        scale = maxabs / qmax
        safe = np.where(zero, 1.0, scale)
        q = np.clip(np.rint(w / safe[:, None]), -qmax, qmax).astype(np.int64)
    scale = np.where(zero, 1.0, scale)
    q[zero] = 0
    return q, scale


def fixed_point(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m0, shift) with m = m0 * 2^-shift, m0 in [2^30, 2^31) (31-bit rounding of the mantissa)."""
    mant, e = np.frexp(np.asarray(m, dtype=np.float64))
    m0 = np.floor(mant * 2.0 ** 31 + 0.5).astype(np.int64)
    top = m0 == 2 ** 31
    m0 = np.where(top, m0 >> 1, m0)
    e = np.where(top, e + 1, e)
    return m0, (31 - e).astype(np.int64)


def requantize(v: np.ndarray, m0: np.ndarray, shift: np.ndarray, qmax: int) -> np.ndarray:
    """clip((min(v, 2^31-1) * m0 + 2^(shift-1)) >> shift, 0, qmax) for v >= 0 (0 for v <= 0);
    shift > 62 gives 0, shift < 1 gives qmax for v > 0.  m0 and shift broadcast over v."""
    v = np.minimum(np.maximum(v, 0), INT32_MAX).astype(np.int64)
    m0 = np.broadcast_to(m0, v.shape)
    shift = np.broadcast_to(shift, v.shape)
    s = np.clip(shift, 1, 62)
    q = (v * m0 + (np.int64(1) << (s - 1))) >> s
    q = np.where(shift > 62, 0, q)
    q = np.where(shift < 1, np.where(v > 0, qmax, 0), q)
    return np.clip(q, 0, qmax)


def quantize_input(pixels: np.ndarray, full_scale: int, rng: float, bits: int) -> np.ndarray:
    """Layer 0's input: min(rint((p / full_scale) / s), qmax), s = range / (2^a - 1)."""
    qmax = 2 ** bits - 1
    s = rng / qmax
    return np.clip(np.rint((pixels.astype(np.float64) / full_scale) / s), 0, qmax).astype(np.int64)


def _patches(x: np.ndarray, k: int, stride: int, pad: int) -> np.ndarray:
    """(N, C, oh, ow, k, k) windows of x (N, C, H, W), zero padded."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))
    return win[:, :, ::stride, ::stride]


def _layer_sum(spec, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k w[co, k] x[..] for a layer; x (N, C, H, W) or (N, F); w (out, fan_in).
    Integer inputs give exact int64 sums; float inputs float64."""
    n = x.shape[0]
    if spec.kind == "linear":
        return x.reshape(n, -1) @ w.T  # (N, out)
    win = _patches(x, spec.kernel, spec.stride, spec.padding)  # N, C, oh, ow, k, k
    if spec.kind == "conv":
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n, win.shape[2], win.shape[3], -1)
        return (cols @ w.T).transpose(0, 3, 1, 2)  # N, out, oh, ow
    cols = win.reshape(n, win.shape[1], win.shape[2], win.shape[3], -1)  # dwconv
    return np.einsum("ncyxk,ck->ncyx", cols, w)


def _pool(y: np.ndarray, pool, k: int) -> np.ndarray:
    """Max, or SUM (the caller divides) over k x k windows, stride k, floor mode."""
    if pool is None:
        return y
    n, c, h, w = y.shape
    oh, ow = h // k, w // k
    t = y[:, :, :oh * k, :ow * k].reshape(n, c, oh, k, ow, k)
    return t.max(axis=(3, 5)) if pool == "max" else t.sum(axis=(3, 5))


def reference_forward(model, images: np.ndarray, wbits, abits, trace: bool = False) -> dict:
    """The core's forward pass in numpy.

    model: a :class:`archgym.quant.QuantModel` (its float weights, geometry,
    activation ranges); images uint8 (n, C*H*W).  Returns ``logits`` float64
    (n, classes), ``acc`` (int64 last-layer accumulators + bias, or None when
    the last layer runs in float) and, with trace=True, ``trace``: every
    layer's input as float64 (n, in_size), integers where quantized.
    """
    mf = model.file
    wbits, abits = model.bits(wbits, abits)
    images = np.asarray(images, dtype=np.uint8).reshape(-1, model.core.input_size)
    n = len(images)
    L = model.num_layers
    ranges = model.act_ranges
    c, h, w_ = mf.input_shape
    if abits[0] <= 8:  # x: ints (quantized, scale s_x) or floats
        x = quantize_input(images, mf.full_scale, ranges[0, abits[0] - 1], int(abits[0]))
    else:
        x = images.astype(np.float64) / mf.full_scale
    x = x.reshape(n, c, h, w_)
    layers_in, out = [], {}
    for l, spec in enumerate(mf.layers):
        wb, ab = int(wbits[l]), int(abits[l])
        last = l == L - 1
        next_a = FLOAT_BITS if last else int(abits[l + 1])
        if trace:
            layers_in.append(x.reshape(n, -1).astype(np.float64))
        s_x = ranges[l, ab - 1] / (2 ** ab - 1) if ab <= 8 else None
        wf = mf.weights[l].reshape(spec.out_channels, -1)
        bias = mf.biases[l].astype(np.float64)
        pool_div = float(spec.pool_size ** 2) if spec.pool == "avg" else 1.0
        if spec.kind == "linear":
            x = x.reshape(n, -1)
        shape4 = lambda t: t.reshape(t.shape[0], t.shape[1], 1, 1) if t.ndim == 2 else t  # noqa: E731
        if wb <= 8 and ab <= 8:  # integer layer
            q, s_w = quantize_weights(wf, wb)
            prod = s_w * s_x
            bq = np.clip(np.rint(bias / prod), -BIAS_LIMIT, BIAS_LIMIT).astype(np.int64)
            acc = shape4(_layer_sum(spec, x.astype(np.int64), q)) + bq[None, :, None, None]
            if spec.relu:
                acc = np.maximum(acc, 0)
            v = _pool(acc, spec.pool, spec.pool_size)
            if last:
                out["acc"] = v.reshape(n, -1)
                out["logits"] = v.reshape(n, -1).astype(np.float64) * prod[None, :]
            elif next_a <= 8:
                qmax = 2 ** next_a - 1
                s_next = ranges[l + 1, next_a - 1] / qmax
                m0, sh = fixed_point(prod / (s_next * pool_div))
                x = requantize(v, m0[None, :, None, None], sh[None, :, None, None], qmax)
            else:
                x = v.astype(np.float64) * (prod / pool_div)[None, :, None, None]
        else:  # float layer on dequantized operands
            xf = x.astype(np.float64) * s_x if ab <= 8 else x.astype(np.float64)
            if wb <= 8:
                q, s_w = quantize_weights(wf, wb)
                wd = q * s_w[:, None]
            else:
                wd = wf.astype(np.float64)
            y = shape4(_layer_sum(spec, xf, wd)) + bias[None, :, None, None]
            if spec.relu:
                y = np.maximum(y, 0.0)
            y = _pool(y, spec.pool, spec.pool_size)
            if spec.pool == "avg":
                y = y / pool_div
            if last:
                out["acc"] = None
                out["logits"] = y.reshape(n, -1)
            elif next_a <= 8:
                qmax = 2 ** next_a - 1
                s_next = ranges[l + 1, next_a - 1] / qmax
                x = np.clip(np.rint(y / s_next), 0, qmax).astype(np.int64)
            else:
                x = y
        if not last and mf.layers[l + 1].kind != "linear" and x.ndim == 2:
            raise ValueError("a convolution cannot follow a linear layer")
    out["trace"] = layers_in if trace else None
    return out
