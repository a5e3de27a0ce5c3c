// A MAESTRO-style data-centric dataflow cost model.
//
// Reimplemented from the prose specification in shared/specs/maestro_engine.md
// (MAESTRO, Kwon et al., MICRO 2019 / IEEE Micro 2020; the HEAD 4eb08d17 and
// 2020 7723091 releases).  Section numbers in comments (§n) refer to that text.
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
// output extents Y-R+1 and X-S+1, which directives may name.
enum Var : int { K = 0, C, R, S, Y, X, N, kNumDims, YP = kNumDims, XP, kNumVars };

const char* var_name(int var);

enum class LayerType : int { Conv = 0, DepthwiseConv = 1 };

// A directive size or offset before it is bound to a layer: a literal, the
// declared size of a dimension (Sz(R)), or a named constant given per call.
struct Expr {
  enum Kind : int { Literal = 0, DimSize = 1, Param = 2 };
  Kind kind = Literal;
  i64 value = 1;
};

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

  // Checks the structure (not the values, which depend on the layer).
  void validate() const;
};

struct Layer {
  LayerType type = LayerType::Conv;
  // K, C, R, S, Y, X, N.  N = 0 means "not declared" (no batch dimension).
  std::array<i64, kNumDims> dims{};
};

struct Hardware {
  i64 num_pes = 1;
  i64 simd_lanes = 1;
  i64 noc_bw = 81920000;  // elements per cycle
  i64 noc_hops = 1;
  i64 noc_hop_latency = 1;
  i64 offchip_bw = 70000;  // elements per cycle (HEAD only)
};

// The constant tables of MAESTRO's releases (§7, §9).
enum class Preset : int { Maestro2020 = 0, Maestro2021 = 1 };

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
