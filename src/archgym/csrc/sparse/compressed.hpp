// Conversions among the compressed formats (CSR, CSC, COO, BCSR, DIA) and
// from CSR to dense, straight on the typed arrays of an encoding: index arrays
// are read in their own container type (no copy widened to int64) and each
// source is checked by branch-free, vectorised sweeps (over the source, or over
// runs of it right before the loop that converts each run: checked_runs; the
// loops then carry no checks) or in the pass that converts it.  They accept exactly the
// canonical encodings the general path (formats.cpp) accepts; a check returns
// false instead of naming the fault, and the caller then takes the general
// path, which says what is wrong.  The results are the general path's, array
// for array.  Plain C++: no Python here.
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

// 1 if a compressed format may not store v (zero, infinite or NaN), else 0:
// computed without branches (on the bits of a float), so loops over it vectorise.
template <class T>
inline std::uint32_t unstorable(T v) {
  if constexpr (std::is_same_v<T, float>) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    u &= 0x7fffffffu;  // |v|: zero is 0, infinities and NaNs are >= 0x7f800000
    return static_cast<std::uint32_t>(u == 0) | static_cast<std::uint32_t>(u >= 0x7f800000u);
  } else {
    static_assert(std::is_integral_v<T>, "values are float or integers");
    return static_cast<std::uint32_t>(v == T(0));
  }
}

// True if every value is finite and nonzero: what a compressed format may store.
template <class T>
bool storable(const T* val, i64 n) {
  std::uint32_t bad = 0;
  for (i64 e = 0; e < n; ++e) bad |= unstorable(val[e]);
  return bad == 0;
}

// 1 if v is infinite or NaN (never for integers), else 0, without branches.
template <class T>
inline std::uint32_t not_finite(T v) {
  if constexpr (std::is_same_v<T, float>) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return static_cast<std::uint32_t>((u & 0x7fffffffu) >= 0x7f800000u);
  } else {
    static_assert(std::is_integral_v<T>, "values are float or integers");
    return 0;
  }
}

// True if every value is finite: a branch-free, vectorised sweep.
template <class T>
bool finite(const T* val, i64 n) {
  std::uint32_t bad = 0;
  for (i64 e = 0; e < n; ++e) bad |= not_finite(val[e]);
  return bad == 0;
}

