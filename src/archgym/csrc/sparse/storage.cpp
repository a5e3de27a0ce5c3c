// Structure statistics, exact storage and conversion work (docs/sparse.md).
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "sparse/sparse.hpp"

namespace archgym::sparse {

namespace {
[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }
inline i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
}  // namespace

const char* format_name(Format f) {
  static const char* const names[kNumFormats] = {"dense", "bitmap", "rlc", "coo", "csr",
                                                 "csc",   "ell",    "bcsr", "dia"};
  const int c = static_cast<int>(f);
  return (c >= 0 && c < kNumFormats) ? names[c] : "?";
}

Format to_format(int code) {
  if (code < 0 || code >= kNumFormats)
    fail("format code must be in 0.." + std::to_string(kNumFormats - 1) + ", got " +
         std::to_string(code));
  return static_cast<Format>(code);
}

void* array_alloc(std::size_t bytes, bool zeroed) {
  void* p = zeroed ? std::calloc(bytes == 0 ? 1 : bytes, 1) : std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kPage = 4096, kHuge = std::uintptr_t(1) << 22;
  if (bytes >= kHuge) {  // as numpy does: the whole pages inside the block
    const std::uintptr_t lo = (reinterpret_cast<std::uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
    const std::uintptr_t hi = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kPage - 1);
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
  }
#endif
  return p;
}

void check_dims(i64 rows, i64 cols) {
  if (rows < 1 || cols < 1)
    fail("matrix dimensions must be >= 1, got " + std::to_string(rows) + " x " +
         std::to_string(cols));
  if (rows > kMaxDim || cols > kMaxDim)
    fail("matrix dimensions must be <= " + std::to_string(kMaxDim) + " (2^26), got " +
         std::to_string(rows) + " x " + std::to_string(cols));
}

void check_elements(i64 count, const char* what) {
  if (count < 0 || count > kMaxElements)
    fail(std::string(what) + " would hold " + std::to_string(count) +
         " elements, more than the 2^30 limit of one array (storage() still counts it)");
}

int address_bits(i64 n) {
  if (n <= 1) return 1;
  return 64 - __builtin_clzll(static_cast<unsigned long long>(n - 1));
}

i64 checked_mul(i64 a, i64 b, const char* what) {
  i64 r;
  if (__builtin_mul_overflow(a, b, &r))
    fail(std::string(what) + " overflows 64-bit arithmetic");
  return r;
}

i64 checked_add(i64 a, i64 b, const char* what) {
  i64 r;
  if (__builtin_add_overflow(a, b, &r))
    fail(std::string(what) + " overflows 64-bit arithmetic");
  return r;
}

void Precision::validate() const {
  const std::string widths = "1.." + std::to_string(kMaxWidthBits);
  if (value_bits < 1 || value_bits > kMaxWidthBits)
    fail("value_bits must be in " + widths + ", got " + std::to_string(value_bits));
  if (index_bits < 0 || index_bits > kMaxWidthBits)
    fail("index_bits must be None or in " + widths + ", got " + std::to_string(index_bits));
  if (pointer_bits < 1 || pointer_bits > kMaxWidthBits)
    fail("pointer_bits must be in " + widths + ", got " + std::to_string(pointer_bits));
  if (rlc_run_bits < kMinRunBits || rlc_run_bits > kMaxRunBits)
    fail("rlc_run_bits must be in " + std::to_string(kMinRunBits) + ".." +
         std::to_string(kMaxRunBits) + ", got " + std::to_string(rlc_run_bits));
  if (block_rows < 1 || block_rows > kMaxBlockDim || block_cols < 1 || block_cols > kMaxBlockDim)
    fail("bcsr_block must be two integers in 1.." + std::to_string(kMaxBlockDim) + ", got (" +
         std::to_string(block_rows) + ", " + std::to_string(block_cols) + ")");
}

int Precision::index_width(i64 n, const char* what) const {
  const int need = address_bits(n);
  if (index_bits == 0) return need;
  if (index_bits < need)
    fail("index_bits=" + std::to_string(index_bits) + " cannot address " + std::to_string(n) +
         " " + what + " (needs " + std::to_string(need) + " bits)");
  return index_bits;
}

Work& Work::operator+=(const Work& o) {
  elements_scanned += o.elements_scanned;
  elements_written += o.elements_written;
  nnz_moved += o.nnz_moved;
  rows_touched += o.rows_touched;
  passes += o.passes;
  return *this;
}

// ------------------------------------------------------------------ stats
Stats compute_stats(const PatternView& p, i64 br, i64 bc, unsigned what) {
  check_dims(p.rows, p.cols);
  if (br < 1 || bc < 1) fail("block dimensions must be >= 1");
  Stats s;
  const i64 M = p.rows, N = p.cols, nnz = p.nnz();
  s.rows = M;
  s.cols = N;
  s.nnz = nnz;
  s.block_rows = br;
  s.block_cols = bc;
  if (what & kStatsRanks) {
    s.row_nnz.assign(M, 0);
    s.row_last.assign(M, -1);
    s.col_nnz.assign(N, 0);
    s.col_last.assign(N, -1);
    for (i64 i = 0; i < M; ++i) {
      const i64 b = p.ptr[i], e = p.ptr[i + 1];
      s.row_nnz[i] = e - b;
      s.ell_k = std::max(s.ell_k, e - b);
      if (e > b) s.row_last[i] = p.idx[e - 1];
      for (i64 q = b; q < e; ++q) {
        const i64 j = p.idx[q];
        ++s.col_nnz[j];
        s.col_last[j] = i;  // rows ascend: ends as the last row
        s.max_offset = std::max(s.max_offset, j > i ? j - i : i - j);
      }
    }
    for (i64 i = 0; i < M; ++i) s.empty_rows += s.row_nnz[i] == 0;
    for (i64 j = 0; j < N; ++j) {
      s.empty_cols += s.col_nnz[j] == 0;
      s.col_k = std::max(s.col_k, s.col_nnz[j]);
    }
  } else {
    for (i64 i = 0; i < M; ++i) s.ell_k = std::max(s.ell_k, p.ptr[i + 1] - p.ptr[i]);
  }
  if (what & kStatsFillers) {
    i64 prev = -1;
    for (i64 i = 0; i < M; ++i)
      for (i64 q = p.ptr[i]; q < p.ptr[i + 1]; ++q) {
        const i64 pos = i * N + p.idx[q], gap = pos - prev - 1;
        for (int r = kMinRunBits; r <= kMaxRunBits; ++r) s.fillers[r] += gap >> r;
        prev = pos;
      }
  }
  if (what & kStatsBlocks) {
    // Nonzero blocks per block row (sort-unique: no allocation of cols/bc).
    const i64 nbr = ceil_div(M, br);
    s.block_row_nnzb.assign(nbr, 0);
    const i64 nbc = ceil_div(N, bc);
    if (nbc <= 4 * nnz + (i64(1) << 20)) {  // marker array
      std::vector<i64> stamp(nbc, -1);
      for (i64 R = 0; R < nbr; ++R) {
        for (i64 i = R * br; i < std::min(M, R * br + br); ++i)
          for (i64 q = p.ptr[i]; q < p.ptr[i + 1]; ++q) {
            const i64 C = p.idx[q] / bc;
            if (stamp[C] != R) {
              stamp[C] = R;
              ++s.block_row_nnzb[R];
            }
          }
        s.nnzb += s.block_row_nnzb[R];
      }
    } else {  // sort-unique: no allocation of cols / bc
      std::vector<i64> tmp;
      for (i64 R = 0; R < nbr; ++R) {
        tmp.clear();
        for (i64 i = R * br; i < std::min(M, R * br + br); ++i)
          for (i64 q = p.ptr[i]; q < p.ptr[i + 1]; ++q) tmp.push_back(p.idx[q] / bc);
        std::sort(tmp.begin(), tmp.end());
        s.block_row_nnzb[R] = std::unique(tmp.begin(), tmp.end()) - tmp.begin();
        s.nnzb += s.block_row_nnzb[R];
      }
    }
  }
  // Diagonals holding a nonzero.
  if (!(what & kStatsDiags)) return s;
  if (M + N - 1 <= 4 * nnz + (i64(1) << 20)) {
    std::vector<std::uint8_t> has(M + N - 1, 0);
    for (i64 i = 0; i < M; ++i)
      for (i64 q = p.ptr[i]; q < p.ptr[i + 1]; ++q) has[p.idx[q] - i + (M - 1)] = 1;
    for (const auto h : has) s.ndiag += h;
  } else {
    std::vector<i64> offs;
    offs.reserve(nnz);
    for (i64 i = 0; i < M; ++i)
      for (i64 q = p.ptr[i]; q < p.ptr[i + 1]; ++q) offs.push_back(p.idx[q] - i);
    std::sort(offs.begin(), offs.end());
    s.ndiag = std::unique(offs.begin(), offs.end()) - offs.begin();
  }
  return s;
}

void validate_pattern(i64 rows, i64 cols, const std::vector<i64>& ptr,
                      const std::vector<i64>& idx) {
  check_dims(rows, cols);
  if (static_cast<i64>(ptr.size()) != rows + 1)
    fail("indptr must have rows + 1 = " + std::to_string(rows + 1) + " entries, got " +
         std::to_string(ptr.size()));
  if (ptr[0] != 0) fail("indptr[0] must be 0");
  for (i64 i = 0; i < rows; ++i)
    if (ptr[i + 1] < ptr[i]) fail("indptr must be non-decreasing");
  if (ptr[rows] != static_cast<i64>(idx.size()))
    fail("indptr[-1] must equal the number of indices");
  for (i64 i = 0; i < rows; ++i)
    for (i64 q = ptr[i]; q < ptr[i + 1]; ++q) {
      if (idx[q] < 0 || idx[q] >= cols)
        fail("column index " + std::to_string(idx[q]) + " out of range 0.." +
             std::to_string(cols - 1));
      if (q > ptr[i] && idx[q] <= idx[q - 1])
        fail("column indices must be sorted and unique within a row");
    }
}

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = {
      "rows",          "cols",          "nnz",           "density",        "row_nnz_mean",
      "row_nnz_cv",    "row_nnz_max",   "col_nnz_mean",  "col_nnz_cv",     "col_nnz_max",
      "empty_row_frac", "empty_col_frac", "block_fill_4x4", "bandwidth", "diag_fill",
      "ell_fill",      "rlc4_fillers_per_nnz", "log2_rows", "log2_cols", "log10_density"};
  return names;
}

