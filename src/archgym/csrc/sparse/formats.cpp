// Encoders and decoders of the nine formats (see sparse.hpp for the arrays).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "sparse/compressed.hpp"
#include "sparse/sparse.hpp"

namespace archgym::sparse {

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

std::string fmtname(Format f) { return format_name(f); }

template <class T>
inline void check_value(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) fail("values must be finite (found NaN or infinity)");
  } else {
    (void)v;
  }
}

inline i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }

// Collects a row-major stream of nonzeros into a CSR matrix, checking that
// positions strictly increase (sorted, no duplicates) and values are nonzero.
template <class T>
struct RowMajorBuilder {
  Csr<T> m;
  i64 last_i = -1, last_j = -1;
  const char* fmt;
  RowMajorBuilder(i64 rows, i64 cols, const char* f) : fmt(f) {
    m.rows = rows;
    m.cols = cols;
    m.ptr.assign(rows + 1, 0);
  }
  void reserve(i64 n) {
    m.idx.reserve(n);
    m.val.reserve(n);
  }
  inline void emit(i64 i, i64 j, T v) {
    check_value(v);
    if (v == T(0)) fail(std::string(fmt) + " encoding stores a zero as a nonzero entry");
    if (i < last_i || (i == last_i && j <= last_j))
      fail(std::string(fmt) + " entries are not in canonical order (sorted, no duplicates)");
    last_i = i;
    last_j = j;
    ++m.ptr[i + 1];
    m.idx.push_back(j);
    m.val.push_back(v);
  }
  Csr<T> finish() {
    for (i64 i = 0; i < m.rows; ++i) m.ptr[i + 1] += m.ptr[i];
    return std::move(m);
  }
};

void check_pointers(const std::vector<i64>& ptr, i64 n, i64 total, const char* what) {
  if (static_cast<i64>(ptr.size()) != n + 1)
    fail(std::string(what) + " must have " + std::to_string(n + 1) + " entries, got " +
         std::to_string(ptr.size()));
  if (ptr[0] != 0) fail(std::string(what) + "[0] must be 0");
  for (i64 i = 0; i < n; ++i)
    if (ptr[i + 1] < ptr[i]) fail(std::string(what) + " must be non-decreasing");
  if (ptr[n] != total)
    fail(std::string(what) + " ends at " + std::to_string(ptr[n]) + " but there are " +
         std::to_string(total) + " entries");
}

template <class V>
void check_size(const V& v, i64 n, const char* what) {
  if (static_cast<i64>(v.size()) != n)
    fail(std::string(what) + " must have " + std::to_string(n) + " entries, got " +
         std::to_string(v.size()));
}

// Checks every value is finite (a branch-free sweep; the slow one names the fault).
template <class T>
void check_values(std::span<const T> v) {
  if constexpr (std::is_floating_point_v<T>) {
    std::uint32_t bad = 0;
    for (const T x : v) bad |= static_cast<std::uint32_t>(!(std::fabs(x) <= std::numeric_limits<T>::max()));
    if (bad)
      for (const T x : v) check_value(x);
  }
}

template <class T>
i64 count_nonzeros(std::span<const T> v) {
  i64 n = 0;
  for (const T x : v) n += x != T(0);
  return n;
}

// Transposes a CSR matrix (counting sort by column): the CSR <-> CSC leg.
template <class T>
void transpose(i64 rows, i64 cols, const std::vector<i64>& ptr, const std::vector<i64>& idx,
               std::span<const T> val, std::vector<i64>& tptr, std::vector<i64>& tidx,
               ValueArray<T>& tval) {
  const i64 nnz = static_cast<i64>(idx.size());
  check_elements(cols + 1, "transposed pointer array");
  tptr.assign(cols + 1, 0);
  for (i64 e = 0; e < nnz; ++e) ++tptr[idx[e] + 1];  // pass 1: count
  for (i64 j = 0; j < cols; ++j) tptr[j + 1] += tptr[j];
  tidx.resize(nnz);
  tval.resize(nnz);
  std::vector<i64> next(tptr.begin(), tptr.end() - 1);
  for (i64 i = 0; i < rows; ++i)  // pass 2: scatter
    for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) {
      const i64 d = next[idx[e]]++;
      tidx[d] = i;
      tval[d] = val[e];
    }
}

template <class T>
Encoded<T> shell(Format f, i64 rows, i64 cols, const Precision& prec) {
  Encoded<T> e;
  e.fmt = f;
  e.rows = rows;
  e.cols = cols;
  e.run_bits = prec.rlc_run_bits;
  e.block_rows = prec.block_rows;
  e.block_cols = prec.block_cols;
  return e;
}

