// The NoC core's configuration: the accepted names, the field table and the
// validation (Params).  The routing names come from the registry (routing.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "noc/noc.hpp"

namespace archgym::noc {

namespace {

std::string join(const std::vector<std::string>& names, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? sep : "") + names[i];
  return out;
}

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

// The index of `value` in `names`; throws "unknown <field> '<value>'; accepted: ...".
int index_of(const std::vector<std::string>& names, const std::string& value, const char* field) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == value) return static_cast<int>(i);
  fail("unknown " + std::string(field) + " '" + value + "'; accepted: " + join(names));
}

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};

// Every item of a number field within [lo, hi] ((lo, hi] if lo_open).
void check_number(const ConfigField& f, double v, bool integer) {
  if (!std::isfinite(v) || v < f.lo || v > f.hi || (f.lo_open && v <= f.lo))
    reject(f, integer ? std::to_string(static_cast<int64_t>(v)) : number(v));
}

void check_field(const ConfigField& f, const Config& c) {
  std::visit(Overloaded{
                 [&](int Config::*m) { check_number(f, c.*m, true); },
                 [&](double Config::*m) { check_number(f, c.*m, false); },
                 [&](bool Config::*) {},
                 [&](uint64_t Config::*) {},
                 [&](std::string Config::*m) { index_of(f.choices(), c.*m, f.name); },
                 [&](std::vector<int> Config::*m) {
                   for (int v : c.*m) check_number(f, v, true);
                 },
                 [&](std::vector<double> Config::*m) {
                   for (double v : c.*m) check_number(f, v, false);
                 },
             },
             f.member);
}

bool is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace

// ----------------------------------------------------------------- names
const std::vector<std::string>& topology_names() {
  static const std::vector<std::string> names = {"mesh", "torus", "fly", "anynet", "fattree", "flatfly",
                                                    "dragonflynew", "cmesh"};
  return names;
}

const std::vector<std::string>& traffic_names() {
  static const std::vector<std::string> names = {"uniform", "transpose", "bitcomp",
                                                 "bitrev",  "shuffle",   "tornado",
                                                 "neighbor", "hotspot",  "randperm",
                                                 "diagonal", "asymmetric", "taper64",
                                                 "badperm_yarc"};
  return names;
}

const std::vector<std::string>& allocator_names() {
  static const std::vector<std::string> names = {"separable_input_first", "islip",
                                                 "separable_output_first", "wavefront",
                                                 "pim", "select", "loa", "max_size"};
  return names;
}

const std::vector<std::string>& spec_allocator_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {"prio"};
    v.insert(v.end(), allocator_names().begin(), allocator_names().end());
    return v;
  }();
  return names;
}

const std::vector<std::string>& sim_type_names() {
  static const std::vector<std::string> names = {"latency", "throughput"};
  return names;
}

const std::vector<std::string>& priority_names() {
  static const std::vector<std::string> names = {"none",         "class",     "age",
                                                 "network_age",  "local_age", "queue_length",
                                                 "hop_count",    "sequence"};
  return names;
}

const std::vector<std::string>& injection_names() {
  static const std::vector<std::string> names = {"bernoulli", "on_off"};
  return names;
}

