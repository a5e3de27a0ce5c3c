// Accelerator cost model (see accel.hpp and docs/sparse.md).
#include "sparse/accel.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace archgym::sparse {

namespace {
[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }
inline i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

int ceil_log2(i64 n) { return n <= 1 ? 0 : 64 - __builtin_clzll(static_cast<unsigned long long>(n - 1)); }

i64 to_count(double x, const char* what) {
  if (!(x < 9.0e18)) fail(std::string(what) + " is too large for the model (over 9e18)");
  return x <= 0.0 ? 0 : static_cast<i64>(std::ceil(x));
}

const char* dataflow_name(Dataflow df) {
  switch (df) {
    case Dataflow::Inner: return "inner";
    case Dataflow::Outer: return "outer";
    case Dataflow::Gustavson: return "gustavson";
  }
  return "?";
}

const char* order_text(Order o) {
  switch (o) {
    case Order::RowSequential: return "row by row";
    case Order::RowIndexed: return "by row index (random row access)";
    case Order::Column: return "column by column";
  }
  return "?";
}
}  // namespace

bool traversable(Format f, Order o) {
  switch (o) {
    case Order::RowSequential: return f != Format::Csc;
    case Order::RowIndexed:
      return f == Format::Dense || f == Format::Bitmap || f == Format::Csr || f == Format::Ell ||
             f == Format::Bcsr || f == Format::Dia;
    case Order::Column:
      return f == Format::Dense || f == Format::Bitmap || f == Format::Csc || f == Format::Dia;
  }
  return false;
}

Order required_order(Dataflow df, int operand) {
  switch (df) {
    case Dataflow::Inner: return operand == 0 ? Order::RowSequential : Order::Column;
    case Dataflow::Outer: return operand == 0 ? Order::Column : Order::RowSequential;
    case Dataflow::Gustavson: return operand == 0 ? Order::RowSequential : Order::RowIndexed;
  }
  return Order::RowSequential;
}

Format natural_format(Order o) { return o == Order::Column ? Format::Csc : Format::Csr; }

namespace {
// The direct legs in (from, to) order: the software-conversion kinds.
const std::vector<std::pair<Format, Format>>& sw_legs() {
  static const std::vector<std::pair<Format, Format>> legs = [] {
    std::vector<std::pair<Format, Format>> v;
    for (int f = 0; f < kNumFormats; ++f)
      for (int g = 0; g < kNumFormats; ++g)
        if (f != g && is_direct(static_cast<Format>(f), static_cast<Format>(g)))
          v.emplace_back(static_cast<Format>(f), static_cast<Format>(g));
    return v;
  }();
  return legs;
}
}  // namespace

const char* sw_kind_name(int kind) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [f, g] : sw_legs()) v.push_back(std::string(format_name(f)) + "->" + format_name(g));
    return v;
  }();
  return (kind >= 0 && kind < kNumSwKinds) ? names[kind].c_str() : "?";
}

int sw_kind(Format from, Format to) {
  const auto& legs = sw_legs();
  const auto it = std::find(legs.begin(), legs.end(), std::make_pair(from, to));
  if (it == legs.end())
    fail(std::string("no software conversion kind for ") + format_name(from) + " -> " +
         format_name(to) + " (not a direct leg)");
  return static_cast<int>(it - legs.begin());
}

void Accelerator::validate() const {
  for (const AcceleratorField& f : kAcceleratorFields) {
    const double v = this->*f.member;
    if (!(std::isfinite(v) && (f.positive ? v > 0.0 : v >= 0.0)))
      fail(std::string(f.name) + " must be a finite number " + (f.positive ? "> 0" : ">= 0") +
           ", got " + std::to_string(v));
  }
  if (conversion_lanes != std::floor(conversion_lanes) ||
      conversion_lanes > static_cast<double>(kMaxUnitLanes))
    fail("conversion_lanes must be a whole number in 1.." + std::to_string(kMaxUnitLanes) +
         ", got " + std::to_string(conversion_lanes));
  const double max_banks = std::ldexp(1.0, kMaxUnitBanksLog2);
  if (conversion_banks > max_banks || std::exp2(std::round(std::log2(conversion_banks))) !=
                                          conversion_banks)
    fail("conversion_banks must be a power of two in 1.." +
         std::to_string(static_cast<i64>(max_banks)) + ", got " +
         std::to_string(conversion_banks));
  for (int k = 0; k < kNumSwKinds; ++k)
    for (double c : sw[k])
      if (!(std::isfinite(c) && c >= 0.0))
        fail(std::string("software conversion constants of '") + sw_kind_name(k) +
             "' must be finite and >= 0");
}