// Structural checks common to every decoder.
template <class E>
void check_header(const E& e) {
  check_dims(e.rows, e.cols);
  if (e.fmt == Format::Rlc && (e.run_bits < kMinRunBits || e.run_bits > kMaxRunBits))
    fail("rlc run bits must be in " + std::to_string(kMinRunBits) + ".." +
         std::to_string(kMaxRunBits) + ", got " + std::to_string(e.run_bits));
  if (e.fmt == Format::Bcsr && (e.block_rows < 1 || e.block_rows > kMaxBlockDim ||
                                e.block_cols < 1 || e.block_cols > kMaxBlockDim))
    fail("bcsr block dimensions must be in 1.." + std::to_string(kMaxBlockDim));
}

}  // namespace

// ------------------------------------------------------------------ builders
template <class T>
Csr<T> csr_from_dense(const T* data, i64 rows, i64 cols) {
  check_dims(rows, cols);
  Csr<T> m;
  m.rows = rows;
  m.cols = cols;
  m.ptr.assign(rows + 1, 0);
  for (i64 i = 0; i < rows; ++i) {
    const T* r = data + i * cols;
    for (i64 j = 0; j < cols; ++j) {
      const T v = r[j];
      check_value(v);
      if (v != T(0)) {
        m.idx.push_back(j);
        m.val.push_back(v);
      }
    }
    m.ptr[i + 1] = m.nnz();
  }
  return m;
}

template <class T>
Csr<T> csr_from_parts(i64 rows, i64 cols, std::vector<i64> ptr, std::vector<i64> idx,
                      ValueArray<T> val) {
  check_dims(rows, cols);
  check_size(val, static_cast<i64>(idx.size()), "csr values");
  check_pointers(ptr, rows, static_cast<i64>(idx.size()), "csr indptr");
  // The vectorised check; only a fault takes the loop below, which names it.
  if (!compressed::check_fibers(ptr, idx.data(), val.data(), cols))
    for (i64 i = 0; i < rows; ++i) {
      i64 last = -1;
      for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) {
        if (idx[e] < 0 || idx[e] >= cols)
          fail("csr column index " + std::to_string(idx[e]) + " out of range 0.." +
               std::to_string(cols - 1));
        if (idx[e] <= last) fail("csr column indices must be sorted and unique within a row");
        last = idx[e];
        check_value(val[e]);
        if (val[e] == T(0)) fail("csr stores a zero as a nonzero entry");
      }
    }
  Csr<T> m;
  m.rows = rows;
  m.cols = cols;
  m.ptr = std::move(ptr);
  m.idx = std::move(idx);
  m.val = std::move(val);
  return m;
}

