// Python bindings of the sparse core (archgym._sim.sparse).  The Python face
// is archgym/sparse/model.py; this layer only moves arrays and releases
// the GIL around the work.  Records cross it by name: the field tables below
// are exported (ACCELERATOR_FIELDS, WORK_FIELDS, GRID_FIELDS, PRECISION_DEFAULTS)
// and Python builds its calls and reads the results from them.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "sparse/accel.hpp"
#include "sparse/compressed.hpp"
#include "sparse/sparse.hpp"

namespace nb = nanobind;
namespace sp = archgym::sparse;
using sp::i64;

namespace {

using AnyVector = nb::ndarray<nb::ro, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <typename T>
using Values = nb::ndarray<const T, nb::c_contig, nb::device::cpu>;

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

// An integer NumPy vector of any width, copied to int64.
std::vector<i64> read_ints(const AnyVector& a, const char* what) {
  const auto dt = a.dtype();
  const size_t n = a.shape(0);
  std::vector<i64> out(n);
  const void* p = a.data();
  auto copy = [&](auto tag) {
    using U = decltype(tag);
    const U* s = static_cast<const U*>(p);
    for (size_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<U, std::uint64_t>) {
        if (s[i] > static_cast<std::uint64_t>(INT64_MAX))
          fail(std::string(what) + " holds a value beyond int64");
      }
      out[i] = static_cast<i64>(s[i]);
    }
  };
  if (dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::Int)) {
    switch (dt.bits) {
      case 8: copy(std::int8_t{}); return out;
      case 16: copy(std::int16_t{}); return out;
      case 32: copy(std::int32_t{}); return out;
      case 64: copy(std::int64_t{}); return out;
      default: break;
    }
  } else if (dt.code == static_cast<uint8_t>(nb::dlpack::dtype_code::UInt)) {
    switch (dt.bits) {
      case 8: copy(std::uint8_t{}); return out;
      case 16: copy(std::uint16_t{}); return out;
      case 32: copy(std::uint32_t{}); return out;
      case 64: copy(std::uint64_t{}); return out;
      default: break;
    }
  }
  fail(std::string(what) + " must be an integer array");
}

std::span<const std::uint8_t> read_bytes(const AnyVector& a, const char* what) {
  const auto dt = a.dtype();
  if (dt.code != static_cast<uint8_t>(nb::dlpack::dtype_code::UInt) || dt.bits != 8)
    fail(std::string(what) + " must be a uint8 array");
  return {static_cast<const std::uint8_t*>(a.data()), a.shape(0)};
}

// Arrays written whole after their allocation (huge pages from 4 MiB, as numpy's).
template <typename T>
using Uninit = sp::UninitArray<T>;

// A NumPy array that takes over the vector's buffer (no copy).
template <typename V>
nb::object own(V&& v, std::vector<size_t> shape) {
  using U = typename V::value_type;
  if (v.empty()) v.reserve(1);
  auto* holder = new V(std::move(v));
  nb::capsule owner(holder, [](void* q) noexcept { delete static_cast<V*>(q); });
  return nb::ndarray<nb::numpy, U>(holder->data(), shape.size(), shape.data(), owner).cast();
}

// An index array in the smallest unsigned container holding `bits` bits.  `hi`
// is the largest value the array holds (for pointers, the last one; for
// indices, the dimension - 1, which the index width already covers), so no
// value needs a check of its own.
void check_fits(int bits, i64 hi, const char* what) {
  if (bits < 63 && hi > (i64(1) << bits) - 1)
    fail(std::string(what) + " value " + std::to_string(hi) + " does not fit in " +
         std::to_string(bits) + " bits");
}

// Calls f(U{}) with U the container of `bits`-bit indices: the smallest unsigned type.
template <typename F>
auto with_container(int bits, F&& f) {
  if (bits <= 8) return f(std::uint8_t{});
  if (bits <= 16) return f(std::uint16_t{});
  if (bits <= 32) return f(std::uint32_t{});
  return f(std::uint64_t{});
}

nb::object index_array(const std::vector<i64>& v, int bits, const char* what, i64 hi) {
  check_fits(bits, hi, what);
  return with_container(bits, [&](auto tag) {
    using U = decltype(tag);
    return own(Uninit<U>(v.begin(), v.end()), {v.size()});
  });
}

nb::object offset_array(const std::vector<i64>& v) {
  i64 lo = 0, hi = 0;
  for (const i64 x : v) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const std::vector<size_t> shape{v.size()};
  auto cast_to = [&](auto tag) {
    using U = decltype(tag);
    std::vector<U> out(v.begin(), v.end());
    return own(std::move(out), shape);
  };
  if (lo >= INT8_MIN && hi <= INT8_MAX) return cast_to(std::int8_t{});
  if (lo >= INT16_MIN && hi <= INT16_MAX) return cast_to(std::int16_t{});
  return cast_to(std::int32_t{});
}

// A zeroed rows x cols buffer (zero pages come lazily, as with numpy.zeros; free with std::free).
template <typename T>
T* calloc_matrix(i64 rows, i64 cols) {
  sp::check_dims(rows, cols);
  sp::check_elements(rows * cols, "dense output");
  return static_cast<T*>(sp::zeroed_alloc(static_cast<size_t>(rows * cols) * sizeof(T)));
}

