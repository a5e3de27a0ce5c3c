// Sparse matrix formats: encoders, decoders, exact storage and conversions
// with counted work (archgym._sim.sparse).
//
// Formats and storage rules follow docs/design/sparse.md (after Qin
// et al., "Extending Sparse Tensor Accelerators to Support Multiple
// Compression Formats", IPDPS 2021); docs/sparse.md is the user-facing text.
// Plain C++20: no Python here.  Bad input throws std::invalid_argument with a
// sentence that names what is wrong (nanobind turns it into ValueError).
//
// Every encoding is canonical: entries sorted row-major (CSC: column-major),
// no duplicates, no stored zero except where the format itself stores zeros
// (dense, ELL padding, RLC fillers, BCSR block fill, DIA diagonal fill).
// Decoders check that, so decode(encode(A)) == A and anything else is refused.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace archgym::sparse {

using i64 = std::int64_t;

enum class Format : int { Dense = 0, Bitmap, Rlc, Coo, Csr, Csc, Ell, Bcsr, Dia };
inline constexpr int kNumFormats = 9;
const char* format_name(Format f);
Format to_format(int code);  // throws on an unknown code

// Largest rows or cols accepted (2^26): keeps per-rank statistics and every
// size product inside int64 and inside memory.
inline constexpr i64 kMaxDim = i64(1) << 26;
// Largest number of elements one encoded array may hold (2^30).
inline constexpr i64 kMaxElements = i64(1) << 30;

void check_dims(i64 rows, i64 cols);
void check_elements(i64 count, const char* what);
// max(1, ceil(log2 n)): bits that address n positions.
int address_bits(i64 n);
// Overflow-checked int64 arithmetic (throws std::invalid_argument naming `what`).
i64 checked_mul(i64 a, i64 b, const char* what);
i64 checked_add(i64 a, i64 b, const char* what);

// Limits of Precision (checked by Precision::validate and the decoders).
inline constexpr int kMaxWidthBits = 64;  // value, index and pointer bits: 1..64
inline constexpr int kMinRunBits = 2, kMaxRunBits = 8;
inline constexpr i64 kMaxBlockDim = 65536;  // BCSR block rows and columns: 1..65536

struct Precision {
  int value_bits = 32;    // 1..kMaxWidthBits
  int index_bits = 0;     // 0: max(1, ceil(log2 dim)) per rank; else 1..kMaxWidthBits for every index
  int pointer_bits = 32;  // 1..kMaxWidthBits
  int rlc_run_bits = 4;   // kMinRunBits..kMaxRunBits
  i64 block_rows = 4;     // BCSR block, 1..kMaxBlockDim each
  i64 block_cols = 4;
  void validate() const;
  // Width of an index over n positions (validated against index_bits).
  int index_width(i64 n, const char* what) const;
};

// Allocates array memory the way numpy does (transparent huge pages from 4 MiB;
// zeroed with calloc, whose large blocks come as untouched zero pages) and
// leaves default-constructed elements as they are.  So `resize(n)` of an empty
// ValueArray is a zero-filled array that costs nothing until
// written, and `resize` of an UninitArray does not clear memory the
// code overwrites anyway.  Free with std::free.
void* array_alloc(std::size_t bytes, bool zeroed);
inline void* zeroed_alloc(std::size_t bytes) { return array_alloc(bytes, true); }
template <class T, bool Zeroed>
struct ArrayAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = ArrayAllocator<U, Zeroed>;
  };
  ArrayAllocator() noexcept = default;
  template <class U>
  ArrayAllocator(const ArrayAllocator<U, Zeroed>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(array_alloc(n * sizeof(T), Zeroed)); }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  template <class U>
  void construct(U* p) noexcept {  // default-init: keeps calloc's zeros (or what is overwritten)
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const ArrayAllocator<U, Zeroed>&) const noexcept { return true; }
};
// The value arrays of the formats (zero-filled on resize of an empty one).
template <class T>
using ValueArray = std::vector<T, ArrayAllocator<T, true>>;
// Arrays written whole after their allocation.
template <class T>
using UninitArray = std::vector<T, ArrayAllocator<T, false>>;

// A CSR matrix (the hub of the conversion graph).
template <class T>
struct Csr {
  i64 rows = 0, cols = 0;
  std::vector<i64> ptr;  // rows + 1
  std::vector<i64> idx;
  ValueArray<T> val;
  i64 nnz() const { return static_cast<i64>(idx.size()); }
};

// An encoded matrix.  Arrays by format (docs/sparse.md):
//   dense  val (rows*cols, row-major)
//   bitmap mask (ceil(rows*cols/8) bytes, row-major, MSB first), val (nnz)
//   rlc    a = runs, val (nnz + fillers; a filler is (2^r - 1, 0))
//   coo    a = row, b = col, val
//   csr    a = indptr (rows+1), b = col indices, val
//   csc    a = indptr (cols+1), b = row indices, val
//   ell    a = col indices (rows*k), val (rows*k); padding (0, 0.0)
//   bcsr   a = block-row ptr (ceil(rows/br)+1), b = block cols, val (nnzb*br*bc)
//   dia    a = offsets j-i (ascending), val (ndiag*min(rows, cols))
template <class T>
struct Encoded {
  Format fmt = Format::Dense;
  i64 rows = 0, cols = 0;
  int run_bits = 4;                     // rlc
  i64 block_rows = 1, block_cols = 1;   // bcsr
  i64 k = 0;                            // ell: slots per row
  std::vector<i64> a, b;
  std::vector<std::uint8_t> mask;
  ValueArray<T> val;
  i64 nnz = -1;  // nonzeros of the matrix, set by convert (-1: not counted)
};