// ------------------------------------------------------------------ encoders
template <class T>
Encoded<T> encode_csr(Csr<T> m, Format f, const Precision& prec) {
  prec.validate();
  const i64 M = m.rows, N = m.cols, nnz = m.nnz();
  Encoded<T> e = shell<T>(f, M, N, prec);
  switch (f) {
    case Format::Dense: {
      const i64 mn = checked_mul(M, N, "rows * cols");
      check_elements(mn, "dense encoding");
      e.val.resize(mn);  // zeros
      for (i64 i = 0; i < M; ++i)
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) e.val[i * N + m.idx[p]] = m.val[p];
      break;
    }
    case Format::Bitmap: {
      const i64 mn = checked_mul(M, N, "rows * cols");
      check_elements(ceil_div(mn, 8), "bitmap mask");
      e.mask.assign(ceil_div(mn, 8), 0);
      for (i64 i = 0; i < M; ++i)
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) {
          const i64 pos = i * N + m.idx[p];
          e.mask[pos >> 3] |= static_cast<std::uint8_t>(0x80u >> (pos & 7));
        }
      e.val = std::move(m.val);
      break;
    }
    case Format::Rlc: {
      const int r = prec.rlc_run_bits;
      const i64 span = i64(1) << r;  // zeros covered by one filler (2^r - 1 zeros + a zero value)
      i64 fillers = 0, prev = -1;
      for (i64 i = 0; i < M; ++i)
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) {
          const i64 pos = i * N + m.idx[p];
          fillers += (pos - prev - 1) >> r;
          prev = pos;
        }
      check_elements(checked_add(nnz, fillers, "rlc entries"), "rlc encoding");
      e.a.reserve(nnz + fillers);
      e.val.reserve(nnz + fillers);
      prev = -1;
      for (i64 i = 0; i < M; ++i)
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) {
          const i64 pos = i * N + m.idx[p];
          i64 gap = pos - prev - 1;
          for (; gap >= span; gap -= span) {
            e.a.push_back(span - 1);
            e.val.push_back(T(0));
          }
          e.a.push_back(gap);
          e.val.push_back(m.val[p]);
          prev = pos;
        }
      break;
    }
    case Format::Coo: {
      e.a.resize(nnz);
      for (i64 i = 0; i < M; ++i)
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) e.a[p] = i;
      e.b = std::move(m.idx);
      e.val = std::move(m.val);
      break;
    }
    case Format::Csr:
      e.a = std::move(m.ptr);
      e.b = std::move(m.idx);
      e.val = std::move(m.val);
      break;
    case Format::Csc:
      transpose<T>(M, N, m.ptr, m.idx, m.val, e.a, e.b, e.val);
      break;
    case Format::Ell: {
      i64 k = 0;
      for (i64 i = 0; i < M; ++i) k = std::max(k, m.ptr[i + 1] - m.ptr[i]);  // pass 1 (pointers)
      const i64 slots = checked_mul(M, k, "rows * K_max");
      check_elements(slots, "ell encoding");
      e.k = k;
      e.a.assign(slots, 0);
      e.val.resize(slots);  // zeros
      for (i64 i = 0; i < M; ++i)  // pass 2
        for (i64 p = m.ptr[i], s = i * k; p < m.ptr[i + 1]; ++p, ++s) {
          e.a[s] = m.idx[p];
          e.val[s] = m.val[p];
        }
      break;
    }
    case Format::Bcsr: {
      const i64 br = prec.block_rows, bc = prec.block_cols;
      check_elements(ceil_div(M, br) + 1, "bcsr block-row pointers");
      compressed::bcsr_blocks(m.ptr, m.idx.data(), N, br, bc, e.a, e.b);
      const i64 nnzb = static_cast<i64>(e.b.size());
      const i64 slots = checked_mul(nnzb, checked_mul(br, bc, "block size"), "bcsr values");
      check_elements(slots, "bcsr values");
      e.val.resize(slots);
      compressed::bcsr_fill(m.ptr, m.idx.data(), m.val.data(), N, br, bc, e.a, e.b, e.val.data());
      break;
    }
    case Format::Dia: {
      const i64 L = std::min(M, N);
      // pass 1: the offsets holding a nonzero, ascending: marked by offset + M - 1
      // (slot = the diagonal's index), or sorted when the marks would outsize the matrix
      const bool marker = M + N - 1 <= 4 * nnz + (i64(1) << 20);
      std::vector<i64> slot(marker ? M + N - 1 : 0, -1);
      if (marker) {
        for (i64 i = 0; i < M; ++i)
          for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) slot[m.idx[p] - i + (M - 1)] = 0;
        for (i64 o = 0; o < M + N - 1; ++o)
          if (slot[o] == 0) {
            slot[o] = static_cast<i64>(e.a.size());
            e.a.push_back(o - (M - 1));
          }
      } else {
        for (i64 i = 0; i < M; ++i)
          for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) e.a.push_back(m.idx[p] - i);
        std::sort(e.a.begin(), e.a.end());
        e.a.erase(std::unique(e.a.begin(), e.a.end()), e.a.end());
      }
      const i64 nd = static_cast<i64>(e.a.size());
      const i64 slots = checked_mul(nd, L, "ndiag * min(rows, cols)");
      check_elements(slots, "dia values");
      e.val.resize(slots);  // zeros
      for (i64 i = 0; i < M; ++i)  // pass 2: fill
        for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) {
          const i64 j = m.idx[p], o = j - i;
          const i64 d = marker ? slot[o + (M - 1)]
                               : std::lower_bound(e.a.begin(), e.a.end(), o) - e.a.begin();
          e.val[d * L + (o >= 0 ? i : j)] = m.val[p];
        }
      break;
    }
  }
  return e;
}

