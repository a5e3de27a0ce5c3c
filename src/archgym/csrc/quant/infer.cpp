// Integer inference with per-layer weight/activation bits (see quant.hpp and
// docs/quant.md for the exact arithmetic).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "quant/quant.hpp"

// The int16 dot products are vectorised by the compiler; on x86-64 they are
// also compiled for AVX2 and picked at run time (function multiversioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ARCHGYM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ARCHGYM_CLONES
#endif
// The window copies are a few elements long: calls to memmove would cost more than the copies.
#if defined(__GNUC__) && !defined(__clang__)
#define ARCHGYM_NO_MEMCPY_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define ARCHGYM_NO_MEMCPY_IDIOM
#endif

namespace archgym::quant {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

int round_up16(int k) { return (k + 15) / 16 * 16; }

constexpr double kMaxWeight = 1e6;
constexpr double kMinRange = 1e-12, kMaxRange = 1e12;
constexpr double kZeroChannel = 1e-30;  // max |w| below this: an all-zero channel

// Fixed-point form of a positive multiplier m = m0 * 2^-shift, m0 in [2^30, 2^31).
struct FixedPoint {
  int64_t m0;
  int shift;
};

FixedPoint fixed_point(double m) {
  int e = 0;
  const double mant = std::frexp(m, &e);  // m = mant * 2^e, mant in [0.5, 1)
  int64_t m0 = static_cast<int64_t>(std::floor(mant * 2147483648.0 + 0.5));
  if (m0 == (int64_t{1} << 31)) {
    m0 >>= 1;
    ++e;
  }
  return {m0, 31 - e};
}

// Fixed-point multipliers of one layer's channels in a branch-free form: shift
// in [1, 62] (m < 2^-32 -> m0 = 0, shift 1: always 0; m >= 2^30 -> m0 = 2^31 - 1,
// shift 1: saturates for any v >= 1).  Same results as the definition.
struct Requant {
  std::vector<int64_t> m0, round, shift;
};

void add_channel(Requant& r, const FixedPoint& fp) {
  int64_t m0 = fp.m0, shift = fp.shift;
  if (shift > 62) m0 = 0, shift = 1;
  else if (shift < 1) m0 = std::numeric_limits<int32_t>::max(), shift = 1;
  r.m0.push_back(m0);
  r.shift.push_back(shift);
  r.round.push_back(int64_t{1} << (shift - 1));
}

// out[p][c] = min((clamp(v[p][c], 0, 2^31 - 1) * m0[c] + 2^(shift[c]-1)) >> shift[c], qmax)
template <typename T>
void requantize_rows(const T* __restrict v, int64_t pixels, int C, const Requant& rq, int64_t qmax,
                     int16_t* __restrict out) {
  const int64_t* __restrict m0 = rq.m0.data();
  const int64_t* __restrict rnd = rq.round.data();
  const int64_t* __restrict sh = rq.shift.data();
  constexpr int64_t top = std::numeric_limits<int32_t>::max();
  for (int64_t p = 0; p < pixels; ++p) {
    const T* row = v + p * C;
    int16_t* o = out + p * C;
    for (int c = 0; c < C; ++c) {
      const int64_t x = std::clamp<int64_t>(row[c], 0, top);
      o[c] = static_cast<int16_t>(std::min<int64_t>((x * m0[c] + rnd[c]) >> sh[c], qmax));
    }
  }
}

// Quantize a float activation to [0, qmax] with scale s (NaN -> 0).
inline int16_t quantize_act(double y, double s, int64_t qmax) {
  const double t = std::rint(y / s);
  if (!(t > 0.0)) return 0;
  return static_cast<int16_t>(t >= static_cast<double>(qmax) ? qmax : static_cast<int64_t>(t));
}

inline int64_t qmax_act(int a) { return (int64_t{1} << a) - 1; }

// Dot product of two int16 vectors whose length is a multiple of 16.
inline int32_t dot_i16(const int16_t* __restrict x, const int16_t* __restrict w, int kpad) {
  int32_t s = 0;
  for (int k = 0; k < kpad; ++k) s += int32_t{x[k]} * int32_t{w[k]};
  return s;
}

// out[p * cout + co] = dot(patches[p], w[co]) over kpad (a multiple of 16) int16 entries.
ARCHGYM_CLONES
void gemm_i16(const int16_t* __restrict patches, int P, const int16_t* __restrict w, int cout, int kpad,
              int32_t* __restrict out) {
  for (int p = 0; p < P; ++p) {
    const int16_t* x = patches + static_cast<size_t>(p) * kpad;
    for (int co = 0; co < cout; ++co)
      out[static_cast<size_t>(p) * cout + co] = dot_i16(x, w + static_cast<size_t>(co) * kpad, kpad);
  }
}

}  // namespace