// A rows x cols buffer for the dense form of a matrix with nnz nonzeros (free with
// std::free), and whether it holds zeros already.  Zeroed by calloc (as numpy.zeros)
// when the nonzeros are fewer than one per cache line or the buffer is 32 MiB or more
// (glibc maps blocks that large afresh: their pages come zeroed, lazily); else left
// as it is, and check_and_scatter zeroes each row right before its entries, while
// the row is in the L1 cache, instead of a zero fill whose lines the entries then
// fetch again.
template <typename T>
std::pair<T*, bool> dense_buffer(i64 rows, i64 cols, i64 nnz) {
  constexpr i64 kLine = 64, kFreshPages = i64(32) << 20;
  sp::check_dims(rows, cols);
  sp::check_elements(rows * cols, "dense output");
  const i64 bytes = rows * cols * static_cast<i64>(sizeof(T));
  const bool zeroed = nnz * kLine < bytes || bytes >= kFreshPages;
  return {static_cast<T*>(sp::array_alloc(static_cast<size_t>(bytes), zeroed)), zeroed};
}

// index_bits None = max(1, ceil(log2 dim)) per rank (0 inside the core).  Values
// beyond int are clamped so that validate() names the field and its range.
sp::Precision make_precision(i64 value_bits, std::optional<i64> index_bits, i64 pointer_bits,
                             i64 rlc_run_bits, i64 block_rows, i64 block_cols) {
  if (index_bits && *index_bits == 0) fail("index_bits must be None or in 1..64, got 0");
  auto narrow = [](i64 v) { return static_cast<int>(std::clamp<i64>(v, INT_MIN, INT_MAX)); };
  sp::Precision p{narrow(value_bits), narrow(index_bits.value_or(0)), narrow(pointer_bits),
                  narrow(rlc_run_bits), block_rows, block_cols};
  p.validate();
  return p;
}

// The arrays of a BCSR encoding of a matrix with `cols` columns into d: block-row
// pointers, block columns and the values (nnzb x br x bc).
template <typename V>
void bcsr_arrays(nb::dict& d, const std::vector<i64>& bptr, const std::vector<i64>& bcol, V val,
                 i64 cols, i64 br, i64 bc, const sp::Precision& prec) {
  const i64 nbc = (cols + bc - 1) / bc;
  d["indptr"] = index_array(bptr, prec.pointer_bits, "block pointer (pointer_bits)", bptr.back());
  d["indices"] = index_array(bcol, prec.index_width(nbc, "block columns"), "block column", nbc - 1);
  d["values"] = own(std::move(val), {bcol.size(), size_t(br), size_t(bc)});
}

// Encoded -> dict of NumPy arrays named as in docs/sparse.md.
template <typename T>
nb::dict to_python(sp::Encoded<T>&& e, const sp::Precision& prec) {
  nb::dict d;
  const i64 M = e.rows, N = e.cols;
  using F = sp::Format;
  const int ir = e.fmt == F::Coo || e.fmt == F::Csc ? prec.index_width(M, "rows") : 0;
  const int ic = e.fmt == F::Coo || e.fmt == F::Csr || e.fmt == F::Ell
                     ? prec.index_width(N, "columns")
                     : 0;
  const size_t nv = e.val.size();
  switch (e.fmt) {
    case F::Dense:
      d["values"] = own(std::move(e.val), {size_t(M), size_t(N)});
      break;
    case F::Bitmap:
      d["mask"] = own(std::move(e.mask), {e.mask.size()});
      d["values"] = own(std::move(e.val), {nv});
      break;
    case F::Rlc:
      d["runs"] = index_array(e.a, e.run_bits, "rlc run", (i64(1) << e.run_bits) - 1);
      d["values"] = own(std::move(e.val), {nv});
      break;
    case F::Coo:
      d["row"] = index_array(e.a, ir, "coo row index", M - 1);
      d["col"] = index_array(e.b, ic, "coo column index", N - 1);
      d["values"] = own(std::move(e.val), {nv});
      break;
    case F::Csr:
    case F::Csc:
      d["indptr"] = index_array(e.a, prec.pointer_bits, "pointer (pointer_bits)", e.a.back());
      d["indices"] = index_array(e.b, e.fmt == F::Csr ? ic : ir, "index",
                                 (e.fmt == F::Csr ? N : M) - 1);
      d["values"] = own(std::move(e.val), {nv});
      break;
    case F::Ell:
      d["indices"] = index_array(e.a, ic, "ell column index", N - 1);
      d["indices"] = d["indices"].attr("reshape")(M, e.k);
      d["values"] = own(std::move(e.val), {size_t(M), size_t(e.k)});
      break;
    case F::Bcsr:
      bcsr_arrays(d, e.a, e.b, std::move(e.val), N, e.block_rows, e.block_cols, prec);
      break;
    case F::Dia: {
      prec.index_width(M + N - 1, "diagonal offsets");  // validates index_bits
      const size_t nd = e.a.size();
      d["offsets"] = offset_array(e.a);
      d["values"] = own(std::move(e.val), {nd, size_t(std::min(M, N))});
      break;
    }
  }
  return d;
}

// The counters of a conversion's Work, in the order of WORK_FIELDS.
constexpr std::pair<const char*, i64 sp::Work::*> kWorkFields[] = {
    {"elements_scanned", &sp::Work::elements_scanned},
    {"elements_written", &sp::Work::elements_written},
    {"nnz_moved", &sp::Work::nnz_moved},
    {"rows_touched", &sp::Work::rows_touched},
    {"passes", &sp::Work::passes}};

// The Work as a dict by field name.
nb::dict work_dict(const sp::Work& w) {
  nb::dict out;
  for (const auto& [name, member] : kWorkFields) out[name] = w.*member;
  return out;
}

// The encoding the arrays hold (the mask and the values borrowed: the caller's
// arrays outlive the call).
template <typename T>
sp::EncodedView<T> from_python(int fmt, i64 rows, i64 cols, const AnyVector& a,
                               const AnyVector& b, const AnyVector& mask, const Values<T>& val,
                               i64 k, const sp::Precision& prec) {
  sp::EncodedView<T> e;
  e.fmt = sp::to_format(fmt);
  e.rows = rows;
  e.cols = cols;
  e.run_bits = prec.rlc_run_bits;
  e.block_rows = prec.block_rows;
  e.block_cols = prec.block_cols;
  e.k = k;
  e.a = read_ints(a, "first index array");
  e.b = read_ints(b, "second index array");
  e.mask = read_bytes(mask, "bitmap mask");
  e.val = std::span<const T>(val.data(), val.size());
  return e;
}