template <class T>
Encoded<T> encode_dense(const T* d, i64 M, i64 N, Format f, const Precision& prec) {
  prec.validate();
  check_dims(M, N);
  Encoded<T> e = shell<T>(f, M, N, prec);
  const i64 mn = M * N;
  switch (f) {
    case Format::Dense:
      for (i64 p = 0; p < mn; ++p) check_value(d[p]);
      e.val.assign(d, d + mn);
      return e;
    case Format::Csr: {
      Csr<T> m = csr_from_dense(d, M, N);
      e.a = std::move(m.ptr);
      e.b = std::move(m.idx);
      e.val = std::move(m.val);
      return e;
    }
    case Format::Csc: {  // one column-major pass
      for (i64 p = 0; p < mn; ++p) check_value(d[p]);
      e.a.assign(N + 1, 0);
      for (i64 j = 0; j < N; ++j) {
        for (i64 i = 0; i < M; ++i) {
          const T v = d[i * N + j];
          if (v != T(0)) {
            e.b.push_back(i);
            e.val.push_back(v);
          }
        }
        e.a[j + 1] = static_cast<i64>(e.b.size());
      }
      return e;
    }
    case Format::Coo:
      for (i64 i = 0; i < M; ++i)
        for (i64 j = 0; j < N; ++j) {
          const T v = d[i * N + j];
          check_value(v);
          if (v != T(0)) {
            e.a.push_back(i);
            e.b.push_back(j);
            e.val.push_back(v);
          }
        }
      return e;
    case Format::Bitmap:
      check_elements(ceil_div(mn, 8), "bitmap mask");
      e.mask.assign(ceil_div(mn, 8), 0);
      for (i64 p = 0; p < mn; ++p) {
        const T v = d[p];
        check_value(v);
        if (v != T(0)) {
          e.mask[p >> 3] |= static_cast<std::uint8_t>(0x80u >> (p & 7));
          e.val.push_back(v);
        }
      }
      return e;
    case Format::Rlc: {
      const int r = prec.rlc_run_bits;
      const i64 span = i64(1) << r;
      i64 prev = -1;
      for (i64 p = 0; p < mn; ++p) {
        const T v = d[p];
        check_value(v);
        if (v != T(0)) {
          i64 gap = p - prev - 1;
          for (; gap >= span; gap -= span) {
            e.a.push_back(span - 1);
            e.val.push_back(T(0));
          }
          e.a.push_back(gap);
          e.val.push_back(v);
          prev = p;
        }
      }
      return e;
    }
    case Format::Ell: {
      i64 k = 0;
      for (i64 i = 0; i < M; ++i) {  // pass 1: K_max
        i64 c = 0;
        for (i64 j = 0; j < N; ++j) {
          check_value(d[i * N + j]);
          c += d[i * N + j] != T(0);
        }
        k = std::max(k, c);
      }
      const i64 slots = checked_mul(M, k, "rows * K_max");
      check_elements(slots, "ell encoding");
      e.k = k;
      e.a.assign(slots, 0);
      e.val.resize(slots);  // zeros
      for (i64 i = 0; i < M; ++i) {  // pass 2: fill
        i64 s = i * k;
        for (i64 j = 0; j < N; ++j)
          if (d[i * N + j] != T(0)) {
            e.a[s] = j;
            e.val[s++] = d[i * N + j];
          }
      }
      return e;
    }
    case Format::Bcsr: {
      const i64 br = prec.block_rows, bc = prec.block_cols;
      const i64 nbr = ceil_div(M, br), nbc = ceil_div(N, bc);
      e.a.assign(nbr + 1, 0);
      std::vector<std::uint8_t> mark(nbc);
      for (i64 R = 0; R < nbr; ++R) {  // pass 1: nonzero blocks of each block row
        std::fill(mark.begin(), mark.end(), 0);
        for (i64 i = R * br; i < std::min(M, R * br + br); ++i)
          for (i64 j = 0; j < N; ++j) {
            check_value(d[i * N + j]);
            if (d[i * N + j] != T(0)) mark[j / bc] = 1;
          }
        for (i64 C = 0; C < nbc; ++C)
          if (mark[C]) e.b.push_back(C);
        e.a[R + 1] = static_cast<i64>(e.b.size());
      }
      const i64 nnzb = static_cast<i64>(e.b.size());
      const i64 slots = checked_mul(nnzb, checked_mul(br, bc, "block size"), "bcsr values");
      check_elements(slots, "bcsr values");
      e.val.resize(slots);  // zeros
      std::vector<i64> slot(nbc, -1);
      for (i64 R = 0; R < nbr; ++R) {  // pass 2: fill
        for (i64 q = e.a[R]; q < e.a[R + 1]; ++q) slot[e.b[q]] = q;
        for (i64 i = R * br; i < std::min(M, R * br + br); ++i)
          for (i64 j = 0; j < N; ++j)
            if (d[i * N + j] != T(0))
              e.val[(slot[j / bc] * br + (i - R * br)) * bc + (j % bc)] = d[i * N + j];
      }
      return e;
    }
    case Format::Dia: {
      const i64 L = std::min(M, N);
      std::vector<std::uint8_t> has(M + N - 1, 0);
      for (i64 i = 0; i < M; ++i)  // pass 1: diagonals holding a nonzero
        for (i64 j = 0; j < N; ++j) {
          check_value(d[i * N + j]);
          if (d[i * N + j] != T(0)) has[j - i + (M - 1)] = 1;
        }
      std::vector<i64> slot(M + N - 1, -1);
      for (i64 o = 0; o < M + N - 1; ++o)
        if (has[o]) {
          slot[o] = static_cast<i64>(e.a.size());
          e.a.push_back(o - (M - 1));
        }
      const i64 slots = checked_mul(static_cast<i64>(e.a.size()), L, "ndiag * min(rows, cols)");
      check_elements(slots, "dia values");
      e.val.resize(slots);  // zeros
      for (i64 i = 0; i < M; ++i)  // pass 2: fill
        for (i64 j = 0; j < N; ++j)
          if (d[i * N + j] != T(0)) {
            const i64 o = j - i;
            e.val[slot[o + (M - 1)] * L + (o >= 0 ? i : j)] = d[i * N + j];
          }
      return e;
    }
  }
  fail("unknown format");
}