// ------------------------------------------------------------------ the plan
struct LayerPlan {
  int w = 32, a = 32, next_a = 32;
  bool int_mode = false, last = false;
  double s_x = 1.0;                 // input scale (a <= 8)
  const QuantWeights* qw = nullptr; // w <= 8
  std::vector<int32_t> bias_q;      // int mode (|b| <= 2^30: acc + b fits int32)
  Requant rq;                       // int mode, next layer int
  std::vector<double> deq;          // int mode, next layer float or last layer
  double s_next = 1.0;
  int64_t qmax_next = 0;
  std::vector<double> wdeq;         // float mode with w <= 8: dequantized weights [out][k]
  const double* wf = nullptr;       // float mode: the weights used
};

struct Plan {
  std::vector<LayerPlan> layers;
};

void check_bits(const char* name, const int64_t* bits, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!valid_bits(bits[i]))
      fail(std::string(name) + "[" + str(i) + "] must be in 1..8 or 32 (float), got " + str(bits[i]));
}

// ------------------------------------------------------------------ model
Model::~Model() = default;

// The constructor's steps, in the order of docs/quant.md "The arithmetic":
// check the configuration, derive each layer's geometry, quantize the weights
// at every bit width, lay them out for the kernels, tabulate the image input.
namespace {

// The model-wide entries: layer count, input shape, full scale, one weight and
// bias array per layer, act_ranges (L x 8, each in [1e-12, 1e12]).
void check_config(const ModelConfig& c) {
  const size_t L = c.layers.size();
  if (L == 0 || L > 256) fail("a model needs 1..256 layers, got " + str(static_cast<int64_t>(L)));
  if (c.in_channels < 1 || c.in_channels > kMaxDim || c.in_h < 1 || c.in_h > kMaxDim || c.in_w < 1 ||
      c.in_w > kMaxDim)
    fail("input shape (C, H, W) must be in 1..4096 each");
  if (int64_t{c.in_channels} * c.in_h * c.in_w > kMaxElements) fail("input has more than 2^24 elements");
  if (c.full_scale < 1 || c.full_scale > 255) fail("full_scale must be in 1..255, got " + str(c.full_scale));
  if (c.weights.size() != L || c.biases.size() != L)
    fail("weights and biases need one entry per layer (" + str(static_cast<int64_t>(L)) + ")");
  if (c.act_ranges.size() != L * kMaxIntBits)
    fail("act_ranges must have num_layers * 8 entries, got " + str(static_cast<int64_t>(c.act_ranges.size())));
  for (size_t i = 0; i < c.act_ranges.size(); ++i) {
    const double r = c.act_ranges[i];
    if (!(r >= kMinRange && r <= kMaxRange))
      fail("act_ranges[" + str(static_cast<int64_t>(i / kMaxIntBits)) + "][" +
           str(static_cast<int64_t>(i % kMaxIntBits)) + "] must be in [1e-12, 1e12]");
  }
}

// A linear layer on an input of ch x h x w (flattened in (C, H, W) order).
Geometry linear_geometry(const LayerSpec& s, int ch, int h, int w, const std::string& at) {
  const int64_t features = int64_t{ch} * h * w;
  if (s.in_channels != features)
    fail(at + "linear layer expects " + str(s.in_channels) + " inputs, the previous layer gives " + str(features));
  if (s.kernel != 1 || s.stride != 1 || s.padding != 0) fail(at + "a linear layer needs kernel 1, stride 1, padding 0");
  if (s.pool != Pool::None) fail(at + "a linear layer cannot pool");
  return Geometry{s.in_channels, 1, 1, s.out_channels, 1, 1, 1, 1, s.in_channels};
}

// A conv or depthwise conv layer, then its pooling (k x k, stride k, floor).
Geometry conv_geometry(const LayerSpec& s, int ch, int h, int w, const std::string& at) {
  if (s.in_channels != ch)
    fail(at + "expects " + str(s.in_channels) + " input channels, the previous layer gives " + str(ch));
  if (s.kind == LayerKind::DepthwiseConv && s.out_channels != s.in_channels)
    fail(at + "a depthwise convolution needs out_channels == in_channels");
  if (s.kernel < 1 || s.kernel > 15) fail(at + "kernel must be in 1..15, got " + str(s.kernel));
  if (s.stride < 1 || s.stride > 15) fail(at + "stride must be in 1..15, got " + str(s.stride));
  if (s.padding < 0 || s.padding >= s.kernel) fail(at + "padding must be in 0..kernel-1, got " + str(s.padding));
  const int ph = h + 2 * s.padding, pw = w + 2 * s.padding;
  if (ph < s.kernel || pw < s.kernel) fail(at + "the kernel is larger than the padded input");
  const int oh = (ph - s.kernel) / s.stride + 1, ow = (pw - s.kernel) / s.stride + 1;
  if (s.pool_size < 1 || s.pool_size > 8) fail(at + "pool_size must be in 1..8, got " + str(s.pool_size));
  if (s.pool == Pool::None && s.pool_size != 1) fail(at + "pool_size must be 1 without pooling");
  if (s.pool != Pool::None && (oh < s.pool_size || ow < s.pool_size))
    fail(at + "the pooling window is larger than the feature map");
  const int fan = s.kind == LayerKind::Conv ? ch * s.kernel * s.kernel : s.kernel * s.kernel;
  return Geometry{ch, h, w, s.out_channels, oh, ow, oh / s.pool_size, ow / s.pool_size, fan};
}

// What holds for every layer kind once its geometry is known: pooling code,
// int32 fan-in, tensor size, ReLU on all but the last, weight and bias counts
// and magnitudes.
void check_layer(const ModelConfig& c, size_t l, const Geometry& g, const std::string& at) {
  const LayerSpec& s = c.layers[l];
  if (s.pool != Pool::None && s.pool != Pool::Max && s.pool != Pool::Avg)
    fail(at + "unknown pooling " + str(static_cast<int>(s.pool)));
  if (g.fan_in > kMaxFanIn) fail(at + "fan-in " + str(g.fan_in) + " exceeds 32768 (int32 accumulators)");
  if (int64_t{g.out_c} * g.conv_h * g.conv_w > kMaxElements) fail(at + "output has more than 2^24 elements");
  const bool last = l + 1 == c.layers.size();
  if (last && (s.relu || s.pool != Pool::None)) fail(at + "the last layer gives logits: no ReLU, no pooling");
  if (!last && !s.relu) fail(at + "every layer but the last must have a ReLU");
  const int64_t nw = int64_t{g.out_c} * g.fan_in;
  if (static_cast<int64_t>(c.weights[l].size()) != nw)
    fail(at + "expects " + str(nw) + " weights, got " + str(static_cast<int64_t>(c.weights[l].size())));
  if (static_cast<int64_t>(c.biases[l].size()) != g.out_c)
    fail(at + "expects " + str(g.out_c) + " biases, got " + str(static_cast<int64_t>(c.biases[l].size())));
  for (float v : c.weights[l])
    if (!(std::fabs(v) <= kMaxWeight)) fail(at + "weights must be finite with |w| <= 1e6");
  for (float v : c.biases[l])
    if (!(std::fabs(v) <= kMaxWeight)) fail(at + "biases must be finite with |b| <= 1e6");
}

// Every layer's geometry, checking that each fits the one before it.
std::vector<Geometry> layer_geometry(const ModelConfig& c) {
  std::vector<Geometry> geo;
  int ch = c.in_channels, h = c.in_h, w = c.in_w;
  bool flat = false;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const LayerSpec& s = c.layers[l];
    const std::string at = "layer " + str(static_cast<int64_t>(l)) + ": ";
    if (s.in_channels < 1 || s.in_channels > kMaxDim || s.out_channels < 1 || s.out_channels > kMaxDim)
      fail(at + "in_channels and out_channels must be in 1..4096");
    Geometry g{};
    if (s.kind == LayerKind::Linear) {
      g = linear_geometry(s, ch, h, w, at);
      flat = true;
    } else if (s.kind == LayerKind::Conv || s.kind == LayerKind::DepthwiseConv) {
      if (flat) fail(at + "a convolution cannot follow a linear layer");
      g = conv_geometry(s, ch, h, w, at);
    } else {
      fail(at + "unknown layer kind " + str(static_cast<int>(s.kind)));
    }
    check_layer(c, l, g, at);
    geo.push_back(g);
    ch = g.out_c;
    h = g.out_h;
    w = g.out_w;
  }
  return geo;
}

