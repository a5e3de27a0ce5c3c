// A MAESTRO-style data-centric dataflow cost model.
//
// Reimplemented from the prose specification of MAESTRO (Kwon et al., MICRO
// 2019 / IEEE Micro 2020; the HEAD 4eb08d17 and 2020 7723091 releases), kept as
// docs/design/costmodel.md.  "§n" in comments refers to that document.
// Plain C++: no Python here.  Bad input throws std::invalid_argument with a
// sentence naming the field and the allowed range.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace archgym::costmodel {

using i64 = std::int64_t;

// Layer dimensions.  Y and X are input extents; YP and XP ("Y'", "X'") are the
// output extents Y-R+1 and X-S+1, which directives may name.  G is the group
// count of a grouped convolution (§20).
enum Var : int { K = 0, C, R, S, Y, X, N, G, kNumDims, YP = kNumDims, XP, kNumVars };

const char* var_name(int var);

// §1, §20: CONV, DSCONV (depthwise), NGCONV (grouped), TRCONV (transposed,
// analysed as CONV) and GEMM (analysed as a CONV with R = S = X = 1).
enum class LayerType : int {
  Conv = 0, DepthwiseConv, GroupedConv, TransposedConv, Gemm, kNumLayerTypes
};

// MAESTRO's name of a layer type: CONV, DSCONV, NGCONV, TRCONV, GEMM.
const char* layer_type_name(int type);

// §1, §20.2: the variables of the input, filter and output tensors of a layer
// type, in order; N (the batch) is left out when the layer does not declare it.
using TensorVars = std::array<std::vector<int>, 3>;
TensorVars tensor_vars(LayerType type);

// §20.3: a GEMM's dimensions (M x K) x (K x N) are the CONV dimensions
// M -> Y, N -> K, K -> C, with R = S = X = 1.  {GEMM name, CONV variable}.
struct GemmDim {
  const char* name;
  int var;
};
inline constexpr std::array<GemmDim, 3> kGemmDims{{{"M", Y}, {"N", K}, {"K", C}}};

// An accepted range of an input value, bounds included.
struct Range {
  i64 lo, hi;
};

inline constexpr i64 kMaxDim = i64{1} << 24;
// K, C, R, S, Y, X; also directive sizes, offsets, cluster sizes and the
// values of a dataflow's named constants.
inline constexpr Range kDimRange{1, kMaxDim};
// N, the batch dimension, and G, the groups: 0 means "not declared".
inline constexpr Range kBatchRange{0, kMaxDim};
inline constexpr int kMaxLevels = 8;
inline constexpr int kMaxParams = 64;

// A directive size or offset before it is bound to a layer: a literal, the
// declared size of a dimension (Sz(R)), or a named constant given per call.
struct Expr {
  enum Kind : int { Literal = 0, DimSize = 1, Param = 2, kNumKinds };
  Kind kind = Literal;
  i64 value = 1;  // the literal, the Var of Sz(), or the constant's index
};

// The name of an expression kind: literal, dim_size, param.
const char* expr_kind_name(int kind);

struct DirectiveSpec {
  bool spatial = false;  // SpatialMap, else TemporalMap
  int var = K;           // a Var, YP and XP allowed
  Expr size, offset;
};

// Levels of directives, top first, separated by Cluster(size) directives:
// clusters[j] sits between levels j and j+1.
struct DataflowSpec {
  std::vector<std::vector<DirectiveSpec>> levels;
  std::vector<Expr> clusters;
  int num_params = 0;

  // Checks the structure and the literal values (Sz() and constants are
  // checked when a layer binds them).
  void validate() const;
};

// The type, N, G and the strides have defaults (CONV, no batch dimension, no
// groups, stride 1); K ... X do not.
struct Layer {
  LayerType type = LayerType::Conv;
  // K, C, R, S, Y, X, N, G.  N = 0 (G = 0) means "not declared".
  std::array<i64, kNumDims> dims{};
  i64 stride_y = 1, stride_x = 1;  // MAESTRO's Stride { Y: ..., X: ... } (§20.1)
  // false: a declared N is in the loops but not in the tensors, as MAESTRO
  // analyses a later layer of a file whose first layer has no N (§19).
  bool batch_in_tensors = true;
};