// ----------------------------------------------------------------- fields
const std::vector<ConfigField>& config_fields() {
  using C = Config;
  static const std::vector<ConfigField> fields = {
      {.name = "topology", .member = &C::topology, .choices = topology_names,
       .doc = "k-ary n-cube: mesh, or torus (wrap-around links, dateline VC classes); fly "
              "(k-ary n-fly, a butterfly); anynet (any graph: anynet_nodes, anynet_channels); fattree "
              "(k-ary n-tree, n levels); flatfly (BookSim's on-chip flattened butterfly: k x k "
              "routers of c nodes, n = 2); dragonflynew (BookSim's dragonfly: k nodes per router, n = 1); "
              "cmesh (BookSim's concentrated mesh: k x k routers of c = 4 nodes, n = 2, with "
              "express channels along its edges)"},
      {.name = "k", .member = &C::k, .lo = 2, .hi = kMaxK,
       .doc = "radix: k routers per dimension (k^n routers, at most MAX_NODES); fly: k inputs "
              "and outputs per router; fattree: k down and k up ports per router"},
      {.name = "n", .member = &C::n, .lo = 1, .hi = kMaxDims,
       .doc = "dimensions: 1 a line or ring, 2 a k x k mesh or torus, 3 a k x k x k one; fly: "
              "stages (k^n nodes); fattree: levels (k^n nodes)"},
      {.name = "c", .member = &C::c, .lo = 1, .hi = kMaxFlatflyConcentration,
       .doc = "flatfly: nodes per router, a square xr * xr (BookSim's concentration c); "
              "cmesh: 4 (BookSim's only c); 1 on every other topology"},
      {.name = "num_vcs", .member = &C::num_vcs, .lo = 1, .hi = kMaxVcs,
       .doc = "virtual channels per port (each routing needs a minimum, see ROUTING_MIN_VCS)"},
      {.name = "vc_buf_size", .member = &C::vc_buf_size, .lo = 1, .hi = kMaxBuf,
       .doc = "flit buffers per VC"},
      {.name = "routing_function", .member = &C::routing_function, .choices = routing_names,
       .doc = "routing function (BookSim's names first)"},
      {.name = "traffic", .member = &C::traffic, .choices = traffic_names,
       .doc = "traffic pattern (BookSim's definitions; bitrev and shuffle need k a power of 2, "
              "taper64 64 nodes; randperm is a random permutation drawn from perm_seed)"},
      {.name = "packet_size", .member = &C::packet_size, .lo = 1, .hi = kMaxPacket,
       .doc = "flits per packet"},
      {.name = "injection_rate", .member = &C::injection_rate, .lo = 0, .hi = 1,
       .doc = "offered load per node and cycle, in flits (or packets, see "
              "injection_rate_uses_flits)"},
      {.name = "injection_rate_uses_flits", .member = &C::injection_rate_uses_flits,
       .doc = "injection_rate counts flits (true) or packets (false)"},
      {.name = "injection_process", .member = &C::injection_process, .choices = injection_names,
       .doc = "bernoulli, or on_off: a two-state Markov source whose rate while on gives a mean "
              "rate of injection_rate (a source on injects every cycle at most)"},
      {.name = "burst_alpha", .member = &C::burst_alpha, .lo = 0, .hi = 1, .lo_open = true,
       .doc = "on_off: P(off -> on) per cycle"},
      {.name = "burst_beta", .member = &C::burst_beta, .lo = 0, .hi = 1, .lo_open = true,
       .doc = "on_off: P(on -> off) per cycle"},
      {.name = "routing_delay", .member = &C::routing_delay, .lo = 0, .hi = kMaxDelay,
       .doc = "cycles of route computation"},
      {.name = "vc_alloc_delay", .member = &C::vc_alloc_delay, .lo = 0, .hi = kMaxDelay,
       .doc = "cycles of VC allocation"},
      {.name = "sw_alloc_delay", .member = &C::sw_alloc_delay, .lo = 1, .hi = kMaxDelay,
       .doc = "cycles of switch allocation"},
      {.name = "st_final_delay", .member = &C::st_final_delay, .lo = 1, .hi = kMaxDelay,
       .doc = "cycles of switch traversal"},
      {.name = "credit_delay", .member = &C::credit_delay, .lo = 0, .hi = kMaxDelay,
       .doc = "extra cycles of a credit's return"},
      {.name = "link_latency", .member = &C::link_latency, .lo = 1, .hi = kMaxDelay,
       .doc = "cycles per mesh link, twice that per torus link, credits alike (archgym's "
              "extension; BookSim's use_noc_latency channels: 1 on a mesh, 2 on a torus)"},
      {.name = "wait_for_tail_credit", .member = &C::wait_for_tail_credit,
       .doc = "an output VC is reallocated only once every credit of the packet that held it "
              "came back (BookSim's wait_for_tail_credit = 1), at routers and sources alike"},
      {.name = "vc_allocator", .member = &C::vc_allocator, .choices = allocator_names,
       .doc = "VC allocator (BookSim's; select is islip, every packet having one priority)"},
      {.name = "sw_allocator", .member = &C::sw_allocator, .choices = allocator_names,
       .doc = "switch allocator (as vc_allocator)"},
      {.name = "alloc_iters", .member = &C::alloc_iters, .lo = 1, .hi = kMaxAllocIters,
       .doc = "iterations of the islip, select and pim allocators (the others make one)"},
      {.name = "input_speedup", .member = &C::input_speedup, .lo = 1, .hi = kMaxSpeedup,
       .doc = "crossbar inputs per input port: VC v of port p uses input p * s + v mod s"},
      {.name = "output_speedup", .member = &C::output_speedup, .lo = 1, .hi = kMaxSpeedup,
       .doc = "crossbar outputs per output port; the flits that reach one output in a cycle "
              "queue for its channel, which takes one per cycle"},
      {.name = "internal_speedup", .member = &C::internal_speedup, .lo = 1,
       .hi = kMaxInternalSpeedup,
       .doc = "router steps (route, VC and switch allocation) per cycle on average, channels "
              "still one flit a cycle: a cycle takes the steps its accumulated fraction allows "
              "(1.5: 1, 2, 1, 2 ...); a flit granted the switch before the cycle's last step "
              "leaves in that cycle"},
      {.name = "speculative", .member = &C::speculative,
       .doc = "speculative switch allocation: a head flit requests the switch in its VC "
              "allocation cycle; the grant is used if it won a VC with a credit"},
      {.name = "spec_sw_allocator", .member = &C::spec_sw_allocator,
       .choices = spec_allocator_names,
       .doc = "speculative requests' allocator: prio (with the others, ranked below them) or "
              "an allocator of their own whose grants stand where no other grant (or request, "
              "spec_mask_by_reqs) is on their crossbar input or output"},
      {.name = "spec_check_elig", .member = &C::spec_check_elig,
       .doc = "speculation: request only with a free VC in the route set (false: BookSim "
              "then never requests, the run of speculative = false)"},
      {.name = "spec_check_cred", .member = &C::spec_check_cred,
       .doc = "speculation: request only with a free VC of the route set that has a credit"},
      {.name = "spec_mask_by_reqs", .member = &C::spec_mask_by_reqs,
       .doc = "speculation with an allocator of its own: a non-speculative request (not only "
              "a grant) on a crossbar input or output cancels speculative grants there"},
      {.name = "hold_switch_for_packet", .member = &C::hold_switch_for_packet,
       .doc = "a packet keeps its crossbar input and output from its head's switch grant to "
              "its tail's, while it has a flit and a credit each cycle"},
      {.name = "priority", .member = &C::priority, .choices = priority_names,
       .doc = "packet priority in the separable allocators (BookSim's): none/class all equal; "
              "age (oldest created first), network_age (flit injected first), local_age (flit "
              "buffered first in the router), queue_length (fullest input VC), hop_count (most "
              "hops), sequence (lowest per-source packet number)"},
      {.name = "warmup_periods", .member = &C::warmup_periods, .lo = 1, .hi = 1000,
       .doc = "measure(): warm-up sample periods"},
      {.name = "sample_period", .member = &C::sample_period, .lo = 1, .hi = 10'000'000,
       .doc = "measure(): cycles per sample period"},
      {.name = "max_samples", .member = &C::max_samples, .lo = 2, .hi = 100'000,
       .doc = "measure(): sample periods at most, warm-up included (more than warmup_periods)"},
      {.name = "latency_thres", .member = &C::latency_thres, .lo = 0, .hi = 1e12,
       .lo_open = true, .doc = "measure(): abort as unstable past this average latency"},
      {.name = "stopping_thres", .member = &C::stopping_thres, .lo = 0, .hi = 1e6,
       .doc = "measure(): converged when latency changes less than this fraction"},
      {.name = "acc_stopping_thres", .member = &C::acc_stopping_thres, .lo = 0, .hi = 1e6,
       .doc = "measure(): converged when the accepted rate changes less than this fraction"},
      {.name = "seed", .member = &C::seed, .doc = "random seed"},
      {.name = "perm_seed", .member = &C::perm_seed,
       .doc = "randperm traffic: the seed of its permutation (independent of seed, as BookSim)"},
      {.name = "traffic_radix", .member = &C::traffic_radix, .lo = 0, .hi = kMaxNodes,
       .doc = "tornado and neighbor traffic: the radix r of the digits they shift, the "
              "parameter of BookSim's tornado(r) and neighbor(r): the n low radix-r digits of "
              "the node id, each plus the offset mod r (0: r = k, the coordinates; 1 <= r <= k; on a "
              "dragonflynew r <= its nodes)"},
      {.name = "hotspot_nodes", .member = &C::hotspot_nodes, .lo = 0, .hi = kMaxNodes - 1,
       .doc = "hotspot traffic: node ids below k^n (every packet goes to one of them; "
              "empty: the centre node, k/2 in every dimension)"},
      {.name = "hotspot_rates", .member = &C::hotspot_rates, .lo = 0, .hi = 1e12, .lo_open = true,
       .doc = "hotspot traffic: relative weights, one per hotspot node (empty: equal)"},
      {.name = "sim_type", .member = &C::sim_type, .choices = sim_type_names,
       .doc = "measure(): latency (BookSim's default: abort past latency_thres, converge on "
              "latency and accepted rate, drain every measured packet) or throughput (no abort, "
              "converge on the accepted rate alone, no drain of measured packets: the figures "
              "of a network past saturation)"},
      {.name = "watchdog_cycles", .member = &C::watchdog_cycles, .lo = 200, .hi = 100'000'000,
       .doc = "deadlock: no flit moved for this many cycles while flits are in the network"},
      {.name = "max_drain_periods", .member = &C::max_drain_periods, .lo = 1, .hi = 1'000'000,
       .doc = "measure(): cap on the drain, in sample periods"},
      {.name = "anynet_nodes", .member = &C::anynet_nodes, .lo = 0, .hi = kMaxNodes - 1,
       .doc = "anynet: the router of node 0, 1, ... (its injection and ejection channel)"},
      {.name = "anynet_channels", .member = &C::anynet_channels, .lo = 0, .hi = kMaxNodes - 1,
       .doc = "anynet: the channels between routers, (from, to, latency in cycles) triples "
              "flattened; every channel needs one back"},
  };
  return fields;
}