// ------------------------------------------------------------------ decoders
// One decoder per source format (docs/design/sparse.md §2; the arrays of each
// format are listed in sparse.hpp).  Each validates its encoding, so a
// malformed one is refused, and returns canonical CSR.
namespace {

template <class T>
Csr<T> csc_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  check_size(e.val, static_cast<i64>(e.b.size()), "csc values");
  check_pointers(e.a, N, static_cast<i64>(e.b.size()), "csc indptr");
  for (i64 j = 0; j < N; ++j) {
    i64 last = -1;
    for (i64 p = e.a[j]; p < e.a[j + 1]; ++p) {
      if (e.b[p] < 0 || e.b[p] >= M)
        fail("csc row index " + std::to_string(e.b[p]) + " out of range 0.." +
             std::to_string(M - 1));
      if (e.b[p] <= last) fail("csc row indices must be sorted and unique within a column");
      last = e.b[p];
      check_value(e.val[p]);
      if (e.val[p] == T(0)) fail("csc stores a zero as a nonzero entry");
    }
  }
  Csr<T> m;
  m.rows = M;
  m.cols = N;
  transpose<T>(N, M, e.a, e.b, e.val, m.ptr, m.idx, m.val);
  return m;
}

template <class T>
Csr<T> bitmap_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  RowMajorBuilder<T> out(M, N, format_name(e.fmt));
  const i64 mn = M * N;
  check_size(e.mask, ceil_div(mn, 8), "bitmap mask");
  if ((mn & 7) != 0 && (e.mask.back() & (0xFFu >> (mn & 7))) != 0)
    fail("bitmap mask has bits set past rows * cols");
  i64 q = 0;
  const i64 nv = static_cast<i64>(e.val.size());
  out.reserve(nv);
  for (i64 byte = 0; byte < static_cast<i64>(e.mask.size()); ++byte) {
    unsigned bits = e.mask[byte];
    while (bits) {
      const int lead = __builtin_clz(bits) - 24;  // bit 7 - lead set
      const i64 pos = byte * 8 + lead;
      bits &= ~(0x80u >> lead);
      if (q >= nv) fail("bitmap has more mask bits set than values");
      out.emit(pos / N, pos % N, e.val[q++]);
    }
  }
  if (q != nv) fail("bitmap has more values than mask bits set");
  return out.finish();
}

template <class T>
Csr<T> rlc_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  RowMajorBuilder<T> out(M, N, format_name(e.fmt));
  check_size(e.val, static_cast<i64>(e.a.size()), "rlc values");
  const i64 maxrun = (i64(1) << e.run_bits) - 1, mn = M * N;
  const i64 n = static_cast<i64>(e.a.size());
  if (n > 0 && e.val[n - 1] == T(0)) fail("rlc stream ends with a filler entry");
  i64 pos = -1;
  for (i64 q = 0; q < n; ++q) {
    const i64 run = e.a[q];
    if (run < 0 || run > maxrun)
      fail("rlc run " + std::to_string(run) + " out of range 0.." + std::to_string(maxrun));
    pos += run + 1;
    if (pos >= mn) fail("rlc stream runs past rows * cols");
    check_value(e.val[q]);
    if (e.val[q] == T(0)) {
      if (run != maxrun)
        fail("rlc zero value with a run other than 2^r - 1 (only fillers store zeros)");
      continue;
    }
    out.emit(pos / N, pos % N, e.val[q]);
  }
  return out.finish();
}

template <class T>
Csr<T> coo_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  RowMajorBuilder<T> out(M, N, format_name(e.fmt));
  const i64 n = static_cast<i64>(e.a.size());
  check_size(e.b, n, "coo col");
  check_size(e.val, n, "coo values");
  out.reserve(n);
  for (i64 q = 0; q < n; ++q) {
    if (e.a[q] < 0 || e.a[q] >= M) fail("coo row index out of range");
    if (e.b[q] < 0 || e.b[q] >= N) fail("coo column index out of range");
    out.emit(e.a[q], e.b[q], e.val[q]);
  }
  return out.finish();
}

