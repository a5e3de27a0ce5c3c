// Analytic cost of a layer on a bit-flexible accelerator (docs/quant.md, "Cost model").
//
//   compute cycles  = ceil(cycles8 * f(w, a) / 64)
//                     bit-serial (BISMO-like): f = w * a
//                     bit-fused (BitFusion-like): f = r(w) * r(a), r = round up to 2, 4, 8, 16, 32
//   DRAM bits       = weights * w + in_elems * a + out_elems * a_out
//   memory cycles   = ceil(DRAM bits / dram_bits_per_cycle)
//   cycles          = max(compute, memory)                          (roofline)
//   energy (pJ)     = MACs * e_mac(w, a)
//                   + (l1_in * a + l1_w * w + l1_out * 32) * e_l1  (partial sums are 32-bit)
//                   + (l2_in * a + l2_w * w + l2_out * a_out) * e_l2
//                   + DRAM bits * e_dram
//                     e_mac: bit-serial w * a * e_bitop; bit-fused (r(w)/2) (r(a)/2) e_brick
//   size (bits)     = weights * w
#include <algorithm>
#include <stdexcept>
#include <string>

#include "quant/quant.hpp"

namespace archgym::quant {

namespace {
[[noreturn]] void fail(const std::string& m) { throw std::invalid_argument(m); }
constexpr int64_t kMaxCount = int64_t{1} << 40;  // any per-layer count
}  // namespace

int fused_bits(int64_t b) {
  int r = 2;
  while (r < b) r *= 2;
  return r;
}

CostModel::CostModel(std::vector<CostLayer> layers, CostPreset preset, Design design)
    : layers_(std::move(layers)), preset_(preset), design_(design) {
  if (layers_.empty() || layers_.size() > 256) fail("a cost model needs 1..256 layers");
  for (size_t l = 0; l < layers_.size(); ++l) {
    const CostLayer& c = layers_[l];
    for (int64_t v : {c.macs, c.weights, c.in_elems, c.out_elems, c.cycles8, c.l1_in, c.l1_w, c.l1_out, c.l2_in,
                      c.l2_w, c.l2_out})
      if (v < 0 || v > kMaxCount)
        fail("cost layer " + std::to_string(l) + ": every count must be in [0, 2^40]");
  }
  if (preset_.dram_bits_per_cycle < 1 || preset_.dram_bits_per_cycle > (int64_t{1} << 20))
    fail("dram_bits_per_cycle must be in 1..2^20");
  if (!(preset_.freq_hz >= 1.0 && preset_.freq_hz <= 1e12)) fail("freq_hz must be in [1, 1e12]");
  for (double e : {preset_.e_bitop_pj, preset_.e_brick_pj, preset_.e_l1_pj_per_bit, preset_.e_l2_pj_per_bit,
                   preset_.e_dram_pj_per_bit})
    if (!(e >= 0.0 && e <= 1e6)) fail("energy constants must be in [0, 1e6] pJ");
  if (design_ != Design::BitSerial && design_ != Design::BitFused)
    fail("design must be 0 (bit-serial) or 1 (bit-fused)");
}

LayerCost CostModel::layer(int l, int64_t w, int64_t a, int64_t a_out) const {
  if (l < 0 || l >= num_layers()) fail("layer must be in 0.." + std::to_string(num_layers() - 1));
  if (!valid_bits(w) || !valid_bits(a) || !valid_bits(a_out)) fail("bits must be in 1..8 or 32");
  const CostLayer& c = layers_[l];
  const bool fused = design_ == Design::BitFused;
  const int64_t fw = fused ? fused_bits(w) : w, fa = fused ? fused_bits(a) : a;
  LayerCost r{};
  // cycles8 <= 2^40 and fw * fa <= 1024: no overflow.
  r.compute_cycles = (c.cycles8 * fw * fa + 63) / 64;
  r.dram_bits = c.weights * w + c.in_elems * a + c.out_elems * a_out;
  r.memory_cycles = (r.dram_bits + preset_.dram_bits_per_cycle - 1) / preset_.dram_bits_per_cycle;
  r.cycles = std::max(r.compute_cycles, r.memory_cycles);
  r.size_bits = c.weights * w;
  const double e_mac = fused ? static_cast<double>((fw / 2) * (fa / 2)) * preset_.e_brick_pj
                             : static_cast<double>(w * a) * preset_.e_bitop_pj;
  r.mac_pj = static_cast<double>(c.macs) * e_mac;
  const double l1_bits = static_cast<double>(c.l1_in * a + c.l1_w * w + c.l1_out * 32);
  const double l2_bits = static_cast<double>(c.l2_in * a + c.l2_w * w + c.l2_out * a_out);
  r.buffer_pj = l1_bits * preset_.e_l1_pj_per_bit + l2_bits * preset_.e_l2_pj_per_bit;
  r.dram_pj = static_cast<double>(r.dram_bits) * preset_.e_dram_pj_per_bit;
  r.energy_pj = r.mac_pj + r.buffer_pj + r.dram_pj;
  return r;
}

void CostModel::evaluate(const int64_t* wbits, const int64_t* abits, int64_t m, int64_t* cycles, double* energy_pj,
                         int64_t* size_bits, int64_t* dram_bits) const {
  const int L = num_layers();
  for (int64_t j = 0; j < m; ++j) {
    const int64_t* w = wbits + j * L;
    const int64_t* a = abits + j * L;
    try {
      check_bits("wbits", w, L);
      check_bits("abits", a, L);
    } catch (const std::invalid_argument& e) {
      fail(m > 1 ? "configuration " + std::to_string(j) + ": " + e.what() : e.what());
    }
    for (int l = 0; l < L; ++l) {
      const LayerCost c = layer(l, w[l], a[l], l + 1 < L ? a[l + 1] : kFloatBits);
      cycles[j * L + l] = c.cycles;
      energy_pj[j * L + l] = c.energy_pj;
      size_bits[j * L + l] = c.size_bits;
      dram_bits[j * L + l] = c.dram_bits;
    }
  }
}

}  // namespace archgym::quant