const ConfigField& config_field(const std::string& name) {
  for (const ConfigField& f : config_fields())
    if (name == f.name) return f;
  std::vector<std::string> names;
  for (const ConfigField& f : config_fields()) names.push_back(f.name);
  fail("unknown configuration field '" + name + "'; accepted: " + join(names));
}

std::string accepted(const ConfigField& f) {
  const std::string range = "between " + std::to_string(static_cast<int64_t>(f.lo)) + " and " +
                            std::to_string(static_cast<int64_t>(f.hi));
  std::string interval = f.lo_open ? "(" : "[";
  interval += number(f.lo) + ", " + number(f.hi) + "]";
  return std::visit(
      Overloaded{
          [&](int Config::*) { return "an integer " + range; },
          [&](double Config::*) { return "a number in " + interval; },
          [&](bool Config::*) { return std::string("true or false"); },
          [&](uint64_t Config::*) {
            return "an integer between 0 and " +
                   std::to_string(std::numeric_limits<uint64_t>::max());
          },
          [&](std::string Config::*) { return "one of: " + join(f.choices()); },
          [&](std::vector<int> Config::*) { return "a list of integers " + range; },
          [&](std::vector<double> Config::*) { return "a list of numbers in " + interval; },
      },
      f.member);
}

void reject(const ConfigField& f, const std::string& got) {
  if (f.choices) fail("unknown " + std::string(f.name) + " " + got + "; accepted: " + join(f.choices()));
  fail(std::string(f.name) + " must be " + accepted(f) + " (got " + got + ")");
}

