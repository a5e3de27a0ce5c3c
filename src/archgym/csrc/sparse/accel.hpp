// Accelerator cost model for C = A x B (SpMV, SpMM, SpGEMM) over the nine
// formats, three dataflows (inner, outer, Gustavson) and three conversion
// sites (none, software on the host, hardware unit).  docs/sparse.md states
// every formula and constant; the hardware unit's micro-architecture is
// docs/design/sparse.md §9.  Plain C++20, no Python.
#pragma once

#include <array>
#include <optional>
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

// Software-conversion kinds: one per direct leg (dense <-> any, csr <-> any), in
// (from, to) format order, named "from->to"; each calibrated on archgym's compiled
// converter of that leg (sw_conversion.json, benchmarks/calibrate_sparse_sw.py).
inline constexpr int kNumSwKinds = 2 * (kNumFormats - 1) + 2 * (kNumFormats - 2);
const char* sw_kind_name(int kind);
int sw_kind(Format from, Format to);  // the leg's kind (throws if the leg is not direct)

struct Accelerator {
  double macs_per_cycle = 64.0;
  double bandwidth_bytes_per_cycle = 64.0;
  double buffer_bytes = 1048576.0;
  double conversion_lanes = 16.0;  // the unit's lanes L (an integer)
  double conversion_banks = 32.0;  // its SRAM banks B (a power of two <= kMaxUnitBanks)
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

// The scalar fields of Accelerator by name, with the bound validate() checks:
// throughputs must be > 0, energies and penalties >= 0 (docs/sparse.md, "Accelerator defaults").
// The bindings set and export the fields through this table only.
struct AcceleratorField {
  const char* name;
  double Accelerator::*member;
  bool positive;  // true: > 0; false: >= 0
};
inline constexpr std::array<AcceleratorField, 16> kAcceleratorFields{{
    {"macs_per_cycle", &Accelerator::macs_per_cycle, true},
    {"bandwidth_bytes_per_cycle", &Accelerator::bandwidth_bytes_per_cycle, true},
    {"buffer_bytes", &Accelerator::buffer_bytes, true},
    {"conversion_lanes", &Accelerator::conversion_lanes, true},
    {"conversion_banks", &Accelerator::conversion_banks, true},
    {"frequency_ghz", &Accelerator::frequency_ghz, true},
    {"compares_per_cycle", &Accelerator::compares_per_cycle, true},
    {"merges_per_cycle", &Accelerator::merges_per_cycle, true},
    {"scan_elems_per_cycle", &Accelerator::scan_elems_per_cycle, true},
    {"energy_mac_pj", &Accelerator::energy_mac_pj, false},
    {"energy_compare_pj", &Accelerator::energy_compare_pj, false},
    {"energy_buffer_pj", &Accelerator::energy_buffer_pj, false},
    {"energy_dram_byte_pj", &Accelerator::energy_dram_byte_pj, false},
    {"energy_convert_pj", &Accelerator::energy_convert_pj, false},
    {"host_power_w", &Accelerator::host_power_w, false},
    {"spill_penalty", &Accelerator::spill_penalty, false},
}};

// The hardware conversion unit (docs/design/sparse.md §9): L lanes, each reading
// and writing one slot per cycle, over B single-ported SRAM banks (word-interleaved,
// bank = address mod B).  A sequential stream moves w = min(L, B) slots per cycle.
inline constexpr int kMaxUnitBanksLog2 = 12;
inline constexpr i64 kMaxUnitLanes = 4096;
// Cycles of one conversion leg on the unit.  `w` is the leg's work, `source_slots`
// S(from), the last pass's reads.  A CSR <-> CSC transpose (`counters` > 0: N
// column counters for csr -> csc, M row counters for csc -> csr) counts, prefix-sums,
// then scatters, and its counter updates queue on the banks: `hot` is the largest
// number of updates one bank receives in a pass.
i64 unit_leg_cycles(const Work& w, i64 source_slots, i64 nnz, i64 counters, i64 hot,
                    i64 lanes, i64 banks);
// The largest per-bank sum of counts[j] over banks j mod B (B = 2^log2_banks).
i64 bank_load(const std::vector<i64>& counts, int log2_banks);

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
  // `c`, when given, is the output C (rows of A x cols of B) as it is written,
  // e.g. after a bias and ReLU: the pattern cost() charges in a chosen format.
  Problem(const PatternView& a, const PatternView& b, Op op, const Precision& prec,
          const PatternView* c = nullptr);

  // fmt_c: the format C is written in, charged at C's exact storage (needs `c`).
  // Without it C is counted as the op's own output: CSR of the structural
  // product for spgemm, dense for spmv and spmm (docs/sparse.md, "Output bytes").
  CostResult cost(Format fa, Format fb, Dataflow df, Site site, Format sa, Format sb,
                  const Accelerator& acc, std::optional<Format> fmt_c = std::nullopt) const;

  const Stats& stats(int operand) const { return st_[operand]; }
  Op op() const { return op_; }
  const Precision& precision() const { return prec_; }
  i64 macs() const { return macs_; }
  i64 intersections() const { return intersections_; }
  i64 merges_outer() const { return merges_outer_; }
  i64 merges_gustavson() const { return merges_gustavson_; }
  i64 nnz_c() const { return nnz_c_; }
  i64 bytes_c() const { return bytes_c_; }
  bool has_output() const { return has_c_; }
  // Storage bytes of operand X in format f (throws if f cannot hold it).
  i64 bytes(int operand, Format f) const;
  // Storage bytes of the given output C in format f (throws without C, or if f cannot hold it).
  i64 output_bytes(Format f) const;
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
  bool has_c_ = false;
  std::array<i64, kNumFormats> c_bytes_{};  // -1 where the format cannot hold C
  std::array<std::string, kNumFormats> c_bytes_error_;
  // Encoding C (produced dense by the PE array) into each format: the dense -> f leg.
  std::array<Work, kNumFormats> c_leg_{};
  i64 c_nnz_ = 0;
  // Transpose counter loads per operand: [x][0] column counters (csr -> csc),
  // [x][1] row counters (csc -> csr), for B = 2^0 .. 2^kMaxUnitBanksLog2 banks.
  std::array<std::array<std::array<i64, kMaxUnitBanksLog2 + 1>, 2>, 2> hot_{};
  i64 leg_cycles(int operand, Format from, Format to, const Accelerator& acc) const;
  // Work of each direct leg, per operand (non-direct entries unused).
  std::array<std::array<std::array<Work, kNumFormats>, kNumFormats>, 2> leg_{};
  std::array<std::array<std::array<std::string, kNumFormats>, kNumFormats>, 2> leg_error_;
};

}  // namespace archgym::sparse