// The values that are not zero (-0.0 is zero), counted branch-free.
template <class T>
i64 count_nonzeros(const T* val, i64 n) {
  i64 count = 0;
  for (i64 e = 0; e < n; ++e) count += val[e] != T(0);
  return count;
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

// Checks the indices of a compressed encoding with checked pointers: strictly
// increasing within each fiber (so a fiber's last index is its largest) and
// below `dim`.  One vectorised sweep counts the places where an index does not
// exceed its predecessor; they must all be fiber starts.
// The fibers are ptr[0..n] (so a run of fibers can be checked on its own).
template <class I>
bool check_indices(const i64* ptr, i64 n, const I* idx, i64 dim) {
  const i64 first = ptr[0], end = ptr[n];
  if (end - first > i64(UINT32_MAX)) return false;  // the count below is 32-bit
  std::uint32_t drops = 0;
  for (i64 q = first + 1; q < end; ++q) drops += static_cast<std::uint32_t>(idx[q] <= idx[q - 1]);
  for (i64 f = 0; f < n; ++f) {
    const i64 b = ptr[f], e = ptr[f + 1];
    if (b == e) continue;
    // a fiber's first index is its smallest, its last its largest
    if (static_cast<std::uint64_t>(idx[b]) >= static_cast<std::uint64_t>(dim) ||
        static_cast<std::uint64_t>(idx[e - 1]) >= static_cast<std::uint64_t>(dim))
      return false;
    if (b > first) drops -= static_cast<std::uint32_t>(idx[b] <= idx[b - 1]);
  }
  return drops == 0;
}
template <class I>
bool check_indices(const std::vector<i64>& ptr, const I* idx, i64 dim) {
  return check_indices(ptr.data(), static_cast<i64>(ptr.size()) - 1, idx, dim);
}

// check_indices, and the values storable.
template <class I, class T>
bool check_fibers(const std::vector<i64>& ptr, const I* idx, const T* val, i64 dim) {
  return check_indices(ptr, idx, dim) && storable(val, ptr.back());
}

// Runs work(f0, f1) over consecutive runs [f0, f1) of the n fibers of checked
// pointers ptr[0..n], each run of about 4,096 entries checked first by
// check(f0, f1): the work then reads the run from the L1 cache, as if checked in
// its own pass.  False at the first run refused (the runs before it are done).
template <class Check, class Work>
bool checked_runs(const std::vector<i64>& ptr, Check&& check, Work&& work) {
  constexpr i64 kRun = 4096;
  const i64 n = static_cast<i64>(ptr.size()) - 1;
  for (i64 f0 = 0, f1; f0 < n; f0 = f1) {
    f1 = f0 + 1;
    while (f1 < n && ptr[f1 + 1] - ptr[f0] <= kRun) ++f1;
    if (!check(f0, f1)) return false;
    work(f0, f1);
  }
  return true;
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

// The transpose of a compressed matrix with checked pointers (n fibers of `ptr` over
// `dim` positions), a counting sort by index as scipy's: pointers of the `dim` fibers
// of the result (tptr, int64) and its indices (n-range, container U) and values.  The
// indices are checked by vectorised sweeps over runs of fibers right before they are
// counted (check_indices on checked_runs: cheaper than checks inside the counting
// loop, which then needs none), the values while moved.  False if refused.
template <class I, class U, class T>
bool check_and_transpose(const std::vector<i64>& ptr, const I* idx, const T* val, i64 dim,
                         std::vector<i64>& tptr, U* tidx, T* tval) {
  const i64 n = static_cast<i64>(ptr.size()) - 1;
  std::vector<std::uint32_t> next(dim + 1, 0);  // nnz <= kMaxElements < 2^32
  std::uint32_t* count = next.data() + 1;
  if (!checked_runs(
          ptr, [&](i64 f0, i64 f1) { return check_indices(ptr.data() + f0, f1 - f0, idx, dim); },
          [&](i64 f0, i64 f1) {
            for (i64 e = ptr[f0]; e < ptr[f1]; ++e) ++count[static_cast<i64>(idx[e])];
          }))
    return false;
  tptr.resize(dim + 1);
  tptr[0] = 0;
  for (i64 j = 0; j < dim; ++j) {
    next[j + 1] += next[j];
    tptr[j + 1] = next[j + 1];
  }
  std::uint32_t bad = 0;
  for (i64 f = 0; f < n; ++f) {
    const U fiber = static_cast<U>(f);
    for (i64 e = ptr[f]; e < ptr[f + 1]; ++e) {
      const std::uint32_t d = next[static_cast<i64>(idx[e])]++;
      tidx[d] = fiber;
      tval[d] = val[e];
      bad |= unstorable(val[e]);
    }
  }
  return bad == 0;
}

// Checks a CSR matrix with checked pointers (as check_fibers: vectorised sweeps over
// runs of rows, cheaper than checks inside the scatter loop, which then needs none)
// and scatters each run into a row-major rows x cols buffer: zeroed already, or else
// (`zeroed` false) zeroed row by row right before each row's entries.  False if
// refused (the buffer then holds part of the matrix).
template <class I, class T>
bool check_and_scatter(const std::vector<i64>& ptr, const I* idx, const T* val, i64 cols, T* out,
                       bool zeroed) {
  return checked_runs(
      ptr,
      [&](i64 f0, i64 f1) {
        return check_indices(ptr.data() + f0, f1 - f0, idx, cols) &&
               storable(val + ptr[f0], ptr[f1] - ptr[f0]);
      },
      [&](i64 f0, i64 f1) {
        for (i64 i = f0; i < f1; ++i) {
          T* row = out + i * cols;
          if (!zeroed) std::memset(row, 0, static_cast<size_t>(cols) * sizeof(T));
          for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) row[static_cast<i64>(idx[e])] = val[e];
        }
      });
}

// ---- BCSR (br x bc blocks; docs/sparse.md)

// The block column of column j: a shift for the usual power-of-two widths (a
// 64-bit division costs tens of cycles per nonzero).
struct BlockOf {
  i64 bc;
  int shift;
  explicit BlockOf(i64 width)
      : bc(width),
        shift((width & (width - 1)) == 0 ? __builtin_ctzll(static_cast<unsigned long long>(width)) : -1) {}
  i64 operator()(i64 j) const { return shift >= 0 ? j >> shift : j / bc; }
};

// The blocks of a checked CSR matrix: block-row pointers `bptr` (ceil(rows/br) + 1)
// and the sorted block columns of each block row `bcol`.
template <class I>
void bcsr_blocks(const std::vector<i64>& ptr, const I* idx, i64 cols, i64 br, i64 bc,
                 std::vector<i64>& bptr, std::vector<i64>& bcol) {
  const i64 M = static_cast<i64>(ptr.size()) - 1, nnz = ptr[M];
  const i64 nbr = (M + br - 1) / br, nbc = (cols + bc - 1) / bc;
  const BlockOf block_of(bc);
  bptr.assign(nbr + 1, 0);
  bcol.clear();
  // The block columns of a block row, sorted and unique: read off a bitmap over the
  // block columns (words from the first to the last one met) or, when that span is
  // long against the entries (and for a bitmap that would outsize the matrix), sorted.
  const bool bitmap = nbc <= 4 * nnz + (i64(1) << 20);
  std::vector<std::uint64_t> bits(bitmap ? (nbc + 63) / 64 : 0);
  std::vector<i64> found;
  constexpr int kUnrolled = 4;
  constexpr std::uint64_t kTopBit = std::uint64_t(1) << 63;
  bcol.resize(nnz + kUnrolled);  // room for the most blocks there can be (one per entry), and
                                 // for the unrolled writes past the last
  i64* out = bcol.data();
  i64 count = 0;
  for (i64 R = 0; R < nbr; ++R) {
    const i64 e0 = ptr[R * br], e1 = ptr[std::min(M, R * br + br)], n = e1 - e0;
    if (bitmap && n > 0) {
      i64 lo = nbc, hi = -1;
      for (i64 e = e0; e < e1; ++e) {
        const i64 C = block_of(static_cast<i64>(idx[e]));
        bits[C >> 6] |= std::uint64_t(1) << (C & 63);
        lo = std::min(lo, C);
        hi = std::max(hi, C);
      }
      const i64 w0 = lo >> 6, w1 = hi >> 6;
      if (w1 - w0 < n * (64 - __builtin_clzll(n))) {
        for (i64 w = w0; w <= w1; ++w) {
          // The first kUnrolled bits of the word without a branch (most words hold
          // 0-2: a loop's exit would mispredict on them), each written past the
          // count and counted if there; a loop for any more.
          std::uint64_t word = bits[w];
          bits[w] = 0;
          i64* o = out + count;
          for (int k = 0; k < kUnrolled; ++k) {
            o[k] = w * 64 + __builtin_ctzll(word | kTopBit);  // 63 for an empty word: not counted
            count += word != 0;
            word &= word - 1;
          }
          for (; word != 0; word &= word - 1) out[count++] = w * 64 + __builtin_ctzll(word);
        }
        bptr[R + 1] = count;
        continue;
      }
      for (i64 e = e0; e < e1; ++e) bits[block_of(static_cast<i64>(idx[e])) >> 6] = 0;
    }
    found.clear();
    for (i64 e = e0; e < e1; ++e) found.push_back(block_of(static_cast<i64>(idx[e])));
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    std::copy(found.begin(), found.end(), out + count);
    count += static_cast<i64>(found.size());
    bptr[R + 1] = count;
  }
  bcol.resize(count);
}

// Writes the values of a checked CSR matrix into its blocks (`out`: zeroed,
// nnzb * br * bc, the blocks of bcsr_blocks).  Each block row first maps its block
// columns to their blocks (a table over the block columns), or, when that table
// would outsize the matrix, each row walks its sorted blocks along its sorted entries.
template <class I, class T>
void bcsr_fill(const std::vector<i64>& ptr, const I* idx, const T* val, i64 cols, i64 br,
               i64 bc, const std::vector<i64>& bptr, const std::vector<i64>& bcol, T* out) {
  const i64 M = static_cast<i64>(ptr.size()) - 1, nbr = static_cast<i64>(bptr.size()) - 1;
  const i64 nbc = (cols + bc - 1) / bc;
  const BlockOf block_of(bc);
  const bool table = nbc <= 4 * ptr[M] + (i64(1) << 20);
  std::vector<i64> block_at(table ? nbc : 0);
  for (i64 R = 0; R < nbr; ++R) {
    if (bptr[R + 1] > bptr[R])  // (`out` may be null when there are no blocks)
      std::memset(out + bptr[R] * br * bc, 0,
                  static_cast<size_t>((bptr[R + 1] - bptr[R]) * br * bc) * sizeof(T));
    if (table)
      for (i64 q = bptr[R]; q < bptr[R + 1]; ++q) block_at[bcol[q]] = q;
    for (i64 i = R * br; i < std::min(M, R * br + br); ++i) {
      T* row = out + (i - R * br) * bc;  // + block * br * bc + column in the block
      const i64* cur = bcol.data() + bptr[R];
      for (i64 e = ptr[i]; e < ptr[i + 1]; ++e) {
        const i64 j = static_cast<i64>(idx[e]), C = block_of(j);
        if (!table)
          while (*cur < C) ++cur;
        row[(table ? block_at[C] : cur - bcol.data()) * br * bc + (j - C * bc)] = val[e];
      }
    }
  }
}

// Checks the values of a BCSR encoding whose pointers and block columns are
// checked (every value finite, no all-zero block, zeros in the padding past
// rows x cols) and returns its nonzeros; -1 if refused.
template <class I, class T>
i64 bcsr_nonzeros(const std::vector<i64>& bptr, const I* bcol, const T* val, i64 rows, i64 cols,
                  i64 br, i64 bc) {
  const i64 nbr = static_cast<i64>(bptr.size()) - 1, nnzb = bptr[nbr], size = br * bc;
  i64 nnz = 0;
  for (i64 q = 0; q < nnzb; ++q) {  // one sweep of the values
    const T* v = val + q * size;
    i64 n = 0;
    std::uint32_t bad = 0;
    for (i64 k = 0; k < size; ++k) {
      n += v[k] != T(0);
      bad |= not_finite(v[k]);
    }
    if (n == 0 || bad) return -1;
    nnz += n;
  }
  // padding: the rows of the last block row and the columns of the last block column
  // past the matrix
  const i64 last_col = (cols - 1) / bc, last_rows = rows - (nbr - 1) * br,
            last_cols = cols - last_col * bc;
  for (i64 R = 0; R < nbr; ++R)
    for (i64 q = bptr[R]; q < bptr[R + 1]; ++q) {
      const i64 in_rows = R == nbr - 1 ? last_rows : br;
      const i64 in_cols = static_cast<i64>(bcol[q]) == last_col ? last_cols : bc;
      if (in_rows == br && in_cols == bc) continue;
      for (i64 ii = 0; ii < br; ++ii)
        for (i64 jj = 0; jj < bc; ++jj)
          if ((ii >= in_rows || jj >= in_cols) && val[(q * br + ii) * bc + jj] != T(0)) return -1;
    }
  return nnz;
}

// 1 if v is not zero (-0.0 is zero), computed without branches (on the bits of a float).
template <class T>
inline i64 nonzero(T v) {
  if constexpr (std::is_same_v<T, float>) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return (u << 1) != 0;
  } else {
    return v != T(0);
  }
}