// ----------------------------------------------------------------- routings and traffic
int parse_routing(const std::string& name, const char* field) {
  return index_of(routing_names(), name, field);
}

int min_vcs(const RoutingFunction& rf, Topology t, int k, int dims, bool per_router) {
  const int need = (per_router ? rf.per_router_min_vcs : rf.min_vcs)[static_cast<int>(t)];
  int classes = 1;
  if (rf.vc_classes == VcClasses::PerRadix) classes = k;
  if (rf.vc_classes == VcClasses::PerNode)
    for (int d = 0; d < dims; ++d) classes *= k;
  return need * classes;
}

// BookSim's ugal_pni on a flatfly asserts k = c (one VC class per destination port).
void check_routing_concentration(int id, Topology t, int k, int c, const char* field) {
  if (t == Topology::Flatfly && std::string(routing_functions()[id].name) == "ugal_pni" && c != k)
    fail(std::string(field) + " 'ugal_pni' runs on a flatfly only with c = k (BookSim asserts it); "
         "k = " + std::to_string(k) + ", c = " + std::to_string(c));
}

void check_routing(int id, Topology t, int k, int dims, int V, const char* field,
                   bool per_router) {
  const RoutingFunction& rf = routing_functions()[id];
  const int ti = static_cast<int>(t);
  const int need = min_vcs(rf, t, k, dims, per_router);
  if (need == 0) {
    std::vector<std::string> where, alternatives;
    for (int u = 0; u < static_cast<int>(Topology::Count); ++u)
      if (rf.min_vcs[u] > 0) where.push_back("a " + topology_names()[u]);
    for (const RoutingFunction& other : routing_functions())
      if (other.min_vcs[ti] > 0) alternatives.push_back(other.name);
    fail(std::string(field) + " '" + rf.name + "' is only available on " + join(where, " or ") +
         "; on a " + topology_names()[ti] + " use one of: " + join(alternatives));
  }
  if (dims != 2 && !rf.any_dims) {
    std::vector<std::string> alternatives;
    for (const RoutingFunction& other : routing_functions())
      if (other.any_dims && other.min_vcs[static_cast<int>(t)] > 0) alternatives.push_back(other.name);
    fail(std::string(field) + " '" + rf.name + "' is only available on 2-dimensional networks; "
         "with n = " + std::to_string(dims) + " use one of: " + join(alternatives));
  }
  if (rf.max_k[ti] > 0 && k > rf.max_k[ti])
    fail(std::string(field) + " '" + rf.name + "' runs on a " + topology_names()[ti] +
         " only with k <= " + std::to_string(rf.max_k[ti]) + " (BookSim fails an assertion on "
         "larger rings); k = " + std::to_string(k));
  // cmesh: dor and xy_yx take the express channels (topology.cpp), none on an odd k
  if (t == Topology::Cmesh && k % 2 &&
      (std::string(rf.name) == "dor" || std::string(rf.name) == "xy_yx"))
    fail(std::string(field) + " '" + rf.name + "' takes a cmesh's express channels, which need "
         "an even k (BookSim fails on an odd k); with k = " + std::to_string(k) + " use " +
         rf.name + "_no_express");
  if (V < need) {
    const char* per = rf.vc_classes == VcClasses::PerNode    ? " (VCs of its own for each of the k^n nodes)"
                      : rf.vc_classes == VcClasses::PerRadix ? " (VCs of its own for each of the k coordinates)"
                                                             : "";
    fail(std::string(field) + " '" + rf.name + "' needs at least " + std::to_string(need) +
         " VCs on a " + topology_names()[ti] + (rf.vc_classes == VcClasses::None ? "" :
         " with k = " + std::to_string(k) + ", n = " + std::to_string(dims)) + per +
         " (num_vcs = " + std::to_string(V) + ")");
  }
  if (!per_router && rf.max_vcs[ti] > 0 && V > rf.max_vcs[ti])
    fail(std::string(field) + " '" + rf.name + "' runs on a " + topology_names()[ti] +
         " only with " + (rf.max_vcs[ti] == need ? "exactly " : "at most ") +
         std::to_string(rf.max_vcs[ti]) + " VCs, as BookSim (num_vcs = " + std::to_string(V) + ")");
  const int refused = per_router ? 0 : rf.refused_vcs[ti];
  if (V == refused)
    fail(std::string(field) + " '" + rf.name + "' does not run with " + std::to_string(V) +
         " VCs on a " + topology_names()[ti] + " (as in BookSim); use " +
         std::to_string(need) + " or at least " + std::to_string(refused + 1));
}

