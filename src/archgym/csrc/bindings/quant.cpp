// Python bindings of the quantized-inference and bit-flexible cost core (archgym._sim.quant).
// Records cross by name: layers are dicts of LAYER_FIELDS, geometry() returns a dict of
// GEOMETRY_FIELDS, the cost layers' columns are COST_LAYER_FIELDS and a preset is a dict of
// COST_PRESET_FIELDS; the field tables are in quant.hpp.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "quant/quant.hpp"

namespace nb = nanobind;
namespace q = archgym::quant;
using archgym::bindings::Matrix;
using archgym::bindings::Vector;

namespace {

template <typename T>
using Array = nb::ndarray<nb::numpy, T>;

// A NumPy array of the given shape that takes over a std::vector's buffer.
template <typename T>
Array<T> to_numpy(std::vector<T>&& data, std::initializer_list<size_t> shape) {
  auto* owned = new std::vector<T>(std::move(data));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return Array<T>(owned->data(), shape.size(), shape.begin(), owner);
}

[[noreturn]] void fail(const std::string& m) { throw std::invalid_argument(m); }

template <size_t N>
std::string joined(const std::array<const char*, N>& names) {
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// The index of `name` in `names` (an enum value), or a ValueError naming the choices.
template <size_t N>
int name_index(const std::array<const char*, N>& names, const std::string& name, const std::string& what) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<int>(i);
  fail(what + " must be one of " + joined(names) + ", got '" + name + "'");
}

// The names LAYER_FIELDS lists, in order.
std::vector<const char*> layer_field_names() {
  std::vector<const char*> out{"kind"};
  for (const auto& [name, member] : q::kLayerIntFields) out.push_back(name);
  out.push_back("relu");
  out.push_back("pool");
  return out;
}

// A layer from {field: value}: kind and pool by name, relu a bool, the rest ints
// (a field left out keeps LayerSpec's default).
q::LayerSpec layer_from_dict(const nb::dict& d, size_t index) {
  const std::string at = "layers[" + std::to_string(index) + "]";
  q::LayerSpec s;
  for (const auto& [key, value] : d) {
    const std::string name = nb::cast<std::string>(key);
    if (name == "kind") {
      s.kind = static_cast<q::LayerKind>(name_index(q::kLayerKindNames, nb::cast<std::string>(value), at + ".kind"));
    } else if (name == "pool") {
      s.pool = static_cast<q::Pool>(name_index(q::kPoolNames, nb::cast<std::string>(value), at + ".pool"));
    } else if (name == "relu") {
      s.relu = nb::cast<bool>(value);
    } else {
      const auto f = std::find_if(q::kLayerIntFields.begin(), q::kLayerIntFields.end(),
                                   [&](const auto& x) { return name == x.first; });
      if (f == q::kLayerIntFields.end()) {
        std::string allowed;
        for (const char* n : layer_field_names()) allowed += (allowed.empty() ? "" : ", ") + std::string(n);
        fail(at + " has unknown field '" + name + "'; allowed: " + allowed);
      }
      s.*(f->second) = nb::cast<int>(value);
    }
  }
  return s;
}

q::Model* make_model(std::tuple<int, int, int> input_shape, int full_scale, const std::vector<nb::dict>& layers,
                     const std::vector<Vector<float>>& weights, const std::vector<Vector<float>>& biases,
                     Matrix<double> act_ranges) {
  q::ModelConfig cfg;
  std::tie(cfg.in_channels, cfg.in_h, cfg.in_w) = input_shape;
  cfg.full_scale = full_scale;
  for (size_t i = 0; i < layers.size(); ++i) cfg.layers.push_back(layer_from_dict(layers[i], i));
  for (const auto& w : weights) cfg.weights.emplace_back(w.data(), w.data() + w.shape(0));
  for (const auto& b : biases) cfg.biases.emplace_back(b.data(), b.data() + b.shape(0));
  if (act_ranges.shape(0) != cfg.layers.size() || act_ranges.shape(1) != q::kMaxIntBits)
    throw std::invalid_argument("act_ranges must have shape (num_layers, 8)");
  cfg.act_ranges.assign(act_ranges.data(), act_ranges.data() + act_ranges.shape(0) * act_ranges.shape(1));
  return new q::Model(std::move(cfg));
}

void check_images(const q::Model& m, const Matrix<uint8_t>& images) {
  if (images.shape(1) != static_cast<size_t>(m.input_size()))
    throw std::invalid_argument("images must have shape (n, " + std::to_string(m.input_size()) +
                                "): one row of C*H*W uint8 pixels per image");
}

void check_bits_vector(const q::Model& m, const char* name, const Vector<int64_t>& v) {
  if (v.shape(0) != static_cast<size_t>(m.num_layers()))
    throw std::invalid_argument(std::string(name) + " must have one entry per layer (" +
                                std::to_string(m.num_layers()) + "), got " + std::to_string(v.shape(0)));
}

nb::tuple forward(const q::Model& m, Matrix<uint8_t> images, Vector<int64_t> wbits, Vector<int64_t> abits,
                  int threads, bool trace) {
  check_images(m, images);
  check_bits_vector(m, "wbits", wbits);
  check_bits_vector(m, "abits", abits);
  const size_t n = images.shape(0);
  q::Forward f;
  {
    nb::gil_scoped_release release;
    f = m.forward(images.data(), static_cast<int64_t>(n), wbits.data(), abits.data(), threads, trace);
  }
  const size_t classes = static_cast<size_t>(m.num_classes());
  nb::list layers;
  for (size_t l = 0; l < f.trace.size(); ++l)
    layers.append(to_numpy(std::move(f.trace[l]), {n, static_cast<size_t>(m.geometry()[l].in_size())}));
  return nb::make_tuple(to_numpy(std::move(f.logits), {n, classes}), to_numpy(std::move(f.acc), {n, classes}),
                        f.last_is_int, layers);
}

Array<int64_t> correct(const q::Model& m, Matrix<uint8_t> images, Vector<int64_t> labels, Matrix<int64_t> wbits,
                       Matrix<int64_t> abits, int threads) {
  check_images(m, images);
  const size_t n = images.shape(0), L = static_cast<size_t>(m.num_layers());
  if (labels.shape(0) != n) throw std::invalid_argument("labels must have one entry per image");
  if (wbits.shape(1) != L || abits.shape(1) != L || wbits.shape(0) != abits.shape(0))
    throw std::invalid_argument("wbits and abits must both have shape (m, " + std::to_string(L) + ")");
  const size_t configs = wbits.shape(0);
  std::vector<int64_t> out;
  {
    nb::gil_scoped_release release;
    out = m.correct(images.data(), labels.data(), static_cast<int64_t>(n), wbits.data(), abits.data(),
                    static_cast<int64_t>(configs), threads);
  }
  return to_numpy(std::move(out), {configs});
}

nb::tuple quant_weights(const q::Model& m, int layer, int bits) {
  const q::QuantWeights& w = m.quant_weights(layer, bits);
  const auto& g = m.geometry()[layer];
  const size_t cout = static_cast<size_t>(g.out_c), K = static_cast<size_t>(g.fan_in);
  const size_t kpad = static_cast<size_t>(m.kpad(layer));
  std::vector<int16_t> qv(cout * K);
  for (size_t c = 0; c < cout; ++c)
    for (size_t k = 0; k < K; ++k) qv[c * K + k] = w.q[c * kpad + k];
  std::vector<double> s(w.scale);
  return nb::make_tuple(to_numpy(std::move(qv), {cout, K}), to_numpy(std::move(s), {cout}));
}

// {name: int64 (L,)} for the names of GEOMETRY_FIELDS.
nb::dict geometry(const q::Model& m) {
  nb::dict out;
  const size_t L = static_cast<size_t>(m.num_layers());
  for (const auto& [name, member] : q::kGeometryFields) {
    std::vector<int64_t> column;
    for (const auto& g : m.geometry()) column.push_back(g.*member);
    out[name] = to_numpy(std::move(column), {L});
  }
  return out;
}

std::string cost_layer_columns() {
  std::string out;
  for (const auto& [name, member] : q::kCostLayerFields) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

// The preset from {field: value} for every name of COST_PRESET_FIELDS.
q::CostPreset preset_from_fields(const std::map<std::string, double>& fields) {
  q::CostPreset cp;
  size_t known = 0;
  auto take = [&](const char* name) {
    const auto it = fields.find(name);
    if (it == fields.end()) fail(std::string("preset is missing '") + name + "'");
    ++known;
    return it->second;
  };
  const double dram = take("dram_bits_per_cycle");
  if (!(dram >= 1.0 && dram <= 1048576.0) || dram != static_cast<double>(static_cast<int64_t>(dram)))
    fail("dram_bits_per_cycle must be an integer in 1..2^20");
  cp.dram_bits_per_cycle = static_cast<int64_t>(dram);
  for (const auto& [name, member] : q::kCostPresetRealFields) cp.*member = take(name);
  if (known != fields.size()) {
    std::string allowed = "dram_bits_per_cycle";
    for (const auto& [name, member] : q::kCostPresetRealFields) allowed += ", " + std::string(name);
    fail("preset has unknown fields; allowed: " + allowed);
  }
  return cp;
}

q::CostModel* make_cost(Matrix<int64_t> layers, const std::map<std::string, double>& preset, int design) {
  const size_t cols = q::kCostLayerFields.size();
  if (layers.shape(1) != cols)
    fail("cost layers must have " + std::to_string(cols) + " columns (" + cost_layer_columns() + ")");
  std::vector<q::CostLayer> rows(layers.shape(0));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < cols; ++j) rows[i].*(q::kCostLayerFields[j].second) = layers.data()[i * cols + j];
  const q::CostPreset cp = preset_from_fields(preset);
  if (design != 0 && design != 1) fail("design must be 0 (bit-serial) or 1 (bit-fused)");
  return new q::CostModel(std::move(rows), cp, static_cast<q::Design>(design));
}

nb::tuple cost_evaluate(const q::CostModel& c, Matrix<int64_t> wbits, Matrix<int64_t> abits) {
  const size_t L = static_cast<size_t>(c.num_layers());
  if (wbits.shape(1) != L || abits.shape(1) != L || wbits.shape(0) != abits.shape(0))
    throw std::invalid_argument("wbits and abits must both have shape (m, " + std::to_string(L) + ")");
  const size_t m = wbits.shape(0);
  std::vector<int64_t> cycles(m * L), size(m * L), dram(m * L);
  std::vector<double> energy(m * L);
  {
    nb::gil_scoped_release release;
    c.evaluate(wbits.data(), abits.data(), static_cast<int64_t>(m), cycles.data(), energy.data(), size.data(),
               dram.data());
  }
  return nb::make_tuple(to_numpy(std::move(cycles), {m, L}), to_numpy(std::move(energy), {m, L}),
                        to_numpy(std::move(size), {m, L}), to_numpy(std::move(dram), {m, L}));
}

nb::dict cost_layer(const q::CostModel& c, int l, int64_t w, int64_t a, int64_t a_out) {
  const q::LayerCost r = c.layer(l, w, a, a_out);
  nb::dict d;
  d["compute_cycles"] = r.compute_cycles;
  d["memory_cycles"] = r.memory_cycles;
  d["cycles"] = r.cycles;
  d["dram_bits"] = r.dram_bits;
  d["size_bits"] = r.size_bits;
  d["energy_pj"] = r.energy_pj;
  d["mac_pj"] = r.mac_pj;
  d["buffer_pj"] = r.buffer_pj;
  d["dram_pj"] = r.dram_pj;
  return d;
}

void bind_quant(nb::module_& m) {
  auto sub = m.def_submodule("quant", "Integer inference with per-layer bits, bit-flexible accelerator cost");

  nb::class_<q::Model>(sub, "Model")
      .def(nb::new_(&make_model), nb::arg("input_shape"), nb::arg("full_scale"), nb::arg("layers"),
           nb::arg("weights"), nb::arg("biases"), nb::arg("act_ranges"),
           "input_shape (C, H, W); full_scale: the pixel value meaning 1.0; layers: dicts of\n"
           "LAYER_FIELDS (kind in LAYER_KINDS, pool in POOLS, relu a bool, the rest ints; a field\n"
           "left out keeps its default); weights, biases: float32 vectors (torch layouts, flattened);\n"
           "act_ranges: float64 (L, 8), the clip range of layer l's input at 1..8 bits.")
      .def_prop_ro("num_layers", &q::Model::num_layers)
      .def_prop_ro("num_classes", &q::Model::num_classes)
      .def_prop_ro("input_size", &q::Model::input_size)
      .def("geometry", &geometry, "{name: int64 (L,)} for every name of GEOMETRY_FIELDS")
      .def("forward", &forward, nb::arg("images"), nb::arg("wbits"), nb::arg("abits"), nb::arg("threads") = 0,
           nb::arg("trace") = false,
           "Returns (logits float64 (n, classes), acc int64 (n, classes), last_is_int, trace): acc holds\n"
           "the last layer's integer accumulators plus bias (zeros if it ran in float); trace lists\n"
           "every layer's input as float64 (n, in_size) when trace=True (integers for quantized inputs).")
      .def("correct", &correct, nb::arg("images"), nb::arg("labels"), nb::arg("wbits"), nb::arg("abits"),
           nb::arg("threads") = 0, "Correct predictions (int64 (m,)) of m configurations (rows of wbits/abits).")
      .def("quant_weights", &quant_weights, nb::arg("layer"), nb::arg("bits"),
           "(q int16 (out, fan_in), scale float64 (out,)) of a layer at 1..8 bits.");

  nb::class_<q::CostModel>(sub, "CostModel")
      .def(nb::new_(&make_cost), nb::arg("layers"), nb::arg("preset"), nb::arg("design"))
      .def_prop_ro("num_layers", &q::CostModel::num_layers)
      .def("evaluate", &cost_evaluate, nb::arg("wbits"), nb::arg("abits"),
           "(cycles int64, energy_pj float64, size_bits int64, dram_bits int64), each (m, L).")
      .def("layer", &cost_layer, nb::arg("layer"), nb::arg("w"), nb::arg("a"), nb::arg("a_out"));

  sub.def("fused_bits", &q::fused_bits, nb::arg("bits"), "Bits a bit-fused design rounds up to (2, 4, 8, 16, 32).");
  sub.def(
      "check_bits",
      [](const std::string& name, Vector<int64_t> bits) { q::check_bits(name.c_str(), bits.data(), bits.shape(0)); },
      nb::arg("name"), nb::arg("bits"), "ValueError naming the first entry of bits not in 1..8 or 32.");
  sub.attr("FLOAT_BITS") = q::kFloatBits;
  sub.attr("MAX_INT_BITS") = q::kMaxIntBits;
  sub.attr("MAX_DIM") = q::kMaxDim;

  nb::list layer_fields, geometry_fields, cost_fields, preset_fields, kinds, pools;
  for (const char* name : layer_field_names()) layer_fields.append(name);
  for (const auto& [name, member] : q::kGeometryFields) geometry_fields.append(name);
  for (const auto& [name, member] : q::kCostLayerFields) cost_fields.append(name);
  preset_fields.append("dram_bits_per_cycle");
  for (const auto& [name, member] : q::kCostPresetRealFields) preset_fields.append(name);
  for (const char* name : q::kLayerKindNames) kinds.append(name);
  for (const char* name : q::kPoolNames) pools.append(name);
  sub.attr("LAYER_FIELDS") = nb::tuple(layer_fields);
  sub.attr("LAYER_KINDS") = nb::tuple(kinds);
  sub.attr("POOLS") = nb::tuple(pools);
  sub.attr("GEOMETRY_FIELDS") = nb::tuple(geometry_fields);
  sub.attr("COST_LAYER_FIELDS") = nb::tuple(cost_fields);
  sub.attr("COST_PRESET_FIELDS") = nb::tuple(preset_fields);
}

ARCHGYM_BINDER(quant, bind_quant)

}  // namespace