i64 bank_load(const std::vector<i64>& counts, int log2_banks) {
  const std::size_t banks = std::size_t(1) << log2_banks;
  std::vector<i64> load(std::min(banks, std::max<std::size_t>(counts.size(), 1)), 0);
  for (std::size_t j = 0; j < counts.size(); ++j) load[j & (banks - 1)] += counts[j];
  return *std::max_element(load.begin(), load.end());
}

i64 unit_leg_cycles(const Work& w, i64 source_slots, i64 nnz, i64 counters, i64 hot, i64 lanes,
                    i64 banks) {
  const i64 s = std::min(lanes, banks);  // slots a sequential stream moves per cycle
  const i64 first_reads = w.elements_scanned - source_slots;  // the first pass of a two-pass leg
  if (counters > 0) {  // transpose: count, prefix-sum the counters into pointers, scatter
    const i64 count = std::max(ceil_div(nnz, s), hot);
    const i64 prefix = ceil_div(counters + 1, s);
    const i64 scatter = std::max({ceil_div(source_slots, s), ceil_div(nnz, s), hot});
    return count + prefix + scatter;
  }
  const i64 last = std::max(ceil_div(source_slots, s), ceil_div(w.elements_written, s));
  return w.passes > 1 ? ceil_div(first_reads, s) + last : last;
}