template <class T>
Csr<T> ell_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  RowMajorBuilder<T> out(M, N, format_name(e.fmt));
  if (e.k < 0 || e.k > N) fail("ell K_max must be in 0..cols");
  const i64 slots = M * e.k;
  check_size(e.a, slots, "ell indices");
  check_size(e.val, slots, "ell values");
  for (i64 i = 0; i < M; ++i) {
    bool padding = false;
    for (i64 s = i * e.k; s < (i + 1) * e.k; ++s) {
      check_value(e.val[s]);
      if (e.val[s] == T(0)) {
        if (e.a[s] != 0) fail("ell padding slots must hold index 0 and value 0");
        padding = true;
        continue;
      }
      if (padding) fail("ell row has a nonzero after padding");
      if (e.a[s] < 0 || e.a[s] >= N) fail("ell column index out of range");
      out.emit(i, e.a[s], e.val[s]);
    }
  }
  return out.finish();
}

// A rows x cols CSR matrix with zero row pointers and room for as many entries
// as `val` holds nonzeros: the BCSR and DIA decoders write their entries
// straight into it, in row-major order, and fill in the pointers.
template <class T>
Csr<T> csr_sized(i64 rows, i64 cols, std::span<const T> val) {
  Csr<T> m;
  m.rows = rows;
  m.cols = cols;
  m.ptr.assign(rows + 1, 0);
  const i64 nnz = count_nonzeros(val);
  m.idx.resize(nnz);
  m.val.resize(nnz);
  return m;
}

// Checks the block pointers and block columns of a BCSR encoding.
template <class T>
void check_bcsr_blocks(const EncodedView<T>& e, i64 nbr, i64 nbc) {
  const i64 nnzb = static_cast<i64>(e.b.size());
  check_pointers(e.a, nbr, nnzb, "bcsr indptr");
  if (nnzb > kMaxElements) fail("bcsr has too many blocks");
  check_size(e.val, nnzb * e.block_rows * e.block_cols, "bcsr values");
  for (i64 R = 0; R < nbr; ++R)
    for (i64 q = e.a[R]; q < e.a[R + 1]; ++q) {
      if (e.b[q] < 0 || e.b[q] >= nbc) fail("bcsr block column out of range");
      if (q > e.a[R] && e.b[q] <= e.b[q - 1])
        fail("bcsr block columns must be sorted and unique within a block row");
    }
}

template <class T>
Csr<T> bcsr_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  const i64 br = e.block_rows, bc = e.block_cols;
  const i64 nbr = ceil_div(M, br), nbc = ceil_div(N, bc);
  const i64 nnzb = static_cast<i64>(e.b.size());
  check_bcsr_blocks(e, nbr, nbc);
  check_values(e.val);
  // Sorted unique block columns put the entries in row-major order: they are
  // written straight into the CSR arrays.
  Csr<T> m = csr_sized(M, N, e.val);
  std::vector<i64> count(nnzb, 0);
  i64 pos = 0;
  for (i64 R = 0; R < nbr; ++R)
    for (i64 ii = 0; ii < br; ++ii) {
      const i64 i = R * br + ii;
      for (i64 q = e.a[R]; q < e.a[R + 1]; ++q) {
        const T* blk = e.val.data() + (q * br + ii) * bc;
        for (i64 jj = 0; jj < bc; ++jj) {
          const T v = blk[jj];
          if (v == T(0)) continue;
          const i64 j = e.b[q] * bc + jj;
          if (i >= M || j >= N) fail("bcsr block padding outside the matrix must be zero");
          ++count[q];
          m.idx[pos] = j;
          m.val[pos++] = v;
        }
      }
      if (i < M) m.ptr[i + 1] = pos;
    }
  for (i64 q = 0; q < nnzb; ++q)
    if (count[q] == 0) fail("bcsr stores an all-zero block");
  return m;
}

// Checks the offsets and the padding of a DIA encoding (L = min(rows, cols)).
template <class T>
void check_dia_diagonals(const EncodedView<T>& e, i64 L) {
  const i64 M = e.rows, N = e.cols, nd = static_cast<i64>(e.a.size());
  if (nd > M + N - 1) fail("dia has more diagonals than the matrix");
  check_size(e.val, nd * L, "dia values");
  for (i64 d = 0; d < nd; ++d) {
    const i64 o = e.a[d];
    if (o < -(M - 1) || o > N - 1) fail("dia offset out of range");
    if (d > 0 && o <= e.a[d - 1]) fail("dia offsets must be sorted and unique");
    const i64 len = o >= 0 ? std::min(M, N - o) : std::min(N, M + o);
    bool any = false;
    for (i64 t = 0; t < L; ++t) {
      const T v = e.val[d * L + t];
      check_value(v);
      if (v == T(0)) continue;
      if (t >= len) fail("dia padding outside the matrix must be zero");
      any = true;
    }
    if (!any) fail("dia stores an all-zero diagonal");
  }
}