// An encoding to decode or convert: Encoded's fields, with the mask and the
// values borrowed (the caller keeps them alive) instead of copied.
template <class T>
struct EncodedView {
  Format fmt = Format::Dense;
  i64 rows = 0, cols = 0;
  int run_bits = 4;
  i64 block_rows = 1, block_cols = 1;
  i64 k = 0;
  std::vector<i64> a, b;
  std::span<const std::uint8_t> mask;
  std::span<const T> val;
};

// Work of a conversion, counted per docs/sparse.md "Conversion work".
struct Work {
  i64 elements_scanned = 0;  // source slots read (values, bits, indices, pointers)
  i64 elements_written = 0;  // destination slots written (incl. zero fill, padding)
  i64 nnz_moved = 0;         // nonzeros copied to the destination
  i64 rows_touched = 0;      // outer fibers (rows, columns, block rows, diagonals) visited
  i64 passes = 0;            // sweeps over the source
  Work& operator+=(const Work& o);
};

// A sparsity pattern in CSR form (borrowed arrays).
struct PatternView {
  i64 rows = 0, cols = 0;
  const i64* ptr = nullptr;  // rows + 1
  const i64* idx = nullptr;  // ptr[rows]
  i64 nnz() const { return ptr[rows]; }
};

// Structure statistics of one matrix: everything the storage rules, the
// conversion work and the features need.
struct Stats {
  i64 rows = 0, cols = 0, nnz = 0;
  std::vector<i64> row_nnz, col_nnz;
  std::vector<i64> row_last, col_last;  // last column of each row / row of each column, -1 if empty
  std::array<i64, kMaxRunBits + 1> fillers{};  // RLC fillers for run bits r = 2..8 (row-major stream)
  i64 ell_k = 0, col_k = 0;             // max nonzeros in a row / in a column
  i64 block_rows = 4, block_cols = 4;   // the block size nnzb refers to
  i64 nnzb = 0;                         // nonzero blocks
  std::vector<i64> block_row_nnzb;      // per block row
  i64 ndiag = 0;                        // diagonals holding a nonzero
  i64 max_offset = 0;                   // max |j - i| over nonzeros
  i64 empty_rows = 0, empty_cols = 0;
};
// `what`: which parts to compute (kStatsAll by default); rows, cols and nnz always.
enum StatsParts : unsigned {
  kStatsRanks = 1,    // row/col nnz and last index, ell_k, col_k, empty rows/cols, max_offset
  kStatsFillers = 2,  // RLC fillers
  kStatsBlocks = 4,   // nnzb, block_row_nnzb
  kStatsDiags = 8,    // ndiag
  kStatsAll = 15,
};
Stats compute_stats(const PatternView& p, i64 block_rows, i64 block_cols,
                    unsigned what = kStatsAll);
// The parts the legs of a conversion from -> to need.
unsigned stats_needed(Format from, Format to);
// Checks a CSR pattern (pointers, sorted unique in-range indices).
void validate_pattern(i64 rows, i64 cols, const std::vector<i64>& ptr,
                      const std::vector<i64>& idx);
// Structure features (names in feature_names(), same order).
std::vector<double> features(const Stats& s);
const std::vector<std::string>& feature_names();

struct Storage {
  i64 metadata_bits = 0, payload_bits = 0;
};
// Exact storage of the matrix described by `s` in `f` (s must have been
// computed with the precision's block size).
Storage storage_bits(const Stats& s, Format f, const Precision& prec);
// Slots a full sequential read of format f touches (see Work).
i64 format_slots(const Stats& s, Format f, const Precision& prec);

// Direct legs: dense <-> any, csr <-> any.  Anything else goes through CSR.
bool is_direct(Format from, Format to);
Work leg_work(const Stats& s, Format from, Format to, const Precision& prec);
Work path_work(const Stats& s, Format from, Format to, const Precision& prec);
// The legs of the conversion path from -> to (empty when equal).
std::vector<std::pair<Format, Format>> conversion_path(Format from, Format to);

// Builders and codecs (T = float or std::int8_t).
template <class T>
Csr<T> csr_from_dense(const T* data, i64 rows, i64 cols);
template <class T>
Csr<T> csr_from_parts(i64 rows, i64 cols, std::vector<i64> ptr, std::vector<i64> idx,
                      ValueArray<T> val);  // validates canonical CSR
template <class T>
Encoded<T> encode_csr(Csr<T> m, Format f, const Precision& prec);  // moves what it can
template <class T>
Encoded<T> encode_dense(const T* data, i64 rows, i64 cols, Format f, const Precision& prec);
template <class T>
Csr<T> to_csr(const EncodedView<T>& e);  // validates the encoding
template <class T>
std::vector<T> to_dense(const EncodedView<T>& e);  // validates the encoding
// Writes the nonzeros into `out` (rows*cols, already zeroed); validates.
template <class T>
void to_dense_into(const EncodedView<T>& e, T* out);
template <class T>
Encoded<T> convert(EncodedView<T> e, Format to, const Precision& prec, Work* work);
// convert(e, Dense) written into `out` (rows*cols, already zeroed); returns nnz.
template <class T>
i64 convert_to_dense_into(EncodedView<T> e, T* out, const Precision& prec, Work* work);

}  // namespace archgym::sparse
