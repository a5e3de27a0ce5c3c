// Mixed-precision accelerator core: integer inference of small CNNs/MLPs with
// per-layer weight and activation bits, and the analytic cost of running them
// on a bit-flexible accelerator (bit-serial or bit-fused).
//
// The arithmetic is defined in docs/quant.md ("The arithmetic"); the numpy
// reference implementation archgym.quant.reference_forward computes the same
// numbers and the tests check exact equality for integer configurations.
// Plain C++20, no Python headers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace archgym::quant {

enum class LayerKind : int { Conv = 0, DepthwiseConv = 1, Linear = 2 };
enum class Pool : int { None = 0, Max = 1, Avg = 2 };

constexpr int kMaxIntBits = 8;
constexpr int kFloatBits = 32;
constexpr int kMaxFanIn = 32768;   // int32 accumulators cannot overflow below this
constexpr int kMaxDim = 4096;      // any channel count / spatial size
constexpr int64_t kMaxElements = int64_t{1} << 24;  // per tensor, per image
constexpr int64_t kBiasLimit = int64_t{1} << 30;    // |quantized bias| saturates here

// Whether bits is 1..8 or 32.
inline bool valid_bits(int64_t bits) { return (bits >= 1 && bits <= kMaxIntBits) || bits == kFloatBits; }

struct LayerSpec {
  LayerKind kind = LayerKind::Conv;
  int in_channels = 1, out_channels = 1, kernel = 1, stride = 1, padding = 0;
  bool relu = true;
  Pool pool = Pool::None;
  int pool_size = 1;
};

struct ModelConfig {
  int in_channels = 1, in_h = 1, in_w = 1;
  int full_scale = 255;  // the pixel value that means 1.0
  std::vector<LayerSpec> layers;
  std::vector<std::vector<float>> weights;  // torch layout, flattened
  std::vector<std::vector<float>> biases;
  std::vector<double> act_ranges;           // [L][8]: clip range of layer l's input at a = 1..8 bits
};

// Names of the enums as the bindings take them (index = enum value).
inline constexpr std::array<const char*, 3> kLayerKindNames{"conv", "dwconv", "linear"};
inline constexpr std::array<const char*, 3> kPoolNames{"none", "max", "avg"};

// The integer fields of LayerSpec by name (kind, relu and pool are named apart).
inline constexpr std::array<std::pair<const char*, int LayerSpec::*>, 6> kLayerIntFields{{
    {"in_channels", &LayerSpec::in_channels},
    {"out_channels", &LayerSpec::out_channels},
    {"kernel", &LayerSpec::kernel},
    {"stride", &LayerSpec::stride},
    {"padding", &LayerSpec::padding},
    {"pool_size", &LayerSpec::pool_size},
}};

// Derived geometry of one layer (per image).
struct Geometry {
  int in_c, in_h, in_w;        // input tensor (CHW); linear: in_c = features, h = w = 1
  int out_c, conv_h, conv_w;   // before pooling
  int out_h, out_w;            // after pooling
  int fan_in;                  // MACs per output element
  int64_t in_size() const { return int64_t{in_c} * in_h * in_w; }
  int64_t out_size() const { return int64_t{out_c} * out_h * out_w; }
  int64_t macs() const { return int64_t{out_c} * conv_h * conv_w * fan_in; }
};
inline constexpr std::array<std::pair<const char*, int Geometry::*>, 9> kGeometryFields{{
    {"in_c", &Geometry::in_c},
    {"in_h", &Geometry::in_h},
    {"in_w", &Geometry::in_w},
    {"out_c", &Geometry::out_c},
    {"conv_h", &Geometry::conv_h},
    {"conv_w", &Geometry::conv_w},
    {"out_h", &Geometry::out_h},
    {"out_w", &Geometry::out_w},
    {"fan_in", &Geometry::fan_in},
}};

// Weights of one layer quantized to b bits (symmetric, per output channel).
struct QuantWeights {
  std::vector<int16_t> q;      // [out_c][kpad] in torch order (in, kh, kw), zero padded
  std::vector<double> scale;   // [out_c]
  // The layout the kernels read (activations are channels-last, HWC):
  // conv [out_c][kpad] in (kh, kw, in) order; depthwise [kh*kw][channels];
  // linear [out_c][kpad] with the inputs in HWC-flattened order.
  std::vector<int16_t> run;
};

// A configuration prepared for execution (built once per bit vector).
struct Plan;

// Results of a forward pass.
struct Forward {
  std::vector<double> logits;       // [N][classes]
  std::vector<int64_t> acc;         // [N][classes]: last layer's integer accumulators (+ bias);
                                    // zeros when the last layer runs in float
  bool last_is_int = false;
  std::vector<std::vector<double>> trace;  // optional: per layer, [N][in_size] layer inputs
};

class Model {
 public:
  explicit Model(ModelConfig config);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  int num_layers() const { return static_cast<int>(cfg_.layers.size()); }
  int num_classes() const { return geo_.back().out_c; }
  int64_t input_size() const { return int64_t{cfg_.in_channels} * cfg_.in_h * cfg_.in_w; }
  const ModelConfig& config() const { return cfg_; }
  const std::vector<Geometry>& geometry() const { return geo_; }
  const QuantWeights& quant_weights(int layer, int bits) const;
  int kpad(int layer) const { return kpad_[layer]; }

