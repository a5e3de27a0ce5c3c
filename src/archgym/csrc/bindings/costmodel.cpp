// Python bindings of the cost model core (archgym._sim.costmodel).
//
// The batch API takes rows of integers.  Their columns, the names of the
// types and presets, the defaults and the accepted ranges are exported from
// here (LAYER_FIELDS, HARDWARE_FIELDS, ...), so that Python builds its arrays by
// name from the one definition in costmodel/maestro.hpp.
//
// MAESTRO's input language and front end (costmodel/mapping_file.hpp,
// costmodel/maestro_cli.hpp) are bound too: archgym.costmodel.Dataflow.parse
// and archgym.costmodel.maestro use the parser, the CSV writer and the command
// line of the `archgym-maestro` executable.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bindings/common.hpp"
#include "costmodel/maestro.hpp"
#include "costmodel/maestro_cli.hpp"
#include "costmodel/mapping_file.hpp"

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

// ------------------------------------------------------------ batch columns
// A layer row: the type (a LayerType), the dimensions K, C, R, S, Y, X, N, G,
// then the strides along Y and X.
constexpr size_t kLayerColumns = 1 + cm::kNumDims + 2;
constexpr size_t kStrideY = 1 + cm::kNumDims, kStrideX = kStrideY + 1;
constexpr size_t kHardwareColumns = cm::kHardwareFields.size();

const char* layer_field_name(size_t j) {
  return j == 0 ? "type" : j == kStrideY ? "stride_y" : j == kStrideX ? "stride_x"
                                                        : cm::var_name(j - 1);
}

template <typename Name>
std::string joined(size_t n, Name name) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + std::string(name(i));
  return out;
}

cm::Preset preset_from_name(const std::string& name) {
  for (int p = 0; p < static_cast<int>(cm::Preset::kNumPresets); ++p)
    if (name == cm::preset_name(p)) return static_cast<cm::Preset>(p);
  const size_t presets = static_cast<size_t>(cm::Preset::kNumPresets);
  throw std::invalid_argument("unknown preset '" + name + "'; allowed: " +
                              joined(presets, [](size_t p) { return cm::preset_name(p); }));
}

cm::Layer layer_from_row(const int64_t* row) {
  const int64_t types = static_cast<int64_t>(cm::LayerType::kNumLayerTypes);
  if (row[0] < 0 || row[0] >= types)
    throw std::invalid_argument("layer type must be one of " + joined(types, [](size_t t) {
                                  return std::to_string(t) + " (" + cm::layer_type_name(t) + ")";
                                }) + ", got " + std::to_string(row[0]));
  cm::Layer layer;
  layer.type = static_cast<cm::LayerType>(row[0]);
  for (int d = 0; d < cm::kNumDims; ++d) layer.dims[d] = row[1 + d];
  layer.stride_y = row[kStrideY];
  layer.stride_x = row[kStrideX];
  return layer;
}

cm::Hardware hardware_from_row(const int64_t* row) {
  cm::Hardware hw;
  for (size_t j = 0; j < kHardwareColumns; ++j) hw.*cm::kHardwareFields[j].member = row[j];
  return hw;
}

// ------------------------------------------------------------ evaluator
using IntMatrix = nb::ndarray<nb::numpy, int64_t, nb::ndim<2>>;
using FloatMatrix = nb::ndarray<nb::numpy, double, nb::ndim<2>>;
constexpr size_t kRowsPerThread = 512;  // smaller batches stay on the calling thread

// Dataflows and options, evaluated over batches of rows; row i uses dataflow
// df_index[i] with layers[i], hardware[i] and constants[i] (the values of that
// dataflow's constants, in its order).
class BatchEvaluator {
 public:
  BatchEvaluator(const std::vector<const cm::DataflowSpec*>& dataflows, const std::string& preset,
                 bool compat)
      : options_{preset_from_name(preset), compat} {
    if (dataflows.empty()) throw std::invalid_argument("dataflows must not be empty");
    for (const auto* df : dataflows) {
      if (df == nullptr) throw std::invalid_argument("dataflows must not contain None");
      dataflows_.push_back(*df);
    }
  }

