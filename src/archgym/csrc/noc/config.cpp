// Names and validation of the NoC core's configuration.
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "noc/noc.hpp"

namespace archgym::noc {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

template <typename E>
E parse_name(const std::string& value, const std::vector<std::string>& names, const char* field) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == value) return static_cast<E>(i);
  throw std::invalid_argument(std::string(field) + " '" + value + "' is unknown; accepted: " +
                              join(names));
}

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

void check_int(const char* field, int value, int lo, int hi) {
  if (value < lo || value > hi)
    fail(std::string(field) + " must be between " + std::to_string(lo) + " and " +
         std::to_string(hi) + " (got " + std::to_string(value) + ")");
}

void check_real(const char* field, double value, double lo, double hi, bool lo_open = false) {
  if (!std::isfinite(value) || value < lo || value > hi || (lo_open && value <= lo)) {
    std::ostringstream os;
    os << field << " must be a number " << (lo_open ? "in (" : "in [") << lo << ", " << hi
       << "] (got " << value << ")";
    fail(os.str());
  }
}

bool is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace

const std::vector<std::string>& routing_names() {
  static const std::vector<std::string> names = {
      "dor",       "yx",         "xy_yx",          "adaptive_xy_yx",
      "min_adapt", "duato",      "random_min",     "romm",
      "valiant",   "west_first", "north_last",     "negative_first",
      "odd_even",  "west_first_oblivious", "north_last_oblivious",
      "negative_first_oblivious", "odd_even_oblivious"};
  return names;
}

const std::vector<std::string>& traffic_names() {
  static const std::vector<std::string> names = {"uniform", "transpose", "bitcomp",
                                                 "bitrev",  "shuffle",   "tornado",
                                                 "neighbor", "hotspot",  "randperm"};
  return names;
}

const std::vector<std::string>& per_router_routing_names() {
  static const std::vector<std::string> names = {"dor", "min_adapt", "duato", "random_min"};
  return names;
}

Routing parse_routing(const std::string& name, const char* field) {
  return parse_name<Routing>(name, routing_names(), field);
}

Traffic parse_traffic(const std::string& name) {
  return parse_name<Traffic>(name, traffic_names(), "traffic");
}

int min_vcs(Routing r, Topology t) {
  const bool torus = t == Topology::Torus;
  switch (r) {
    case Routing::Dor:
    case Routing::Yx:
      return torus ? 2 : 1;
    case Routing::XyYx:
    case Routing::AdaptiveXyYx:
      return torus ? 4 : 2;
    case Routing::MinAdapt:
    case Routing::Duato:
    case Routing::RandomMin:
      return torus ? 3 : 2;
    case Routing::Romm:
    case Routing::Valiant:
      return torus ? -1 : 2;
    default:  // turn models
      return torus ? -1 : 1;
  }
}

void check_routing(Routing r, Topology t, int V, const char* field) {
  const int need = min_vcs(r, t);
  const std::string& name = routing_names()[static_cast<int>(r)];
  if (need < 0)
    fail(std::string(field) + " '" + name +
         "' is only available on a mesh; on a torus use one of: dor, yx, xy_yx, "
         "adaptive_xy_yx, min_adapt, duato, random_min");
  if (V < need)
    fail(std::string(field) + " '" + name + "' needs at least " + std::to_string(need) +
         " VCs on a " + (t == Topology::Torus ? "torus" : "mesh") + " (num_vcs = " +
         std::to_string(V) + ")");
}

void check_traffic(Traffic tr, int k) {
  if ((tr == Traffic::Bitrev || tr == Traffic::Shuffle) && !is_pow2(k))
    fail(std::string("traffic '") + traffic_names()[static_cast<int>(tr)] +
         "' needs k to be a power of 2 (k = " + std::to_string(k) + ")");
}

Params::Params(const Config& c) : cfg(c) {
  topology = parse_name<Topology>(c.topology, {"mesh", "torus"}, "topology");
  check_int("k", c.k, 2, kMaxK);
  check_int("num_vcs", c.num_vcs, 1, kMaxVcs);
  check_int("vc_buf_size", c.vc_buf_size, 1, kMaxBuf);
  routing = parse_routing(c.routing_function);
  check_routing(routing, topology, c.num_vcs);
  traffic = parse_traffic(c.traffic);
  check_traffic(traffic, c.k);
  check_int("packet_size", c.packet_size, 1, kMaxPacket);
  check_real("injection_rate", c.injection_rate, 0.0, 1.0);
  injection = parse_name<Injection>(c.injection_process, {"bernoulli", "on_off"},
                                    "injection_process");
  check_real("burst_alpha", c.burst_alpha, 0.0, 1.0, true);
  check_real("burst_beta", c.burst_beta, 0.0, 1.0, true);
  check_int("routing_delay", c.routing_delay, 0, kMaxDelay);
  check_int("vc_alloc_delay", c.vc_alloc_delay, 0, kMaxDelay);
  check_int("sw_alloc_delay", c.sw_alloc_delay, 1, kMaxDelay);
  check_int("st_final_delay", c.st_final_delay, 1, kMaxDelay);
  check_int("credit_delay", c.credit_delay, 0, kMaxDelay);
  check_int("link_latency", c.link_latency, 1, kMaxDelay);
  const std::vector<std::string> allocs = {"separable_input_first", "islip"};
  va = parse_name<Allocator>(c.vc_allocator, allocs, "vc_allocator");
  sa = parse_name<Allocator>(c.sw_allocator, allocs, "sw_allocator");
  check_int("sample_period", c.sample_period, 1, 10'000'000);
  check_int("warmup_periods", c.warmup_periods, 1, 1000);
  check_int("max_samples", c.max_samples, c.warmup_periods + 1, 100'000);
  check_real("latency_thres", c.latency_thres, 0.0, 1e12, true);
  check_real("stopping_thres", c.stopping_thres, 0.0, 1e6);
  check_real("acc_stopping_thres", c.acc_stopping_thres, 0.0, 1e6);
  check_int("watchdog_cycles", c.watchdog_cycles, 200, 100'000'000);
  check_int("max_drain_periods", c.max_drain_periods, 1, 1'000'000);
  k = c.k;
  n = c.k * c.k;
  V = c.num_vcs;
  B = c.vc_buf_size;
  P = c.packet_size;
  if (!c.hotspot_rates.empty() && c.hotspot_rates.size() != c.hotspot_nodes.size())
    fail("hotspot_rates must be empty or have one weight per hotspot node (" +
         std::to_string(c.hotspot_nodes.size()) + " nodes, " +
         std::to_string(c.hotspot_rates.size()) + " rates)");
  for (int h : c.hotspot_nodes)
    if (h < 0 || h >= n)
      fail("hotspot_nodes must be node ids between 0 and " + std::to_string(n - 1) + " (got " +
           std::to_string(h) + ")");
  for (double w : c.hotspot_rates) check_real("hotspot_rates", w, 0.0, 1e12, true);
  packet_prob = c.injection_rate_uses_flits ? c.injection_rate / P : c.injection_rate;
  if (injection == Injection::OnOff) {
    const double on_frac = c.burst_alpha / (c.burst_alpha + c.burst_beta);
    if (packet_prob > on_frac + 1e-12) {
      std::ostringstream os;
      os << "injection_rate " << c.injection_rate
         << " is too high for on/off injection with burst_alpha " << c.burst_alpha
         << " and burst_beta " << c.burst_beta << ": the packet rate may be at most "
         << on_frac << " (the fraction of time a source is on)";
      fail(os.str());
    }
  }
}

}  // namespace archgym::noc