// Symmetric per-channel weights at b bits (docs/quant.md "The arithmetic",
// **Weights**), [out_c][kpad] zero padded; `run` is filled by kernel_layout.
QuantWeights quantize_weights(const float* wl, int out_c, int K, int kpad, int b) {
  QuantWeights qw;
  qw.q.assign(static_cast<size_t>(out_c) * kpad, 0);
  qw.scale.assign(out_c, 1.0);
  for (int co = 0; co < out_c; ++co) {
    const float* row = wl + static_cast<size_t>(co) * K;
    double maxabs = 0.0;
    for (int k = 0; k < K; ++k) maxabs = std::max(maxabs, std::fabs(static_cast<double>(row[k])));
    if (maxabs < kZeroChannel) continue;  // all-zero channel: q = 0, scale 1
    int16_t* q = qw.q.data() + static_cast<size_t>(co) * kpad;
    if (b == 1) {
      double sum = 0.0;  // sequential, in index order
      for (int k = 0; k < K; ++k) sum += std::fabs(static_cast<double>(row[k]));
      qw.scale[co] = sum / K;
      for (int k = 0; k < K; ++k) q[k] = row[k] < 0.0f ? -1 : 1;
    } else {
      const double qmax = static_cast<double>((1 << (b - 1)) - 1);
      const double s = maxabs / qmax;
      qw.scale[co] = s;
      for (int k = 0; k < K; ++k) {
        const double t = std::rint(static_cast<double>(row[k]) / s);
        q[k] = static_cast<int16_t>(std::clamp(t, -qmax, qmax));
      }
    }
  }
  return qw;
}