  std::tuple<IntMatrix, FloatMatrix> evaluate(Vector<int64_t> df_index, Matrix<int64_t> layers,
                                              Matrix<int64_t> hardware, Matrix<int64_t> constants,
                                              int threads) const {
    const size_t n = layers.shape(0);
    if (layers.shape(1) != kLayerColumns)
      throw std::invalid_argument("layers must have " + std::to_string(kLayerColumns) +
                                  " columns (" + joined(kLayerColumns, layer_field_name) + ")");
    if (hardware.shape(1) != kHardwareColumns)
      throw std::invalid_argument(
          "hardware must have " + std::to_string(kHardwareColumns) + " columns (" +
          joined(kHardwareColumns, [](size_t j) { return cm::kHardwareFields[j].name; }) + ")");
    if (df_index.shape(0) != n || hardware.shape(0) != n || constants.shape(0) != n)
      throw std::invalid_argument(
          "df_index, layers, hardware and constants need the same number of rows");
    if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: one per core)");
    for (const auto& df : dataflows_)
      if (static_cast<size_t>(df.num_params) > constants.shape(1))
        throw std::invalid_argument("constants has fewer columns than a dataflow has constants");

    auto ints = std::make_unique<int64_t[]>(n * cm::kNumIntFields);
    auto floats = std::make_unique<double[]>(n * cm::kNumFloatFields);
    const int64_t* dfi = df_index.data();
    const int64_t* lay = layers.data();
    const int64_t* hw = hardware.data();
    const int64_t* par = constants.data();
    const size_t pcols = constants.shape(1);
    // Rows first, first + stride, ...; returns the first failing row (or n) and its message.
    auto run_rows = [&](size_t first, size_t stride, std::string& message) -> size_t {
      for (size_t i = first; i < n; i += stride) {
        try {
          if (dfi[i] < 0 || static_cast<size_t>(dfi[i]) >= dataflows_.size())
            throw std::invalid_argument("df_index out of range");
          const cm::Result r =
              cm::evaluate(dataflows_[dfi[i]], layer_from_row(lay + i * kLayerColumns),
                           hardware_from_row(hw + i * kHardwareColumns), par + i * pcols, options_);
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

 private:
  std::vector<cm::DataflowSpec> dataflows_;  // copies: Python may drop its objects
  cm::Options options_;
};

// ------------------------------------------------------------ mapping files
// An expression as Python writes it: an int, "Sz(D)" or a constant's name.
nb::object expr_object(const cm::Expr& e, const std::vector<std::string>& params) {
  if (e.kind == cm::Expr::DimSize)
    return nb::str(("Sz(" + std::string(cm::var_name(static_cast<int>(e.value))) + ")").c_str());
  if (e.kind == cm::Expr::Param) return nb::str(params.at(e.value).c_str());
  return nb::int_(e.value);
}

// (levels, clusters): levels of ("S" or "T", var, size, offset), top first.
nb::tuple dataflow_object(const cm::ParsedDataflow& df) {
  nb::list levels, clusters;
  for (const auto& level : df.spec.levels) {
    nb::list directives;
    for (const auto& d : level)
      directives.append(nb::make_tuple(d.spatial ? "S" : "T", cm::var_name(d.var),
                                       expr_object(d.size, df.params),
                                       expr_object(d.offset, df.params)));
    levels.append(directives);
  }
  for (const auto& c : df.spec.clusters) clusters.append(expr_object(c, df.params));
  return nb::make_tuple(levels, clusters);
}

std::string_view bytes_view(const nb::bytes& data) { return {data.c_str(), data.size()}; }

// A mapping file's layers: (network, name, line, layer row (LAYER_FIELDS),
// levels, clusters, constants [(name, value)], batch_in_tensors).
nb::list parse_mapping(const nb::bytes& data, const std::string& source) {
  nb::list out;
  for (const cm::MappingLayer& ml : cm::parse_mapping(bytes_view(data), source)) {
    nb::list row;
    row.append(static_cast<int>(ml.layer.type));
    for (int d = 0; d < cm::kNumDims; ++d) row.append(ml.layer.dims[d]);
    row.append(ml.layer.stride_y);
    row.append(ml.layer.stride_x);
    nb::list constants;
    for (const auto& [name, value] : ml.constants) constants.append(nb::make_tuple(name, value));
    const nb::tuple df = dataflow_object(ml.dataflow);
    out.append(nb::make_tuple(ml.network, ml.name, ml.line, row, df[0], df[1], constants,
                              ml.layer.batch_in_tensors));
  }
  return out;
}

nb::object value_object(const cm::CsvValue& v) {
  if (v.kind == cm::CsvValue::Text) return nb::str(v.s.c_str());
  if (v.kind == cm::CsvValue::Int) return nb::int_(v.i);
  return nb::float_(v.f);
}

cm::CsvValue value_from(nb::handle h) {
  cm::CsvValue v;
  if (nb::isinstance<nb::str>(h)) {
    v.kind = cm::CsvValue::Text;
    v.s = nb::cast<std::string>(h);
  } else if (nb::isinstance<nb::int_>(h) && !nb::isinstance<nb::bool_>(h)) {
    v.kind = cm::CsvValue::Int;
    v.i = nb::cast<int64_t>(h);
  } else {
    v.kind = cm::CsvValue::Float;
    v.f = nb::cast<double>(h);
  }
  return v;
}

nb::list row_object(const std::vector<cm::CsvValue>& row) {
  nb::list out;
  for (const auto& v : row) out.append(value_object(v));
  return out;
}

cm::Hardware hardware_from(const std::vector<int64_t>& row) {
  if (row.size() != kHardwareColumns)
    throw std::invalid_argument("hardware needs " + std::to_string(kHardwareColumns) + " values");
  return hardware_from_row(row.data());
}

// One layer's CSV row from an engine result given as its int and float fields.
nb::list csv_row(const std::vector<int64_t>& ints, const std::vector<double>& floats,
                 const std::vector<int64_t>& hardware, const std::string& preset,
                 const std::string& layer, const std::string& network, double prev_l1_energy,
                 bool compat) {
  if (ints.size() != cm::kNumIntFields || floats.size() != cm::kNumFloatFields)
    throw std::invalid_argument("a result has " + std::to_string(cm::kNumIntFields) +
                                " int and " + std::to_string(cm::kNumFloatFields) + " float fields");
  cm::Result r;
  std::copy(ints.begin(), ints.end(), r.ints.begin());
  std::copy(floats.begin(), floats.end(), r.floats.begin());
  return row_object(cm::csv_row(r, hardware_from(hardware), preset_from_name(preset), layer,
                                network, prev_l1_energy, compat));
}

nb::list run_mapping(const nb::bytes& data, const std::string& source,
                     const std::vector<int64_t>& hardware, const std::string& preset,
                     bool compat) {
  const cm::Options options{preset_from_name(preset), compat};
  const auto layers = cm::parse_mapping(bytes_view(data), source);
  nb::list out;
  for (const auto& row : cm::run_mapping(layers, hardware_from(hardware), options, source))
    out.append(row_object(row));
  return out;
}

std::string format_row(const std::vector<std::string>& names, const nb::list& values) {
  std::vector<cm::CsvValue> row;
  for (nb::handle h : values) row.push_back(value_from(h));
  return cm::format_row(names, row);
}

std::tuple<int, std::string, std::string> maestro_main(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int rc = cm::maestro_main(args, out, err);
  return {rc, out.str(), err.str()};
}

// cm::ParseError becomes ParseError (a ValueError) with the attribute `line`
// (None when the error concerns the whole text).
void translate_parse_error(const std::exception_ptr& p, void* type) {
  try {
    std::rethrow_exception(p);
  } catch (const cm::ParseError& e) {
    nb::object error = nb::borrow(static_cast<PyObject*>(type))(e.what());
    error.attr("line") = e.line > 0 ? nb::object(nb::int_(e.line)) : nb::none();
    PyErr_SetObject(static_cast<PyObject*>(type), error.ptr());
  }
}

// ------------------------------------------------------------ module
template <typename Name>
nb::tuple names(size_t n, Name name) {
  nb::list out;
  for (size_t i = 0; i < n; ++i) out.append(name(i));
  return nb::tuple(out);
}

nb::tuple range(cm::Range r) { return nb::make_tuple(r.lo, r.hi); }

void bind_costmodel(nb::module_& m) {
  auto costmodel = m.def_submodule("costmodel", "MAESTRO-style data-centric cost model");

  nb::class_<cm::DataflowSpec>(costmodel, "DataflowSpec")
      .def(nb::new_(&make_dataflow), nb::arg("levels"), nb::arg("clusters"),
           nb::arg("num_params"),
           "levels: list (top first) of lists of (spatial, var, (kind, value), (kind, value));\n"
           "clusters: one (kind, value) per level boundary.  kind indexes EXPR_KINDS; value\n"
           "is the literal, the index in DIMS of Sz(dim), or the constant's index.")
      .def_prop_ro("num_levels", [](const cm::DataflowSpec& s) { return s.levels.size(); })
      .def_prop_ro("num_params", [](const cm::DataflowSpec& s) { return s.num_params; });

  nb::class_<BatchEvaluator>(costmodel, "BatchEvaluator")
      .def(nb::init<const std::vector<const cm::DataflowSpec*>&, const std::string&, bool>(),
           nb::arg("dataflows"), nb::arg("preset"), nb::arg("compat"),
           "dataflows: DataflowSpec list; preset: a name in PRESETS; compat: MAESTRO's quirks.")
      .def("evaluate", &BatchEvaluator::evaluate, nb::arg("df_index"), nb::arg("layers"),
           nb::arg("hardware"), nb::arg("constants"), nb::arg("threads") = 0,
           "Evaluate N rows (over `threads` threads, 0 = one per core): df_index int64[N],\n"
           "layers int64[N, len(LAYER_FIELDS)], hardware int64[N, len(HARDWARE_FIELDS)],\n"
           "constants int64[N, >= each dataflow's num_params].  Returns\n"
           "(int64[N, len(INT_FIELDS)], float64[N, len(FLOAT_FIELDS)]).");

  const cm::Layer layer;
  const cm::Hardware hw;
  nb::dict layer_defaults, hardware_defaults, maestro_defaults, limits, gemm_dims;
  layer_defaults["type"] = static_cast<int>(layer.type);
  layer_defaults[cm::var_name(cm::N)] = layer.dims[cm::N];
  layer_defaults[cm::var_name(cm::G)] = layer.dims[cm::G];
  layer_defaults[layer_field_name(kStrideY)] = layer.stride_y;
  layer_defaults[layer_field_name(kStrideX)] = layer.stride_x;
  for (int d = 0; d < cm::kNumDims; ++d) limits[cm::var_name(d)] = range(cm::dim_range(d));
  limits[layer_field_name(kStrideY)] = limits[layer_field_name(kStrideX)] = range(cm::kStrideRange);
  for (const auto& f : cm::kHardwareFields) {
    hardware_defaults[f.name] = hw.*f.member;
    maestro_defaults[f.name] = cm::kMaestroFlagDefaults.*f.member;
    limits[f.name] = range(f.range);
  }
  limits["constant"] = range(cm::kDimRange);
  for (const auto& g : cm::kGemmDims) gemm_dims[g.name] = cm::var_name(g.var);

  costmodel.attr("INT_FIELDS") = names(cm::kNumIntFields, cm::int_field_name);
  costmodel.attr("FLOAT_FIELDS") = names(cm::kNumFloatFields, cm::float_field_name);
  costmodel.attr("VARS") = names(cm::kNumVars, cm::var_name);
  costmodel.attr("DIMS") = names(cm::kNumDims, cm::var_name);
  costmodel.attr("LAYER_FIELDS") = names(kLayerColumns, layer_field_name);
  costmodel.attr("LAYER_TYPES") =
      names(static_cast<size_t>(cm::LayerType::kNumLayerTypes), cm::layer_type_name);
  costmodel.attr("LAYER_DEFAULTS") = layer_defaults;
  costmodel.attr("HARDWARE_FIELDS") =
      names(kHardwareColumns, [](size_t j) { return cm::kHardwareFields[j].name; });
  costmodel.attr("HARDWARE_DEFAULTS") = hardware_defaults;
  costmodel.attr("MAESTRO_DEFAULTS") = maestro_defaults;
  costmodel.attr("GEMM_DIMS") = gemm_dims;
  nb::dict tensors;
  for (int t = 0; t < static_cast<int>(cm::LayerType::kNumLayerTypes); ++t) {
    nb::list three;
    for (const auto& vars : cm::tensor_vars(static_cast<cm::LayerType>(t)))
      three.append(names(vars.size(), [&](size_t i) { return cm::var_name(vars[i]); }));
    tensors[cm::layer_type_name(t)] = nb::tuple(three);
  }
  costmodel.attr("TENSORS") = tensors;
  costmodel.attr("LIMITS") = limits;
  costmodel.attr("PRESETS") = names(static_cast<size_t>(cm::Preset::kNumPresets), cm::preset_name);
  costmodel.attr("EXPR_KINDS") = names(cm::Expr::kNumKinds, cm::expr_kind_name);

  // MAESTRO's language and front end.
  PyObject* parse_error = PyErr_NewExceptionWithDoc(
      "archgym._sim.costmodel.ParseError",
      "A mapping or dataflow text that cannot be parsed; says the line and what was expected.",
      PyExc_ValueError, nullptr);
  costmodel.attr("ParseError") = nb::steal(parse_error);
  nb::register_exception_translator(translate_parse_error, parse_error);
  costmodel.def(
      "tokenize",
      [](const std::string& text) {
        std::vector<std::pair<std::string, int>> out;
        for (const auto& t : cm::tokenize(text)) out.emplace_back(t.text, t.line);
        return out;
      },
      nb::arg("text"), "MAESTRO text as (token, line) pairs.");
  costmodel.def(
      "parse_dataflow",
      [](const std::string& text, const std::string& source,
         const std::vector<std::pair<std::string, std::string>>& renames) {
        return dataflow_object(cm::parse_dataflow(text, source, renames));
      },
      nb::arg("text"), nb::arg("source"), nb::arg("renames"),
      "`Dataflow { ... }` or bare directives -> (levels, clusters).");
  costmodel.def("parse_mapping", &parse_mapping, nb::arg("data"), nb::arg("source"),
                "A mapping file's bytes -> one tuple per layer.");
  costmodel.def("run_mapping", &run_mapping, nb::arg("data"), nb::arg("source"),
                nb::arg("hardware"), nb::arg("preset"), nb::arg("compat"),
                "A mapping file's bytes, evaluated: one CSV row (a list of values) per layer.");
  costmodel.def("csv_row", &csv_row, nb::arg("ints"), nb::arg("floats"), nb::arg("hardware"),
                nb::arg("preset"), nb::arg("layer"), nb::arg("network"),
                nb::arg("prev_l1_energy"), nb::arg("compat"));
  costmodel.def("csv_header",
                [](const std::string& preset) { return cm::csv_header(preset_from_name(preset)); });
  costmodel.def("format_value", [](nb::handle v) { return cm::format_value(value_from(v)); });
  costmodel.def("format_row", &format_row, nb::arg("names"), nb::arg("values"));
  costmodel.def("csv_name", [](const std::string& path) { return cm::csv_name(path); });
  costmodel.def("c_div", &cm::c_div);
  costmodel.def("maestro_main", &maestro_main, nb::arg("args"),
                "archgym-maestro's command line: (exit code, stdout text, stderr text).");
  nb::dict csv_columns;
  std::vector<std::string> int_columns;
  for (int p = 0; p < static_cast<int>(cm::Preset::kNumPresets); ++p) {
    const auto& columns = cm::csv_columns(static_cast<cm::Preset>(p));
    csv_columns[cm::preset_name(p)] =
        names(columns.size(), [&](size_t i) { return columns[i].name.c_str(); });
    for (const auto& c : columns)
      if (c.integer && std::find(int_columns.begin(), int_columns.end(), c.name) == int_columns.end())
        int_columns.push_back(c.name);
  }
  costmodel.attr("CSV_COLUMNS") = csv_columns;
  costmodel.attr("CSV_INT_COLUMNS") =
      names(int_columns.size(), [&](size_t i) { return int_columns[i].c_str(); });
}

ARCHGYM_BINDER(costmodel, bind_costmodel)

}  // namespace