Problem::Problem(const PatternView& a, const PatternView& b, Op op, const Precision& prec,
                 const PatternView* c)
    : op_(op), prec_(prec) {
  prec_.validate();
  if (a.cols != b.rows)
    fail("A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) + " but B is " +
         std::to_string(b.rows) + " x " + std::to_string(b.cols) +
         ": A's columns must equal B's rows");
  if (op == Op::Spmv && b.cols != 1) fail("spmv needs B to be a vector (one column)");
  st_[0] = compute_stats(a, prec_.block_rows, prec_.block_cols);
  st_[1] = compute_stats(b, prec_.block_rows, prec_.block_cols);
  const Stats& A = st_[0];
  const Stats& B = st_[1];
  const i64 K = a.cols;
  for (int x = 0; x < 2; ++x)
    for (int k = 0; k <= kMaxUnitBanksLog2; ++k) {
      hot_[x][0][k] = bank_load(st_[x].col_nnz, k);
      hot_[x][1][k] = bank_load(st_[x].row_nnz, k);
    }
  const char* w = "effectual work";

  // Effectual MACs: sum over k of nnz(A[:, k]) * nnz(B[k, :]).
  for (i64 k = 0; k < K; ++k)
    macs_ = checked_add(macs_, checked_mul(A.col_nnz[k], B.row_nnz[k], w), w);

  // Inner-product intersection steps (two-pointer merge of A[i, :] and B[:, j]
  // over every pair of nonempty fibers, stopping when either runs out):
  //   sum_x colnnz_A[x] * #{j : last_B(j) >= x} + sum_y rownnz_B[y] * #{i : last_A(i) >= y} - MACs.
  {
    std::vector<i64> sb(K + 1, 0), sa(K + 1, 0);
    for (i64 j = 0; j < B.cols; ++j)
      if (B.col_last[j] >= 0) ++sb[B.col_last[j]];
    for (i64 i = 0; i < A.rows; ++i)
      if (A.row_last[i] >= 0) ++sa[A.row_last[i]];
    for (i64 x = K - 1; x >= 0; --x) {
      sb[x] += sb[x + 1];
      sa[x] += sa[x + 1];
    }
    i64 t = 0;
    for (i64 x = 0; x < K; ++x) {
      t = checked_add(t, checked_mul(A.col_nnz[x], sb[x], w), w);
      t = checked_add(t, checked_mul(B.row_nnz[x], sa[x], w), w);
    }
    intersections_ = t - macs_;
  }

  // Merge work: Gustavson merges, for each row i of A, the f_i nonempty rows of
  // B it selects (L_i partial products) in a binary tree: L_i * ceil(log2 f_i).
  // Outer product merges all K' nonempty partial-product matrices: MACs * ceil(log2 K').
  {
    i64 kne = 0;
    for (i64 k = 0; k < K; ++k) kne += (A.col_nnz[k] > 0 && B.row_nnz[k] > 0);
    merges_outer_ = checked_mul(macs_, ceil_log2(kne), w);
    for (i64 i = 0; i < a.rows; ++i) {
      i64 f = 0, l = 0;
      for (i64 q = a.ptr[i]; q < a.ptr[i + 1]; ++q) {
        const i64 n = B.row_nnz[a.idx[q]];
        if (n > 0) {
          ++f;
          l += n;
        }
      }
      merges_gustavson_ = checked_add(merges_gustavson_, checked_mul(l, ceil_log2(f), w), w);
    }
  }

  // Output: CSR of C (structural nonzeros, symbolic Gustavson) for spgemm;
  // dense for spmv and spmm.
  const i64 M = a.rows, N = b.cols;
  const char* wb = "output size";
  if (op == Op::Spgemm) {
    if (macs_ > (i64(1) << 32))
      fail("spgemm with more than 2^32 effectual MACs is beyond the model's symbolic pass");
    std::vector<i64> mark(N, -1);
    nnz_c_ = 0;
    for (i64 i = 0; i < M; ++i)
      for (i64 q = a.ptr[i]; q < a.ptr[i + 1]; ++q) {
        const i64 k = a.idx[q];
        for (i64 r = b.ptr[k]; r < b.ptr[k + 1]; ++r)
          if (mark[b.idx[r]] != i) {
            mark[b.idx[r]] = i;
            ++nnz_c_;
          }
      }
    int ic;
    try {
      ic = prec_.index_width(N, "columns");
    } catch (const std::invalid_argument&) {
      ic = address_bits(N);
    }
    const i64 meta = checked_add(checked_mul(nnz_c_, ic, wb),
                                 checked_mul(M + 1, prec_.pointer_bits, wb), wb);
    bytes_c_ = ceil_div(meta, 8) + ceil_div(checked_mul(nnz_c_, prec_.value_bits, wb), 8);
  } else {
    bytes_c_ = ceil_div(checked_mul(checked_mul(M, N, wb), prec_.value_bits, wb), 8);
  }
  // Outer product: partial products held as (value, row, col) before merging.
  partial_bytes_ = ceil_div(
      checked_mul(macs_, prec_.value_bits + address_bits(M) + address_bits(N), wb), 8);

  // Storage and slots of A and B in every format (errors kept for later).
  for (int x = 0; x < 2; ++x)
    for (int f = 0; f < kNumFormats; ++f) {
      try {
        const Storage s = storage_bits(st_[x], static_cast<Format>(f), prec_);
        bytes_[x][f] = ceil_div(s.metadata_bits, 8) + ceil_div(s.payload_bits, 8);
        slots_[x][f] = format_slots(st_[x], static_cast<Format>(f), prec_);
      } catch (const std::invalid_argument& e) {
        bytes_[x][f] = -1;
        bytes_error_[x][f] = e.what();
      }
      for (int g = 0; g < kNumFormats; ++g) {
        if (f == g || !is_direct(static_cast<Format>(f), static_cast<Format>(g))) continue;
        try {
          leg_[x][f][g] = leg_work(st_[x], static_cast<Format>(f), static_cast<Format>(g), prec_);
        } catch (const std::invalid_argument& e) {
          leg_error_[x][f][g] = e.what();
        }
      }
    }

  // The given output C in every format (errors kept for later).
  if (c != nullptr) {
    if (c->rows != M || c->cols != N)
      fail("C is " + std::to_string(c->rows) + " x " + std::to_string(c->cols) +
           " but A @ B is " + std::to_string(M) + " x " + std::to_string(N));
    const Stats sc = compute_stats(*c, prec_.block_rows, prec_.block_cols);
    has_c_ = true;
    c_nnz_ = sc.nnz;
    for (int f = 0; f < kNumFormats; ++f) {
      try {
        const Storage s = storage_bits(sc, static_cast<Format>(f), prec_);
        c_bytes_[f] = ceil_div(s.metadata_bits, 8) + ceil_div(s.payload_bits, 8);
        if (f != static_cast<int>(Format::Dense))
          c_leg_[f] = leg_work(sc, Format::Dense, static_cast<Format>(f), prec_);
      } catch (const std::invalid_argument& e) {
        c_bytes_[f] = -1;
        c_bytes_error_[f] = e.what();
      }
    }
  }

  // Gustavson fetches rows of B once per nonzero of A: slots read per format.
  {
    i64 w0 = 0, bc_sum = 0;
    const i64 nb = B.cols;
    for (i64 k = 0; k < K; ++k) {
      w0 += A.col_nnz[k];
      bc_sum = checked_add(
          bc_sum, checked_mul(A.col_nnz[k], B.block_row_nnzb[k / prec_.block_rows], w), w);
    }
    const char* wf = "gustavson row fetches";
    for (int f = 0; f < kNumFormats; ++f) fetch_b_[f] = slots_[1][f];
    fetch_b_[static_cast<int>(Format::Dense)] = checked_mul(w0, nb, wf);
    fetch_b_[static_cast<int>(Format::Bitmap)] =
        checked_add(checked_mul(w0, ceil_div(nb, 64), wf), macs_, wf);
    fetch_b_[static_cast<int>(Format::Csr)] = checked_add(macs_, w0, wf);
    fetch_b_[static_cast<int>(Format::Ell)] = checked_mul(w0, B.ell_k, wf);
    fetch_b_[static_cast<int>(Format::Bcsr)] =
        checked_add(checked_mul(bc_sum, prec_.block_cols, wf), w0, wf);
    fetch_b_[static_cast<int>(Format::Dia)] = checked_mul(w0, B.ndiag, wf);
  }
}

