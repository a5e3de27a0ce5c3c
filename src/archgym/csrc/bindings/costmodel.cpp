// Python bindings of the cost model core (archgym._sim.costmodel).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bindings/common.hpp"
#include "costmodel/maestro.hpp"

namespace nb = nanobind;
namespace cm = archgym::costmodel;
using archgym::bindings::Matrix;
using archgym::bindings::Vector;
using archgym::bindings::owned_matrix;

namespace {

using ExprTuple = std::tuple<int, int64_t>;
using DirectiveTuple = std::tuple<bool, int, ExprTuple, ExprTuple>;

cm::Expr to_expr(const ExprTuple& t) {
  return cm::Expr{static_cast<cm::Expr::Kind>(std::get<0>(t)), std::get<1>(t)};
}

cm::DataflowSpec make_dataflow(const std::vector<std::vector<DirectiveTuple>>& levels,
                               const std::vector<ExprTuple>& clusters, int num_params) {
  cm::DataflowSpec spec;
  for (const auto& level : levels) {
    auto& out = spec.levels.emplace_back();
    for (const auto& [spatial, var, size, offset] : level)
      out.push_back(cm::DirectiveSpec{spatial, var, to_expr(size), to_expr(offset)});
  }
  for (const auto& c : clusters) spec.clusters.push_back(to_expr(c));
  spec.num_params = num_params;
  spec.validate();
  return spec;
}

constexpr int kLayerCols = 8;     // type, K, C, R, S, Y, X, N
constexpr int kHardwareCols = 6;
constexpr size_t kRowsPerThread = 512;  // smaller batches stay on the calling thread  // num_pes, simd_lanes, noc_bw, noc_hops, noc_hop_latency, offchip_bw

std::tuple<nb::ndarray<nb::numpy, int64_t, nb::ndim<2>>, nb::ndarray<nb::numpy, double, nb::ndim<2>>>
evaluate_batch(const std::vector<const cm::DataflowSpec*>& dataflows, Vector<int32_t> df_index,
               Matrix<int64_t> layers, Matrix<int64_t> hardware, Matrix<int64_t> params,
               int preset, bool compat, int threads) {
  const size_t n = layers.shape(0);
  if (layers.shape(1) != kLayerCols)
    throw std::invalid_argument("layers must have 8 columns (type, K, C, R, S, Y, X, N)");
  if (hardware.shape(1) != kHardwareCols)
    throw std::invalid_argument(
        "hardware must have 6 columns (num_pes, simd_lanes, noc_bw, noc_hops, "
        "noc_hop_latency, offchip_bw)");
  if (df_index.shape(0) != n || hardware.shape(0) != n || params.shape(0) != n)
    throw std::invalid_argument("df_index, layers, hardware and params need the same number of rows");
  if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: one per core)");
  if (preset != 0 && preset != 1)
    throw std::invalid_argument("preset must be 0 (maestro2020) or 1 (maestro2021)");
  for (const auto* df : dataflows) {
    if (df == nullptr) throw std::invalid_argument("dataflows must not contain None");
    if (static_cast<size_t>(df->num_params) > params.shape(1))
      throw std::invalid_argument("params has fewer columns than a dataflow has constants");
  }