Topology parse_topology(const std::string& name) {
  return static_cast<Topology>(index_of(topology_names(), name, "topology"));
}

Traffic parse_traffic(const std::string& name) {
  return static_cast<Traffic>(index_of(traffic_names(), name, "traffic"));
}

namespace {
// k^n, exact: k <= kMaxK and n <= kMaxDims give at most 32^10 = 2^50.
int64_t cube_nodes(int k, int dims) {
  int64_t nodes = 1;
  for (int d = 0; d < dims; ++d) nodes *= k;
  return nodes;
}
}  // namespace

int64_t shape_nodes(Topology t, int k, int n, int c) {
  switch (t) {
    case Topology::Flatfly:
    case Topology::Cmesh:
      return int64_t{c} * k * k;
    case Topology::Dragonfly:  // k nodes per router, 2k routers per group, 2k^2 + 1 groups
      return int64_t{k} * 2 * k * (2 * int64_t{k} * k + 1);
    default:
      return cube_nodes(k, n);
  }
}

int traffic_side(Topology t, int k, int c) {
  if (t == Topology::Cmesh) return kCmeshSide * k;
  if (t == Topology::Flatfly) return flatfly_side(c) * k;
  return k;
}

int64_t shift_digits(int64_t v, int r, int digits, int shift) {
  constexpr int64_t kFar = int64_t{1} << 40;  // beyond every network: digits above it saturate
  int64_t d = 0;
  for (int64_t i = 0, mult = 1; i < digits; ++i, v /= r) {
    const int64_t digit = (v % r + shift) % r;
    if (mult == kFar) {
      if (digit) return d + kFar;
      continue;
    }
    d += digit * mult;
    mult = std::min(mult * r, kFar);
  }
  return d;
}