// ---- conversions among CSR, CSC and COO, and CSR -> dense, on the typed arrays
// (sparse/compressed.hpp).  Our encodings hold their indices in unsigned
// containers; other dtypes take the general path.
namespace fc = sp::compressed;

// Calls f(U{}) with U the unsigned type of an index array; false for another dtype.
template <typename F>
bool with_index_type(const AnyVector& a, F&& f) {
  const auto dt = a.dtype();
  if (dt.code != static_cast<uint8_t>(nb::dlpack::dtype_code::UInt)) return false;
  switch (dt.bits) {
    case 8: return f(std::uint8_t{});
    case 16: return f(std::uint16_t{});
    case 32: return f(std::uint32_t{});
    case 64: return f(std::uint64_t{});
    default: return false;
  }
}

// A new index array of `bits`-bit indices: fill(U*) writes its n values.
template <typename F>
nb::object new_indices(int bits, size_t n, F&& fill) {
  return with_container(bits, [&](auto tag) {
    using U = decltype(tag);
    Uninit<U> out(n);
    fill(out.data());
    return own(std::move(out), {n});
  });
}

// The source's index array `name` (element type I) as the target's `bits`-bit one: the
// name itself where the container is the same (Python then shares the source's array,
// as scipy's tocoo and tocsr do), else a copy.
template <typename I>
nb::object same_indices(const I* src, i64 n, int bits, const char* name) {
  const bool same = with_container(bits, [](auto tag) { return std::is_same_v<decltype(tag), I>; });
  if (same) return nb::str(name);
  return new_indices(bits, static_cast<size_t>(n), [&](auto* dst) { fc::copy_indices(src, n, dst); });
}

// (arrays, nnz, work) of the conversion from -> to, or nullopt where compressed.hpp
// does not apply: another pair or dtype, or a source it refuses (the general path
// then names the fault).  An array given as a name is the source's array of that
// name, unchanged: CSR <-> COO keep the column indices and the values.
template <typename T>
std::optional<nb::tuple> convert_compressed(sp::Format from, sp::Format to, i64 M, i64 N,
                                            const AnyVector& a, const AnyVector& b,
                                            const AnyVector& mask, const Values<T>& val,
                                            const sp::Precision& prec) {
  using F = sp::Format;
  const bool pair = (from == F::Csr && (to == F::Coo || to == F::Csc || to == F::Dense)) ||
                    ((from == F::Coo || from == F::Csc) && to == F::Csr);
  const auto mdt = mask.dtype();
  if (!pair || M < 1 || N < 1 || M > sp::kMaxDim || N > sp::kMaxDim || val.ndim() != 1 ||
      mdt.code != static_cast<uint8_t>(nb::dlpack::dtype_code::UInt) || mdt.bits != 8)
    return std::nullopt;
  const i64 nnz = static_cast<i64>(b.shape(0));
  const T* v = val.data();
  if (static_cast<i64>(val.size()) != nnz || nnz > sp::kMaxElements) return std::nullopt;
  std::vector<i64> rows;  // the CSR row pointers of the matrix (for the work)
  nb::dict d;
  const bool done = with_index_type(a, [&](auto ta) {
    using A = decltype(ta);
    const A* pa = static_cast<const A*>(a.data());
    const i64 na = static_cast<i64>(a.shape(0));
    return with_index_type(b, [&](auto tb) {
      using B = decltype(tb);
      const B* pb = static_cast<const B*>(b.data());
      bool ok;
      std::vector<i64> cols;  // CSC column pointers
      {
        nb::gil_scoped_release release;
        if (from == F::Csr && (to == F::Dense || to == F::Csc))  // checked while converted, below
          ok = fc::read_pointers(pa, na, M, nnz, rows);
        else if (from == F::Csc)
          ok = fc::read_pointers(pa, na, N, nnz, cols);
        else if (from == F::Csr)
          ok = fc::read_pointers(pa, na, M, nnz, rows) && fc::check_fibers(rows, pb, v, N);
        else
          ok = na == nnz && fc::coo_pointers(pa, pb, v, nnz, M, N, rows);
      }
      if (!ok) return false;
      const size_t n = static_cast<size_t>(nnz);
      if (to == F::Dense) {
        const auto [buf, zeroed] = dense_buffer<T>(M, N, nnz);
        nb::capsule owner(buf, [](void* q) noexcept { std::free(q); });
        {
          nb::gil_scoped_release release;
          ok = fc::check_and_scatter(rows, pb, v, N, buf, zeroed);
        }
        if (!ok) return false;
        const size_t shape[2] = {size_t(M), size_t(N)};
        d["values"] = nb::ndarray<nb::numpy, T>(buf, 2, shape, owner).cast();
      } else if (to == F::Coo) {
        const int ir = prec.index_width(M, "rows"), ic = prec.index_width(N, "columns");
        d["row"] = new_indices(ir, n, [&](auto* row) { fc::expand_rows(rows, row); });
        d["col"] = same_indices(pb, nnz, ic, "indices");
        d["values"] = nb::str("values");
      } else if (to == F::Csc || from == F::Csc) {  // a transpose
        const bool to_csc = to == F::Csc;
        const std::vector<i64>& src = to_csc ? rows : cols;
        std::vector<i64>& dst = to_csc ? cols : rows;
        const int width = to_csc ? prec.index_width(M, "rows") : prec.index_width(N, "columns");
        Uninit<T> tval(n);
        nb::object indices = new_indices(width, n, [&](auto* tidx) {
          nb::gil_scoped_release release;
          ok = fc::check_and_transpose(src, pb, v, to_csc ? N : M, dst, tidx, tval.data());
        });
        if (!ok) return false;
        d["indptr"] = index_array(dst, prec.pointer_bits, "pointer (pointer_bits)", nnz);
        d["indices"] = indices;
        d["values"] = own(std::move(tval), {n});
      } else {  // coo -> csr
        const int ic = prec.index_width(N, "columns");
        d["indptr"] = index_array(rows, prec.pointer_bits, "pointer (pointer_bits)", nnz);
        d["indices"] = same_indices(pb, nnz, ic, "col");
        d["values"] = nb::str("values");
      }
      return true;
    });
  });
  if (!done) return std::nullopt;
  const sp::PatternView pv{M, N, rows.data(), nullptr};  // the work reads only the pointers
  const sp::Stats st = sp::compute_stats(pv, prec.block_rows, prec.block_cols,
                                         sp::stats_needed(from, to));
  return nb::make_tuple(d, nnz, work_dict(sp::path_work(st, from, to, prec)));
}