  // images: [n][input_size] uint8 pixels; wbits/abits: one entry per layer.
  // threads: 0 = one per core.  trace: record every layer's input.
  Forward forward(const uint8_t* images, int64_t n, const int64_t* wbits, const int64_t* abits,
                  int threads, bool trace) const;

  // Number of correct predictions of each of m configurations (rows of
  // wbits/abits, each num_layers long) on n labelled images.
  std::vector<int64_t> correct(const uint8_t* images, const int64_t* labels, int64_t n,
                               const int64_t* wbits, const int64_t* abits, int64_t m,
                               int threads) const;

 private:
  friend struct Plan;
  ModelConfig cfg_;
  std::vector<Geometry> geo_;
  std::vector<int> kpad_;
  std::vector<std::array<QuantWeights, kMaxIntBits>> qw_;   // [layer][bits - 1]
  std::vector<std::vector<double>> wf_;                     // float weights as double [out][k]
  std::vector<std::vector<int>> hwc_index_;                 // linear: torch input index -> HWC index
  std::vector<std::array<std::array<int16_t, 256>, kMaxIntBits>> input_lut_;  // layer 0 only: [a-1][pixel]

  std::unique_ptr<Plan> plan(const int64_t* wbits, const int64_t* abits) const;
  void run_images(const Plan& plan, const uint8_t* images, int64_t begin, int64_t end,
                  double* logits, int64_t* acc, std::vector<std::vector<double>>* trace,
                  int64_t out_base) const;
};

// Validate one bit vector (throws std::invalid_argument naming the entry).
void check_bits(const char* name, const int64_t* bits, int64_t count);

// ------------------------------------------------------------------- cost

enum class Design : int { BitSerial = 0, BitFused = 1 };

// One layer as the cost model sees it.  cycles8 and the buffer access counts
// come from the MAESTRO-style engine (archgym.costmodel) evaluated once at
// 8 bits (one MAC per PE per cycle).
struct CostLayer {
  int64_t macs = 0, weights = 0, in_elems = 0, out_elems = 0;
  int64_t cycles8 = 0;
  int64_t l1_in = 0, l1_w = 0, l1_out = 0;  // L1 accesses (elements)
  int64_t l2_in = 0, l2_w = 0, l2_out = 0;  // L2 accesses (elements)
};
// The columns of the cost layers matrix the bindings take, by name.
inline constexpr std::array<std::pair<const char*, int64_t CostLayer::*>, 11> kCostLayerFields{{
    {"macs", &CostLayer::macs},
    {"weights", &CostLayer::weights},
    {"in_elems", &CostLayer::in_elems},
    {"out_elems", &CostLayer::out_elems},
    {"cycles8", &CostLayer::cycles8},
    {"l1_in", &CostLayer::l1_in},
    {"l1_w", &CostLayer::l1_w},
    {"l1_out", &CostLayer::l1_out},
    {"l2_in", &CostLayer::l2_in},
    {"l2_w", &CostLayer::l2_w},
    {"l2_out", &CostLayer::l2_out},
}};

// The constants of an accelerator preset (see docs/quant.md, "Cost model").
// The presets' values live in archgym/quant/cost.py (PRESETS).
struct CostPreset {
  int64_t dram_bits_per_cycle = 0;
  double freq_hz = 0.0;
  double e_bitop_pj = 0.0;   // bit-serial: one 1x1-bit AND + popcount-add
  double e_brick_pj = 0.0;   // bit-fused: one 2x2-bit BitBrick multiply-add
  double e_l1_pj_per_bit = 0.0;
  double e_l2_pj_per_bit = 0.0;
  double e_dram_pj_per_bit = 0.0;
};
// Its real-valued fields by name (dram_bits_per_cycle, an integer, is named apart).
inline constexpr std::array<std::pair<const char*, double CostPreset::*>, 6> kCostPresetRealFields{{
    {"freq_hz", &CostPreset::freq_hz},
    {"e_bitop_pj", &CostPreset::e_bitop_pj},
    {"e_brick_pj", &CostPreset::e_brick_pj},
    {"e_l1_pj_per_bit", &CostPreset::e_l1_pj_per_bit},
    {"e_l2_pj_per_bit", &CostPreset::e_l2_pj_per_bit},
    {"e_dram_pj_per_bit", &CostPreset::e_dram_pj_per_bit},
}};

struct LayerCost {
  int64_t compute_cycles, memory_cycles, cycles, dram_bits, size_bits;
  double energy_pj, mac_pj, buffer_pj, dram_pj;
};

// Bits a bit-fused design rounds b up to: 2, 4, 8, 16 or 32.
int fused_bits(int64_t b);

class CostModel {
 public:
  CostModel(std::vector<CostLayer> layers, CostPreset preset, Design design);
  int num_layers() const { return static_cast<int>(layers_.size()); }
  // Cost of layer l with weight bits w, input activation bits a and output
  // (stored) bits a_out; all in 1..8 or 32.
  LayerCost layer(int l, int64_t w, int64_t a, int64_t a_out) const;
  // Per-layer costs of m configurations: a_out of layer l is a of layer l+1,
  // 32 for the last layer.  Outputs are [m][L].
  void evaluate(const int64_t* wbits, const int64_t* abits, int64_t m, int64_t* cycles,
                double* energy_pj, int64_t* size_bits, int64_t* dram_bits) const;

 private:
  std::vector<CostLayer> layers_;
  CostPreset preset_;
  Design design_;
};

}  // namespace archgym::quant
