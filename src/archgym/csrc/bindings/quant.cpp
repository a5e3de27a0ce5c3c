// Python bindings of the quantized-inference and bit-flexible cost core (archgym._sim.quant).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
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

using LayerTuple = std::tuple<int, int, int, int, int, int, bool, int, int>;

q::Model* make_model(std::tuple<int, int, int> input_shape, int full_scale, const std::vector<LayerTuple>& layers,
                     const std::vector<Vector<float>>& weights, const std::vector<Vector<float>>& biases,
                     Matrix<double> act_ranges) {
  q::ModelConfig cfg;
  std::tie(cfg.in_channels, cfg.in_h, cfg.in_w) = input_shape;
  cfg.full_scale = full_scale;
  for (const auto& [kind, cin, cout, kernel, stride, padding, relu, pool, pool_size] : layers) {
    if (kind < 0 || kind > 2) throw std::invalid_argument("layer kind must be 0 (conv), 1 (dwconv) or 2 (linear)");
    if (pool < 0 || pool > 2) throw std::invalid_argument("pool must be 0 (none), 1 (max) or 2 (avg)");
    cfg.layers.push_back(q::LayerSpec{static_cast<q::LayerKind>(kind), cin, cout, kernel, stride, padding, relu,
                                      static_cast<q::Pool>(pool), pool_size});
  }
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

Array<int64_t> geometry(const q::Model& m) {
  std::vector<int64_t> out;
  for (const auto& g : m.geometry())
    for (int64_t v : {g.in_c, g.in_h, g.in_w, g.out_c, g.conv_h, g.conv_w, g.out_h, g.out_w, g.fan_in})
      out.push_back(v);
  return to_numpy(std::move(out), {static_cast<size_t>(m.num_layers()), 9});
}

q::CostModel* make_cost(Matrix<int64_t> layers, Vector<double> preset, int design) {
  if (layers.shape(1) != q::kCostLayerCols)
    throw std::invalid_argument("cost layers must have 11 columns (macs, weights, in_elems, out_elems, cycles8, "
                                "l1_in, l1_w, l1_out, l2_in, l2_w, l2_out)");
  if (preset.shape(0) != q::kCostPresetCols)
    throw std::invalid_argument("preset must have 7 entries (dram_bits_per_cycle, freq_hz, e_bitop_pj, "
                                "e_brick_pj, e_l1_pj_per_bit, e_l2_pj_per_bit, e_dram_pj_per_bit)");
  std::vector<q::CostLayer> rows;
  for (size_t i = 0; i < layers.shape(0); ++i) {
    const int64_t* r = layers.data() + i * q::kCostLayerCols;
    rows.push_back(q::CostLayer{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]});
  }
  const double* p = preset.data();
  if (!(p[0] >= 1.0 && p[0] <= 1048576.0) || p[0] != static_cast<double>(static_cast<int64_t>(p[0])))
    throw std::invalid_argument("dram_bits_per_cycle must be an integer in 1..2^20");
  const q::CostPreset cp{static_cast<int64_t>(p[0]), p[1], p[2], p[3], p[4], p[5], p[6]};
  if (design != 0 && design != 1) throw std::invalid_argument("design must be 0 (bit-serial) or 1 (bit-fused)");
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
      .def(nb::new_([](std::tuple<int, int, int> input_shape, int full_scale, const std::vector<LayerTuple>& layers,
                       const std::vector<Vector<float>>& weights, const std::vector<Vector<float>>& biases,
                       Matrix<double> act_ranges) {
             return make_model(input_shape, full_scale, layers, weights, biases, act_ranges);
           }),
           nb::arg("input_shape"), nb::arg("full_scale"), nb::arg("layers"), nb::arg("weights"), nb::arg("biases"),
           nb::arg("act_ranges"),
           "input_shape (C, H, W); full_scale: the pixel value meaning 1.0; layers: tuples (kind 0 conv /\n"
           "1 dwconv / 2 linear, in_channels, out_channels, kernel, stride, padding, relu, pool 0 none /\n"
           "1 max / 2 avg, pool_size); weights, biases: float32 vectors (torch layouts, flattened);\n"
           "act_ranges: float64 (L, 8), the clip range of layer l's input at 1..8 bits.")
      .def_prop_ro("num_layers", &q::Model::num_layers)
      .def_prop_ro("num_classes", &q::Model::num_classes)
      .def_prop_ro("input_size", &q::Model::input_size)
      .def("geometry", &geometry,
           "int64 (L, 9): in_c, in_h, in_w, out_c, conv_h, conv_w, out_h, out_w, fan_in")
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
  sub.attr("FLOAT_BITS") = q::kFloatBits;
  sub.attr("MAX_INT_BITS") = q::kMaxIntBits;
}

ARCHGYM_BINDER(quant, bind_quant)

}  // namespace