// ---- BCSR and DIA to and from CSR on the typed arrays (sparse/compressed.hpp), as above.

// Calls f(O{}) with O the signed type of an offset array; false for another dtype.
template <typename F>
bool with_offset_type(const AnyVector& a, F&& f) {
  const auto dt = a.dtype();
  if (dt.code != static_cast<uint8_t>(nb::dlpack::dtype_code::Int)) return false;
  switch (dt.bits) {
    case 8: return f(std::int8_t{});
    case 16: return f(std::int16_t{});
    case 32: return f(std::int32_t{});
    case 64: return f(std::int64_t{});
    default: return false;
  }
}

// CSR column indices (`bits` bits) and values of n entries, written by fill(U*, T*)
// (without the GIL) with room for one more slot in each (see compressed::bcsr_to_csr).
template <typename T, typename F>
std::pair<nb::object, nb::object> new_entries(int bits, i64 n, F&& fill) {
  return with_container(bits, [&](auto tag) {
    using U = decltype(tag);
    Uninit<U> idx(static_cast<size_t>(n) + 1);
    Uninit<T> out(static_cast<size_t>(n) + 1);
    {
      nb::gil_scoped_release release;
      fill(idx.data(), out.data());
    }
    idx.pop_back();
    out.pop_back();
    return std::pair{own(std::move(idx), {size_t(n)}), own(std::move(out), {size_t(n)})};
  });
}

// (arrays, nnz, work) of CSR -> BCSR, BCSR -> CSR or DIA -> CSR, or nullopt as for
// convert_compressed.
template <typename T>
std::optional<nb::tuple> convert_blocked(sp::Format from, sp::Format to, i64 M, i64 N,
                                         const AnyVector& a, const AnyVector& b,
                                         const Values<T>& val, const sp::Precision& prec) {
  using F = sp::Format;
  const bool pair = (from == F::Csr && to == F::Bcsr) ||
                    ((from == F::Bcsr || from == F::Dia) && to == F::Csr);
  if (!pair || M < 1 || N < 1 || M > sp::kMaxDim || N > sp::kMaxDim || val.ndim() != 1)
    return std::nullopt;
  const i64 br = prec.block_rows, bc = prec.block_cols, nbc = (N + bc - 1) / bc;
  const i64 nv = static_cast<i64>(val.size()), na = static_cast<i64>(a.shape(0));
  const T* v = val.data();
  std::vector<i64> rows;  // the CSR row pointers of the matrix
  i64 nnz = -1, counted = 0;  // counted: the blocks (BCSR) or diagonals (DIA)
  nb::dict d;
  const auto csr_out = [&](auto&& fill) {  // d = the CSR arrays of nnz entries
    auto [indices, values] = new_entries<T>(prec.index_width(N, "columns"), nnz, fill);
    d["indptr"] = index_array(rows, prec.pointer_bits, "pointer (pointer_bits)", nnz);
    d["indices"] = indices;
    d["values"] = values;
  };
  bool done = false;
  if (from == F::Csr) {
    nnz = static_cast<i64>(b.shape(0));
    if (nv != nnz || nnz > sp::kMaxElements) return std::nullopt;
    done = with_index_type(a, [&](auto ta) {
      using A = decltype(ta);
      return with_index_type(b, [&](auto tb) {
        using B = decltype(tb);
        const B* pb = static_cast<const B*>(b.data());
        std::vector<i64> bptr, bcol;
        Uninit<T> bval;  // zeroed by bcsr_fill
        {
          nb::gil_scoped_release release;
          if (!fc::read_pointers(static_cast<const A*>(a.data()), na, M, nnz, rows) ||
              !fc::check_fibers(rows, pb, v, N))
            return false;
          fc::bcsr_blocks(rows, pb, N, br, bc, bptr, bcol);
          counted = static_cast<i64>(bcol.size());
          if (counted * br * bc > sp::kMaxElements) return false;  // the general path says so
          bval.resize(counted * br * bc);
          fc::bcsr_fill(rows, pb, v, N, br, bc, bptr, bcol, bval.data());
        }
        bcsr_arrays(d, bptr, bcol, std::move(bval), N, br, bc, prec);
        return true;
      });
    });
  } else if (from == F::Bcsr) {
    const i64 nbr = (M + br - 1) / br;
    counted = static_cast<i64>(b.shape(0));
    if (counted > sp::kMaxElements || nv != counted * br * bc) return std::nullopt;
    done = with_index_type(a, [&](auto ta) {
      using A = decltype(ta);
      return with_index_type(b, [&](auto tb) {
        using B = decltype(tb);
        const B* pb = static_cast<const B*>(b.data());
        std::vector<i64> bptr;
        {
          nb::gil_scoped_release release;
          if (fc::read_pointers(static_cast<const A*>(a.data()), na, nbr, counted, bptr) &&
              fc::check_indices(bptr, pb, nbc))
            nnz = fc::bcsr_nonzeros(bptr, pb, v, M, N, br, bc);
        }
        if (nnz < 0) return false;
        csr_out([&](auto* idx, T* out) { fc::bcsr_to_csr(bptr, pb, v, M, br, bc, rows, idx, out); });
        return true;
      });
    });
  } else {  // DIA
    counted = na;
    if (counted > M + N - 1 || nv != counted * std::min(M, N)) return std::nullopt;
    done = with_offset_type(a, [&](auto to) {
      using O = decltype(to);
      const O* off = static_cast<const O*>(a.data());
      {
        nb::gil_scoped_release release;
        nnz = fc::dia_nonzeros(off, counted, v, M, N, rows);
      }
      if (nnz < 0) return false;
      csr_out([&](auto* idx, T* out) { fc::dia_to_csr(off, counted, v, M, N, rows, idx, out); });
      return true;
    });
  }
  if (!done) return std::nullopt;
  // The work reads the row pointers; the block or diagonal count comes from the arrays.
  sp::Stats st = sp::compute_stats(sp::PatternView{M, N, rows.data(), nullptr}, br, bc,
                                   sp::stats_needed(from, to) & ~(sp::kStatsBlocks | sp::kStatsDiags));
  (from == F::Dia ? st.ndiag : st.nnzb) = counted;
  return nb::make_tuple(d, nnz, work_dict(sp::path_work(st, from, to, prec)));
}