i64 Problem::bytes(int x, Format f) const {
  const int c = static_cast<int>(f);
  if (bytes_[x][c] < 0)
    fail(std::string(x == 0 ? "A" : "B") + " in " + format_name(f) + ": " + bytes_error_[x][c]);
  return bytes_[x][c];
}

i64 Problem::output_bytes(Format f) const {
  if (!has_c_) fail("fmt_c needs the output C: build the Problem with it");
  const int c = static_cast<int>(f);
  if (c_bytes_[c] < 0) fail(std::string("C in ") + format_name(f) + ": " + c_bytes_error_[c]);
  return c_bytes_[c];
}

i64 Problem::slots(int x, Format f) const {
  bytes(x, f);  // throws if f cannot hold the operand
  return slots_[x][static_cast<int>(f)];
}

i64 Problem::leg_cycles(int x, Format from, Format to, const Accelerator& acc) const {
  const Work& w = leg_[x][static_cast<int>(from)][static_cast<int>(to)];
  const Stats& st = st_[x];
  const int log2_banks = static_cast<int>(std::lround(std::log2(acc.conversion_banks)));
  i64 counters = 0, hot = 0;
  if (from == Format::Csr && to == Format::Csc) {
    counters = st.cols;
    hot = hot_[x][0][log2_banks];
  } else if (from == Format::Csc && to == Format::Csr) {
    counters = st.rows;
    hot = hot_[x][1][log2_banks];
  }
  return unit_leg_cycles(w, slots_[x][static_cast<int>(from)], st.nnz, counters, hot,
                         static_cast<i64>(acc.conversion_lanes),
                         static_cast<i64>(acc.conversion_banks));
}

