// Conversions among the compressed formats (CSR, CSC, COO) and from CSR to
// dense, straight on the typed arrays of an encoding: index arrays are read in
// their own container type (no copy widened to int64) and each source is
// checked in the pass that converts it.  They accept exactly the canonical
// encodings the general path (formats.cpp) accepts; a check returns false
// instead of naming the fault, and the caller then takes the general path,
// which says what is wrong.  The results are the general path's, array for
// array.  Plain C++: no Python here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "sparse/sparse.hpp"

namespace archgym::sparse::compressed {

// True if every value is finite and nonzero: what a compressed format may store.
// Written without branches (on the bits of a float), so the compiler vectorises it.
template <class T>
bool storable(const T* val, i64 n) {
  std::uint32_t bad = 0;
  if constexpr (std::is_same_v<T, float>) {
    for (i64 e = 0; e < n; ++e) {
      std::uint32_t u;
      std::memcpy(&u, val + e, sizeof u);
      u &= 0x7fffffffu;  // |v|: zero is 0, infinities and NaNs are >= 0x7f800000
      bad |= static_cast<std::uint32_t>(u == 0) | static_cast<std::uint32_t>(u >= 0x7f800000u);
    }
  } else {
    static_assert(std::is_integral_v<T>, "values are float or integers");
    for (i64 e = 0; e < n; ++e) bad |= static_cast<std::uint32_t>(val[e] == T(0));
  }
  return bad == 0;
}

// Pointers of `n` fibers over `total` entries, widened to int64 (n + 1 entries).
template <class P>
bool read_pointers(const P* p, i64 size, i64 n, i64 total, std::vector<i64>& out) {
  if (size != n + 1 || p[0] != 0) return false;
  out.resize(n + 1);
  out[0] = 0;
  for (i64 i = 0; i < n; ++i) {
    if (p[i + 1] < p[i]) return false;
    out[i + 1] = static_cast<i64>(p[i + 1]);
  }
  return out[n] == total;
}

// Checks the entries of a compressed encoding with checked pointers: indices
// strictly increasing within each fiber (so a fiber's last index is its largest)
// and below `dim`, values storable.  One vectorised sweep counts the places where
// an index does not exceed its predecessor; they must all be fiber starts.
template <class I, class T>
bool check_fibers(const std::vector<i64>& ptr, const I* idx, const T* val, i64 dim) {
  const i64 n = static_cast<i64>(ptr.size()) - 1, nnz = ptr[n];
  if (nnz > i64(UINT32_MAX)) return false;  // the count below is 32-bit
  std::uint32_t drops = 0;
  for (i64 q = 1; q < nnz; ++q) drops += static_cast<std::uint32_t>(idx[q] <= idx[q - 1]);
  for (i64 f = 0; f < n; ++f) {
    const i64 b = ptr[f], e = ptr[f + 1];
    if (b == e) continue;
    // a fiber's first index is its smallest, its last its largest
    if (static_cast<std::uint64_t>(idx[b]) >= static_cast<std::uint64_t>(dim) ||
        static_cast<std::uint64_t>(idx[e - 1]) >= static_cast<std::uint64_t>(dim))
      return false;
    if (b > 0) drops -= static_cast<std::uint32_t>(idx[b] <= idx[b - 1]);
  }
  return drops == 0 && storable(val, nnz);
}

// Element-wise copy into another index container (the values fit: they were checked).
template <class I, class U>
void copy_indices(const I* src, i64 n, U* dst) {
  if constexpr (std::is_same_v<I, U>)
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(I));
  else
    for (i64 e = 0; e < n; ++e) dst[e] = static_cast<U>(src[e]);
}

// COO row indices of a CSR matrix.
template <class U>
void expand_rows(const std::vector<i64>& ptr, U* row) {
  const i64 n = static_cast<i64>(ptr.size()) - 1;
  for (i64 i = 0; i < n; ++i)
    for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) row[e] = static_cast<U>(i);
}

// Checks a COO encoding (row-major order, no duplicates, in range, storable
// values) and counts its row pointers into `ptr` (rows + 1).
template <class R, class C, class T>
bool coo_pointers(const R* row, const C* col, const T* val, i64 nnz, i64 rows, i64 cols,
                  std::vector<i64>& ptr) {
  if (!storable(val, nnz)) return false;
  // Out of order or a column out of range (branch-free sweeps, vectorised).
  std::uint32_t bad = 0;
  const C N = static_cast<C>(std::min<std::uint64_t>(cols, std::numeric_limits<C>::max()));
  if (static_cast<std::uint64_t>(cols) <= std::numeric_limits<C>::max())
    for (i64 e = 0; e < nnz; ++e) bad |= static_cast<std::uint32_t>(col[e] >= N);
  for (i64 e = 1; e < nnz; ++e)
    bad |= static_cast<std::uint32_t>(row[e] < row[e - 1]) |
           (static_cast<std::uint32_t>(row[e] == row[e - 1]) &
            static_cast<std::uint32_t>(col[e] <= col[e - 1]));
  // rows ascend, so the last one is the largest
  if (bad || (nnz > 0 && static_cast<std::uint64_t>(row[nnz - 1]) >= static_cast<std::uint64_t>(rows)))
    return false;
  ptr.resize(rows + 1);  // rows ascend: row r ends where the entries of rows > r begin
  ptr[0] = 0;
  i64 e = 0;
  for (i64 r = 0; r < rows; ++r) {
    while (e < nnz && static_cast<i64>(row[e]) == r) ++e;
    ptr[r + 1] = e;
  }
  return true;
}

// The transpose of a checked compressed matrix (n fibers of `ptr` over `dim`
// positions): pointers of the `dim` fibers of the result (tptr, int64) and its
// indices (n-range, container U) and values.
template <class I, class U, class T>
void transpose(const std::vector<i64>& ptr, const I* idx, const T* val, i64 dim,
               std::vector<i64>& tptr, U* tidx, T* tval) {
  const i64 n = static_cast<i64>(ptr.size()) - 1, nnz = ptr[n];
  std::vector<std::uint32_t> next(dim + 1, 0);  // nnz <= kMaxElements < 2^32
  for (i64 e = 0; e < nnz; ++e) ++next[static_cast<i64>(idx[e]) + 1];
  tptr.resize(dim + 1);
  tptr[0] = 0;
  for (i64 j = 0; j < dim; ++j) {
    next[j + 1] += next[j];
    tptr[j + 1] = next[j + 1];
  }
  for (i64 f = 0; f < n; ++f) {
    const U fiber = static_cast<U>(f);
    for (i64 e = ptr[f]; e < ptr[f + 1]; ++e) {
      const std::uint32_t d = next[static_cast<i64>(idx[e])]++;
      tidx[d] = fiber;
      tval[d] = val[e];
    }
  }
}

// Scatters a checked CSR matrix into a zeroed row-major rows x cols buffer.
template <class I, class T>
void scatter(const std::vector<i64>& ptr, const I* idx, const T* val, i64 cols, T* out) {
  const i64 n = static_cast<i64>(ptr.size()) - 1;
  for (i64 i = 0; i < n; ++i)
    for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) out[i * cols + static_cast<i64>(idx[e])] = val[e];
}

}  // namespace archgym::sparse::compressed