// Linear layer fed by a pc x ph x pw tensor: torch (C, H, W) input index -> HWC index.
std::vector<int> hwc_index(int pc, int ph, int pw) {
  std::vector<int> idx(static_cast<size_t>(pc) * ph * pw);
  for (int ch = 0; ch < pc; ++ch)
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) idx[(ch * ph + y) * pw + x] = (y * pw + x) * pc + ch;
  return idx;
}

// qw.run: the layout the kernels read (see QuantWeights) from qw.q.
void kernel_layout(QuantWeights& qw, const LayerSpec& s, const Geometry& g, int kpad, const std::vector<int>& hwc) {
  const int kk = s.kernel;
  if (s.kind == LayerKind::DepthwiseConv) {
    qw.run.assign(static_cast<size_t>(kk) * kk * g.out_c, 0);
    for (int ch = 0; ch < g.out_c; ++ch)
      for (int t = 0; t < kk * kk; ++t) qw.run[static_cast<size_t>(t) * g.out_c + ch] = qw.q[ch * kpad + t];
    return;
  }
  qw.run.assign(qw.q.size(), 0);
  for (int co = 0; co < g.out_c; ++co) {
    const int16_t* src = qw.q.data() + static_cast<size_t>(co) * kpad;
    int16_t* dst = qw.run.data() + static_cast<size_t>(co) * kpad;
    if (s.kind == LayerKind::Linear) {
      for (int k = 0; k < g.in_c; ++k) dst[hwc[k]] = src[k];
    } else {
      for (int ci = 0; ci < g.in_c; ++ci)
        for (int t = 0; t < kk * kk; ++t) dst[t * g.in_c + ci] = src[ci * kk * kk + t];
    }
  }
}

}  // namespace

Model::Model(ModelConfig config) : cfg_(std::move(config)) {
  const auto& c = cfg_;
  check_config(c);
  geo_ = layer_geometry(c);
  const size_t L = c.layers.size();
  // Quantized weights at every bit width, float weights as double, kernel layouts.
  qw_.resize(L);
  wf_.resize(L);
  kpad_.resize(L);
  hwc_index_.resize(L);
  int pc = c.in_channels, ph = c.in_h, pw = c.in_w;  // the layer's input tensor
  for (size_t l = 0; l < L; ++l) {
    const Geometry& g = geo_[l];
    const int K = g.fan_in;
    kpad_[l] = round_up16(K);
    const float* wl = c.weights[l].data();
    wf_[l].assign(wl, wl + c.weights[l].size());
    if (c.layers[l].kind == LayerKind::Linear) hwc_index_[l] = hwc_index(pc, ph, pw);
    for (int b = 1; b <= kMaxIntBits; ++b) {
      qw_[l][b - 1] = quantize_weights(wl, g.out_c, K, kpad_[l], b);
      kernel_layout(qw_[l][b - 1], c.layers[l], g, kpad_[l], hwc_index_[l]);
    }
    pc = g.out_c;
    ph = g.out_h;
    pw = g.out_w;
  }
  // Image input tables: q = min(rint((p / full_scale) / s), qmax) (docs/quant.md, **Activations**).
  input_lut_.resize(1);
  for (int a = 1; a <= kMaxIntBits; ++a) {
    const int64_t qmax = qmax_act(a);
    const double s = c.act_ranges[a - 1] / static_cast<double>(qmax);
    for (int p = 0; p < 256; ++p)
      input_lut_[0][a - 1][p] = quantize_act(static_cast<double>(p) / c.full_scale, s, qmax);
  }
}

const QuantWeights& Model::quant_weights(int layer, int bits) const {
  if (layer < 0 || layer >= num_layers()) fail("layer must be in 0.." + str(num_layers() - 1));
  if (bits < 1 || bits > kMaxIntBits) fail("bits must be in 1..8");
  return qw_[layer][bits - 1];
}