std::vector<double> features(const Stats& s) {
  const double M = static_cast<double>(s.rows), N = static_cast<double>(s.cols);
  const double nnz = static_cast<double>(s.nnz);
  auto cv = [](const std::vector<i64>& v, double mean) {
    if (mean <= 0.0) return 0.0;
    double acc = 0.0;
    for (const i64 x : v) acc += (static_cast<double>(x) - mean) * (static_cast<double>(x) - mean);
    return std::sqrt(acc / static_cast<double>(v.size())) / mean;
  };
  const double density = nnz / (M * N);
  const double rmean = nnz / M, cmean = nnz / N;
  const double blk = static_cast<double>(s.nnzb) * static_cast<double>(s.block_rows * s.block_cols);
  const double diag = static_cast<double>(s.ndiag) * std::min(M, N);
  const double ell = M * static_cast<double>(s.ell_k);
  return {M,
          N,
          nnz,
          density,
          rmean,
          cv(s.row_nnz, rmean),
          static_cast<double>(s.ell_k),
          cmean,
          cv(s.col_nnz, cmean),
          static_cast<double>(s.col_k),
          static_cast<double>(s.empty_rows) / M,
          static_cast<double>(s.empty_cols) / N,
          blk > 0 ? nnz / blk : 0.0,
          static_cast<double>(s.max_offset) / std::max(M, N),
          diag > 0 ? nnz / diag : 0.0,
          ell > 0 ? nnz / ell : 0.0,
          nnz > 0 ? static_cast<double>(s.fillers[4]) / nnz : 0.0,
          std::log2(M),
          std::log2(N),
          std::log10(std::max(density, 1e-12))};
}

