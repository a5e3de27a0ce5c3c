// Accelerator cost model for C = A x B (SpMV, SpMM, SpGEMM) over the nine
// formats, three dataflows (inner, outer, Gustavson) and three conversion
// sites (none, software on the host, hardware unit).  docs/sparse.md states
// every formula and constant.  Plain C++20, no Python.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "sparse/sparse.hpp"

namespace archgym::sparse {

enum class Op : int { Spmv = 0, Spmm, Spgemm };
enum class Dataflow : int { Inner = 0, Outer, Gustavson };
enum class Site : int { None = 0, Software, Hardware };

// How a dataflow walks an operand.
enum class Order : int { RowSequential = 0, RowIndexed, Column };
bool traversable(Format f, Order o);
Order required_order(Dataflow df, int operand);  // operand 0 = A, 1 = B
Format natural_format(Order o);                  // csr or csc
// "" when the action is legal, else the reason.  Only conversion = none can be
// illegal: it needs stored == computed format, traversable in the dataflow's order.
std::string legality(Format fa, Format fb, Dataflow df, Site site, Format sa, Format sb);

// Software-conversion kinds calibrated against scipy (sw_conversion.json).
inline constexpr int kNumSwKinds = 10;
const char* sw_kind_name(int kind);
int sw_kind(Format from, Format to);

struct Accelerator {
  double macs_per_cycle = 64.0;
  double bandwidth_bytes_per_cycle = 64.0;
  double buffer_bytes = 1048576.0;
  double conversion_elems_per_cycle = 16.0;
  double frequency_ghz = 1.0;
  double compares_per_cycle = 64.0;
  double merges_per_cycle = 64.0;
  double scan_elems_per_cycle = 64.0;
  double energy_mac_pj = 4.6;
  double energy_compare_pj = 0.1;
  double energy_buffer_pj = 5.0;
  double energy_dram_byte_pj = 160.0;
  double energy_convert_pj = 10.0;
  double host_power_w = 15.0;
  double spill_penalty = 1.0;
  // Per kind: fixed seconds, seconds per element touched, seconds per nonzero moved.
  std::array<std::array<double, 3>, kNumSwKinds> sw{};
  void validate() const;
};

struct CostResult {
  bool legal = true;
  std::string reason;
  Format eff_a = Format::Csr, eff_b = Format::Csr;
  i64 cycles = 0, compute_cycles = 0, memory_cycles = 0, conversion_cycles = 0, spill_cycles = 0;
  i64 bytes = 0, bytes_a = 0, bytes_b = 0, bytes_c = 0, spill_bytes = 0;
  i64 macs = 0, intersections = 0, merges = 0, scan_elements = 0;
  i64 converted_elements = 0, converted_nnz = 0, conversion_legs = 0;
  double conversion_seconds = 0.0, energy_pj = 0.0;
};

class Problem {
 public:
  Problem(const PatternView& a, const PatternView& b, Op op, const Precision& prec);

  CostResult cost(Format fa, Format fb, Dataflow df, Site site, Format sa, Format sb,
                  const Accelerator& acc) const;

  const Stats& stats(int operand) const { return st_[operand]; }
  Op op() const { return op_; }
  const Precision& precision() const { return prec_; }
  i64 macs() const { return macs_; }
  i64 intersections() const { return intersections_; }
  i64 merges_outer() const { return merges_outer_; }
  i64 merges_gustavson() const { return merges_gustavson_; }
  i64 nnz_c() const { return nnz_c_; }
  i64 bytes_c() const { return bytes_c_; }
  // Storage bytes of operand X in format f (throws if f cannot hold it).
  i64 bytes(int operand, Format f) const;
  i64 slots(int operand, Format f) const;
  i64 gustavson_b_fetch(Format f) const { return fetch_b_[static_cast<int>(f)]; }

 private:
  Op op_;
  Precision prec_;
  std::array<Stats, 2> st_;
  i64 macs_ = 0, intersections_ = 0, merges_outer_ = 0, merges_gustavson_ = 0, nnz_c_ = -1;
  i64 bytes_c_ = 0, partial_bytes_ = 0;
  std::array<std::array<i64, kNumFormats>, 2> bytes_{}, slots_{};
  std::array<std::array<std::string, kNumFormats>, 2> bytes_error_;
  std::array<i64, kNumFormats> fetch_b_{};
  // Work of each direct leg, per operand (non-direct entries unused).
  std::array<std::array<std::array<Work, kNumFormats>, kNumFormats>, 2> leg_{};
  std::array<std::array<std::array<std::string, kNumFormats>, kNumFormats>, 2> leg_error_;
};

}  // namespace archgym::sparse