std::unique_ptr<Plan> Model::plan(const int64_t* wbits, const int64_t* abits) const {
  const int L = num_layers();
  check_bits("wbits", wbits, L);
  check_bits("abits", abits, L);
  auto plan = std::make_unique<Plan>();
  plan->layers.resize(L);
  for (int l = 0; l < L; ++l) {
    LayerPlan& lp = plan->layers[l];
    const Geometry& g = geo_[l];
    lp.w = static_cast<int>(wbits[l]);
    lp.a = static_cast<int>(abits[l]);
    lp.last = l + 1 == L;
    lp.next_a = lp.last ? kFloatBits : static_cast<int>(abits[l + 1]);
    lp.int_mode = lp.w <= kMaxIntBits && lp.a <= kMaxIntBits;
    if (lp.a <= kMaxIntBits) lp.s_x = cfg_.act_ranges[l * kMaxIntBits + lp.a - 1] / qmax_act(lp.a);
    if (lp.w <= kMaxIntBits) lp.qw = &qw_[l][lp.w - 1];
    if (!lp.last && lp.next_a <= kMaxIntBits) {
      lp.qmax_next = qmax_act(lp.next_a);
      lp.s_next = cfg_.act_ranges[(l + 1) * kMaxIntBits + lp.next_a - 1] / lp.qmax_next;
    }
    const LayerSpec& s = cfg_.layers[l];
    const double pool_div = s.pool == Pool::Avg ? static_cast<double>(s.pool_size * s.pool_size) : 1.0;
    if (lp.int_mode) {
      lp.bias_q.resize(g.out_c);
      const double lim = static_cast<double>(kBiasLimit);
      for (int co = 0; co < g.out_c; ++co) {
        const double prod = lp.qw->scale[co] * lp.s_x;
        const double t = std::rint(static_cast<double>(cfg_.biases[l][co]) / prod);
        lp.bias_q[co] = static_cast<int32_t>(std::clamp(t, -lim, lim));
        if (!lp.last && lp.next_a <= kMaxIntBits) add_channel(lp.rq, fixed_point(prod / (lp.s_next * pool_div)));
        else lp.deq.push_back(prod / pool_div);
      }
    } else {
      if (lp.w <= kMaxIntBits) {
        const int K = g.fan_in;
        lp.wdeq.resize(static_cast<size_t>(g.out_c) * K);
        for (int co = 0; co < g.out_c; ++co)
          for (int k = 0; k < K; ++k)
            lp.wdeq[static_cast<size_t>(co) * K + k] =
                lp.qw->q[static_cast<size_t>(co) * kpad_[l] + k] * lp.qw->scale[co];
        lp.wf = lp.wdeq.data();
      } else {
        lp.wf = wf_[l].data();
      }
    }
  }
  return plan;
}

namespace {

// Per-thread scratch buffers.
struct Scratch {
  std::vector<int16_t> xi, xi_next, patches, padded;
  std::vector<double> xf, xf_next, yf, pooled_f;
  std::vector<int32_t> acc32, pooled32;
  std::vector<int64_t> acc, pooled;
};

// Pools HWC [H][W][C] (ReLU already applied) into [H/k][W/k][C]: max or sum.
template <typename T>
void pool_hwc(const T* in, int H, int W, int C, Pool pool, int k, T* out) {
  const int oh = H / k, ow = W / k;
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      T* o = out + (static_cast<size_t>(y) * ow + x) * C;
      const T* first = in + (static_cast<size_t>(y * k) * W + x * k) * C;
      if (pool == Pool::Max) {
        for (int c = 0; c < C; ++c) o[c] = first[c];
      } else {
        for (int c = 0; c < C; ++c) o[c] = T{0};
      }
      for (int dy = 0; dy < k; ++dy)
        for (int dx = 0; dx < k; ++dx) {
          const T* e = in + (static_cast<size_t>(y * k + dy) * W + x * k + dx) * C;
          if (pool == Pool::Max) {
            for (int c = 0; c < C; ++c) o[c] = std::max(o[c], e[c]);
          } else {
            for (int c = 0; c < C; ++c) o[c] += e[c];
          }
        }
    }
}

// Zero-padded HWC copy of x [H][W][C] into xp [H+2p][W+2p][C].
template <typename T>
void pad_hwc(const T* x, int H, int W, int C, int pad, T* xp) {
  const int wp = W + 2 * pad;
  const size_t row = static_cast<size_t>(wp) * C;
  std::fill(xp, xp + row * (H + 2 * pad), T{0});
  for (int y = 0; y < H; ++y) {
    const T* src = x + static_cast<size_t>(y) * W * C;
    T* dst = xp + (static_cast<size_t>(y + pad) * wp + pad) * C;
    for (size_t i = 0; i < static_cast<size_t>(W) * C; ++i) dst[i] = src[i];
  }
}

// Depthwise conv on padded HWC int16 input: out[p][c] = sum_t w[t][c] * x[window(p, t)][c].
ARCHGYM_CLONES
void depthwise_i16(const int16_t* __restrict xp, int wp, int C, int oh, int ow, int kk, int st,
                   const int16_t* __restrict w, int32_t* __restrict out) {
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox) {
      int32_t* o = out + (static_cast<size_t>(oy) * ow + ox) * C;
      for (int c = 0; c < C; ++c) o[c] = 0;
      for (int r = 0; r < kk; ++r)
        for (int c2 = 0; c2 < kk; ++c2) {
          const int16_t* x = xp + (static_cast<size_t>(oy * st + r) * wp + ox * st + c2) * C;
          const int16_t* wt = w + static_cast<size_t>(r * kk + c2) * C;
          for (int c = 0; c < C; ++c) o[c] += int32_t{x[c]} * int32_t{wt[c]};
        }
    }
}

}  // namespace