// ------------------------------------------------------------------ storage
namespace {
void check_pointer_width(i64 count, const Precision& prec, const char* what) {
  if (prec.pointer_bits < 63 && count > (i64(1) << prec.pointer_bits) - 1)
    fail("pointer_bits=" + std::to_string(prec.pointer_bits) + " cannot hold " + what + "=" +
         std::to_string(count) + " (needs " + std::to_string(address_bits(count + 1)) +
         " bits)");
}

void check_block(const Stats& s, const Precision& prec) {
  if (s.block_rows != prec.block_rows || s.block_cols != prec.block_cols)
    throw std::logic_error("statistics were computed for another BCSR block size");
}
}  // namespace

Storage storage_bits(const Stats& s, Format f, const Precision& prec) {
  prec.validate();
  const i64 M = s.rows, N = s.cols, nnz = s.nnz, b = prec.value_bits, p = prec.pointer_bits;
  const char* w = "storage";
  Storage st;
  switch (f) {
    case Format::Dense:
      st.payload_bits = checked_mul(checked_mul(M, N, w), b, w);
      break;
    case Format::Bitmap:
      st.metadata_bits = checked_mul(M, N, w);
      st.payload_bits = checked_mul(nnz, b, w);
      break;
    case Format::Rlc: {
      const i64 n = checked_add(nnz, s.fillers[prec.rlc_run_bits], w);
      st.metadata_bits = checked_mul(n, prec.rlc_run_bits, w);
      st.payload_bits = checked_mul(n, b, w);
      break;
    }
    case Format::Coo: {
      const i64 ir = prec.index_width(M, "rows"), ic = prec.index_width(N, "columns");
      st.metadata_bits = checked_mul(nnz, ir + ic, w);
      st.payload_bits = checked_mul(nnz, b, w);
      break;
    }
    case Format::Csr: {
      const i64 ic = prec.index_width(N, "columns");
      check_pointer_width(nnz, prec, "nnz");
      st.metadata_bits = checked_add(checked_mul(nnz, ic, w), checked_mul(M + 1, p, w), w);
      st.payload_bits = checked_mul(nnz, b, w);
      break;
    }
    case Format::Csc: {
      const i64 ir = prec.index_width(M, "rows");
      check_pointer_width(nnz, prec, "nnz");
      st.metadata_bits = checked_add(checked_mul(nnz, ir, w), checked_mul(N + 1, p, w), w);
      st.payload_bits = checked_mul(nnz, b, w);
      break;
    }
    case Format::Ell: {
      const i64 ic = prec.index_width(N, "columns");
      const i64 slots = checked_mul(M, s.ell_k, w);
      st.metadata_bits = checked_mul(slots, ic, w);
      st.payload_bits = checked_mul(slots, b, w);
      break;
    }
    case Format::Bcsr: {
      check_block(s, prec);
      const i64 nbr = ceil_div(M, prec.block_rows), nbc = ceil_div(N, prec.block_cols);
      const i64 ib = prec.index_width(nbc, "block columns");
      check_pointer_width(s.nnzb, prec, "nnzb");
      st.metadata_bits = checked_add(checked_mul(s.nnzb, ib, w), checked_mul(nbr + 1, p, w), w);
      st.payload_bits = checked_mul(
          checked_mul(s.nnzb, checked_mul(prec.block_rows, prec.block_cols, w), w), b, w);
      break;
    }
    case Format::Dia: {
      const i64 io = prec.index_width(M + N - 1, "diagonal offsets");
      st.metadata_bits = checked_mul(s.ndiag, io, w);
      st.payload_bits = checked_mul(checked_mul(s.ndiag, std::min(M, N), w), b, w);
      break;
    }
  }
  return st;
}