void check_traffic(Traffic tr, Topology t, int k, int dims, int c, int64_t nodes, int radix) {
  const std::string name = std::string("traffic '") + traffic_names()[static_cast<int>(tr)] + "'";
  const bool by_node = tr == Traffic::Uniform || tr == Traffic::Hotspot ||
                       tr == Traffic::Randperm || tr == Traffic::Diagonal ||
                       tr == Traffic::Asymmetric;
  const bool bits = tr == Traffic::Transpose || tr == Traffic::Bitcomp || tr == Traffic::Bitrev ||
                    tr == Traffic::Shuffle || tr == Traffic::Taper64;
  if (t == Topology::Dragonfly && bits)
    fail(name + " is not defined on a dragonflynew (its node count is never a power of 2); use one "
         "of: uniform, tornado, neighbor, hotspot, randperm, diagonal, asymmetric, badperm_yarc");
  if (by_node) return;
  if (t == Topology::Anynet && nodes == 0)
    fail(name + " depends on the node count, unknown here on an anynet; on an anynet use one of: "
         "uniform, hotspot, randperm, diagonal, asymmetric (or give its graph to NocConfig)");
  if (nodes == 0) nodes = shape_nodes(t, k, dims, c);
  const bool pow2 = nodes <= kMaxNodes && is_pow2(static_cast<int>(nodes));
  // a network with coordinates: BookSim's bit patterns on a power-of-2 k-ary n-cube are
  // those of the coordinates, which archgym also takes on other radices
  const bool cube_like = t != Topology::Anynet && nodes == shape_nodes(t, k, dims, c);
  const bool grid = t != Topology::Anynet && dims == 2;  // a 2-D grid of radix traffic_side
  if ((tr == Traffic::Bitrev || tr == Traffic::Shuffle || (tr == Traffic::Bitcomp && !cube_like)) &&
      !pow2)
    fail(name + (t == Topology::Anynet || t == Topology::Flatfly || t == Topology::Cmesh
                     ? " needs a power-of-2 number of nodes (BookSim's bit permutations; this " +
                           topology_names()[static_cast<int>(t)] + " has " + std::to_string(nodes) + ")"
                     : " needs k to be a power of 2 (k = " + std::to_string(k) + ")"));
  if (tr == Traffic::Transpose && !grid) {
    int b = 0;
    while ((int64_t{1} << b) < nodes) ++b;
    if (!pow2 || b % 2)
      fail(name + (t == Topology::Anynet ? " needs" : " needs a 2-dimensional network or") +
           " a number of nodes that is an even power of 2 (it swaps the two halves of the node "
           "id's bits, as BookSim; " + (t == Topology::Anynet ? "" : "n = " + std::to_string(dims) + ", ") +
           std::to_string(nodes) + " nodes)");
  }
  if (tr == Traffic::Taper64 && nodes != 64)
    fail("traffic 'taper64' needs exactly 64 nodes (this network has " + std::to_string(nodes) + ")");
  // tornado, neighbor, badperm_yarc: digits of radix traffic_side; BookSim stops at the first
  // destination beyond the nodes ("Incorrect packet destination").  A radix over its bound is
  // reported by Params.
  const int side = traffic_side(t, k, c);
  int64_t beyond = -1, from = 0;
  if ((tr == Traffic::Tornado || tr == Traffic::Neighbor) &&
      radix <= (t == Topology::Dragonfly ? nodes : k)) {
    const int r = (radix ? radix : k) * side / k;
    const int shift = tr == Traffic::Tornado ? (r + 1) / 2 - 1 : 1;
    for (int64_t v = 0; v < std::min<int64_t>(nodes, int64_t{1} << 20) && beyond < 0; ++v)
      if (shift_digits(v, r, dims, shift) >= nodes) beyond = shift_digits(v, r, dims, shift), from = v;
  }
  if (tr == Traffic::BadpermYarc && (nodes - 1) / side + int64_t{side} * (side - 1) >= nodes) {
    from = nodes - 1;
    beyond = from / side + int64_t{side} * (side - 1);
  }
  if (beyond >= 0)
    fail(name + " would send node " + std::to_string(from) + " to node " + std::to_string(beyond) +
         ", beyond the " + std::to_string(nodes) + " nodes (its digits have radix " +
         std::to_string(tr == Traffic::BadpermYarc ? side : (radix ? radix : k) * side / k) +
         "; BookSim stops: Incorrect packet destination)");
}