// bcsr_to_csr for blocks W columns wide (W = 0: bc, known only at run time; the
// usual widths get loops the compiler unrolls).
template <i64 W, class I, class U, class T>
void bcsr_rows_to_csr(const std::vector<i64>& bptr, const I* bcol, const T* val, i64 rows,
                      i64 br, i64 bc, std::vector<i64>& ptr, U* idx, T* out) {
  const i64 nbr = static_cast<i64>(bptr.size()) - 1, w = W > 0 ? W : bc;
  ptr.resize(rows + 1);
  ptr[0] = 0;
  i64 pos = 0;
  for (i64 R = 0; R < nbr; ++R)
    for (i64 i = R * br; i < std::min(rows, R * br + br); ++i) {
      for (i64 q = bptr[R]; q < bptr[R + 1]; ++q) {
        const T* v = val + (q * br + (i - R * br)) * w;
        const i64 j0 = static_cast<i64>(bcol[q]) * w;
        for (i64 jj = 0; jj < w; ++jj) {
          idx[pos] = static_cast<U>(j0 + jj);
          out[pos] = v[jj];
          pos += nonzero(v[jj]);
        }
      }
      ptr[i + 1] = pos;
    }
}

// CSR arrays of a checked BCSR matrix: row pointers `ptr` (rows + 1), column
// indices and values (room for nnz + 1 each: every slot is written, the write
// position advances on nonzeros only).
template <class I, class U, class T>
void bcsr_to_csr(const std::vector<i64>& bptr, const I* bcol, const T* val, i64 rows, i64 br,
                 i64 bc, std::vector<i64>& ptr, U* idx, T* out) {
  switch (bc) {
    case 2: return bcsr_rows_to_csr<2>(bptr, bcol, val, rows, br, bc, ptr, idx, out);
    case 4: return bcsr_rows_to_csr<4>(bptr, bcol, val, rows, br, bc, ptr, idx, out);
    case 8: return bcsr_rows_to_csr<8>(bptr, bcol, val, rows, br, bc, ptr, idx, out);
    default: return bcsr_rows_to_csr<0>(bptr, bcol, val, rows, br, bc, ptr, idx, out);
  }
}