i64 format_slots(const Stats& s, Format f, const Precision& prec) {
  const i64 M = s.rows, N = s.cols, nnz = s.nnz;
  const char* w = "slot count";
  switch (f) {
    case Format::Dense: return checked_mul(M, N, w);
    case Format::Bitmap: return ceil_div(checked_mul(M, N, w), 64) + nnz;
    case Format::Rlc: return nnz + s.fillers[prec.rlc_run_bits];
    case Format::Coo: return nnz;
    case Format::Csr: return nnz + M + 1;
    case Format::Csc: return nnz + N + 1;
    case Format::Ell: return checked_mul(M, s.ell_k, w);
    case Format::Bcsr: {
      check_block(s, prec);
      const i64 blk = checked_mul(prec.block_rows, prec.block_cols, w);
      return checked_add(checked_mul(s.nnzb, blk, w), s.nnzb + ceil_div(M, prec.block_rows) + 1,
                         w);
    }
    case Format::Dia: return checked_add(checked_mul(s.ndiag, std::min(M, N), w), s.ndiag, w);
  }
  return 0;
}

// ------------------------------------------------------------------ conversion work
unsigned stats_needed(Format from, Format to) {
  unsigned need = 0;
  for (const Format f : {from, to}) {
    if (f == Format::Rlc) need |= kStatsFillers;
    if (f == Format::Bcsr) need |= kStatsBlocks;
    if (f == Format::Dia) need |= kStatsDiags;
  }
  return need;  // ell_k is always computed
}