// ----------------------------------------------------------------- validation
Params::Params(const Config& c) : cfg(c) {
  for (const ConfigField& f : config_fields()) check_field(f, c);
  // the rules between fields
  topology = parse_topology(c.topology);
  routing = parse_routing(c.routing_function);
  dims = c.n;
  const int64_t k_to_n = cube_nodes(c.k, dims);
  nodes = static_cast<int>(std::min<int64_t>(k_to_n, kMaxNodes + 1));  // checked below
  if (topology == Topology::Dragonfly) {
    if (dims != 1)
      fail("n must be 1 on a dragonflynew (BookSim's; got n = " + std::to_string(dims) + ")");
    if (c.k > kMaxDragonflyK)
      fail("k must be at most " + std::to_string(kMaxDragonflyK) + " on a dragonflynew (got " +
           std::to_string(c.k) + ")");
    if (c.link_latency != 1)
      fail("link_latency must be 1 on a dragonflynew: its channels take BookSim's " +
           std::to_string(kDragonflyLocalLatency) + " (local) and " +
           std::to_string(kDragonflyGlobalLatency) + " (global) cycles");
    nodes = static_cast<int>(shape_nodes(topology, c.k, dims, c.c));
    routers = nodes / c.k;
  }
  if (topology != Topology::Anynet && topology != Topology::Dragonfly && k_to_n > kMaxNodes)
    fail("k^n must be at most " + std::to_string(kMaxNodes) + " nodes (k = " +
         std::to_string(c.k) + ", n = " + std::to_string(dims) + ": " + std::to_string(k_to_n) + ")");
  if (topology != Topology::Flatfly && topology != Topology::Cmesh && c.c != 1)
    fail("c (nodes per router) applies to a flatfly or cmesh; topology = " + c.topology + " needs c = 1 "
         "(got " + std::to_string(c.c) + ")");
  if (topology != Topology::Anynet && (!c.anynet_nodes.empty() || !c.anynet_channels.empty()))
    fail("anynet_nodes and anynet_channels describe an anynet; topology = " + c.topology);
  switch (topology) {
    case Topology::Fly:  // n stages of k^(n-1) routers of k ports
      routers = nodes / c.k * dims;
      ports = link_ports = c.k;
      break;
    case Topology::Fattree:  // n levels of k^(n-1) routers of k down and k up ports
      routers = nodes / c.k * dims;
      ports = link_ports = 2 * c.k;
      break;
    case Topology::Flatfly:  // k x k routers of c nodes, each linked to its row and column
      check_flatfly(c, dims, nodes);
      routers = c.k * c.k;
      ports = link_ports = c.c + 2 * (c.k - 1);
      break;
    case Topology::Cmesh:  // k x k routers of 4 nodes, a mesh's 4 link ports (or express)
      check_cmesh(c, dims, nodes);
      routers = c.k * c.k;
      ports = link_ports = kCmeshConcentration + 4;
      break;
    case Topology::Anynet:
      check_anynet(c, nodes, routers, ports);
      link_ports = ports;
      break;
    case Topology::Dragonfly:  // p nodes, a - 1 local and h global channels
      ports = link_ports = 4 * c.k - 1;
      break;
    default:
      routers = nodes;
      ports = 2 * dims + 1;
      link_ports = 2 * dims;
  }
  if (ports > kMaxPorts)
    fail("a router may have at most " + std::to_string(kMaxPorts) + " ports (this " + c.topology +
         " needs " + std::to_string(ports) + ")");
  if (ports * c.num_vcs > kVcMaskBits)
    fail("num_vcs must be at most " + std::to_string(kVcMaskBits / ports) +
         (cube() ? " with n = " + std::to_string(dims) : " on this " + c.topology) + " (" +
         std::to_string(ports) + " ports of num_vcs VCs fit " + std::to_string(kVcMaskBits) + "; got " +
         std::to_string(c.num_vcs) + ")");
  for (const auto& [name, speedup] : {std::pair{"input_speedup", c.input_speedup},
                                      std::pair{"output_speedup", c.output_speedup}})
    if (ports * speedup > 64)
      fail(std::string(name) + " must be at most " + std::to_string(64 / ports) + " on this " +
           c.topology + " (" + std::to_string(ports) + " ports times the speedup fit 64 crossbar ports; got " +
           std::to_string(speedup) + ")");
  if (c.internal_speedup != 1.0)
    for (const auto& [name, delay] :
         {std::pair{"routing_delay", c.routing_delay}, std::pair{"vc_alloc_delay", c.vc_alloc_delay},
          std::pair{"sw_alloc_delay", c.sw_alloc_delay}, std::pair{"st_final_delay", c.st_final_delay}})
      if (delay > 1)
        fail(std::string(name) + " must be at most 1 with internal_speedup other than 1.0 (longer "
             "pipeline stages are not modelled with it; got " + std::to_string(delay) + ")");
  check_routing(routing, topology, c.k, dims, c.num_vcs);
  check_routing_concentration(routing, topology, c.k, c.c);
  traffic = parse_traffic(c.traffic);
  check_traffic(traffic, topology, c.k, dims, c.c, nodes, c.traffic_radix);
  injection = static_cast<Injection>(index_of(injection_names(), c.injection_process,
                                              "injection_process"));
  sim_type = static_cast<SimType>(index_of(sim_type_names(), c.sim_type, "sim_type"));
  va = static_cast<Allocator>(index_of(allocator_names(), c.vc_allocator, "vc_allocator"));
  sa = static_cast<Allocator>(index_of(allocator_names(), c.sw_allocator, "sw_allocator"));
  const int spec = index_of(spec_allocator_names(), c.spec_sw_allocator, "spec_sw_allocator");
  spec_prio = spec == 0;
  spec_sa = spec_prio ? sa : static_cast<Allocator>(spec - 1);
  priority = static_cast<Priority>(index_of(priority_names(), c.priority, "priority"));
  if (c.max_samples <= c.warmup_periods)
    fail("max_samples must be more than warmup_periods (max_samples = " +
         std::to_string(c.max_samples) + ", warmup_periods = " +
         std::to_string(c.warmup_periods) + ")");
  k = c.k;
  V = c.num_vcs;
  B = c.vc_buf_size;
  P = c.packet_size;
  if (!c.hotspot_rates.empty() && c.hotspot_rates.size() != c.hotspot_nodes.size())
    fail("hotspot_rates must be empty or have one weight per hotspot node (" +
         std::to_string(c.hotspot_nodes.size()) + " nodes, " +
         std::to_string(c.hotspot_rates.size()) + " rates)");
  if (topology == Topology::Dragonfly && c.traffic_radix > nodes)
    fail("traffic_radix must be at most the " + std::to_string(nodes) +
         " nodes of this dragonflynew (got " + std::to_string(c.traffic_radix) + ")");
  if (topology != Topology::Dragonfly && c.traffic_radix > c.k)
    fail("traffic_radix must be at most k (r^n destinations must be nodes; k = " +
         std::to_string(c.k) + ", got " + std::to_string(c.traffic_radix) + ")");
  if ((topology == Topology::Anynet || topology == Topology::Flatfly ||
       topology == Topology::Cmesh) &&
      traffic == Traffic::Hotspot && c.hotspot_nodes.empty())
    fail("hotspot traffic on a" + std::string(topology == Topology::Anynet ? "n " : " ") +
         c.topology + " needs hotspot_nodes (it has no centre node)");
  for (int h : c.hotspot_nodes)
    if (h >= nodes)
      fail("hotspot_nodes must be node ids between 0 and " + std::to_string(nodes - 1) + " (got " +
           std::to_string(h) + ")");
  packet_prob = c.injection_rate_uses_flits ? c.injection_rate / P : c.injection_rate;
}

}  // namespace archgym::noc