std::string legality(Format fa, Format fb, Dataflow df, Site site, Format sa, Format sb) {
  if (site != Site::None) return "";
  const Format fmt[2] = {fa, fb}, stored[2] = {sa, sb};
  const char* name[2] = {"A", "B"};
  for (int x = 0; x < 2; ++x) {
    if (stored[x] != fmt[x])
      return std::string("conversion='none' but ") + name[x] + " is stored as " +
             format_name(stored[x]) + " and computed as " + format_name(fmt[x]);
    const Order o = required_order(df, x);
    if (!traversable(fmt[x], o))
      return std::string("conversion='none' but the ") + dataflow_name(df) + " dataflow reads " +
             name[x] + " " + order_text(o) + ", which " + format_name(fmt[x]) +
             " cannot do (it would have to be converted to " + format_name(natural_format(o)) +
             ")";
  }
  return "";
}

CostResult Problem::cost(Format fa, Format fb, Dataflow df, Site site, Format sa, Format sb,
                         const Accelerator& acc, std::optional<Format> fmt_c) const {
  CostResult r;
  r.reason = legality(fa, fb, df, site, sa, sb);
  if (!r.reason.empty()) {
    r.legal = false;
    return r;
  }
  // The PE array produces C dense: writing it in another format is one more
  // conversion (dense -> fmt_c), which needs the host or the unit.
  const bool encode_c = fmt_c && *fmt_c != Format::Dense;
  if (encode_c) {
    output_bytes(*fmt_c);  // throws without C or if fmt_c cannot hold it
    if (site == Site::None) {
      r.legal = false;
      r.reason = std::string("conversion='none' but C is written as ") + format_name(*fmt_c) +
                 ": the PE array produces C dense, so encoding it needs the host (software) or "
                 "the conversion unit (hardware)";
      return r;
    }
  }
  const Format fmt[2] = {fa, fb}, stored[2] = {sa, sb};
  Format eff[2];
  double sw_seconds = 0.0, hw_elements = 0.0;
  i64 hw_cycles = 0;
  for (int x = 0; x < 2; ++x) {
    const Order o = required_order(df, x);
    auto legs = conversion_path(stored[x], fmt[x]);
    eff[x] = fmt[x];
    if (!traversable(fmt[x], o)) {
      eff[x] = natural_format(o);
      for (const auto& leg : conversion_path(fmt[x], eff[x])) legs.push_back(leg);
    }
    for (const auto& [from, to] : legs) {
      const int f = static_cast<int>(from), g = static_cast<int>(to);
      if (!leg_error_[x][f][g].empty()) fail(leg_error_[x][f][g]);
      const Work& w = leg_[x][f][g];
      const double elems = static_cast<double>(w.elements_scanned + w.elements_written);
      const auto& c = acc.sw[sw_kind(from, to)];
      sw_seconds += c[0] + c[1] * elems + c[2] * static_cast<double>(w.nnz_moved);
      hw_elements += elems;
      hw_cycles = checked_add(hw_cycles, leg_cycles(x, from, to, acc), "conversion cycles");
      r.converted_elements += w.elements_scanned + w.elements_written;
      r.converted_nnz += w.nnz_moved;
      ++r.conversion_legs;
    }
  }
  if (encode_c) {
    const Work& w = c_leg_[static_cast<int>(*fmt_c)];
    const double elems = static_cast<double>(w.elements_scanned + w.elements_written);
    const auto& c = acc.sw[sw_kind(Format::Dense, *fmt_c)];
    sw_seconds += c[0] + c[1] * elems + c[2] * static_cast<double>(w.nnz_moved);
    hw_elements += elems;
    const i64 dense_slots = checked_mul(st_[0].rows, st_[1].cols, "output size");
    hw_cycles = checked_add(
        hw_cycles,
        unit_leg_cycles(w, dense_slots, c_nnz_, 0, 0, static_cast<i64>(acc.conversion_lanes),
                        static_cast<i64>(acc.conversion_banks)),
        "conversion cycles");
    r.converted_elements += w.elements_scanned + w.elements_written;
    r.converted_nnz += w.nnz_moved;
    ++r.conversion_legs;
  }
  r.eff_a = eff[0];
  r.eff_b = eff[1];
  double conversion_energy = 0.0;
  if (r.conversion_legs > 0) {
    if (site == Site::Software) {
      r.conversion_seconds = sw_seconds;
      r.conversion_cycles = to_count(sw_seconds * acc.frequency_ghz * 1e9, "conversion cycles");
      conversion_energy = sw_seconds * acc.host_power_w * 1e12;
    } else {  // hardware (legality rules out none)
      r.conversion_cycles = hw_cycles;
      conversion_energy = hw_elements * acc.energy_convert_pj;
    }
  }

  // Off-chip traffic: software conversion leaves the converted operand in
  // memory; the hardware unit converts on the way in, so the stored one is read.
  // On the way out the unit writes C in fmt_c; with software encoding the
  // accelerator writes C dense and the host encodes it.
  const bool read_converted = site == Site::Software;
  r.bytes_a = bytes(0, read_converted ? eff[0] : sa);
  r.bytes_b = bytes(1, read_converted ? eff[1] : sb);
  r.bytes_c = !fmt_c                         ? bytes_c_
              : encode_c && read_converted ? output_bytes(Format::Dense)
                                           : output_bytes(*fmt_c);
  r.bytes = r.bytes_a + r.bytes_b + r.bytes_c;
  r.memory_cycles =
      to_count(static_cast<double>(r.bytes) / acc.bandwidth_bytes_per_cycle, "memory cycles");

  // Compute: effectual MACs, intersection or merge work, and the scan of the
  // operands as laid out in the buffer.
  r.macs = macs_;
  r.intersections = df == Dataflow::Inner ? intersections_ : 0;
  r.merges = df == Dataflow::Outer       ? merges_outer_
             : df == Dataflow::Gustavson ? merges_gustavson_
                                         : 0;
  const i64 scan_b = df == Dataflow::Gustavson ? fetch_b_[static_cast<int>(eff[1])]
                                                : slots(1, eff[1]);
  r.scan_elements = checked_add(slots(0, eff[0]), scan_b, "scan elements");
  const double compute = std::ceil(static_cast<double>(r.macs) / acc.macs_per_cycle) +
                         std::ceil(static_cast<double>(r.intersections) / acc.compares_per_cycle) +
                         std::ceil(static_cast<double>(r.merges) / acc.merges_per_cycle) +
                         std::ceil(static_cast<double>(r.scan_elements) / acc.scan_elems_per_cycle);
  r.compute_cycles = to_count(compute, "compute cycles");

  // Working set beyond the on-chip buffer: extra off-chip traffic.
  const double buf = acc.buffer_bytes;
  const double ba = static_cast<double>(bytes(0, eff[0]));
  const double bb = static_cast<double>(bytes(1, eff[1]));
  double spill = 0.0;
  switch (df) {
    case Dataflow::Inner:  // B stays resident; A re-streamed once per B tile
      if (bb > buf) spill = (std::ceil(bb / buf) - 1.0) * ba;
      break;
    case Dataflow::Outer: {  // partial products written out and read back
      const double pp = static_cast<double>(partial_bytes_);
      if (pp > buf) spill = 2.0 * (pp - buf);
      break;
    }
    case Dataflow::Gustavson:  // B rows re-fetched; a fraction buf/|B| hits
      if (bb > buf) {
        const double sl = static_cast<double>(slots(1, eff[1]));
        const double fetched = sl > 0 ? bb * static_cast<double>(scan_b) / sl : 0.0;
        spill = (1.0 - buf / bb) * std::max(0.0, fetched - bb);
      }
      break;
  }
  r.spill_bytes = to_count(spill, "spill bytes");
  r.spill_cycles = to_count(acc.spill_penalty * static_cast<double>(r.spill_bytes) /
                                acc.bandwidth_bytes_per_cycle,
                            "spill cycles");
  r.cycles = checked_add(
      checked_add(std::max(r.compute_cycles, r.memory_cycles), r.conversion_cycles, "cycles"),
      r.spill_cycles, "cycles");
  r.energy_pj = static_cast<double>(r.macs) * acc.energy_mac_pj +
                static_cast<double>(r.intersections + r.merges) * acc.energy_compare_pj +
                static_cast<double>(r.scan_elements) * acc.energy_buffer_pj +
                static_cast<double>(r.bytes + r.spill_bytes) * acc.energy_dram_byte_pj +
                conversion_energy;
  return r;
}

}  // namespace archgym::sparse