template <typename T>
void bind_typed(nb::module_& m, const char* suffix) {
  const std::string s = suffix;
  m.def(("encode_dense_" + s).c_str(),
        [](nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu> a, int fmt,
           const sp::Precision& prec) {
          const i64 rows = a.shape(0), cols = a.shape(1);
          const sp::Format f = sp::to_format(fmt);
          sp::Encoded<T> e;
          {
            nb::gil_scoped_release release;
            e = sp::encode_dense(a.data(), rows, cols, f, prec);
          }
          return to_python(std::move(e), prec);
        },
        nb::arg("a"), nb::arg("fmt"), nb::arg("precision"));
  m.def(("encode_csr_" + s).c_str(),
        [](i64 rows, i64 cols, const AnyVector& ptr, const AnyVector& idx, const Values<T>& val,
           int fmt, const sp::Precision& prec) {
          const sp::Format f = sp::to_format(fmt);
          std::vector<i64> p = read_ints(ptr, "indptr"), q = read_ints(idx, "indices");
          sp::ValueArray<T> v(val.data(), val.data() + val.size());
          sp::Encoded<T> e;
          {
            nb::gil_scoped_release release;
            e = sp::encode_csr(sp::csr_from_parts(rows, cols, std::move(p), std::move(q), std::move(v)),
                               f, prec);
          }
          return to_python(std::move(e), prec);
        },
        nb::arg("rows"), nb::arg("cols"), nb::arg("indptr"), nb::arg("indices"), nb::arg("values"),
        nb::arg("fmt"), nb::arg("precision"));
  m.def(("decode_" + s).c_str(),
        [](int fmt, i64 rows, i64 cols, const AnyVector& a, const AnyVector& b,
           const AnyVector& mask, const Values<T>& val, i64 k, const sp::Precision& prec) {
          sp::EncodedView<T> e = from_python<T>(fmt, rows, cols, a, b, mask, val, k, prec);
          T* out = calloc_matrix<T>(rows, cols);
          nb::capsule owner(out, [](void* q) noexcept { std::free(q); });
          {
            nb::gil_scoped_release release;
            sp::to_dense_into(e, out);
          }
          const size_t shape[2] = {size_t(rows), size_t(cols)};
          return nb::ndarray<nb::numpy, T>(out, 2, shape, owner).cast();
        },
        nb::arg("fmt"), nb::arg("rows"), nb::arg("cols"), nb::arg("a"), nb::arg("b"),
        nb::arg("mask"), nb::arg("values"), nb::arg("k"), nb::arg("precision"));
  m.def(("to_csr_" + s).c_str(),
        [](int fmt, i64 rows, i64 cols, const AnyVector& a, const AnyVector& b,
           const AnyVector& mask, const Values<T>& val, i64 k, const sp::Precision& prec) {
          sp::EncodedView<T> e = from_python<T>(fmt, rows, cols, a, b, mask, val, k, prec);
          sp::Csr<T> c;
          {
            nb::gil_scoped_release release;
            c = sp::to_csr(e);
          }
          const size_t nnz = c.idx.size();
          return nb::make_tuple(own(std::move(c.ptr), {size_t(rows) + 1}),
                                own(std::move(c.idx), {nnz}), own(std::move(c.val), {nnz}));
        },
        nb::arg("fmt"), nb::arg("rows"), nb::arg("cols"), nb::arg("a"), nb::arg("b"),
        nb::arg("mask"), nb::arg("values"), nb::arg("k"), nb::arg("precision"));
  m.def(("convert_" + s).c_str(),
        [](int fmt, i64 rows, i64 cols, const AnyVector& a, const AnyVector& b,
           const AnyVector& mask, const Values<T>& val, i64 k, const sp::Precision& prec,
           int to) {
          const sp::Format f = sp::to_format(to);
          if (auto fast = convert_compressed<T>(sp::to_format(fmt), f, rows, cols, a, b, mask, val,
                                                prec))
            return *fast;
          if (auto fast = convert_blocked<T>(sp::to_format(fmt), f, rows, cols, a, b, val, prec))
            return *fast;
          sp::EncodedView<T> e = from_python<T>(fmt, rows, cols, a, b, mask, val, k, prec);
          sp::Work w;
          if (f == sp::Format::Dense && e.fmt != sp::Format::Dense) {
            T* buf = calloc_matrix<T>(rows, cols);
            nb::capsule owner(buf, [](void* q) noexcept { std::free(q); });
            i64 nnz;
            {
              nb::gil_scoped_release release;
              nnz = sp::convert_to_dense_into(std::move(e), buf, prec, &w);
            }
            const size_t shape[2] = {size_t(rows), size_t(cols)};
            nb::dict d;
            d["values"] = nb::ndarray<nb::numpy, T>(buf, 2, shape, owner).cast();
            return nb::make_tuple(d, nnz, work_dict(w));
          }
          sp::Encoded<T> out;
          {
            nb::gil_scoped_release release;
            out = sp::convert(std::move(e), f, prec, &w);
          }
          const i64 nnz = out.nnz;
          return nb::make_tuple(to_python(std::move(out), prec), nnz, work_dict(w));
        },
        nb::arg("fmt"), nb::arg("rows"), nb::arg("cols"), nb::arg("a"), nb::arg("b"),
        nb::arg("mask"), nb::arg("values"), nb::arg("k"), nb::arg("precision"), nb::arg("to"));
}