ARCHGYM_NO_MEMCPY_IDIOM
void Model::run_images(const Plan& plan, const uint8_t* images, int64_t begin, int64_t end, double* logits,
                       int64_t* acc_out, std::vector<std::vector<double>>* trace, int64_t out_base) const {
  const int L = num_layers();
  size_t max_act = static_cast<size_t>(input_size()), max_patch = 0, max_out = 0, max_padded = 0;
  for (int l = 0; l < L; ++l) {
    const Geometry& g = geo_[l];
    const int pad = cfg_.layers[l].padding;
    max_padded = std::max<size_t>(max_padded, static_cast<size_t>(g.in_c) * (g.in_h + 2 * pad) * (g.in_w + 2 * pad));
    max_act = std::max<size_t>(max_act, static_cast<size_t>(kpad_[l]));
    max_act = std::max<size_t>(max_act, static_cast<size_t>(g.in_size()));
    max_act = std::max<size_t>(max_act, static_cast<size_t>(g.out_size()));
    max_patch = std::max<size_t>(max_patch, static_cast<size_t>(g.conv_h) * g.conv_w * kpad_[l]);
    max_out = std::max<size_t>(max_out, static_cast<size_t>(g.out_c) * g.conv_h * g.conv_w);
  }
  Scratch sc;
  sc.xi.assign(max_act, 0);
  sc.xi_next.assign(max_act, 0);
  sc.xf.assign(max_act, 0.0);
  sc.xf_next.assign(max_act, 0.0);
  sc.patches.assign(max_patch, 0);
  sc.padded.assign(max_padded, 0);
  sc.acc32.assign(max_out, 0);
  sc.acc.assign(max_out, 0);
  sc.pooled.assign(max_out, 0);
  sc.pooled32.assign(max_out, 0);
  sc.yf.assign(max_out, 0.0);
  sc.pooled_f.assign(max_out, 0.0);
  std::vector<double> padded_f;
  const int classes = num_classes();
  const int64_t in0 = input_size();
  const int C0 = cfg_.in_channels, H0 = cfg_.in_h, W0 = cfg_.in_w;

  for (int64_t img = begin; img < end; ++img) {
    const uint8_t* px = images + img * in0;  // CHW pixels
    {
      const LayerPlan& lp0 = plan.layers[0];
      for (int ch = 0; ch < C0; ++ch)
        for (int i = 0; i < H0 * W0; ++i) {
          const uint8_t p = px[static_cast<size_t>(ch) * H0 * W0 + i];
          if (lp0.a <= kMaxIntBits) sc.xi[static_cast<size_t>(i) * C0 + ch] = input_lut_[0][lp0.a - 1][p];
          else sc.xf[static_cast<size_t>(i) * C0 + ch] = static_cast<double>(p) / cfg_.full_scale;
        }
    }
    for (int l = 0; l < L; ++l) {
      const LayerPlan& lp = plan.layers[l];
      const LayerSpec& s = cfg_.layers[l];
      const Geometry& g = geo_[l];
      const int64_t in_size = g.in_size();
      const int P = g.conv_h * g.conv_w;
      const int cout = g.out_c;
      const bool linear = s.kind == LayerKind::Linear;
      if (trace) {  // the layer's input in torch order (CHW, or torch-flattened features)
        double* dst = (*trace)[l].data() + img * in_size;
        for (int64_t i = 0; i < in_size; ++i) {
          const int64_t j = linear ? hwc_index_[l][i]
                                   : (i % (g.in_h * g.in_w)) * g.in_c + i / (g.in_h * g.in_w);
          dst[i] = lp.a <= kMaxIntBits ? static_cast<double>(sc.xi[j]) : sc.xf[j];
        }
      }
      const int64_t out_size = g.out_size();
      const int kk = s.kernel, pad = s.padding, st = s.stride;
      const int hp = g.in_h + 2 * pad, wp = g.in_w + 2 * pad;

      if (lp.int_mode) {
        const int kpad = kpad_[l];
        const int16_t* wrun = lp.qw->run.data();
        if (linear) {
          std::fill(sc.xi.begin() + in_size, sc.xi.begin() + kpad, int16_t{0});
          gemm_i16(sc.xi.data(), 1, wrun, cout, kpad, sc.acc32.data());
        } else {
          const int16_t* xp = sc.xi.data();
          if (pad > 0) {
            pad_hwc(sc.xi.data(), g.in_h, g.in_w, g.in_c, pad, sc.padded.data());
            xp = sc.padded.data();
          }
          if (s.kind == LayerKind::Conv) {
            const int run = kk * g.in_c;  // one kernel row of the window: contiguous in HWC
            for (int oy = 0; oy < g.conv_h; ++oy)
              for (int ox = 0; ox < g.conv_w; ++ox) {
                int16_t* row = sc.patches.data() + static_cast<size_t>(oy * g.conv_w + ox) * kpad;
                int k = 0;
                for (int r = 0; r < kk; ++r) {
                  const int16_t* src = xp + (static_cast<size_t>(oy * st + r) * wp + ox * st) * g.in_c;
                  for (int i = 0; i < run; ++i) row[k++] = src[i];
                }
                for (; k < kpad; ++k) row[k] = 0;
              }
            gemm_i16(sc.patches.data(), P, wrun, cout, kpad, sc.acc32.data());
          } else {
            depthwise_i16(xp, wp, g.in_c, g.conv_h, g.conv_w, kk, st, wrun, sc.acc32.data());
          }
        }
        // + bias, ReLU: |acc| <= 32768 * 127 * 255 and |bias| <= 2^30, so the sum fits int32.
        {
          int32_t* __restrict a = sc.acc32.data();
          const int32_t* __restrict bias = lp.bias_q.data();
          const bool relu = s.relu;
          for (int p = 0; p < P; ++p)
            for (int co = 0; co < cout; ++co) {
              const int32_t t = a[p * cout + co] + bias[co];
              a[p * cout + co] = (relu && t < 0) ? 0 : t;
            }
        }
        const int64_t pixels = int64_t{g.out_h} * g.out_w;
        const bool avg = s.pool == Pool::Avg;
        const int32_t* v32 = sc.acc32.data();  // [pixels][cout] after pooling (max or none)
        const int64_t* v64 = sc.pooled.data(); // [pixels][cout] average-pool sums
        if (s.pool == Pool::Max) {
          pool_hwc(sc.acc32.data(), g.conv_h, g.conv_w, cout, Pool::Max, s.pool_size, sc.pooled32.data());
          v32 = sc.pooled32.data();
        } else if (avg) {
          for (int64_t i = 0; i < int64_t{P} * cout; ++i) sc.acc[i] = sc.acc32[i];
          pool_hwc(sc.acc.data(), g.conv_h, g.conv_w, cout, Pool::Avg, s.pool_size, sc.pooled.data());
        }
        auto value = [&](int64_t i) -> int64_t { return avg ? v64[i] : int64_t{v32[i]}; };
        if (lp.last) {
          for (int co = 0; co < classes; ++co) {
            acc_out[(img - out_base) * classes + co] = value(co);
            logits[(img - out_base) * classes + co] = static_cast<double>(value(co)) * lp.deq[co];
          }
        } else if (lp.next_a <= kMaxIntBits) {
          if (avg) requantize_rows(v64, pixels, cout, lp.rq, lp.qmax_next, sc.xi_next.data());
          else requantize_rows(v32, pixels, cout, lp.rq, lp.qmax_next, sc.xi_next.data());
          std::swap(sc.xi, sc.xi_next);
        } else {
          for (int64_t p = 0; p < pixels; ++p)
            for (int co = 0; co < cout; ++co)
              sc.xf_next[p * cout + co] = static_cast<double>(value(p * cout + co)) * lp.deq[co];
          std::swap(sc.xf, sc.xf_next);
        }
        continue;
      }

      // Float mode: double arithmetic on (dequantized) weights and activations, HWC.
      double* xf = sc.xf.data();
      if (lp.a <= kMaxIntBits)
        for (int64_t i = 0; i < in_size; ++i) xf[i] = sc.xi[i] * lp.s_x;
      const double* xpf = xf;
      if (!linear && pad > 0) {
        padded_f.resize(static_cast<size_t>(g.in_c) * hp * wp);
        pad_hwc(xf, g.in_h, g.in_w, g.in_c, pad, padded_f.data());
        xpf = padded_f.data();
      }
      const int K = g.fan_in;
      for (int co = 0; co < cout; ++co) {
        const double* wr = lp.wf + static_cast<size_t>(co) * K;  // torch order
        const double b = static_cast<double>(cfg_.biases[l][co]);
        for (int oy = 0; oy < g.conv_h; ++oy)
          for (int ox = 0; ox < g.conv_w; ++ox) {
            double sum = 0.0;
            if (linear) {
              for (int k = 0; k < K; ++k) sum += wr[k] * xf[hwc_index_[l][k]];
            } else if (s.kind == LayerKind::Conv) {
              for (int ci = 0; ci < g.in_c; ++ci)
                for (int r = 0; r < kk; ++r)
                  for (int c2 = 0; c2 < kk; ++c2)
                    sum += wr[(ci * kk + r) * kk + c2] *
                           xpf[(static_cast<size_t>(oy * st + r) * wp + ox * st + c2) * g.in_c + ci];
            } else {
              for (int r = 0; r < kk; ++r)
                for (int c2 = 0; c2 < kk; ++c2)
                  sum += wr[r * kk + c2] * xpf[(static_cast<size_t>(oy * st + r) * wp + ox * st + c2) * g.in_c + co];
            }
            double v = sum + b;
            if (s.relu && !(v > 0.0)) v = 0.0;
            sc.yf[static_cast<size_t>(oy * g.conv_w + ox) * cout + co] = v;
          }
      }
      const double* y = sc.yf.data();
      if (s.pool != Pool::None) {
        double* pf = sc.pooled_f.data();
        pool_hwc(sc.yf.data(), g.conv_h, g.conv_w, cout, s.pool, s.pool_size, pf);
        if (s.pool == Pool::Avg) {
          const double div = static_cast<double>(s.pool_size * s.pool_size);
          for (int64_t i = 0; i < out_size; ++i) pf[i] /= div;
        }
        y = pf;
      }
      if (lp.last) {
        for (int co = 0; co < classes; ++co) {
          acc_out[(img - out_base) * classes + co] = 0;
          logits[(img - out_base) * classes + co] = y[co];
        }
      } else if (lp.next_a <= kMaxIntBits) {
        for (int64_t i = 0; i < out_size; ++i)
          sc.xi_next[i] = quantize_act(y[i], lp.s_next, lp.qmax_next);
        std::swap(sc.xi, sc.xi_next);
      } else {
        std::copy(y, y + out_size, sc.xf_next.begin());
        std::swap(sc.xf, sc.xf_next);
      }
    }
  }
}