// ---- DIA (offsets o = j - i ascending; diagonal d's slot t is row t for o >= 0,
// column t for o < 0; L = min(rows, cols) slots each)

// Length of the diagonal at offset o inside the rows x cols matrix.
inline i64 diagonal_length(i64 o, i64 rows, i64 cols) {
  return o >= 0 ? std::min(rows, cols - o) : std::min(cols, rows + o);
}

// Checks a DIA encoding (offsets strictly ascending inside the matrix; every
// value finite, no all-zero diagonal, zeros past each diagonal's length) and
// returns its nonzeros (-1 if refused), with the CSR row pointers in `ptr`
// (rows + 1).  Slot t of the diagonal at offset o is row t + max(-o, 0).
template <class O, class T>
i64 dia_nonzeros(const O* off, i64 nd, const T* val, i64 rows, i64 cols, std::vector<i64>& ptr) {
  const i64 L = std::min(rows, cols);
  if (nd > rows + cols - 1) return -1;
  if (nd > 0 && (static_cast<i64>(off[0]) < -(rows - 1) || static_cast<i64>(off[nd - 1]) > cols - 1))
    return -1;
  std::uint32_t bad = 0;
  for (i64 d = 1; d < nd; ++d) bad |= static_cast<std::uint32_t>(off[d] <= off[d - 1]);
  if (bad || !finite(val, nd * L)) return -1;
  ptr.assign(rows + 1, 0);
  i64 nnz = 0;
  for (i64 d = 0; d < nd; ++d) {
    const i64 o = static_cast<i64>(off[d]), len = diagonal_length(o, rows, cols);
    const T* v = val + d * L;
    i64* count = ptr.data() + 1 + std::max<i64>(-o, 0);  // count[t]: slot t's row
    i64 n = 0;
    for (i64 t = 0; t < len; ++t) {
      const i64 nz = v[t] != T(0);
      count[t] += nz;
      n += nz;
    }
    if (n == 0 || count_nonzeros(v + len, L - len) != 0) return -1;
    nnz += n;
  }
  for (i64 i = 0; i < rows; ++i) ptr[i + 1] += ptr[i];
  return nnz;
}

// CSR column indices and values of a checked DIA matrix with the row pointers of
// dia_nonzeros: diagonal by diagonal in ascending offset (so each row receives its
// columns in ascending order), reading the values in their stored order.
template <class O, class U, class T>
void dia_to_csr(const O* off, i64 nd, const T* val, i64 rows, i64 cols,
                const std::vector<i64>& ptr, U* idx, T* out) {
  const i64 L = std::min(rows, cols);
  std::vector<i64> next(ptr.begin(), ptr.end() - 1);
  for (i64 d = 0; d < nd; ++d) {
    const i64 o = static_cast<i64>(off[d]), first = std::max<i64>(-o, 0);
    const i64 len = diagonal_length(o, rows, cols);
    const T* v = val + d * L;
    for (i64 t = 0; t < len; ++t)
      if (v[t] != T(0)) {
        const i64 i = t + first, q = next[i]++;
        idx[q] = static_cast<U>(i + o);
        out[q] = v[t];
      }
  }
}

}  // namespace archgym::sparse::compressed