// Structure statistics of one pattern, for storage, features and work.
struct PatternStats {
  sp::Stats stats;
  sp::Precision prec;
};

sp::Stats stats_from_arrays(i64 rows, i64 cols, const AnyVector& ptr, const AnyVector& idx,
                            i64 br, i64 bc) {
  std::vector<i64> p = read_ints(ptr, "indptr"), q = read_ints(idx, "indices");
  nb::gil_scoped_release release;
  sp::validate_pattern(rows, cols, p, q);
  return sp::compute_stats(sp::PatternView{rows, cols, p.data(), q.data()}, br, bc);
}

nb::dict cost_dict(const sp::CostResult& r, double frequency_ghz) {
  nb::dict d;
  d["cycles"] = r.cycles;
  d["compute_cycles"] = r.compute_cycles;
  d["memory_cycles"] = r.memory_cycles;
  d["conversion_cycles"] = r.conversion_cycles;
  d["spill_cycles"] = r.spill_cycles;
  d["bytes"] = r.bytes;
  d["energy_pj"] = r.energy_pj;
  d["macs"] = r.macs;
  d["intersections"] = r.intersections;
  d["merges"] = r.merges;
  d["legal"] = true;
  d["time_s"] = static_cast<double>(r.cycles) / (frequency_ghz * 1e9);
  d["bytes_a"] = r.bytes_a;
  d["bytes_b"] = r.bytes_b;
  d["bytes_c"] = r.bytes_c;
  d["spill_bytes"] = r.spill_bytes;
  d["scan_elements"] = r.scan_elements;
  d["converted_elements"] = r.converted_elements;
  d["converted_nnz"] = r.converted_nnz;
  d["conversion_legs"] = r.conversion_legs;
  d["conversion_seconds"] = r.conversion_seconds;
  d["effective_fmt_a"] = sp::format_name(r.eff_a);
  d["effective_fmt_b"] = sp::format_name(r.eff_b);
  return d;
}

sp::Accelerator make_accelerator(const std::map<std::string, double>& fields,
                                 nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu> sw) {
  sp::Accelerator a;
  for (const auto& [name, value] : fields) {
    const auto f = std::find_if(sp::kAcceleratorFields.begin(), sp::kAcceleratorFields.end(),
                                 [&](const sp::AcceleratorField& x) { return name == x.name; });
    if (f == sp::kAcceleratorFields.end()) {
      std::string allowed;
      for (const auto& x : sp::kAcceleratorFields) allowed += (allowed.empty() ? "" : ", ") + std::string(x.name);
      fail("unknown accelerator field '" + name + "'; allowed: " + allowed);
    }
    a.*(f->member) = value;
  }
  if (sw.shape(0) != sp::kNumSwKinds || sw.shape(1) != 3)
    fail("software conversion constants must be a (" + std::to_string(sp::kNumSwKinds) +
         ", 3) array");
  for (int k = 0; k < sp::kNumSwKinds; ++k)
    for (int c = 0; c < 3; ++c) a.sw[k][c] = sw.data()[k * 3 + c];
  a.validate();
  return a;
}

std::optional<sp::Format> optional_format(std::optional<int> code) {
  if (!code) return std::nullopt;
  return sp::to_format(*code);
}

// The integer figures of cost_grid, in the order of GRID_FIELDS ("legal" is 1 where legal).
constexpr std::pair<const char*, i64 sp::CostResult::*> kGridFields[] = {
    {"cycles", &sp::CostResult::cycles},
    {"compute_cycles", &sp::CostResult::compute_cycles},
    {"memory_cycles", &sp::CostResult::memory_cycles},
    {"conversion_cycles", &sp::CostResult::conversion_cycles},
    {"spill_cycles", &sp::CostResult::spill_cycles},
    {"bytes", &sp::CostResult::bytes},
    {"spill_bytes", &sp::CostResult::spill_bytes},
    {"scan_elements", &sp::CostResult::scan_elements}};
constexpr int kGridInts = 1 + sizeof(kGridFields) / sizeof(kGridFields[0]);