// The accepted range of a layer dimension (a Var below kNumDims).
constexpr Range dim_range(int var) { return var == N || var == G ? kBatchRange : kDimRange; }

// The accepted range of a stride.
inline constexpr Range kStrideRange{1, kMaxDim};

// The defaults are ConfuciuX's invocation of MAESTRO.
struct Hardware {
  i64 num_pes = 64;
  i64 simd_lanes = 1;
  i64 noc_bw = 81920000;  // elements per cycle
  i64 noc_hops = 1;
  i64 noc_hop_latency = 1;
  i64 offchip_bw = 70000;  // elements per cycle (HEAD only)
};

// Every Hardware field with its name and accepted range, in the column order
// of the batch API.
struct HardwareField {
  const char* name;
  i64 Hardware::*member;
  Range range;
};
inline constexpr std::array<HardwareField, 6> kHardwareFields{{
    {"num_pes", &Hardware::num_pes, {1, i64{1} << 20}},
    {"simd_lanes", &Hardware::simd_lanes, {1, i64{1} << 16}},
    {"noc_bw", &Hardware::noc_bw, {1, i64{1} << 50}},
    {"noc_hops", &Hardware::noc_hops, {0, i64{1} << 16}},
    {"noc_hop_latency", &Hardware::noc_hop_latency, {0, i64{1} << 16}},
    {"offchip_bw", &Hardware::offchip_bw, {1, i64{1} << 50}},
}};

// The MAESTRO binary's own defaults, used when a flag is not given (read from
// its behaviour, §19): 7 PEs, NoC bandwidth 2^31 - 1, hop latency 0.
inline constexpr Hardware kMaestroFlagDefaults{7, 1, 2147483647, 1, 0, 70000};

// The constant tables of MAESTRO's releases (§7, §9).
enum class Preset : int { Maestro2020 = 0, Maestro2021 = 1, kNumPresets };

// The name of a preset: maestro2020, maestro2021.
const char* preset_name(int preset);

struct Options {
  Preset preset = Preset::Maestro2021;
  // Reproduce MAESTRO's reporting quirks: the output L1 tile counted in input
  // coordinates (over-counted by R*S) and the L1 energy term dropped for
  // multi-level dataflows.  Off: output L1 tile in output coordinates, energy
  // = MACs + L1 + L2 terms.
  bool compat = true;
};

// Integer results.  The enum order is the column order of the batch API.
enum IntField : int {
  kRuntime = 0, kMacs, kL1Size, kL2Size, kPeakBw, kOffchipBw,
  kInL1Read, kInL1Write, kInL2Read, kInL2Write,
  kFiltL1Read, kFiltL1Write, kFiltL2Read, kFiltL2Write,
  kOutL1Read, kOutL1Write, kOutL2Read, kOutL2Write,
  kIngressMin, kIngressMax, kIngressAvg,
  kEgressMin, kEgressMax, kEgressAvg,
  kComputeMin, kComputeMax, kComputeAvg,
  kInputPixels, kWeightPixels,
  kDegenerate,   // 1 when no top-level case had partial sums (§7)
  kSingleEntry,  // 1 when MAESTRO's result list has one entry (λ = 1, §7)
  kNumIntFields
};

enum FloatField : int {
  kEnergy = 0,    // as configured by Options::compat
  kEnergyL2,      // e_mac * 18.61 * (L2 reads and writes)
  kEnergyL1,      // e_mac * 1.68 * (L1 reads and writes)
  kEnergyMac,     // e_mac * MACs
  kArea, kPower, kPePower, kL1Power, kL2Power, kNocPower,
  kAvgBw, kAvgActive, kArithIntensity,
  kNumFloatFields
};

const char* int_field_name(int f);
const char* float_field_name(int f);

struct Result {
  std::array<i64, kNumIntFields> ints{};
  std::array<double, kNumFloatFields> floats{};
};

// Evaluates one layer.  params holds spec.num_params values for the named
// constants.  Throws std::invalid_argument on bad input (never crashes).
Result evaluate(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
                const i64* params, const Options& opt);

}  // namespace archgym::costmodel