  auto ints = std::make_unique<int64_t[]>(n * cm::kNumIntFields);
  auto floats = std::make_unique<double[]>(n * cm::kNumFloatFields);
  const cm::Options opt{static_cast<cm::Preset>(preset), compat};
  const int32_t* dfi = df_index.data();
  const int64_t* lay = layers.data();
  const int64_t* hw = hardware.data();
  const int64_t* par = params.data();
  const size_t pcols = params.shape(1);
  // Rows first, first + stride, ...; returns the first failing row (or n) and its message.
  auto run_rows = [&](size_t first, size_t stride, std::string& message) -> size_t {
    for (size_t i = first; i < n; i += stride) {
      try {
        if (dfi[i] < 0 || static_cast<size_t>(dfi[i]) >= dataflows.size())
          throw std::invalid_argument("df_index out of range");
        const int64_t* row = lay + i * kLayerCols;
        if (row[0] != 0 && row[0] != 1)
          throw std::invalid_argument("layer type must be 0 (CONV) or 1 (DSCONV)");
        cm::Layer layer;
        layer.type = static_cast<cm::LayerType>(row[0]);
        for (int d = 0; d < cm::kNumDims; ++d) layer.dims[d] = row[1 + d];
        const int64_t* h = hw + i * kHardwareCols;
        const cm::Hardware hwc{h[0], h[1], h[2], h[3], h[4], h[5]};
        const cm::Result r = cm::evaluate(*dataflows[dfi[i]], layer, hwc, par + i * pcols, opt);
        std::copy(r.ints.begin(), r.ints.end(), ints.get() + i * cm::kNumIntFields);
        std::copy(r.floats.begin(), r.floats.end(), floats.get() + i * cm::kNumFloatFields);
      } catch (const std::exception& e) {
        message = e.what();
        return i;
      }
    }
    return n;
  };
  // Rows are independent: large batches are shared over threads, row i going
  // to thread i mod workers (the results do not depend on the split).  The
  // error reported is that of the first bad row.
  const size_t workers = std::max<size_t>(
      1, std::min<size_t>(threads > 0 ? threads : std::thread::hardware_concurrency(),
                          n / kRowsPerThread));
  std::vector<std::string> messages(workers);
  std::vector<size_t> failed(workers, n);
  {
    nb::gil_scoped_release release;
    std::vector<std::thread> pool;
    for (size_t w = 1; w < workers; ++w)
      pool.emplace_back([&, w] { failed[w] = run_rows(w, workers, messages[w]); });
    failed[0] = run_rows(0, workers, messages[0]);  // the calling thread works too
    for (auto& t : pool) t.join();
  }
  const size_t first = std::min_element(failed.begin(), failed.end()) - failed.begin();
  if (failed[first] < n) {
    const std::string& m = messages[first];
    throw std::invalid_argument(n > 1 ? "row " + std::to_string(failed[first]) + ": " + m : m);
  }
  return {owned_matrix(std::move(ints), n, cm::kNumIntFields),
          owned_matrix(std::move(floats), n, cm::kNumFloatFields)};
}

void bind_costmodel(nb::module_& m) {
  auto costmodel = m.def_submodule("costmodel", "MAESTRO-style data-centric cost model");

  nb::class_<cm::DataflowSpec>(costmodel, "DataflowSpec")
      .def(nb::new_(&make_dataflow), nb::arg("levels"), nb::arg("clusters"),
           nb::arg("num_params"),
           "levels: list (top first) of lists of (spatial, var, (kind, value), (kind, value));\n"
           "clusters: one (kind, value) per level boundary.  kind 0 = literal, 1 = Sz(dim),\n"
           "2 = constant index.")
      .def_prop_ro("num_levels", [](const cm::DataflowSpec& s) { return s.levels.size(); })
      .def_prop_ro("num_params", [](const cm::DataflowSpec& s) { return s.num_params; });

  costmodel.def("evaluate_batch", &evaluate_batch, nb::arg("dataflows"), nb::arg("df_index"),
                nb::arg("layers"), nb::arg("hardware"), nb::arg("params"), nb::arg("preset"),
                nb::arg("compat"), nb::arg("threads") = 0,
                "Evaluate N rows (over `threads` threads, 0 = one per core); returns\n"
                "(int64[N, len(INT_FIELDS)], float64[N, len(FLOAT_FIELDS)]).");

  nb::list int_fields, float_fields, vars;
  for (int f = 0; f < cm::kNumIntFields; ++f) int_fields.append(cm::int_field_name(f));
  for (int f = 0; f < cm::kNumFloatFields; ++f) float_fields.append(cm::float_field_name(f));
  for (int v = 0; v < cm::kNumVars; ++v) vars.append(cm::var_name(v));
  costmodel.attr("INT_FIELDS") = nb::tuple(int_fields);
  costmodel.attr("FLOAT_FIELDS") = nb::tuple(float_fields);
  costmodel.attr("VARS") = nb::tuple(vars);
}

ARCHGYM_BINDER(costmodel, bind_costmodel)

}  // namespace