void bind_sparse(nb::module_& m) {
  auto s = m.def_submodule("sparse", "Sparse formats: codecs, exact storage, conversions, cost model");

  nb::list formats, kinds, feats;
  for (int f = 0; f < sp::kNumFormats; ++f) formats.append(sp::format_name(static_cast<sp::Format>(f)));
  for (int k = 0; k < sp::kNumSwKinds; ++k) kinds.append(sp::sw_kind_name(k));
  for (const auto& n : sp::feature_names()) feats.append(n);
  s.attr("FORMATS") = nb::tuple(formats);
  s.attr("SW_KINDS") = nb::tuple(kinds);
  s.attr("FEATURE_NAMES") = nb::tuple(feats);
  s.attr("MAX_DIM") = sp::kMaxDim;
  s.attr("MAX_ELEMENTS") = sp::kMaxElements;

  nb::list accel_fields;
  nb::dict accel_defaults;
  const sp::Accelerator default_accel;
  for (const auto& f : sp::kAcceleratorFields) {
    accel_fields.append(f.name);
    accel_defaults[f.name] = default_accel.*(f.member);
  }
  s.attr("ACCELERATOR_FIELDS") = nb::tuple(accel_fields);
  s.attr("ACCELERATOR_DEFAULTS") = accel_defaults;
  nb::list work_fields, grid_fields;
  for (const auto& [name, member] : kWorkFields) work_fields.append(name);
  grid_fields.append("legal");
  for (const auto& [name, member] : kGridFields) grid_fields.append(name);
  s.attr("WORK_FIELDS") = nb::tuple(work_fields);
  s.attr("GRID_FIELDS") = nb::tuple(grid_fields);
  const sp::Precision default_prec;
  nb::dict prec_defaults;
  prec_defaults["value_bits"] = default_prec.value_bits;
  prec_defaults["index_bits"] = nb::none();  // 0 inside the core
  prec_defaults["pointer_bits"] = default_prec.pointer_bits;
  prec_defaults["rlc_run_bits"] = default_prec.rlc_run_bits;
  prec_defaults["bcsr_block"] = nb::make_tuple(default_prec.block_rows, default_prec.block_cols);
  s.attr("PRECISION_DEFAULTS") = prec_defaults;

  nb::class_<sp::Precision>(s, "Precision")
      .def(nb::new_(&make_precision), nb::arg("value_bits"), nb::arg("index_bits"),
           nb::arg("pointer_bits"), nb::arg("rlc_run_bits"), nb::arg("block_rows"),
           nb::arg("block_cols"), "index_bits None = max(1, ceil(log2 dim)) per rank");

  bind_typed<float>(s, "f32");
  bind_typed<std::int8_t>(s, "i8");

  nb::class_<PatternStats>(s, "Stats")
      .def(nb::new_([](i64 rows, i64 cols, const AnyVector& ptr, const AnyVector& idx,
                       const sp::Precision& prec) {
             return PatternStats{
                 stats_from_arrays(rows, cols, ptr, idx, prec.block_rows, prec.block_cols), prec};
           }),
           nb::arg("rows"), nb::arg("cols"), nb::arg("indptr"), nb::arg("indices"),
           nb::arg("precision"))
      .def("storage",
           [](const PatternStats& p, int fmt) {
             const sp::Storage st = sp::storage_bits(p.stats, sp::to_format(fmt), p.prec);
             return std::make_tuple(st.metadata_bits, st.payload_bits);
           })
      .def("slots", [](const PatternStats& p, int fmt) {
        return sp::format_slots(p.stats, sp::to_format(fmt), p.prec);
      })
      .def("work",
           [](const PatternStats& p, int from, int to) {
             return work_dict(
                 sp::path_work(p.stats, sp::to_format(from), sp::to_format(to), p.prec));
           })
      .def("features",
           [](const PatternStats& p) {
             std::vector<double> f = sp::features(p.stats);
             std::vector<float> out(f.begin(), f.end());
             const size_t n = out.size();
             return own(std::move(out), {n});
           })
      .def_prop_ro("nnz", [](const PatternStats& p) { return p.stats.nnz; })
      .def_prop_ro("nnzb", [](const PatternStats& p) { return p.stats.nnzb; })
      .def_prop_ro("ndiag", [](const PatternStats& p) { return p.stats.ndiag; })
      .def_prop_ro("ell_k", [](const PatternStats& p) { return p.stats.ell_k; })
      .def("fillers", [](const PatternStats& p, int r) {
        if (r < sp::kMinRunBits || r > sp::kMaxRunBits)
          fail("run bits must be in " + std::to_string(sp::kMinRunBits) + ".." +
               std::to_string(sp::kMaxRunBits));
        return p.stats.fillers[r];
      });

  nb::class_<sp::Accelerator>(s, "Accelerator")
      .def(nb::new_(&make_accelerator), nb::arg("fields"), nb::arg("sw"),
           "fields: {name: value} for names in ACCELERATOR_FIELDS (missing ones keep their\n"
           "default); sw: float64 (len(SW_KINDS), 3) software conversion constants.")
      .def_prop_ro("frequency_ghz", [](const sp::Accelerator& a) { return a.frequency_ghz; });

  s.def("legality", [](int fa, int fb, int df, int site, int sa, int sb) {
    if (df < 0 || df > 2 || site < 0 || site > 2) fail("dataflow/site code out of range");
    return sp::legality(sp::to_format(fa), sp::to_format(fb), static_cast<sp::Dataflow>(df),
                        static_cast<sp::Site>(site), sp::to_format(sa), sp::to_format(sb));
  });
  s.def("traversable", [](int f, int order) {
    if (order < 0 || order > 2) fail("order code must be 0 (row), 1 (row-indexed) or 2 (column)");
    return sp::traversable(sp::to_format(f), static_cast<sp::Order>(order));
  });

  nb::class_<sp::Problem>(s, "Problem")
      .def(nb::new_([](i64 ra, i64 ca, const AnyVector& pa, const AnyVector& ia, i64 rb, i64 cb,
                       const AnyVector& pb, const AnyVector& ib, int op, const sp::Precision& prec,
                       const std::optional<std::tuple<i64, i64, AnyVector, AnyVector>>& c) {
             if (op < 0 || op > 2) fail("op code must be 0 (spmv), 1 (spmm) or 2 (spgemm)");
             std::vector<i64> vpa = read_ints(pa, "A indptr"), via = read_ints(ia, "A indices");
             std::vector<i64> vpb = read_ints(pb, "B indptr"), vib = read_ints(ib, "B indices");
             sp::PatternView vc;
             std::vector<i64> vpc, vic;
             if (c) {
               vpc = read_ints(std::get<2>(*c), "C indptr");
               vic = read_ints(std::get<3>(*c), "C indices");
               vc = sp::PatternView{std::get<0>(*c), std::get<1>(*c), vpc.data(), vic.data()};
             }
             nb::gil_scoped_release release;
             sp::validate_pattern(ra, ca, vpa, via);
             sp::validate_pattern(rb, cb, vpb, vib);
             if (c) sp::validate_pattern(vc.rows, vc.cols, vpc, vic);
             return sp::Problem(sp::PatternView{ra, ca, vpa.data(), via.data()},
                                sp::PatternView{rb, cb, vpb.data(), vib.data()},
                                static_cast<sp::Op>(op), prec, c ? &vc : nullptr);
           }),
           nb::arg("rows_a"), nb::arg("cols_a"), nb::arg("indptr_a"), nb::arg("indices_a"),
           nb::arg("rows_b"), nb::arg("cols_b"), nb::arg("indptr_b"), nb::arg("indices_b"),
           nb::arg("op"), nb::arg("precision"), nb::arg("c") = nb::none(),
           "c: (rows, cols, indptr, indices) of the output C as it is written, which\n"
           "cost(fmt_c=...) charges; without it C is the op's own output (docs/sparse.md).")
      .def("cost",
           [](const sp::Problem& p, int fa, int fb, int df, int site, int sa, int sb,
              const sp::Accelerator& acc, std::optional<int> fmt_c) -> nb::object {
             if (df < 0 || df > 2 || site < 0 || site > 2) fail("dataflow/site code out of range");
             const sp::CostResult r =
                 p.cost(sp::to_format(fa), sp::to_format(fb), static_cast<sp::Dataflow>(df),
                        static_cast<sp::Site>(site), sp::to_format(sa), sp::to_format(sb), acc,
                        optional_format(fmt_c));
             if (!r.legal) return nb::str(r.reason.c_str());
             return cost_dict(r, acc.frequency_ghz);
           },
           nb::arg("fmt_a"), nb::arg("fmt_b"), nb::arg("dataflow"), nb::arg("site"),
           nb::arg("stored_a"), nb::arg("stored_b"), nb::arg("accelerator"),
           nb::arg("fmt_c") = nb::none())
      .def("cost_grid",
           [](const sp::Problem& p, const sp::Accelerator& acc, int sa, int sb,
              std::optional<int> fmt_c) {
             const sp::Format fsa = sp::to_format(sa), fsb = sp::to_format(sb);
             const std::optional<sp::Format> fc = optional_format(fmt_c);
             if (fc && !p.has_output()) p.output_bytes(*fc);  // raises: fmt_c needs the output C
             constexpr int n = sp::kNumFormats * sp::kNumFormats * 3 * 3;
             std::vector<i64> ints(size_t(n) * kGridInts, 0);
             std::vector<double> energy(n, 0.0);
             {
               nb::gil_scoped_release release;
               int row = 0;
               for (int fa = 0; fa < sp::kNumFormats; ++fa)
                 for (int fb = 0; fb < sp::kNumFormats; ++fb)
                   for (int df = 0; df < 3; ++df)
                     for (int site = 0; site < 3; ++site, ++row) {
                       i64* o = ints.data() + size_t(row) * kGridInts;
                       sp::CostResult r;
                       try {
                         r = p.cost(static_cast<sp::Format>(fa), static_cast<sp::Format>(fb),
                                    static_cast<sp::Dataflow>(df), static_cast<sp::Site>(site),
                                    fsa, fsb, acc, fc);
                       } catch (const std::invalid_argument&) {
                         r.legal = false;  // a format that cannot hold an operand or C
                       }
                       if (!r.legal) continue;
                       o[0] = 1;
                       for (const auto& [name, member] : kGridFields) *++o = r.*member;
                       energy[row] = r.energy_pj;
                     }
             }
             return nb::make_tuple(
                 own(std::move(ints), {size_t(sp::kNumFormats), size_t(sp::kNumFormats), 3, 3,
                                       size_t(kGridInts)}),
                 own(std::move(energy), {size_t(sp::kNumFormats), size_t(sp::kNumFormats), 3, 3}));
           },
           nb::arg("accelerator"), nb::arg("stored_a"), nb::arg("stored_b"),
           nb::arg("fmt_c") = nb::none())
      .def("storage_bytes", [](const sp::Problem& p, int x, int f) {
        if (x < 0 || x > 1) fail("operand must be 0 (A) or 1 (B)");
        return p.bytes(x, sp::to_format(f));
      })
      .def_prop_ro("macs", &sp::Problem::macs)
      .def_prop_ro("intersections", &sp::Problem::intersections)
      .def_prop_ro("merges_outer", &sp::Problem::merges_outer)
      .def_prop_ro("merges_gustavson", &sp::Problem::merges_gustavson)
      .def_prop_ro("nnz_c", &sp::Problem::nnz_c)
      .def_prop_ro("bytes_c", &sp::Problem::bytes_c);
}

ARCHGYM_BINDER(sparse, bind_sparse)

}  // namespace
