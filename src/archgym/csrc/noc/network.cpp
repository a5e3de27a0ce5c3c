// The cycle-level network (see noc.hpp and docs/noc.md).
//
// Data layout: flat arrays indexed by router r, input VC i = port*V + vc
// (gvc = r*NP*V + i) and output VC j = port*V + vc.  Per router, 64-bit masks
// hold the input VCs in each pipeline state, so a cycle touches only the VCs
// with work.  Where each port leads is the channel table ch_ (§15).  Channels
// are timing wheels: an item sent in cycle t with
// latency L lands in slot t+1+L (BookSim's 2-cycle unit channel).  No heap
// allocation per flit: buffers are fixed rings, packets come from a pool.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "noc/noc.hpp"

namespace archgym::noc {

namespace {

constexpr uint8_t kHead = 1, kTail = 2;
constexpr int64_t kCtimeMask = (int64_t{1} << 40) - 1;
constexpr int64_t kMaxCycle = int64_t{1} << 40;

// The VC masks of the routers are a uint64_t or a WideMask (noc.hpp); these
// operations take either.
inline bool any(uint64_t m) { return m != 0; }
template <int W>
bool any(const WideMask<W>& m) { return static_cast<bool>(m); }
inline int lowest(uint64_t m) { return std::countr_zero(m); }
template <int W>
int lowest(const WideMask<W>& m) {
  for (int k = 0; k < W; ++k)
    if (m.w[k]) return 64 * k + std::countr_zero(m.w[k]);
  return 64 * W;
}
inline uint64_t without_lowest(uint64_t m) { return m & (m - 1); }
template <int W>
WideMask<W> without_lowest(WideMask<W> m) {
  for (uint64_t& x : m.w)
    if (x) {
      x &= x - 1;
      break;
    }
  return m;
}
inline int popcount(uint64_t m) { return std::popcount(m); }
template <int W>
int popcount(const WideMask<W>& m) {
  int c = 0;
  for (uint64_t x : m.w) c += std::popcount(x);
  return c;
}
inline bool at_most_one(uint64_t m) { return (m & (m - 1)) == 0; }
template <int W>
bool at_most_one(const WideMask<W>& m) { return popcount(m) <= 1; }
inline bool has(uint64_t m, int i) { return m >> i & 1; }
template <int W>
bool has(const WideMask<W>& m, int i) { return m.w[i / 64] >> (i % 64) & 1; }
// The bits from i up.
template <class M>
M at_or_above(int i) {
  if constexpr (std::is_same_v<M, uint64_t>) {
    return ~uint64_t{0} << i;
  } else {
    M m;
    for (int k = 0; k < static_cast<int>(m.w.size()); ++k)
      m.w[k] = k < i / 64 ? 0 : k > i / 64 ? ~uint64_t{0} : ~uint64_t{0} << (i % 64);
    return m;
  }
}
inline void set_bit(uint64_t& m, int i) { m |= uint64_t{1} << i; }
template <int W>
void set_bit(WideMask<W>& m, int i) { m.w[i / 64] |= uint64_t{1} << (i % 64); }
inline void clear_bit(uint64_t& m, int i) { m &= ~(uint64_t{1} << i); }
template <int W>
void clear_bit(WideMask<W>& m, int i) { m.w[i / 64] &= ~(uint64_t{1} << (i % 64)); }
// A routing function's mask (VcMask) in a router's width M (its low bits).
template <class M>
M narrow(const VcMask& m) {
  if constexpr (std::is_same_v<M, uint64_t>) {
    return m.w[0];
  } else {
    M out;
    std::copy_n(m.w.begin(), out.w.size(), out.w.begin());
    return out;
  }
}

// Every VC of port o (V VCs per port) in a router's mask width M.
template <class M>
M port_vcs(int o, int V) {
  if constexpr (std::is_same_v<M, uint64_t>) return ((uint64_t{2} << (V - 1)) - 1) << (o * V);
  else return narrow<M>(VcMask::range(o * V, V));
}

// The set bits of a mask, lowest first: for (const int i : bits(m)).
template <class M>
struct bits {
  M m;
  struct It {
    M m;
    int operator*() const { return lowest(m); }
    It& operator++() {
      m = without_lowest(m);
      return *this;
    }
    bool operator!=(std::default_sentinel_t) const { return any(m); }
  };
  It begin() const { return It{m}; }
  std::default_sentinel_t end() const { return {}; }
};
template <class M>
bits(M) -> bits<M>;

// First set bit of `mask` at or after `ptr`, cyclically (a round-robin pick).
inline int rr_pick(uint64_t mask, int ptr) {
  const uint64_t hi = mask & (~uint64_t{0} << ptr);
  // countr_zero(hi ? hi : mask), arithmetically: the wrap-around is unpredictable
  return std::countr_zero(hi | (mask & (uint64_t{0} - (hi == 0))));
}
template <int W>
int rr_pick(const WideMask<W>& mask, int ptr) {
  const int k0 = ptr / 64;
  if (const uint64_t hi = mask.w[k0] & (~uint64_t{0} << (ptr % 64))) return 64 * k0 + std::countr_zero(hi);
  for (int k = k0 + 1; k < W; ++k)
    if (mask.w[k]) return 64 * k + std::countr_zero(mask.w[k]);
  return lowest(mask);
}

// Channel items name a router's VC as r * kVcMaskBits + VC.
constexpr int kVcShift = std::countr_zero(static_cast<unsigned>(kVcMaskBits));
static_assert(kVcMaskBits == 1 << kVcShift);

// The bits of `mask` whose priority prio(bit) is the largest.
template <class M, class Prio>
M highest(const M& mask, Prio&& prio) {
  M best{};
  int64_t top = std::numeric_limits<int64_t>::min();
  for (const int b : bits(mask)) {
    const int64_t x = prio(b);
    if (x > top) {
      top = x;
      best = M{};
    }
    if (x == top) set_bit(best, b);
  }
  return best;
}

// The allocators whose arbiters rank requests by packet priority (§5b).
bool honours_priority(Allocator a) {
  return a == Allocator::SeparableInputFirst || a == Allocator::SeparableOutputFirst ||
         a == Allocator::Select;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}


}  // namespace

void Network::Rng::seed(uint64_t v) {
  for (auto& w : s) w = splitmix64(v);
}

uint64_t Network::Rng::next() {
  const uint64_t result = std::rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = std::rotl(s[3], 45);
  return result;
}

// The network's shape in the hot loop: compile-time constants where the
// template argument is non-zero, else the members' values.
template <int kV, int kB, int kD, int kW>
struct Network::Shape {
  static constexpr int kPorts = kD ? 2 * kD + 1 : kMaxPorts;  // ports at most
  static constexpr int kBits = 64 * kW;                      // VCs at most (mask bits)
  // The specialised instances (kV != 0) run the default router only (plain(),
  // step_for): there its options are these constants.
  static constexpr bool kPlain = kV != 0;
  using M = Mask<kW>;
  const int V, B, D, NP, LP, VCS;
  const uint8_t* port_of;
  const uint8_t* vc_of;
  // The routers' arrays as raw pointers, taken once per cycle: the compiler keeps
  // them in registers, where it reloads a vector's after every byte store.
  VcState<M>* const vcs;      // st.vcs
  Router<M>* const routers;   // st.routers
  Flit* const buf;            // buf_
  int16_t* const used;        // used_
  uint16_t* const va_in_ptr;  // va_in_ptr_
  uint16_t* const va_out_ptr; // va_out_ptr_
  SaPtrs* const sa_ptr;       // sa_ptr_
  const int16_t* const coords;  // C_
  explicit Shape(Network& n)
      : V(kV ? kV : n.V_), B(kB ? kB : n.B_), D(kD ? kD : n.D_), NP(kD ? 2 * kD + 1 : n.NP_),
        LP(NP - 1),
        VCS(NP * V), port_of(n.port_of_), vc_of(n.vc_of_),
        vcs(n.state<kW>().vcs.data()), routers(n.state<kW>().routers.data()), buf(n.buf_.data()),
        used(n.used_.data()), va_in_ptr(n.va_in_ptr_.data()), va_out_ptr(n.va_out_ptr_.data()),
        sa_ptr(n.sa_ptr_.data()), coords(n.C_.data()) {}
  int port(int i) const { return kV ? i / kV : port_of[i]; }  // of input/output VC i
  int vc(int i) const { return kV ? i % kV : vc_of[i]; }
};

// ----------------------------------------------------------------- setup
Network::Network(const Config& cfg) : p_(cfg) {
  k_ = p_.k;
  n_ = p_.nodes;
  R_ = p_.routers;
  D_ = p_.dims;
  NP_ = p_.ports;
  LP_ = NP_ - 1;
  V_ = p_.V;
  B_ = p_.B;
  P_ = p_.P;
  VCS_ = NP_ * V_;
  torus_ = p_.topology == Topology::Torus;
  wait_tail_ = p_.cfg.wait_for_tail_credit;
  routings_ = routing_functions().data();
  routing_ = p_.routing;
  traffic_ = p_.traffic;
  router_algo_.assign(R_, static_cast<uint8_t>(routing_));
  if (p_.topology == Topology::Mesh)
    for (size_t id = 0; id < routing_functions().size(); ++id)
      if (routings_[id].route == &Network::route_dor) mesh_dor_ = static_cast<int>(id);

  const Config& c = p_.cfg;
  // Channel offsets from the SA grant / the send cycle, less the channel's
  // latency (ch_: a mesh link takes link_latency, a torus link twice that, a node's
  // channels 1 cycle, or more on a flatfly; §14, §15, §15b).
  off_flit_ = c.sw_alloc_delay - 1 + c.st_final_delay + 1;
  off_credit_ = 1 + c.credit_delay;

  for (int i = 0; i < kVcMaskBits; ++i) {
    port_of_[i] = static_cast<uint8_t>(std::min(i / V_, LP_));
    vc_of_[i] = static_cast<uint8_t>(i % V_);
  }
  for (int o = 0; o < NP_; ++o) nextp_[o] = static_cast<uint8_t>((o + 1) % NP_);
  // Node v of a k-ary n-cube (or n-fly) has coordinate (v / k^d) mod k in
  // dimension d (its digits: the traffic patterns read them); a cmesh's or flatfly's
  // node v is at (v mod kxr, v / kxr) of its node grid (traffic_k_ = k xr).
  traffic_k_ = traffic_side(p_.topology, k_, c.c);
  C_.assign(static_cast<size_t>(n_) * D_, 0);
  if (p_.topology != Topology::Anynet)
    for (int v = 0; v < n_; ++v)
      for (int d = 0, stride = 1; d < D_; ++d, stride *= traffic_k_)
        C_[v * D_ + d] = static_cast<int16_t>(v / stride % traffic_k_);
  ch_ = build_channels(p_);
  inject_vc_.resize(n_);
  eject_vc_.resize(n_);
  for (int v = 0; v < n_; ++v) {
    inject_vc_[v] = (ch_.inject_router[v] << kVcShift) + ch_.inject_port[v] * V_;
    eject_vc_[v] = (ch_.eject_router[v] << kVcShift) + ch_.eject_port[v] * V_;
  }
  int max_latency = 0;
  for (const Channel& x : ch_.out) max_latency = std::max<int>(max_latency, x.latency);
  for (const Channel& x : ch_.in) max_latency = std::max<int>(max_latency, x.latency);

  buf_.assign(static_cast<size_t>(R_) * VCS_ * B_, Flit{});
  used_.assign(static_cast<size_t>(R_) * VCS_, 0);
  sa_ptr_.assign(R_, SaPtrs{});
  va_in_ptr_.assign(static_cast<size_t>(R_) * VCS_, 0);
  va_out_ptr_.assign(static_cast<size_t>(R_) * VCS_, 0);
  occ_.assign(static_cast<size_t>(R_) * NP_, Occ{});
  link_cnt_.assign(static_cast<size_t>(R_) * NP_, 0);
  // spec_check_elig = 0: BookSim then makes no speculative request (§5b)
  spec_ = c.speculative && c.spec_check_elig;
  hold_ = c.hold_switch_for_packet;
  si_ = c.input_speedup;
  so_ = c.output_speedup;
  iters_ = c.alloc_iters;
  internal_ = c.internal_speedup;
  // the most router steps of one cycle: as many flits may leave an input port
  const int steps = static_cast<int>(std::ceil(internal_));
  // The default router (separable input-first or single-iteration iSLIP, speedup 1,
  // no speculation or held switches) keeps the specialised allocators.
  auto plain = [&](Allocator a) {
    return a == Allocator::SeparableInputFirst || (a == Allocator::Islip && iters_ == 1);
  };
  // Packet priorities (§5b) rank requests in the general allocators only.
  prio_ = p_.priority;
  prioritised_ = prio_ != Priority::None && prio_ != Priority::Class;
  general_sa_ = !plain(p_.sa) || si_ > 1 || so_ > 1 || spec_ || hold_ || prioritised_ ||
                internal_ != 1.0;
  general_va_ = !plain(p_.va) || prioritised_;
  if (prio_ == Priority::LocalAge) arrival_.assign(buf_.size(), 0);
  if (general_sa_) sw_.assign(R_, SwState{});
  words_ = VCS_ <= 64 ? 1 : VCS_ <= 128 ? 2 : VCS_ <= 256 ? 4 : 8;
  route_set_.words = static_cast<uint8_t>(words_);
  switch (words_) {
    case 1: init_routers<1>(); break;
    case 2: init_routers<2>(); break;
    case 4: init_routers<4>(); break;
    default: init_routers<8>();
  }
  // Output or internal speedup: several flits may leave the crossbar for one output
  // in a cycle; they queue for the channel, at most V*B (the downstream credits), so
  // the wheels look that far ahead.
  int queue = 0;
  if (so_ > 1 || internal_ != 1.0) {
    chan_free_.assign(static_cast<size_t>(R_) * NP_, 0);
    queue = V_ * B_;
  }
  const int max_off =
      std::max({off_flit_ + max_latency, off_credit_ + max_latency, 1 + max_latency}) + queue;
  int wheel = 1;
  while (wheel <= max_off) wheel *= 2;
  wheel_mask_ = wheel - 1;
  // Per slot at most one item per channel (a channel carries one flit and one
  // credit a cycle, each after its fixed latency): a flit per router output
  // port and per injecting node; an ejection per node; a credit per crossbar
  // input (input_speedup per router input port; the injection ports' go to the
  // source) and router step, and per ejection.
  arrive_.init(wheel, static_cast<size_t>(R_) * NP_ + n_);
  eject_.init(wheel, n_);
  credit_.init(wheel, (static_cast<size_t>(R_) * NP_ + n_) * si_ * steps);
  src_credit_.init(wheel, static_cast<size_t>(n_) * si_ * steps);

  src_.assign(n_, Source{});
  queue_.assign(n_, std::vector<uint64_t>(16));
  qlen_.assign(n_, 0);
  src_busy_.assign((n_ + 63) / 64, 0);
  src_used_.assign(static_cast<size_t>(n_) * V_, 0);
  pkts_.reserve(1024);

  uint64_t s = c.seed;
  rng_.seed(splitmix64(s));
  rng_inj_.seed(splitmix64(s));
  rng_alloc_.seed(splitmix64(s));
  build_destinations();
  set_injection_rate(c.injection_rate);
  step_ = pick_step();
}

template <int kW>
void Network::init_routers() {
  RouterState<kW>& st = state<kW>();
  st.vcs.assign(static_cast<size_t>(R_) * VCS_, VcState<Mask<kW>>{});
  st.routers.assign(R_, Router<Mask<kW>>{});
  st.tail_sent.assign(R_, Mask<kW>{});
  if (general_va_) st.va_arb.assign(R_, Arbiters<64 * kW>{});
}

void Network::build_destinations() {
  const Config& c = p_.cfg;
  dest_table_.assign(n_, -1);
  int bits = 0;
  while ((1 << bits) < n_) ++bits;
  const bool grid = p_.topology != Topology::Anynet && D_ == 2;  // a 2-D grid of radix traffic_k_
  // The node whose coordinate in every dimension is f(coordinate of v there).
  auto each_dim = [&](int v, auto f) {
    int d = 0;
    for (int i = D_ - 1; i >= 0; --i) d = d * traffic_k_ + f(coord(v, i));
    return d;
  };
  for (int v = 0; v < n_; ++v) {
    int d = -1;
    switch (traffic_) {
      case Traffic::Transpose:  // a 2-D grid's coordinates swapped, else the id's bit halves
        d = grid ? coord(v, 1) + traffic_k_ * coord(v, 0)
                 : ((v & ((1 << bits / 2) - 1)) << bits / 2) | v >> bits / 2;
        break;
      case Traffic::Bitcomp: d = n_ - 1 - v; break;  // every coordinate (or bit) complemented
      case Traffic::Bitrev: {
        d = 0;
        for (int b = 0; b < bits; ++b)
          if (v & (1 << b)) d |= 1 << (bits - 1 - b);
        break;
      }
      case Traffic::Shuffle: d = ((v << 1) | (v >> (bits - 1))) & (n_ - 1); break;
      case Traffic::Tornado:
      case Traffic::Neighbor: {  // the n low radix-r digits of v, each shifted mod r (r: k xr)
        const int r = (c.traffic_radix ? c.traffic_radix : k_) * traffic_k_ / k_;
        const int shift = traffic_ == Traffic::Tornado ? (r + 1) / 2 - 1 : 1;
        d = static_cast<int>(shift_digits(v, r, D_, shift));  // below n_: check_traffic
        break;
      }
      default: break;
    }
    dest_table_[v] = d;
  }
  if (traffic_ == Traffic::Randperm) {
    // A fixed random permutation drawn from perm_seed, whatever the simulation
    // seed (BookSim's randperm).
    Rng perm;
    uint64_t s = c.perm_seed ^ 0x5EED0F0E5EED0F0EULL;
    perm.seed(splitmix64(s));
    std::iota(dest_table_.begin(), dest_table_.end(), 0);
    for (int i = n_ - 1; i > 0; --i)
      std::swap(dest_table_[i], dest_table_[perm.below(static_cast<uint32_t>(i + 1))]);
  }
  hot_nodes_.clear();
  hot_cum_.clear();
  if (traffic_ == Traffic::Hotspot) {
    if (c.hotspot_nodes.empty()) hot_nodes_.push_back(each_dim(0, [&](int) { return traffic_k_ / 2; }));
    else hot_nodes_.assign(c.hotspot_nodes.begin(), c.hotspot_nodes.end());
    double acc = 0;
    for (size_t h = 0; h < hot_nodes_.size(); ++h) {
      acc += c.hotspot_rates.empty() ? 1.0 : c.hotspot_rates[h];
      hot_cum_.push_back(acc);
    }
  }
}

void Network::set_injection_rate(double rate) {
  Config c = p_.cfg;
  c.injection_rate = rate;
  Params np(c);  // validates (range, on/off limit)
  p_.cfg.injection_rate = rate;
  packet_prob_ = np.packet_prob;
  p_.packet_prob = packet_prob_;
  log1mp_ = packet_prob_ < 1.0 ? std::log1p(-packet_prob_) : 0.0;
  const double a = c.burst_alpha, b = c.burst_beta;
  r1_ = packet_prob_ * (a + b) / a;
  if (r1_ > 1.0) r1_ = 1.0;
  reset_generators();
}

void Network::reset_generators() {
  const double a = p_.cfg.burst_alpha, b = p_.cfg.burst_beta;
  for (int v = 0; v < n_; ++v) {
    Source& s = src_[v];
    if (p_.injection == Injection::Bernoulli) {
      s.next_gen = now_ - 1 + draw_gap();
    } else {
      s.on = rng_inj_.uniform() < a / (a + b) ? 1 : 0;
      s.next_gen = std::numeric_limits<int64_t>::max();
    }
  }
}

int64_t Network::draw_gap() {
  if (packet_prob_ <= 0.0) return kMaxCycle;
  if (packet_prob_ >= 1.0) return 1;
  const double u = 1.0 - rng_inj_.uniform();  // (0, 1]
  const double g = std::floor(std::log(u) / log1mp_);
  if (!(g < 1e12)) return kMaxCycle;
  return 1 + static_cast<int64_t>(g);
}

void Network::set_traffic(const std::string& pattern) {
  Config c = p_.cfg;
  c.traffic = pattern;
  const Traffic tr = Params(c).traffic;  // validates the pattern on this network
  traffic_ = tr;
  p_.traffic = tr;
  p_.cfg.traffic = pattern;
  build_destinations();
}

void Network::set_routing(const std::string& routing) {
  const int r = parse_routing(routing, "routing");
  check_routing(r, p_.topology, k_, D_, V_, "routing");
  check_routing_concentration(r, p_.topology, k_, p_.cfg.c, "routing");
  routing_ = r;
  p_.routing = r;
  p_.cfg.routing_function = routing;
  per_router_ = false;
  std::fill(router_algo_.begin(), router_algo_.end(), static_cast<uint8_t>(r));
}

// router_algo_ holds routing ids, so a packet created at a router is tagged
// with the routing of the same name (it routes by it should the network go
// back to network-wide mode while it is in flight).
void Network::set_routing_per_router(const std::vector<int64_t>& index) {
  const auto& names = per_router_routing_names();
  if (static_cast<int64_t>(index.size()) != R_)
    throw std::invalid_argument("the per-router routing array needs one entry per router (" +
                                std::to_string(R_) + "), got " + std::to_string(index.size()));
  std::vector<uint8_t> algo(R_);
  for (int v = 0; v < R_; ++v) {
    const int64_t i = index[v];
    if (i < 0 || i >= static_cast<int64_t>(names.size()))
      throw std::invalid_argument("per-router routing index of router " + std::to_string(v) +
                                  " must be between 0 and " + std::to_string(names.size() - 1) +
                                  " (got " + std::to_string(i) + ")");
    const int r = parse_routing(names[i], "routing");
    check_routing(r, p_.topology, k_, D_, V_, "per-router routing", true);
    algo[v] = static_cast<uint8_t>(r);
  }
  router_algo_ = std::move(algo);
  per_router_ = true;
}

void Network::send(int64_t src, int64_t dst) {
  if (src < 0 || src >= n_ || dst < 0 || dst >= n_)
    throw std::invalid_argument("send: src and dst must be node ids between 0 and " +
                                std::to_string(n_ - 1));
  if (queued_total_ >= kMaxBacklogPackets)
    throw std::invalid_argument("send: the source queues are full");
  enqueue(static_cast<int>(src), (static_cast<uint64_t>(dst + 1) << 40) | static_cast<uint64_t>(now_));
}

// ----------------------------------------------------------------- router
// A flit buffered from cycle a to cycle b adds b - a to its port's integral:
// -a on arrival, +b on departure (Occ::at adds now for the flits still there).
inline void Network::occ_change(int pi, int delta) {
  Occ& o = occ_[pi];
  o.integral -= delta * now_;
  o.count += delta;
}

template <int kV, int kB, int kD, int kW>
void Network::buffer_write(const Shape<kV, kB, kD, kW>& S, int r, int i, const Flit& f) {
  const size_t gvc = static_cast<size_t>(r) * S.VCS + i;
  auto& q = S.vcs[gvc];
  int pos = q.head + q.count;
  if (pos >= S.B) pos -= S.B;
  S.buf[gvc * S.B + pos] = f;
  if (!S.kPlain && prio_ == Priority::LocalAge) arrival_[gvc * S.B + pos] = static_cast<uint32_t>(now_);
  ++q.count;
  occ_change(r * S.NP + S.port(i), 1);
  ++ctr_.buffered_flits;
  auto& R = S.routers[r];
  if (q.state == kIdle) {  // a head into an idle VC: RC in this cycle (BW+RC)
    q.state = kRouting;
    set_bit(R.rc_now, i);
  } else if (q.state == kActive && q.count == 1) {  // into an empty active VC: SA now (BW+SA)
    set_bit(R.sa_now, i);
  }
}

// Make the VCs whose stage becomes eligible at t part of the "now" masks.
template <class M>
inline void Network::Router<M>::advance(int64_t t, const VcState<M>* vcs) {
  if (!any(va_later | sa_later)) {
    rc_now |= rc_next;
    va_now |= va_next;
    sa_now |= sa_next;
    rc_next = va_next = sa_next = M{};
    return;
  }
  rc_now |= rc_next;
  rc_next = M{};
  va_now |= va_next;
  va_next = M{};
  sa_now |= sa_next;
  sa_next = M{};
  for (const int i : bits(va_later))
    if (vcs[i].elig <= t) {
      clear_bit(va_later, i);
      set_bit(va_now, i);
    }
  for (const int i : bits(sa_later))
    if (vcs[i].elig <= t) {
      clear_bit(sa_later, i);
      set_bit(sa_now, i);
    }
}

template <int kV, int kB, int kD, int kW>
[[gnu::always_inline]] inline void Network::router_step(const Shape<kV, kB, kD, kW>& S, int r,
                                                        int64_t t) {
  RouterState<kW>& st = state<kW>();
  const size_t base = static_cast<size_t>(r) * S.VCS;
  auto& R = S.routers[r];
  R.advance(t, S.vcs + base);
  // (b) route computation: the routing function fills route_set_, kept in the VC's masks
  if (any(R.rc_now)) {
    const int d = S.kPlain ? 1 : p_.cfg.routing_delay;
    for (const int i : bits(R.rc_now)) {
      auto& q = S.vcs[base + i];
      const Flit& f = S.buf[(base + i) * S.B + q.head];
      if (f.algo == mesh_dor_ && !per_router_) {
        // route_dor on a mesh (routing.cpp), inline: every VC of the port of the
        // first dimension in which r and the destination differ (toward it), or
        // of the ejection port at the destination
        // (scanned from the last dimension, the first differing one overrides:
        // selects, not a branch per dimension)
        int o = S.LP;
        for (int dim = S.D - 1; dim >= 0; --dim) {
          const int at = S.coords[r * S.D + dim], to = S.coords[f.dst * S.D + dim];
          o = at != to ? 2 * dim + (at < to ? 0 : 1) : o;
        }
        q.rs_n = 1;
        q.rs_atomic = 0;
        q.rs_prio[0] = 0;
        q.rs_mask[0] = port_vcs<typename Shape<kV, kB, kD, kW>::M>(o, S.V);
      } else {
        route(r, i, f, route_set_);
        q.rs_n = route_set_.rs_n;
        q.rs_atomic = route_set_.rs_atomic;
        for (int e = 0; e < q.rs_n; ++e) {
          q.rs_mask[e] = narrow<typename Shape<kV, kB, kD, kW>::M>(route_set_.rs_mask[e]);
          q.rs_prio[e] = route_set_.rs_prio[e];
        }
      }
      q.state = kVcAlloc;
      if (d == 0) set_bit(R.va_now, i);
      else if (d == 1) set_bit(R.va_next, i);
      else { q.elig = t + d; set_bit(R.va_later, i); }
    }
    R.rc_now = {};
  }
  // (c) VC allocation, (d) switch allocation
  if (any(R.va_now)) vc_alloc(S, r, t);
  if (!S.kPlain && general_sa_) {
    if (any(R.sa_now | st.spec_req)) sw_alloc_general<kV, kB, kD, kW>(r, t);
  } else if (any(R.sa_now)) {
    sw_alloc(S, r, t);
  }
}

template <int kV, int kB, int kD, int kW>
[[gnu::always_inline]] inline void Network::vc_alloc(const Shape<kV, kB, kD, kW>& S, int r,
                                                     int64_t t) {
  using S_ = Shape<kV, kB, kD, kW>;
  using M = typename S_::M;
  constexpr int kBits = S_::kBits;
  RouterState<kW>& st = state<kW>();
  const size_t base = static_cast<size_t>(r) * S.VCS;
  auto& R = S.routers[r];
  const M alloc = R.alloc, busy = R.busy;
  const bool islip = p_.va == Allocator::Islip;
  const int d = S.kPlain ? 1 : p_.cfg.vc_alloc_delay;

  // Input VC i takes output VC j.
  auto take = [&](int i, int j) {
    auto& q = S.vcs[base + i];
    set_bit(R.alloc, j);
    q.state = kActive;
    q.outp = static_cast<uint8_t>(S.port(j));
    q.outvc = static_cast<uint8_t>(S.vc(j));
    clear_bit(R.va_now, i);
    // the head flit is in the buffer: SA from t + vc_alloc_delay (a speculative
    // request may already win it in this cycle, §5b)
    if (d == 0) set_bit(R.sa_now, i);
    else if (d == 1) set_bit(R.sa_next, i);
    else { q.elig = t + d; set_bit(R.sa_later, i); }
  };
  auto grant = [&](int i, int j) {
    S.va_in_ptr[base + i] = static_cast<uint16_t>(j + 1 == S.VCS ? 0 : j + 1);
    S.va_out_ptr[base + j] = static_cast<uint16_t>(i + 1 == S.VCS ? 0 : i + 1);
    take(i, j);
  };
  // The output VCs input VC i may request: entry e's VCs that no packet holds
  // (atomic entries: that hold no credit either).
  auto requestable = [&](const VcState<M>& q, int e) {
    return q.rs_mask[e] & ~alloc & ((q.rs_atomic >> e & 1) ? ~busy : ~M{});
  };
  // Speculation (§5b): every VC that requests an output VC now requests the switch
  // too, to the port of its first route entry with a free output VC (with a credit:
  // spec_check_cred); one that wins VA requests the port it won (take()).
  if (!S.kPlain && spec_ && d > 0)
    for (const int i : bits(R.va_now)) {
      auto& q = st.vcs[base + i];
      for (int e = 0; e < q.rs_n; ++e) {
        M free = requestable(q, e);
        if (p_.cfg.spec_check_cred)
          for (const int j : bits(free))
            if (used_[base + j] >= S.B) clear_bit(free, j);
        if (any(free)) {
          q.outp = static_cast<uint8_t>(S.port(lowest(free)));
          set_bit(st.spec_req, i);
          break;
        }
      }
    }
  if (!S.kPlain && general_va_) {
    // Every input VC requests every output VC of its route set; it takes, among
    // those offered, one of its highest-priority route entry (round robin; iSLIP
    // and select ignore the priorities, §5).
    M req[kBits] = {};
    int64_t prio[kBits];  // packet priorities (output side, §5b)
    for (const int i : bits(R.va_now)) {
      const auto& q = S.vcs[base + i];
      req[i] = M{};
      for (int e = 0; e < q.rs_n; ++e) req[i] |= requestable(q, e);
      if (prioritised_) prio[i] = vc_priority(base + i, q.head, q.count);
    }
    auto& arb = st.va_arb[r];
    const bool prioritised = p_.va != Allocator::Islip && p_.va != Allocator::Select;
    auto accept = [&](int i, const M& offered) {
      if (!prioritised) return rr_pick(offered, arb.in[i]);
      const auto& q = S.vcs[base + i];
      for (int e = 0; e < q.rs_n;) {
        const int prio = q.rs_prio[e];
        M grp{};
        for (; e < q.rs_n && q.rs_prio[e] == prio; ++e) grp |= requestable(q, e) & offered;
        if (any(grp)) return rr_pick(grp, arb.in[i]);
      }
      return rr_pick(offered, arb.in[i]);  // not reached: offered is part of the requests
    };
    auto pick_input = [&](int j, const M& requesters) {
      return rr_pick(prioritised_ ? highest(requesters, [&](int i) { return prio[i]; }) : requesters,
                     arb.out[j]);
    };
    int16_t out[kBits];
    const M inputs = R.va_now;
    allocate(p_.va, S.VCS, S.VCS, req, inputs, arb, out, accept, pick_input);
    for (int i = 0; i < S.VCS; ++i)  // (bits(inputs) would do, but GCC cannot bound its index)
      if (has(inputs, i) && out[i] >= 0) take(i, out[i]);
    return;
  }

  // The requests by output VC: req_in[j], the input VCs requesting j (set where
  // `outs` has bit j).  Each output grants one input and no input wins two
  // outputs, so the order of the grants is immaterial.
  M req_in[kBits];
  M outs{};
  auto request = [&](int i, int j) {
    if (!has(outs, j)) {
      set_bit(outs, j);
      req_in[j] = M{};
    }
    set_bit(req_in[j], i);
  };

  if (!islip && at_most_one(R.va_now)) {  // one requester (common): no arbitration
    const int i = lowest(R.va_now);
    const auto& q = S.vcs[base + i];
    for (int e = 0; e < q.rs_n;) {
      const int prio = q.rs_prio[e];
      M grp{};
      for (; e < q.rs_n && q.rs_prio[e] == prio; ++e) grp |= requestable(q, e);
      if (any(grp)) {
        grant(i, rr_pick(grp, S.va_in_ptr[base + i]));
        return;
      }
    }
    return;
  }
  if (!islip) {
    // separable input-first: each input VC forwards one request, from its
    // highest-priority non-empty group, chosen round-robin
    int fwd_i[kBits], fwd_j[kBits], nf = 0;
    M asked{};           // the output VCs requested
    bool clash = false;  // by two inputs
    for (const int i : bits(R.va_now)) {
      const auto& q = S.vcs[base + i];
      M req{};
      if (q.rs_n == 1) {  // the loop below on one entry
        req = requestable(q, 0);
      } else {
        for (int e = 0; e < q.rs_n;) {
          const int prio = q.rs_prio[e];
          M grp{};
          for (; e < q.rs_n && q.rs_prio[e] == prio; ++e) grp |= requestable(q, e);
          if (any(grp)) { req = grp; break; }
        }
      }
      if (!any(req)) continue;
      const int j = rr_pick(req, S.va_in_ptr[base + i]);
      fwd_i[nf] = i;
      fwd_j[nf] = j;
      ++nf;
      clash |= has(asked, j);
      set_bit(asked, j);
    }
    if (!clash) {  // every request alone at its output wins its output arbiter
      for (int x = 0; x < nf; ++x) grant(fwd_i[x], fwd_j[x]);
      return;
    }
    for (int x = 0; x < nf; ++x) request(fwd_i[x], fwd_j[x]);
    for (const int j : bits(outs)) grant(rr_pick(req_in[j], S.va_out_ptr[base + j]), j);
    return;
  }
  // iSLIP, one iteration: every request goes to its output; outputs grant, inputs accept.
  for (const int i : bits(R.va_now)) {
    const auto& q = S.vcs[base + i];
    M req{};
    for (int e = 0; e < q.rs_n; ++e) req |= requestable(q, e);
    for (const int j : bits(req)) request(i, j);
  }
  M granted[kBits];
  M inputs{};
  for (const int j : bits(outs)) {
    const int i = rr_pick(req_in[j], S.va_out_ptr[base + j]);
    if (!has(inputs, i)) granted[i] = M{};
    set_bit(inputs, i);
    set_bit(granted[i], j);
  }
  for (const int i : bits(inputs)) grant(i, rr_pick(granted[i], S.va_in_ptr[base + i]));
}

template <int kV, int kB, int kD, int kW>
[[gnu::always_inline]] inline void Network::sw_alloc(const Shape<kV, kB, kD, kW>& S, int r,
                                                     int64_t t) {
  const size_t base = static_cast<size_t>(r) * S.VCS;
  auto& R = S.routers[r];
  if (at_most_one(R.sa_now)) {  // one candidate VC (common): no arbitration
    const int i = lowest(R.sa_now);
    const auto& q = S.vcs[base + i];
    if (S.used[base + q.outp * S.V + q.outvc] >= S.B) return;
    const int p = S.port(i), v = S.vc(i), o = q.outp;
    SaPtrs& ptr = S.sa_ptr[r];
    ptr.sa_in[p] = nextp_[o];
    ptr.sa_out[o] = nextp_[p];
    ptr.sa_vc[p] = static_cast<uint8_t>(v + 1 == S.V ? 0 : v + 1);
    grant_switch(S, r, p, o, v, t, t);
    return;
  }
  using PortMask = uint32_t;  // a bit per port (kMaxPorts)
  constexpr int kPorts = Shape<kV, kB, kD, kW>::kPorts;
  uint32_t cand[kPorts][kPorts];  // [input port][output port] -> VC mask (valid where outs has the bit)
  PortMask outs[kPorts] = {};
  PortMask inputs = 0;  // the input ports with a candidate
  int ncand = 0, last_p = 0, last_o = 0, last_v = 0;
  for (const int i : bits(R.sa_now)) {
    const auto& q = S.vcs[base + i];
    if (S.used[base + q.outp * S.V + q.outvc] >= S.B) continue;  // no credit
    const int p = S.port(i), v = S.vc(i), o = q.outp;
    const PortMask obit = PortMask{1} << o;
    if (!(outs[p] & obit)) {
      outs[p] |= obit;
      cand[p][o] = 0;
    }
    cand[p][o] |= 1u << v;
    inputs |= PortMask{1} << p;
    ++ncand;
    last_p = p;
    last_o = o;
    last_v = v;
  }
  if (ncand == 0) return;
  SaPtrs& ptr = S.sa_ptr[r];
  auto grant = [&](int p, int o, int v) __attribute__((always_inline)) {
    ptr.sa_in[p] = nextp_[o];
    ptr.sa_out[o] = nextp_[p];
    ptr.sa_vc[p] = static_cast<uint8_t>(v + 1 == S.V ? 0 : v + 1);
    grant_switch(S, r, p, o, v, t, t);
  };
  if (ncand == 1) {  // a lone request is granted by every arbiter on its way
    grant(last_p, last_o, last_v);
    return;
  }
  auto vc_of = [&](int p, int o) { return rr_pick(cand[p][o], ptr.sa_vc[p]); };
  if (p_.sa == Allocator::SeparableInputFirst) {
    PortMask fwd[kPorts] = {};
    PortMask fwd_outs = 0;  // the outputs with a forwarded request
    for (const int p : bits(inputs)) {
      const int o = rr_pick(outs[p], ptr.sa_in[p]);
      fwd[o] |= PortMask{1} << p;
      fwd_outs |= PortMask{1} << o;
    }
    for (const int o : bits(fwd_outs)) {
      const int p = rr_pick(fwd[o], ptr.sa_out[o]);
      grant(p, o, vc_of(p, o));
    }
  } else {
    PortMask granted[kPorts] = {};
    for (int o = 0; o < S.NP; ++o) {
      PortMask reqs = 0;
      for (int p = 0; p < S.NP; ++p)
        if (outs[p] >> o & 1) reqs |= PortMask{1} << p;
      if (reqs) granted[rr_pick(reqs, ptr.sa_out[o])] |= PortMask{1} << o;
    }
    for (int p = 0; p < S.NP; ++p)
      if (granted[p]) {
        const int o = rr_pick(granted[p], ptr.sa_in[p]);
        grant(p, o, vc_of(p, o));
      }
  }
}

// The allocators of §5b on up to kN inputs and outputs (requests in masks M);
// `grant(j, requesters)` is output j's pick among the inputs requesting it (the
// allocators that honour priorities).
template <class M, int kN, class Accept, class Grant>
void Network::allocate(Allocator a, int ni, int no, const M* req, M inputs, Arbiters<kN>& arb,
                       int16_t* out, Accept&& accept, Grant&& grant) {
  for (const int i : bits(inputs)) out[i] = -1;
  auto matched = [&](int i, int j) {
    out[i] = static_cast<int16_t>(j);
  };
  auto move_pointers = [&](int i, int j) {
    arb.in[i] = static_cast<uint16_t>(j + 1 == no ? 0 : j + 1);
    arb.out[j] = static_cast<uint16_t>(i + 1 == ni ? 0 : i + 1);
  };
  if (a == Allocator::SeparableInputFirst) {
    M fwd[kN];
    M outs{};
    for (const int i : bits(inputs)) {
      if (!any(req[i])) continue;
      const int j = accept(i, req[i]);
      if (!has(outs, j)) fwd[j] = M{};
      set_bit(outs, j);
      set_bit(fwd[j], i);
    }
    for (const int j : bits(outs)) {
      const int i = grant(j, fwd[j]);
      matched(i, j);
      move_pointers(i, j);
    }
    return;
  }
  // The other allocators see the requests by output.
  M by_out[kN];
  M outs{};
  for (const int i : bits(inputs))
    for (const int j : bits(req[i])) {
      if (!has(outs, j)) by_out[j] = M{};
      set_bit(outs, j);
      set_bit(by_out[j], i);
    }
  if (a == Allocator::Loa) {
    // Lonely output: each input forwards its request to the requested output with
    // the fewest requesters (round robin among those), each output grants one
    // forwarded request (round robin); pointers move on grants.
    M fwd[kN];
    M fwd_outs{};
    for (const int i : bits(inputs)) {
      M lonely{};
      int fewest = kN + 1;
      for (const int j : bits(req[i])) {
        const int c = popcount(by_out[j]);
        if (c < fewest) { fewest = c; lonely = M{}; }
        if (c == fewest) set_bit(lonely, j);
      }
      if (!any(lonely)) continue;
      const int j = rr_pick(lonely, arb.in[i]);
      if (!has(fwd_outs, j)) fwd[j] = M{};
      set_bit(fwd_outs, j);
      set_bit(fwd[j], i);
    }
    for (const int j : bits(fwd_outs)) {
      const int i = rr_pick(fwd[j], arb.out[j]);
      matched(i, j);
      move_pointers(i, j);
    }
    return;
  }
  if (a == Allocator::MaxSize) {
    // A maximum matching: augmenting paths (depth first) from each input in turn,
    // the first input and each input's first output tried moving on by one every
    // allocation so that no request is always last.
    int16_t owner[kN];  // per output: its input, -1 free
    std::fill(owner, owner + no, int16_t{-1});
    const int start = arb.diag % ni;
    auto augment = [&](auto&& self, int i, M& seen) -> bool {
      const M cand = req[i] & ~seen;
      const M hi = cand & at_or_above<M>(start % no);
      for (const M& order : {hi, cand & ~hi})
        for (const int j : bits(order)) {
          set_bit(seen, j);
          if (owner[j] < 0 || self(self, owner[j], seen)) {
            owner[j] = static_cast<int16_t>(i);
            return true;
          }
        }
      return false;
    };
    for (int d = 0; d < ni; ++d) {
      const int i = (start + d) % ni;
      if (!has(inputs, i) || !any(req[i])) continue;
      M seen{};
      augment(augment, i, seen);
    }
    for (int j = 0; j < no; ++j)
      if (owner[j] >= 0) matched(owner[j], j);
    arb.diag = static_cast<uint16_t>((arb.diag + 1) % std::max(ni, no));
    return;
  }
  if (a == Allocator::Wavefront) {
    // A square array of max(ni, no) diagonals, the priority one first (it moves
    // on by one every allocation); a request is granted if its input and output
    // are still free when its diagonal is reached.
    const int n = std::max(ni, no);
    M free_in = inputs, free_out = outs;
    for (int d = 0; d < n; ++d) {
      const int diag = (arb.diag + d) % n;
      for (int i = 0; i < ni; ++i) {
        const int j = (diag - i + n) % n;
        if (j < no && has(free_in, i) && has(free_out, j) && has(req[i], j)) {
          matched(i, j);
          clear_bit(free_in, i);
          clear_bit(free_out, j);
        }
      }
    }
    arb.diag = static_cast<uint16_t>((arb.diag + 1) % n);
    return;
  }
  // Separable output-first (one iteration), iSLIP / select and PIM (alloc_iters
  // iterations): each free output grants one free input requesting it, each input
  // accepts one of the outputs that granted it.  Round-robin pointers move on
  // acceptance (iSLIP: in the first iteration only); PIM draws at random.
  const bool pim = a == Allocator::Pim, ranked = honours_priority(a);
  const int iters = a == Allocator::SeparableOutputFirst ? 1 : iters_;
  M free_in = inputs, free_out = outs;
  auto random_pick = [&](M mask) {
    for (uint32_t skip = rng_alloc_.below(static_cast<uint32_t>(popcount(mask))); skip; --skip)
      mask = without_lowest(mask);
    return lowest(mask);
  };
  for (int it = 0; it < iters && any(free_in) && any(free_out); ++it) {
    M granted[kN];
    M granted_in{};
    for (const int j : bits(free_out)) {
      const M reqs = by_out[j] & free_in;
      if (!any(reqs)) continue;
      const int i = pim ? random_pick(reqs) : ranked ? grant(j, reqs) : rr_pick(reqs, arb.out[j]);
      if (!has(granted_in, i)) granted[i] = M{};
      set_bit(granted_in, i);
      set_bit(granted[i], j);
    }
    if (!any(granted_in)) break;
    for (const int i : bits(granted_in)) {
      const int j = pim ? random_pick(granted[i]) : accept(i, granted[i]);
      matched(i, j);
      if (!pim && it == 0) move_pointers(i, j);
      clear_bit(free_in, i);
      clear_bit(free_out, j);
    }
  }
}

// Switch allocation with the router options (§5b).  The crossbar has
// input_speedup inputs per input port (VC v of port p uses crossbar input
// p * input_speedup + v mod input_speedup) and output_speedup outputs per output
// port (crossbar input x reaches output o at o * output_speedup + x mod
// output_speedup).  In order: held switches (hold_switch_for_packet), the
// allocation of the other candidates, then the speculative allocation of the VCs
// that won VA in this cycle, whose grants stand where no other grant took their
// crossbar input or output.
template <int kV, int kB, int kD, int kW>
void Network::sw_alloc_general(int r, int64_t t) {
  using M = Mask<kW>;
  const Shape<kV, kB, kD, kW> S(*this);
  RouterState<kW>& st = state<kW>();
  const size_t base = static_cast<size_t>(r) * S.VCS;
  auto& R = st.routers[r];
  SwState& W = sw_[r];
  const int si = si_, so = so_;
  const int ni = S.NP * si, no = S.NP * so;
  uint64_t in_taken = 0, out_taken = 0;  // crossbar ports granted in this cycle
  auto xin = [&](int i) { return S.port(i) * si + S.vc(i) % si; };
  auto xout = [&](int x, int o) { return o * so + x % so; };
  auto credit = [&](const VcState<M>& q) { return used_[base + q.outp * S.V + q.outvc] < S.B; };
  auto send = [&](int i, int x) {
    const auto& q = st.vcs[base + i];
    const int o = q.outp;
    const bool tail = buf_[(base + i) * S.B + q.head].flags & kTail;
    in_taken |= uint64_t{1} << x;
    out_taken |= uint64_t{1} << xout(x, o);
    int64_t depart = depart_;
    if (!chan_free_.empty()) {  // the output's channel takes one flit per cycle
      int64_t& free_at = chan_free_[static_cast<size_t>(r) * S.NP + o];
      depart = std::max(depart, free_at);
      free_at = depart + 1;
    }
    if (hold_) W.hold[x] = static_cast<int16_t>(tail ? -1 : i);
    grant_switch(S, r, S.port(i), o, S.vc(i), t, depart);
  };
  // 1. held switches: the packet's next flit goes without arbitration; a packet
  // without a flit or credit lets go of its switch
  if (hold_) {
    for (int x = 0; x < ni; ++x) {
      const int i = W.hold[x];
      if (i < 0) continue;
      if (has(R.sa_now, i) && credit(st.vcs[base + i])) send(i, x);
      else W.hold[x] = -1;
    }
  }
  // 2. requests: per crossbar input, one VC per output port (round robin, §5)
  // per crossbar input and output port: the VCs of the highest priority requesting it
  // (all of them under priority = none) and that priority.  A speculative request
  // (§5b) needs no credit yet and ranks below every other (kSpecPriority); its grant
  // is used only if its VC won VA with a credit, else it is lost.
  constexpr int64_t kSpecPriority = std::numeric_limits<int64_t>::min();
  uint32_t cand[64][Shape<kV, kB, kD, kW>::kPorts];
  int64_t cprio[64][Shape<kV, kB, kD, kW>::kPorts];
  const M spec = st.spec_req;
  st.spec_req = M{};
  uint64_t req_in = 0, req_out = 0;  // crossbar ports of the non-speculative requests
  // One allocation by allocator `kind` of the requests of `vcs` (non-speculative) and
  // `speculative` (those, without a credit check; `masked`: their grants stand only
  // where no earlier grant, or request with spec_mask_by_reqs, took their ports).
  auto allocate_switch = [&](const M& vcs, const M& speculative, Allocator kind,
                             Arbiters<64>& arb, uint8_t* vc_ptr, bool masked) {
    uint64_t req[64] = {}, inputs = 0;
    const bool ranked = (prioritised_ || (!masked && any(speculative))) && honours_priority(kind);
    for (const int i : bits(vcs | speculative)) {
      const auto& q = st.vcs[base + i];
      const bool is_spec = has(speculative, i);
      if (!is_spec && !credit(q)) continue;
      const int x = xin(i), o = q.outp, y = xout(x, o);
      if (!masked && ((in_taken >> x & 1) || (out_taken >> y & 1))) continue;
      const uint64_t ybit = uint64_t{1} << y;
      if (!is_spec) {
        req_in |= uint64_t{1} << x;
        req_out |= ybit;
      }
      if (!(inputs >> x & 1)) req[x] = 0;
      inputs |= uint64_t{1} << x;
      const int64_t prio = is_spec && !masked ? kSpecPriority
                           : prioritised_   ? vc_priority(base + i, q.head, q.count)
                                            : 0;
      if (!(req[x] & ybit) || prio > cprio[x][o]) {
        cand[x][o] = 0;
        cprio[x][o] = prio;
      } else if (prio < cprio[x][o]) {
        continue;
      }
      req[x] |= ybit;
      cand[x][o] |= 1u << S.vc(i);
    }
    if (!inputs) return;
    int16_t out[64];
    auto accept = [&](int x, uint64_t offered) {
      if (ranked) offered = highest(offered, [&](int y) { return cprio[x][y / so]; });
      return rr_pick(offered, arb.in[x]);
    };
    auto pick_input = [&](int y, uint64_t requesters) {
      if (ranked) requesters = highest(requesters, [&](int x) { return cprio[x][y / so]; });
      return rr_pick(requesters, arb.out[y]);
    };
    allocate(kind, ni, no, req, inputs, arb, out, accept, pick_input);
    const uint64_t mask_in = in_taken | (p_.cfg.spec_mask_by_reqs ? req_in : 0);
    const uint64_t mask_out = out_taken | (p_.cfg.spec_mask_by_reqs ? req_out : 0);
    for (uint64_t m = inputs; m; m &= m - 1) {
      const int x = std::countr_zero(m);
      if (out[x] < 0) continue;
      const int o = out[x] / so;
      const int v = rr_pick(cand[x][o], vc_ptr[x]);
      vc_ptr[x] = static_cast<uint8_t>(v + 1 == S.V ? 0 : v + 1);
      if (masked && ((mask_in >> x & 1) || (mask_out >> out[x] & 1))) continue;
      const int i = (x / si) * S.V + v;
      if (has(speculative, i)) {  // used if the VC won VA (to this port) with a credit
        const auto& q = st.vcs[base + i];
        if (q.state != kActive || !credit(q)) continue;
        clear_bit(R.sa_next, i);  // its SA stage is this one
        clear_bit(R.sa_later, i);
      }
      send(i, x);
    }
  };
  if (p_.spec_prio) {
    allocate_switch(R.sa_now, spec, p_.sa, W.arb, W.vc, false);
  } else {
    allocate_switch(R.sa_now, M{}, p_.sa, W.arb, W.vc, false);
    // 3. speculative requests, by their own allocator, masked by the grants above
    if (any(spec)) allocate_switch(M{}, spec, p_.spec_sa, W.spec, W.spec_vc, true);
  }
}

template <int kV, int kB, int kD, int kW>
[[gnu::always_inline]] inline void Network::grant_switch(const Shape<kV, kB, kD, kW>& S, int r, int p,
                                                         int o, int v, int64_t t, int64_t depart) {
  RouterState<kW>& st = state<kW>();
  const size_t base = static_cast<size_t>(r) * S.VCS;
  auto& R = S.routers[r];
  const int i = p * S.V + v;
  const size_t gvc = base + i;
  auto& q = S.vcs[gvc];
  const Flit& f = S.buf[gvc * S.B + q.head];  // stays in the buffer until a later arrival
  q.head = static_cast<uint16_t>(q.head + 1 == S.B ? 0 : q.head + 1);
  --q.count;
  occ_change(r * S.NP + p, -1);
  --ctr_.buffered_flits;
  const int w = q.outvc;
  const int j = o * S.V + w;
  ++S.used[base + j];
  set_bit(R.busy, j);
  const bool tail = f.flags & kTail;
  if (tail) {
    if (!S.kPlain && wait_tail_) set_bit(st.tail_sent[r], j);  // released when its credits are back
    else clear_bit(R.alloc, j);
  }
  // credit upstream
  const Channel& up = ch_.in[r * S.NP + p];
  if (up.node >= 0) src_credit_.push((t + 1 + up.latency) & wheel_mask_, up.node * S.V + v);
  else credit_.push((t + off_credit_ + up.latency) & wheel_mask_, (up.router << kVcShift) + up.port * S.V + v);
  // flit out: copied whole into the channel, then stamped (one more hop, its new VC)
  const Channel& down = ch_.out[r * S.NP + o];
  Flit* out;
  if (down.node >= 0) {
    Ejection& e = eject_.add((depart + off_flit_ + down.latency) & wheel_mask_);
    e.node = down.node;
    out = &e.flit;
  } else {
    Arrival& a = arrive_.add((depart + off_flit_ + down.latency) & wheel_mask_);
    a.r = down.router;
    a.i = down.port * S.V + w;
    out = &a.flit;
    ++link_cnt_[r * S.NP + o];
  }
  *out = f;
  ++out->hops;
  out->vc = static_cast<uint8_t>(w);
  last_move_ = t;
  // next state of the input VC
  clear_bit(R.sa_now, i);
  if (q.count == 0) {
    if (tail) q.state = kIdle;  // else stays active; the next arrival makes it eligible
  } else if (tail) {
    q.state = kRouting;  // the next flit is a head: RC at t+1
    set_bit(R.rc_next, i);
  } else {
    set_bit(R.sa_next, i);  // next flit: SA at t+1
  }
}

int64_t Network::vc_priority(size_t gvc, int head, int count) const {
  const size_t at = gvc * B_ + head;
  const Flit& f = buf_[at];
  const uint32_t now = static_cast<uint32_t>(now_);
  switch (prio_) {
    case Priority::Age: return now_ - pkts_[f.pkt].ctime;  // older first
    case Priority::NetworkAge: return now - f.itime;       // (modulo 2^32 cycles)
    case Priority::LocalAge: return now - arrival_[at];
    case Priority::QueueLength: return count;
    case Priority::HopCount: return f.hops;
    case Priority::Sequence: return -pkt_seq_[f.pkt];
    default: return 0;
  }
}

// ----------------------------------------------------------------- nodes
int32_t Network::alloc_packet() {
  if (!free_pkts_.empty()) {
    const int32_t id = free_pkts_.back();
    free_pkts_.pop_back();
    return id;
  }
  pkts_.push_back(Packet{});
  return static_cast<int32_t>(pkts_.size() - 1);
}

int32_t Network::draw_destination(int node) {
  switch (traffic_) {
    case Traffic::Uniform:
      return static_cast<int32_t>(rng_.below(static_cast<uint32_t>(n_)));
    case Traffic::Hotspot: {
      if (hot_nodes_.size() == 1) return hot_nodes_[0];
      const double u = rng_.uniform() * hot_cum_.back();
      const size_t h = std::upper_bound(hot_cum_.begin(), hot_cum_.end(), u) - hot_cum_.begin();
      return hot_nodes_[std::min(h, hot_nodes_.size() - 1)];
    }
    // BookSim's random patterns that depend on the source (node ids, as its
    // definitions use them).
    case Traffic::Diagonal:  // itself with probability 2/3, else the next node
      return rng_.below(3) < 2 ? node : (node + 1) % n_;
    case Traffic::Asymmetric: {  // the same position in either half of the nodes
      const int half = n_ / 2;
      return node % half + static_cast<int32_t>(coin()) * half;
    }
    case Traffic::Taper64: {  // half uniform, half one of the 9 ids within +-1 row / column
      if (coin()) return static_cast<int32_t>(rng_.below(static_cast<uint32_t>(n_)));
      static constexpr int kNear[9] = {-9, -8, -7, -1, 0, 1, 7, 8, 9};
      return (node + kNear[rng_.below(9)] + n_) % n_;
    }
    case Traffic::BadpermYarc:  // row y of the radix-k xr grid sends to a random node of column y
      return node / traffic_k_ +
             traffic_k_ * static_cast<int32_t>(rng_.below(static_cast<uint32_t>(traffic_k_)));
    default:
      return dest_table_[node];
  }
}

void Network::enqueue(int node, uint64_t entry) {
  if (queued_total_ >= kMaxBacklogPackets) {
    ++ctr_.dropped_packets;
    return;
  }
  auto& q = queue_[node];
  Source& s = src_[node];
  if (qlen_[node] == static_cast<int64_t>(q.size())) {
    std::vector<uint64_t> grown(q.size() * 2);
    for (int64_t i = 0; i < qlen_[node]; ++i) grown[i] = q[(s.qhead + i) & (q.size() - 1)];
    q.swap(grown);
    s.qhead = 0;
  }
  q[(s.qhead + qlen_[node]) & (q.size() - 1)] = entry;  // size is a power of 2
  ++qlen_[node];
  src_busy_[node >> 6] |= uint64_t{1} << (node & 63);
  ++queued_total_;
  ++ctr_.created_packets;
  ctr_.created_flits += P_;
  ctr_.backlog_flits += P_;
  ++ctr_.in_system_packets;
}

void Network::generate(int64_t t) {
  if (!generation_) return;
  if (p_.injection == Injection::OnOff) {
    const double a = p_.cfg.burst_alpha, b = p_.cfg.burst_beta;
    for (int v = 0; v < n_; ++v) {
      Source& s = src_[v];
      const bool fire = s.on && rng_inj_.uniform() < r1_;
      s.on = s.on ? (rng_inj_.uniform() < b ? 0 : 1) : (rng_inj_.uniform() < a ? 1 : 0);
      if (fire) enqueue(v, static_cast<uint64_t>(t));
    }
    return;
  }
  for (int v = 0; v < n_; ++v) {
    Source& s = src_[v];
    while (s.next_gen <= t) {
      enqueue(v, static_cast<uint64_t>(s.next_gen));
      s.next_gen += draw_gap();
    }
  }
}

void Network::materialise(int node, int64_t /*t*/) {
  Source& s = src_[node];
  auto& q = queue_[node];
  const uint64_t e = q[s.qhead];
  s.qhead = (s.qhead + 1) & static_cast<int64_t>(q.size() - 1);
  --qlen_[node];
  --queued_total_;
  const int64_t ctime = static_cast<int64_t>(e & kCtimeMask);
  const int32_t fixed_dst = static_cast<int32_t>(e >> 40) - 1;
  const int32_t id = alloc_packet();
  Packet& pk = pkts_[id];
  pk.ctime = ctime;
  pk.itime = -1;
  pk.src = node;
  pk.dst = fixed_dst >= 0 ? fixed_dst : draw_destination(node);
  pk.inter = -1;
  pk.hops = 0;
  pk.algo = per_router_ ? router_algo_[ch_.inject_router[node]] : static_cast<uint8_t>(routing_);
  pk.phase = 0;
  pk.dateline = 0;
  bool measured = false;
  if (phase_ == Phase::Running) measured = true;
  else if (phase_ == Phase::Draining && ctime < drain_start_) measured = true;
  if (phase_ == Phase::Draining && ctime < drain_start_) --pending_before_drain_;
  pk.measured = measured;
  inflight_flits_ += P_;
  inflight_ctime_sum_ += static_cast<int64_t>(P_) * ctime;
  if (measured) measured_inflight_ += P_;
  if (prio_ == Priority::Sequence) {
    if (pkt_seq_.size() < pkts_.size()) pkt_seq_.resize(pkts_.size());
    pkt_seq_[id] = s.seq++;
  }
  s.cur = id;
  s.sent = 0;
  s.cur_vc = -1;
}

void Network::inject(int64_t t) {
  // the nodes with a queued or partly sent packet, in order (the others have nothing to do)
  for (size_t word = 0; word < src_busy_.size(); ++word)
    for (uint64_t busy = src_busy_[word]; busy; busy &= busy - 1)
      inject_node(static_cast<int>(64 * word) + std::countr_zero(busy), t);
}

void Network::inject_node(int v, int64_t t) {
  Source& s = src_[v];
  if (s.cur < 0) {
    if (qlen_[v] == 0) {  // its queue emptied by measure(): idle
      src_busy_[v >> 6] &= ~(uint64_t{1} << (v & 63));
      return;
    }
    materialise(v, t);
  }
  int32_t* su = &src_used_[static_cast<size_t>(v) * V_];
  if (s.cur_vc < 0) {
    int chosen = -1, lo = 0, hi = V_ - 1;
    injection_vcs(pkts_[s.cur], lo, hi);
    if (s.last_vc < 0) {
      if (!(s.alloc >> lo & 1u) && su[lo] < B_) chosen = lo;
    } else {
      const int n = hi - lo + 1;
      for (int d = 1; d <= n; ++d) {
        const int c = lo + ((s.last_vc - lo + d) % n + n) % n;
        if (!(s.alloc >> c & 1u) && su[c] < B_) { chosen = c; break; }
      }
    }
    if (chosen < 0) return;
    s.cur_vc = static_cast<int16_t>(chosen);
    s.last_vc = static_cast<int16_t>(chosen);
    s.alloc |= 1u << chosen;
  }
  const int c = s.cur_vc;
  if (su[c] >= B_) return;
  const Packet& pk = pkts_[s.cur];
  Flit f;
  f.pkt = s.cur;
  f.itime = static_cast<uint32_t>(t);
  f.dst = static_cast<int16_t>(pk.dst);
  f.src = static_cast<int16_t>(v);
  f.flags = static_cast<uint8_t>((s.sent == 0 ? kHead : 0) | (s.sent == P_ - 1 ? kTail : 0));
  f.vc = static_cast<uint8_t>(c);
  f.hops = 0;
  f.algo = pk.algo;
  arrive_.push((t + 1 + inject_latency(v)) & wheel_mask_, Arrival{inject_vc_[v] >> kVcShift,
                                              (inject_vc_[v] & (kVcMaskBits - 1)) + c, f});
  ++su[c];
  ++ctr_.injected_flits;
  --ctr_.backlog_flits;
  ++ctr_.in_network_flits;
  last_move_ = t;
  if (s.sent == 0) pkts_[s.cur].itime = t;
  if (++s.sent == P_) {
    if (!wait_tail_) s.alloc &= ~(1u << c);  // else released when its credits are back
    s.cur = -1;
    s.cur_vc = -1;
    if (qlen_[v] == 0) src_busy_[v >> 6] &= ~(uint64_t{1} << (v & 63));  // idle
  }
}

void Network::retire(int node, const Flit& f, int64_t t) {
  Packet& pk = pkts_[f.pkt];
  ++ctr_.ejected_flits;
  --ctr_.in_network_flits;
  ctr_.flit_latency_sum += static_cast<uint32_t>(static_cast<uint32_t>(t) - f.itime);
  --inflight_flits_;
  inflight_ctime_sum_ -= pk.ctime;
  if (pk.measured) --measured_inflight_;
  credit_.push((t + off_credit_ + eject_latency(node)) & wheel_mask_, eject_vc_[node] + f.vc);
  last_move_ = t;
  if (!(f.flags & kTail)) return;
  pk.hops = f.hops;  // every flit of a packet traverses the same routers
  const int64_t lat = t - pk.ctime, nlat = t - pk.itime;
  ++ctr_.retired_packets;
  --ctr_.in_system_packets;
  ctr_.packet_latency_sum += lat;
  ++win_pk_;
  win_lat_ += static_cast<double>(lat);
  win_nlat_ += static_cast<double>(nlat);
  win_hops_ += pk.hops;
  if (phase_ == Phase::Warming || phase_ == Phase::Free || pk.measured) {
    ++counted_pk_;
    counted_lat_ += static_cast<double>(lat);
    counted_nlat_ += static_cast<double>(nlat);
    counted_hops_ += pk.hops;
  }
  if (phase_ == Phase::Free)
    win_latencies_.push_back(static_cast<int32_t>(std::min<int64_t>(lat, INT32_MAX)));
  if (record_) delivered_.push_back(DeliveredPacket{pk.src, pk.dst, pk.ctime, pk.itime, t, pk.hops});
  free_pkts_.push_back(f.pkt);
}

// ----------------------------------------------------------------- cycle
// The hot loop is compiled for the common shapes (VCs, buffer depth and
// dimensions known at compile time, so index arithmetic folds to constants and
// shifts) and once generically (0: read from the members); the constructor
// picks one.  Every instance computes exactly the same thing.
template <int kV, int kB, int kD, int kW>
Network::StepFn Network::step_for() {
  if (words_ != kW) return nullptr;
  if constexpr (kV == 0) {
    return &Network::step_impl<0, 0, 0, kW>;
  } else {
    // kD: a k-ary kD-cube (2 kD + 1 ports)
    // the default router (Shape::kPlain): 1-cycle RC and VA, the specialised
    // allocators, no wait_for_tail_credit
    const bool plain = !general_sa_ && !general_va_ && !wait_tail_ &&
                       p_.cfg.routing_delay == 1 && p_.cfg.vc_alloc_delay == 1;
    if (p_.cube() && plain && V_ == kV && B_ == kB && D_ == kD)
      return &Network::step_impl<kV, kB, kD, kW>;
    return nullptr;
  }
}

Network::StepFn Network::pick_step() {
  for (StepFn f : {step_for<4, 8, 2, 1>(), step_for<2, 8, 2, 1>(), step_for<8, 8, 2, 1>(),
                   step_for<4, 4, 2, 1>(), step_for<4, 16, 2, 1>(), step_for<0, 0, 0, 1>(),
                   step_for<0, 0, 0, 2>(), step_for<0, 0, 0, 4>(), step_for<0, 0, 0, 8>()})
    if (f) return f;
  return nullptr;  // not reached: the generic instances take every shape
}

template <int kV, int kB, int kD, int kW>
void Network::step_impl() {
  const Shape<kV, kB, kD, kW> S(*this);
  RouterState<kW>& st = state<kW>();
  const int64_t t = now_;
  const int slot = static_cast<int>(t & wheel_mask_);
  // 1. nodes read ejected flits and injection credits
  for (const Ejection* e = eject_.begin(slot); e != eject_.end(slot); ++e) retire(e->node, e->flit, t);
  eject_.len[slot] = 0;
  for (const int32_t* it = src_credit_.begin(slot); it != src_credit_.end(slot); ++it) {
    const int32_t c = *it;
    if (--src_used_[c] == 0 && !S.kPlain && wait_tail_) {
      Source& s = src_[c / V_];
      const int vc = c % V_;
      if (s.cur_vc != vc) s.alloc &= ~(1u << vc);
    }
  }
  src_credit_.len[slot] = 0;
  // 2. routers latch credits (already delayed by credit_delay) and flits
  for (const int32_t* it = credit_.begin(slot); it != credit_.end(slot); ++it) {
    const int r = *it >> kVcShift, j = *it & (kVcMaskBits - 1);
    const int in_use = --S.used[static_cast<size_t>(r) * S.VCS + j];
    if constexpr (S.kPlain && kW == 1) {
      // the path below without a branch: no credit in use clears j's busy bit
      S.routers[r].busy &= ~(uint64_t{in_use == 0} << j);
    } else if (in_use == 0) {
      auto& R = S.routers[r];
      clear_bit(R.busy, j);
      if (!S.kPlain && wait_tail_ && has(st.tail_sent[r], j)) {  // the tail's credit is back
        clear_bit(st.tail_sent[r], j);
        clear_bit(R.alloc, j);
      }
    }
  }
  credit_.len[slot] = 0;
  for (const Arrival* a = arrive_.begin(slot); a != arrive_.end(slot); ++a)
    buffer_write(S, a->r, a->i, a->flit);
  arrive_.len[slot] = 0;
  // 3. generation, 4. injection
  generate(t);
  inject(t);
  // 6. router internal steps (routers do not read each other's state); with
  // internal_speedup, as many as its running fraction has whole steps (§5b)
  int steps = 1;
  if (!S.kPlain && internal_ != 1.0) {
    partial_ += internal_;
    for (steps = 0; partial_ >= 1.0; ++steps) partial_ -= 1.0;
  }
  for (int s = 0; s < steps; ++s) {
    depart_ = s + 1 < steps ? t - 1 : t;
    for (int r = 0; r < R_; ++r)
      if (S.routers[r].has_work()) router_step(S, r, t);
  }
  ctr_.in_network_integral += ctr_.in_network_flits;
  ctr_.in_system_integral += ctr_.in_system_packets;
  now_ = t + 1;
}

RunStats Network::run(int64_t cycles) {
  if (cycles < 0 || cycles > kMaxCycle || now_ + cycles > kMaxCycle)
    throw std::invalid_argument("cycles must be between 0 and 2^40 (in total) (got " +
                                std::to_string(cycles) + ")");
  RunStats st;
  st.cycles = cycles;
  const int64_t ej0 = ctr_.ejected_flits, inj0 = ctr_.injected_flits;
  std::vector<int64_t> link0 = link_cnt_;
  std::vector<int64_t> occ0(occ_.size());
  for (size_t x = 0; x < occ_.size(); ++x) occ0[x] = occ_[x].at(now_);
  win_pk_ = 0;
  win_lat_ = win_nlat_ = win_hops_ = 0;
  delivered_.clear();
  win_latencies_.clear();
  const int64_t wd = p_.cfg.watchdog_cycles;
  for (int64_t c = 0; c < cycles; ++c) {
    step();
    if (ctr_.in_network_flits > 0 && now_ - 1 - last_move_ >= wd) deadlocked_ = true;
  }
  st.delivered_packets = win_pk_;
  st.latency_sum = win_lat_;
  st.network_latency_sum = win_nlat_;
  st.hops_sum = win_hops_;
  st.delivered_flits = ctr_.ejected_flits - ej0;
  st.injected_flits = ctr_.injected_flits - inj0;
  st.deadlock = deadlocked_;
  const int L = p_.link_ports, ports = R_ * NP_;
  st.link_utilisation.resize(static_cast<size_t>(R_) * L);
  st.buffer_occupancy.resize(ports);
  const double cyc = cycles > 0 ? static_cast<double>(cycles) : 1.0;
  for (int r = 0; r < R_; ++r)
    for (int o = 0; o < L; ++o) {
      const int x = r * NP_ + o;
      st.link_utilisation[r * L + o] = static_cast<float>((link_cnt_[x] - link0[x]) / cyc);
    }
  for (int x = 0; x < ports; ++x)
    st.buffer_occupancy[x] = static_cast<float>((occ_[x].at(now_) - occ0[x]) / (cyc * V_ * B_));
  return st;
}

std::vector<int64_t> Network::backlog_per_node() const {
  std::vector<int64_t> out(n_);
  for (int v = 0; v < n_; ++v)
    out[v] = qlen_[v] * P_ + (src_[v].cur >= 0 ? P_ - src_[v].sent : 0);
  return out;
}

std::vector<int32_t> Network::credits() const {
  std::vector<int32_t> out(used_.size());
  for (size_t x = 0; x < used_.size(); ++x) out[x] = B_ - used_[x];
  return out;
}

std::vector<int32_t> Network::occupancy() const {
  std::vector<int32_t> out(occ_.size());
  for (size_t x = 0; x < occ_.size(); ++x) out[x] = occ_[x].count;
  return out;
}

std::vector<int32_t> Network::destinations() const { return dest_table_; }

}  // namespace archgym::noc