template <class T>
Csr<T> dia_to_csr(const EncodedView<T>& e) {
  const i64 M = e.rows, N = e.cols;
  const i64 L = std::min(M, N), nd = static_cast<i64>(e.a.size());
  check_dia_diagonals(e, L);
  // Ascending offsets put the entries in row-major order: they are written
  // straight into the CSR arrays.  Row i meets the diagonals -i <= o <= N-1-i.
  Csr<T> m = csr_sized(M, N, e.val);
  const i64* off = e.a.data();
  i64 pos = 0;
  for (i64 i = 0; i < M; ++i) {
    const i64 lo = std::lower_bound(off, off + nd, -i) - off;
    const i64 hi = std::upper_bound(off, off + nd, N - 1 - i) - off;
    for (i64 d = lo; d < hi; ++d) {
      const i64 o = off[d], j = i + o;
      const T v = e.val[d * L + (o >= 0 ? i : j)];
      if (v == T(0)) continue;
      m.idx[pos] = j;
      m.val[pos++] = v;
    }
    m.ptr[i + 1] = pos;
  }
  return m;
}

}  // namespace

template <class T>
Csr<T> to_csr(const EncodedView<T>& e) {
  check_header(e);
  switch (e.fmt) {
    case Format::Dense:
      check_size(e.val, e.rows * e.cols, "dense values");
      return csr_from_dense(e.val.data(), e.rows, e.cols);
    case Format::Csr:
      return csr_from_parts(e.rows, e.cols, e.a, e.b, ValueArray<T>(e.val.begin(), e.val.end()));
    case Format::Csc: return csc_to_csr(e);
    case Format::Bitmap: return bitmap_to_csr(e);
    case Format::Rlc: return rlc_to_csr(e);
    case Format::Coo: return coo_to_csr(e);
    case Format::Ell: return ell_to_csr(e);
    case Format::Bcsr: return bcsr_to_csr(e);
    case Format::Dia: return dia_to_csr(e);
  }
  fail("unknown format " + fmtname(e.fmt));
}

template <class T>
void to_dense_into(const EncodedView<T>& e, T* out) {
  check_header(e);
  const i64 mn = checked_mul(e.rows, e.cols, "rows * cols");
  check_elements(mn, "dense output");
  if (e.fmt == Format::Dense) {
    check_size(e.val, mn, "dense values");
    for (i64 p = 0; p < mn; ++p) {
      check_value(e.val[p]);
      out[p] = e.val[p];
    }
    return;
  }
  if (e.fmt == Format::Csr) {  // scatter straight from the (validated) arrays
    check_size(e.val, static_cast<i64>(e.b.size()), "csr values");
    check_pointers(e.a, e.rows, static_cast<i64>(e.b.size()), "csr indptr");
    for (i64 i = 0; i < e.rows; ++i) {
      i64 last = -1;
      for (i64 p = e.a[i]; p < e.a[i + 1]; ++p) {
        const i64 j = e.b[p];
        if (j < 0 || j >= e.cols)
          fail("csr column index " + std::to_string(j) + " out of range 0.." +
               std::to_string(e.cols - 1));
        if (j <= last) fail("csr column indices must be sorted and unique within a row");
        last = j;
        check_value(e.val[p]);
        if (e.val[p] == T(0)) fail("csr stores a zero as a nonzero entry");
        out[i * e.cols + j] = e.val[p];
      }
    }
    return;
  }
  const Csr<T> m = to_csr(e);
  for (i64 i = 0; i < m.rows; ++i)
    for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) out[i * m.cols + m.idx[p]] = m.val[p];
}

template <class T>
std::vector<T> to_dense(const EncodedView<T>& e) {
  const i64 mn = checked_mul(e.rows, e.cols, "rows * cols");
  check_elements(mn, "dense output");
  std::vector<T> out(mn, T(0));
  to_dense_into(e, out.data());
  return out;
}