bool is_direct(Format from, Format to) {
  return from == to || from == Format::Dense || to == Format::Dense || from == Format::Csr ||
         to == Format::Csr;
}

std::vector<std::pair<Format, Format>> conversion_path(Format from, Format to) {
  if (from == to) return {};
  if (is_direct(from, to)) return {{from, to}};
  return {{from, Format::Csr}, {Format::Csr, to}};
}

namespace {
// Outer fibers a leg's loops visit in format f.
i64 fibers(const Stats& s, Format f, const Precision& prec) {
  switch (f) {
    case Format::Dense:
    case Format::Bitmap:
    case Format::Csr:
    case Format::Ell: return s.rows;
    case Format::Csc: return s.cols;
    case Format::Bcsr: return ceil_div(s.rows, prec.block_rows);
    case Format::Dia: return s.ndiag;
    case Format::Rlc:
    case Format::Coo: return 0;
  }
  return 0;
}
}  // namespace

Work leg_work(const Stats& s, Format from, Format to, const Precision& prec) {
  Work w;
  if (from == to) return w;
  if (!is_direct(from, to)) fail("leg_work: not a direct conversion");
  const i64 M = s.rows, N = s.cols, nnz = s.nnz;
  const char* what = "conversion work";
  const i64 mn = checked_mul(M, N, what);
  w.nnz_moved = nnz;
  if (from == Format::Dense) {
    const bool two = to == Format::Ell || to == Format::Bcsr || to == Format::Dia;
    w.passes = two ? 2 : 1;
    w.elements_scanned = checked_mul(w.passes, mn, what);
    w.elements_written = format_slots(s, to, prec);
    w.rows_touched = w.passes * (to == Format::Csc ? N : M) + fibers(s, to, prec);
    return w;
  }
  if (to == Format::Dense) {
    w.passes = 1;
    w.elements_scanned = format_slots(s, from, prec);
    w.elements_written = mn;
    w.rows_touched = fibers(s, from, prec) + M;
    return w;
  }
  const i64 csr_read = nnz + M + 1;
  if (from == Format::Csr) {
    switch (to) {
      case Format::Coo:
      case Format::Bitmap:
      case Format::Rlc: w.passes = 1; w.elements_scanned = csr_read; break;
      case Format::Csc: w.passes = 2; w.elements_scanned = 2 * nnz + M + 1; break;
      case Format::Ell: w.passes = 2; w.elements_scanned = csr_read + M + 1; break;
      case Format::Bcsr:
      case Format::Dia: w.passes = 2; w.elements_scanned = 2 * csr_read; break;
      default: break;
    }
    w.elements_written = format_slots(s, to, prec);
    w.rows_touched = w.passes * M + fibers(s, to, prec);
    return w;
  }
  // from -> csr
  w.passes = from == Format::Csc ? 2 : 1;
  switch (from) {
    case Format::Csc: w.elements_scanned = 2 * nnz + N + 1; break;
    case Format::Dia:
      w.elements_scanned = checked_add(checked_mul(M, s.ndiag, what), s.ndiag, what);
      break;
    default: w.elements_scanned = format_slots(s, from, prec); break;
  }
  w.elements_written = csr_read;
  w.rows_touched = w.passes * fibers(s, from, prec) + M;
  return w;
}

Work path_work(const Stats& s, Format from, Format to, const Precision& prec) {
  Work w;
  for (const auto& [a, b] : conversion_path(from, to)) w += leg_work(s, a, b, prec);
  return w;
}

}  // namespace archgym::sparse