namespace {

size_t worker_count(int threads, int64_t items, int64_t min_per_thread) {
  const size_t hw = std::max<unsigned>(1, std::thread::hardware_concurrency());
  const size_t want = threads > 0 ? static_cast<size_t>(threads) : hw;
  const int64_t by_size = std::max<int64_t>(1, items / std::max<int64_t>(1, min_per_thread));
  return std::max<size_t>(1, std::min<size_t>(want, static_cast<size_t>(by_size)));
}

// Runs work(w, begin, end) over [0, n) split in `workers` chunks; rethrows the first error.
template <typename F>
void parallel_chunks(int64_t n, size_t workers, F&& work) {
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  const int64_t chunk = (n + static_cast<int64_t>(workers) - 1) / static_cast<int64_t>(workers);
  for (size_t w = 0; w < workers; ++w) {
    const int64_t b = std::min<int64_t>(n, static_cast<int64_t>(w) * chunk), e = std::min<int64_t>(n, b + chunk);
    auto job = [&, w, b, e] {
      try {
        work(w, b, e);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    };
    if (w + 1 == workers) job();
    else pool.emplace_back(job);
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

Forward Model::forward(const uint8_t* images, int64_t n, const int64_t* wbits, const int64_t* abits, int threads,
                       bool trace) const {
  if (n < 0) fail("the number of images must be >= 0");
  if (threads < 0) fail("threads must be >= 0 (0: one per core)");
  auto p = plan(wbits, abits);
  Forward out;
  const int classes = num_classes();
  out.logits.assign(static_cast<size_t>(n) * classes, 0.0);
  out.acc.assign(static_cast<size_t>(n) * classes, 0);
  out.last_is_int = p->layers.back().int_mode;
  if (trace) {
    out.trace.resize(num_layers());
    for (int l = 0; l < num_layers(); ++l) out.trace[l].assign(static_cast<size_t>(n * geo_[l].in_size()), 0.0);
  }
  const size_t workers = worker_count(threads, n, 64);
  parallel_chunks(n, workers, [&](size_t, int64_t b, int64_t e) {
    run_images(*p, images, b, e, out.logits.data(), out.acc.data(), trace ? &out.trace : nullptr, 0);
  });
  return out;
}

std::vector<int64_t> Model::correct(const uint8_t* images, const int64_t* labels, int64_t n, const int64_t* wbits,
                                    const int64_t* abits, int64_t m, int threads) const {
  if (n < 0 || m < 0) fail("counts must be >= 0");
  if (threads < 0) fail("threads must be >= 0 (0: one per core)");
  const int classes = num_classes();
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      fail("labels[" + str(i) + "] must be in 0.." + str(classes - 1) + ", got " + str(labels[i]));
  const int L = num_layers();
  std::vector<std::unique_ptr<Plan>> plans;
  for (int64_t j = 0; j < m; ++j) {
    try {
      plans.push_back(plan(wbits + j * L, abits + j * L));
    } catch (const std::invalid_argument& e) {
      fail(m > 1 ? "configuration " + str(j) + ": " + e.what() : e.what());
    }
  }
  std::vector<int64_t> result(static_cast<size_t>(m), 0);
  auto count = [&](const Plan& plan, int64_t b, int64_t e) {
    const int64_t chunk = 256;
    std::vector<double> logits(static_cast<size_t>(chunk) * classes);
    std::vector<int64_t> acc(static_cast<size_t>(chunk) * classes);
    int64_t good = 0;
    for (int64_t s = b; s < e; s += chunk) {
      const int64_t t = std::min(e, s + chunk);
      run_images(plan, images, s, t, logits.data(), acc.data(), nullptr, s);
      for (int64_t i = s; i < t; ++i) {
        const double* row = logits.data() + (i - s) * classes;
        const int64_t best = std::max_element(row, row + classes) - row;  // first maximum
        good += best == labels[i];
      }
    }
    return good;
  };
  if (m == 1) {  // one configuration: split the images
    const size_t workers = worker_count(threads, n, 64);
    std::vector<int64_t> part(workers, 0);
    parallel_chunks(n, workers, [&](size_t w, int64_t b, int64_t e) { part[w] = count(*plans[0], b, e); });
    for (int64_t v : part) result[0] += v;
  } else {  // several: split the configurations
    const size_t workers = worker_count(threads, m, 1);
    parallel_chunks(m, workers, [&](size_t, int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) result[j] = count(*plans[j], 0, n);
    });
  }
  return result;
}

}  // namespace archgym::quant