template <class T>
Encoded<T> convert(EncodedView<T> e, Format to, const Precision& prec, Work* work) {
  // The source's own parameters (RLC run bits, BCSR block) are taken from
  // `prec` as well: through the Python API a conversion keeps the precision
  // the matrix was encoded with.
  prec.validate();
  check_header(e);
  Csr<T> m = e.fmt == Format::Csr
                 ? csr_from_parts(e.rows, e.cols, std::move(e.a), std::move(e.b),
                                  ValueArray<T>(e.val.begin(), e.val.end()))
                 : to_csr(e);  // validates the source
  // The work's statistics: the block and diagonal counts come from the BCSR or
  // DIA side's own arrays (no extra pass over the matrix).
  Stats s;
  if (work != nullptr)
    s = compute_stats(PatternView{m.rows, m.cols, m.ptr.data(), m.idx.data()}, prec.block_rows,
                      prec.block_cols, stats_needed(e.fmt, to) & ~(kStatsBlocks | kStatsDiags));
  const auto counts_of = [&s](Format f, i64 blocks_or_offsets) {
    if (f == Format::Bcsr) s.nnzb = blocks_or_offsets;
    if (f == Format::Dia) s.ndiag = blocks_or_offsets;
  };
  counts_of(e.fmt, static_cast<i64>(e.fmt == Format::Bcsr ? e.b.size() : e.a.size()));
  const i64 nnz = m.nnz();
  Encoded<T> out;
  if (to == Format::Csr) {
    out = shell<T>(Format::Csr, m.rows, m.cols, prec);
    out.a = std::move(m.ptr);
    out.b = std::move(m.idx);
    out.val = std::move(m.val);
  } else if (to == e.fmt) {  // the source itself, owned
    out = shell<T>(e.fmt, e.rows, e.cols, prec);
    out.run_bits = e.run_bits;
    out.block_rows = e.block_rows;
    out.block_cols = e.block_cols;
    out.k = e.k;
    out.a = std::move(e.a);
    out.b = std::move(e.b);
    out.mask.assign(e.mask.begin(), e.mask.end());
    out.val.assign(e.val.begin(), e.val.end());
  } else if (e.fmt == Format::Dense) {
    out = encode_dense(e.val.data(), e.rows, e.cols, to, prec);
  } else {
    out = encode_csr(std::move(m), to, prec);
  }
  out.nnz = nnz;
  if (work != nullptr) {
    counts_of(to, static_cast<i64>(to == Format::Bcsr ? out.b.size() : out.a.size()));
    *work = path_work(s, e.fmt, to, prec);
  }
  return out;
}

template <class T>
i64 convert_to_dense_into(EncodedView<T> e, T* out, const Precision& prec, Work* work) {
  prec.validate();
  check_header(e);
  Csr<T> m;
  if (e.fmt == Format::Csr) {
    to_dense_into(e, out);  // validates while scattering
    m.rows = e.rows;
    m.cols = e.cols;
    m.ptr = std::move(e.a);
    m.idx = std::move(e.b);
  } else {
    m = to_csr(e);
    for (i64 i = 0; i < m.rows; ++i)
      for (i64 p = m.ptr[i]; p < m.ptr[i + 1]; ++p) out[i * m.cols + m.idx[p]] = m.val[p];
  }
  if (work != nullptr) {  // block and diagonal counts from the source's arrays, as in convert
    const PatternView pv{m.rows, m.cols, m.ptr.data(), m.idx.data()};
    Stats s = compute_stats(pv, prec.block_rows, prec.block_cols,
                            stats_needed(e.fmt, Format::Dense) & ~(kStatsBlocks | kStatsDiags));
    if (e.fmt == Format::Bcsr) s.nnzb = static_cast<i64>(e.b.size());
    if (e.fmt == Format::Dia) s.ndiag = static_cast<i64>(e.a.size());
    *work = path_work(s, e.fmt, Format::Dense, prec);
  }
  return m.ptr[m.rows];
}

#define ARCHGYM_SPARSE_INSTANTIATE(T)                                                         \
  template Csr<T> csr_from_dense<T>(const T*, i64, i64);                                     \
  template Csr<T> csr_from_parts<T>(i64, i64, std::vector<i64>, std::vector<i64>,            \
                                    ValueArray<T>);                                           \
  template Encoded<T> encode_csr<T>(Csr<T>, Format, const Precision&);                       \
  template Encoded<T> encode_dense<T>(const T*, i64, i64, Format, const Precision&);         \
  template Csr<T> to_csr<T>(const EncodedView<T>&);                                          \
  template std::vector<T> to_dense<T>(const EncodedView<T>&);                                \
  template void to_dense_into<T>(const EncodedView<T>&, T*);                                 \
  template Encoded<T> convert<T>(EncodedView<T>, Format, const Precision&, Work*);           \
  template i64 convert_to_dense_into<T>(EncodedView<T>, T*, const Precision&, Work*);

ARCHGYM_SPARSE_INSTANTIATE(float)
ARCHGYM_SPARSE_INSTANTIATE(std::int8_t)

}  // namespace archgym::sparse
