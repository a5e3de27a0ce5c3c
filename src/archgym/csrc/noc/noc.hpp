// Cycle-level network-on-chip simulator core (plain C++20, no Python).
//
// A network of input-queued virtual-channel routers with credit-based flow
// control, modelled cycle by cycle after BookSim2's `iq` router as described in
// docs/design/noc.md (reimplemented from that
// description; "§n" in the NoC core refers to its sections).  The topology is
// a channel table (§15): a k-ary n-cube (mesh or torus, n = 1, 2 or 3), a
// k-ary n-fly, or any graph of routers and nodes (BookSim's anynet).  Two ways
// to use it:
//   * measure(config): BookSim's latency-mode measurement (warm-up, sample
//     periods until stable, abort past latency_thres, drain);
//   * Network: a persistent network advanced N cycles at a time whose state
//     carries over; rate, traffic and routing can change between calls.
// See docs/noc.md for the model and its differences from BookSim.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace archgym::noc {

// ----------------------------------------------------------------- names
// Each enum's values are in the order of its names (config.cpp).
enum class Topology : uint8_t { Mesh, Torus, Fly, Anynet, Fattree, Flatfly, Dragonfly, Cmesh, Count };
enum class Traffic : uint8_t {
  Uniform, Transpose, Bitcomp, Bitrev, Shuffle, Tornado, Neighbor, Hotspot, Randperm,
  Diagonal, Asymmetric, Taper64, BadpermYarc, Count
};
// BookSim's allocator names (select is iSLIP: with priority = none every packet has
// the same priority).
enum class Allocator : uint8_t {
  SeparableInputFirst, Islip, SeparableOutputFirst, Wavefront, Pim, Select, Loa, MaxSize, Count
};
enum class Injection : uint8_t { Bernoulli, OnOff, Count };
// BookSim's packet priorities (`priority`, §5b): what ranks the requests in the
// allocators that honour priorities.  class: every packet is of class 0, so as none.
enum class Priority : uint8_t {
  None, Class, Age, NetworkAge, LocalAge, QueueLength, HopCount, Sequence, Count
};
enum class SimType : uint8_t { Latency, Throughput, Count };

const std::vector<std::string>& topology_names();
const std::vector<std::string>& traffic_names();
const std::vector<std::string>& allocator_names();
// The speculative switch allocator's names (spec_sw_allocator): prio (the speculative
// requests join the switch allocator's, ranked below every other), then allocator_names().
const std::vector<std::string>& spec_allocator_names();
const std::vector<std::string>& injection_names();
const std::vector<std::string>& sim_type_names();
const std::vector<std::string>& priority_names();

// ----------------------------------------------------------------- config
// BookSim key names; the defaults are BookSim's (booksim_base.cfg).  What each
// field accepts is in config_fields(); Params (the constructor of Network)
// checks it.
struct Config {
  std::string topology = "mesh";
  int k = 8;
  int n = 2;
  int c = 1;  // flatfly, cmesh: nodes per router (BookSim's concentration)
  int num_vcs = 4;
  int vc_buf_size = 8;
  std::string routing_function = "dor";
  std::string traffic = "uniform";
  int packet_size = 1;
  double injection_rate = 0.02;
  bool injection_rate_uses_flits = true;
  std::string injection_process = "bernoulli";
  double burst_alpha = 0.5;
  double burst_beta = 0.5;
  int routing_delay = 1;
  int vc_alloc_delay = 1;
  int sw_alloc_delay = 1;
  int st_final_delay = 1;
  int credit_delay = 1;
  int link_latency = 1;
  bool wait_for_tail_credit = false;
  std::string vc_allocator = "separable_input_first";
  std::string sw_allocator = "separable_input_first";
  int alloc_iters = 1;
  int input_speedup = 1;
  int output_speedup = 1;
  double internal_speedup = 1.0;
  bool speculative = false;
  // Speculation's settings (docs/design/noc.md §5b), read only with speculative.
  std::string spec_sw_allocator = "prio";
  bool spec_check_elig = true;
  bool spec_check_cred = true;
  bool spec_mask_by_reqs = false;
  bool hold_switch_for_packet = false;
  std::string priority = "none";
  int warmup_periods = 3;
  int sample_period = 1000;
  int max_samples = 10;
  double latency_thres = 500.0;
  double stopping_thres = 0.05;
  double acc_stopping_thres = 0.05;
  uint64_t seed = 42;
  uint64_t perm_seed = 0;
  int traffic_radix = 0;
  std::vector<int> hotspot_nodes;
  std::vector<double> hotspot_rates;
  std::string sim_type = "latency";
  int watchdog_cycles = 1000;
  int max_drain_periods = 100;
  // anynet: the router of each node, and the channels between routers as
  // (from, to, latency) triples (booksim.py reads them from BookSim's network_file).
  std::vector<int> anynet_nodes;
  std::vector<int> anynet_channels;
};

// Limits.
inline constexpr int kMaxK = 32;
inline constexpr int kMaxDims = 10;  // 2n + 1 ports fit kMaxPorts; k >= 2 and k^n <= kMaxNodes bound n to 10
inline constexpr int kMaxPorts = 32;  // per router (k-ary n-cubes: 2n + 1)
inline constexpr int kMaxNodes = kMaxK * kMaxK;  // nodes and routers at most
inline constexpr int kMaxChannelLatency = 64;    // anynet channels, in cycles
inline constexpr int kMaxFlatflyConcentration = 16;  // flatfly: nodes per router (c)
inline constexpr int kMaxVcs = 32;  // BookSim accepts any number (its default is 16)

// A set of kWords * 64 bits (bit b in word b / 64) with the operators of an
// unsigned integer: the VC masks of routers with more than 64 VCs.
template <int kWords>
struct WideMask {
  std::array<uint64_t, kWords> w{};
  constexpr WideMask() = default;
  constexpr WideMask(uint64_t low) { w[0] = low; }  // NOLINT: converts as an integer would
  // Bits [first, first + count), 0 < count <= 64.
  static constexpr WideMask range(int first, int count) {
    WideMask m;
    const uint64_t ones = count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
    const int word = first / 64, shift = first % 64;
    m.w[word] = ones << shift;
    if (shift && word + 1 < kWords) m.w[word + 1] = ones >> (64 - shift);
    return m;
  }
  constexpr explicit operator bool() const {
    uint64_t any = 0;
    for (uint64_t x : w) any |= x;
    return any != 0;
  }
  constexpr WideMask operator~() const {
    WideMask m;
    for (int i = 0; i < kWords; ++i) m.w[i] = ~w[i];
    return m;
  }
  constexpr WideMask& operator|=(const WideMask& o) {
    for (int i = 0; i < kWords; ++i) w[i] |= o.w[i];
    return *this;
  }
  constexpr WideMask& operator&=(const WideMask& o) {
    for (int i = 0; i < kWords; ++i) w[i] &= o.w[i];
    return *this;
  }
  constexpr WideMask& operator^=(const WideMask& o) {
    for (int i = 0; i < kWords; ++i) w[i] ^= o.w[i];
    return *this;
  }
  constexpr WideMask operator<<(int s) const {
    WideMask m;
    for (int i = kWords - 1; i >= s / 64; --i) {
      const int from = i - s / 64, bits = s % 64;
      m.w[i] = w[from] << bits | (bits && from > 0 ? w[from - 1] >> (64 - bits) : 0);
    }
    return m;
  }
  constexpr WideMask operator>>(int s) const {
    WideMask m;
    for (int i = 0; i + s / 64 < kWords; ++i) {
      const int from = i + s / 64, bits = s % 64;
      m.w[i] = w[from] >> bits | (bits && from + 1 < kWords ? w[from + 1] << (64 - bits) : 0);
    }
    return m;
  }
  friend constexpr WideMask operator|(WideMask a, const WideMask& b) { return a |= b; }
  friend constexpr WideMask operator&(WideMask a, const WideMask& b) { return a &= b; }
  friend constexpr WideMask operator^(WideMask a, const WideMask& b) { return a ^= b; }
  friend constexpr bool operator==(const WideMask&, const WideMask&) = default;
};

// Output-VC masks of a router, as routing functions build them (vcs(),
// vc_range(), add_route()): one bit per (output port, VC), bit port * V + vc,
// so ports x VCs must fit kVcMaskBits (Params checks it per topology).  The
// routers keep them in the narrowest mask that holds their ports x VCs bits (a
// uint64_t up to 64, network.cpp).
inline constexpr int kVcMaskBits = 512;
using VcMask = WideMask<kVcMaskBits / 64>;
// Output VCs [first, first + count) of a router, count <= kMaxVcs: the VCs lo to
// hi of one port, as vcs() and vc_range() give them.  It is a VcMask wherever one
// is needed (so vcs(a, 0, 1) | vcs(b, 0, 1) is a mask of both ports); add_route
// stores it without building the 512-bit mask.
struct VcSpan {
  int first, count;
  operator VcMask() const { return VcMask::range(first, count); }  // NOLINT: a mask
  // The low 64 bits (of a router whose VCs all fit them).
  uint64_t low_bits() const { return ((uint64_t{2} << (count - 1)) - 1) << first; }
  friend VcMask operator|(VcSpan a, VcSpan b) { return VcMask(a) | VcMask(b); }
  friend VcMask operator&(VcSpan a, VcSpan b) { return VcMask(a) & VcMask(b); }
  friend VcMask operator^(VcSpan a, VcSpan b) { return VcMask(a) ^ VcMask(b); }
  friend VcMask operator~(VcSpan a) { return ~VcMask(a); }
};
// dragonflynew: p = k nodes per router, a = 2k routers per group, h = k global
// channels per router, 2k^2 + 1 groups; k <= 4 (BookSim's example: 1,056 nodes).
inline constexpr int kMaxDragonflyK = 4;
inline constexpr int kDragonflyLocalLatency = 10, kDragonflyGlobalLatency = 100;  // BookSim's, cycles
// cmesh: BookSim asserts c = 4 nodes per router, a 2 x 2 square (xr = yr = 2).
inline constexpr int kCmeshConcentration = 4, kCmeshSide = 2;
// ugal on dragonflynew: minimal unless credits in use on the minimal port exceed
// kUgalWeight x those on the port toward the intermediate group plus kUgalThreshold.
inline constexpr int kUgalWeight = 2, kUgalThreshold = 30;
// ugal's decision at each source router (Network::set_ugal_decisions, §15c), in the
// order of ugal_decision_names(): UGAL-L (BookSim's ugal, the default), minimal,
// Valiant (the drawn intermediate router), UGAL-G (the rule on the global channels taken).
enum class UgalDecision : uint8_t { Local, Min, Valiant, Global, Count };
const std::vector<std::string>& ugal_decision_names();
// The output-port classes of a dragonflynew router whose credits in use
// Network::dragonfly_credits_in_use() sums: its local and its global channels.
const std::vector<std::string>& dragonfly_port_class_names();
// The same on a flatfly (Network::flatfly_credits_in_use()): its row and its column channels.
const std::vector<std::string>& flatfly_port_class_names();
inline constexpr int kMaxBuf = 256;  // BookSim's dragonfly example: 256 (its 100-cycle channels)
inline constexpr int kMaxPacket = 256;
inline constexpr int kMaxDelay = 16;
inline constexpr int kMaxSpeedup = 9;  // a 3-D cube router: 7 ports x 9 fit 64 crossbar ports (Params checks ports x speedup on every topology)
inline constexpr int kMaxAllocIters = 16;
// internal_speedup: router steps per cycle on average (BookSim accepts any; below 1 it
// skips steps and its runs are unstable at any load, so archgym refuses that).
inline constexpr double kMaxInternalSpeedup = 16;
inline constexpr int64_t kMaxBacklogPackets = int64_t{1} << 24;  // queued packets, all nodes

// The definition of every Config field: what it accepts and what it means
// (its default is Config's initialiser).  The one source of the field names,
// limits and accepted names: Params checks every field against its entry, the
// bindings convert Python values by it, and Python generates NocConfig from it.
using FieldMember =
    std::variant<int Config::*, double Config::*, bool Config::*, uint64_t Config::*,
                 std::string Config::*, std::vector<int> Config::*, std::vector<double> Config::*>;
struct ConfigField {
  const char* name;
  FieldMember member;
  double lo = 0, hi = 0;  // numbers (and list items): the accepted range [lo, hi]
  bool lo_open = false;   // (lo, hi] rather than [lo, hi]
  const std::vector<std::string>& (*choices)() = nullptr;  // names: the accepted ones
  const char* doc = "";
};
const std::vector<ConfigField>& config_fields();
const ConfigField& config_field(const std::string& name);  // throws for an unknown name
// What the field accepts, e.g. "an integer between 2 and 32" or "one of: mesh, torus".
std::string accepted(const ConfigField& f);
// Throws std::invalid_argument naming the field, `got` and what it accepts.
[[noreturn]] void reject(const ConfigField& f, const std::string& got);

// ----------------------------------------------------------------- routing registry
class Network;
struct Flit;
struct InVc;
// The fewest VCs a routing needs on each topology (indexed by Topology); 0: it
// does not run on that topology.
using MinVcs = std::array<int, static_cast<int>(Topology::Count)>;
// A routing function fills the route set of the head flit f of input VC i of
// router r (q.rs_*, entries in decreasing priority; see routing.cpp).
using RouteFn = void (Network::*)(int r, int i, const Flit& f, InVc& q);
// A turn model: the minimal output ports (up to 2, returns how many) it allows
// from column/row (cx, cy) toward (dx, dy) for a packet from column sx.
using TurnRule = int (*)(int cx, int cy, int dx, int dy, int sx, int ports[2]);
// The destination classes of a routing that gives each its own VCs (BookSim's
// non-interfering routings): its VC minimum counts VCs per class.
enum class VcClasses : uint8_t { None, PerNode, PerRadix };
// One routing function of the registry, as BookSim's gRoutingFunctionMap
// registers them by name.  A routing's id is its index in the registry.
struct RoutingFunction {
  const char* name;
  RouteFn route;
  MinVcs min_vcs;
  // Per-router mode (Network::set_routing_per_router): the routings that may be
  // mixed per router have a variant that keeps the escape VCs along the XY port.
  RouteFn per_router = nullptr;
  MinVcs per_router_min_vcs = {};
  // A VC count above the minimum that BookSim fails with (0: none), refused.
  MinVcs refused_vcs = {};
  // Runs on any number of dimensions (else on 2-D networks only).
  bool any_dims = false;
  // min_vcs is per destination class: times k^n (PerNode) or k (PerRadix).
  VcClasses vc_classes = VcClasses::None;
  // The largest k it runs with on each topology (0: any), as BookSim.
  MinVcs max_k = {};
  // The most VCs it runs with on each topology (0: any), as BookSim (ugal: exactly 3).
  MinVcs max_vcs = {};
};
// Every routing function, in the order of ROUTING_FUNCTIONS (routing.cpp).
const std::vector<RoutingFunction>& routing_functions();
const std::vector<std::string>& routing_names();
// The routings that may be mixed per router (those with a per-router variant).
const std::vector<std::string>& per_router_routing_names();
// The id of a routing name; throws naming `field` and the accepted names.
int parse_routing(const std::string& name, const char* field = "routing_function");
// The fewest VCs routing `rf` needs on a k-ary n-cube of topology t (0: it does not run there).
int min_vcs(const RoutingFunction& rf, Topology t, int k, int dims, bool per_router = false);
// Throws unless routing `id` runs on this k-ary n-cube with V VCs (per-router
// variant if `per_router`).
void check_routing(int id, Topology t, int k, int dims, int V,
                   const char* field = "routing_function", bool per_router = false);
// Throws if routing `id` needs c = k on this topology and c differs (flatfly ugal_pni).
void check_routing_concentration(int id, Topology t, int k, int c, const char* field = "routing_function");

// Parsed, validated configuration.
struct Params {
  Config cfg;
  Topology topology;
  int routing;  // id in routing_functions()
  Traffic traffic;
  Allocator va, sa;
  bool spec_prio;     // spec_sw_allocator = prio: the speculative requests join sa's
  Allocator spec_sa;  // else their allocator
  Injection injection;
  SimType sim_type;
  Priority priority;
  int k, dims, nodes, V, B, P;  // nodes = k^dims on a k-ary n-cube or n-fly
  int routers;                   // = nodes on a k-ary n-cube
  int ports;                     // per router, the most any router has (a k-ary n-cube:
                                 // 2 dims + 1, the last the local port)
  int link_ports;                // per router in RunStats::link_utilisation (a k-ary n-cube:
                                 // 2 dims, the router-to-router ports; else ports)
  double packet_prob;  // Bernoulli success probability per node and cycle

  explicit Params(const Config& c);  // throws std::invalid_argument
  bool cube() const { return topology == Topology::Mesh || topology == Topology::Torus; }
};

// The network as a channel table (docs/design/noc.md §15).  Output port o of
// router r leads to input port `port` of router `router` after `latency`
// cycles, or (node >= 0) to that node's ejection; input port p of router r
// comes from output port `port` of router `router`, or (node >= 0) from that
// node's injection.  A node's channels take `latency` cycles too (1, more on a
// flatfly).  An unused port has router = node = -1.
struct Channel {
  int32_t router = -1, node = -1;
  uint8_t port = 0, latency = 0;
};
struct Channels {
  std::vector<Channel> out, in;            // [routers * ports]
  std::vector<int32_t> inject_router, inject_port, eject_router, eject_port;  // [nodes]
  // Minimal routing (anynet's min): the output port of router r toward router d,
  // next_port[r * routers + d] (-1 at d itself).
  std::vector<int16_t> next_port;
};
// The channel table of p's topology (Params has checked it: an anynet is connected).
Channels build_channels(const Params& p);
// An anynet configuration's nodes, routers and most ports per router; throws
// std::invalid_argument naming what is wrong with its graph.
void check_anynet(const Config& c, int& nodes, int& routers, int& ports);
// A flatfly configuration's nodes (c k^2); throws unless n = 2 and c is a square.
void check_flatfly(const Config& c, int dims, int& nodes);
// A cmesh configuration's nodes (c k^2); throws what BookSim refuses (n != 2, c != 4)
// and channels over kMaxChannelLatency (check_routing refuses the express routings on
// an odd k).
void check_cmesh(const Config& c, int dims, int& nodes);

// The nodes of a network of this shape: c k^2 on a flatfly or cmesh, k 2k (2k^2 + 1)
// on a dragonflynew, else k^n (an anynet's come from its graph).  The one rule Params
// and the front ends (noc.shape_nodes) use; k <= kMaxK, n <= kMaxDims, c <= 64.
int64_t shape_nodes(Topology t, int k, int n, int c);

Topology parse_topology(const std::string& name);
Traffic parse_traffic(const std::string& name);
// The side xr of a flatfly router's square of c = xr * xr nodes (0 if c is no square).
int flatfly_side(int c);
// The radix of the node-id digits BookSim's patterns read (tornado, neighbor,
// badperm_yarc, the grid's coordinates): k times the nodes per router side, k xr on a
// flatfly, 2k on a cmesh, else k (docs/design/noc.md §15e).
int traffic_side(Topology t, int k, int c);
// v with its `digits` low radix-r digits each shifted by `shift` mod r (higher
// digits dropped): tornado and neighbor.
int64_t shift_digits(int64_t v, int r, int digits, int shift);
// Throws unless the pattern is defined on this network (nodes = 0: the shape's, an
// anynet's unknown): bit permutations need a power-of-2 node count (transpose an even
// power, or a 2-D grid), taper64 64 nodes, and tornado, neighbor (radix `radix` times
// the nodes per router side, 0 = k) and badperm_yarc a destination below the node count.
void check_traffic(Traffic tr, Topology t, int k, int dims, int c = 1, int64_t nodes = 0,
                   int radix = 0);

// ----------------------------------------------------------------- flits
// A flit carries what the pipeline reads, so routing and switching do not
// touch the packet record.
struct Flit {
  int32_t pkt;
  uint32_t itime;  // low 32 bits of the injection cycle
  int16_t dst, src;
  uint8_t flags;   // 1 head, 2 tail
  uint8_t vc;      // VC stamp (output VC of the last grant / injection VC)
  uint8_t hops;    // routers traversed so far
  uint8_t algo;    // routing id of the packet (network-wide mode)
};
// The route set of an input VC's head flit, as a routing function fills it
// (add_route); the router copies it into its own mask width (network.cpp).
inline constexpr int kMaxRoutes = 3;
struct InVc {
  VcMask rs_mask[kMaxRoutes];  // output-VC masks (the router's `words` low words) ...
  int8_t rs_prio[kMaxRoutes];  // ... and their priorities, in decreasing order
  uint8_t rs_n;
  uint8_t rs_atomic;  // bit e: entry e may only take empty output VCs (used == 0)
  uint8_t words;      // the router's mask width in words: add_route writes these
};

// ----------------------------------------------------------------- results
struct DeliveredPacket {
  int32_t src, dst;
  int64_t ctime, itime, atime;
  int32_t hops;
};

// Monotonic counters of a Network (since construction).
struct Counters {
  int64_t created_packets = 0, created_flits = 0;
  int64_t dropped_packets = 0;      // past kMaxBacklogPackets queued packets
  int64_t injected_flits = 0, ejected_flits = 0;
  int64_t retired_packets = 0;
  int64_t backlog_flits = 0;        // created, not yet injected (source queues + partly sent)
  int64_t in_network_flits = 0;     // injected, not yet ejected
  int64_t buffered_flits = 0;       // in router input buffers (part of in_network)
  int64_t flit_latency_sum = 0;     // sum of (atime - itime) over ejected flits
  int64_t packet_latency_sum = 0;   // sum of (atime - ctime) over retired packets
  int64_t in_network_integral = 0;  // sum over cycles of in_network_flits at cycle end
  int64_t in_system_packets = 0;    // created, not yet retired
  int64_t in_system_integral = 0;   // sum over cycles of in_system_packets at cycle end
};

struct RunStats {
  int64_t cycles = 0;
  int64_t delivered_packets = 0, delivered_flits = 0, injected_flits = 0;
  double latency_sum = 0, network_latency_sum = 0, hops_sum = 0;
  bool deadlock = false;
  std::vector<float> link_utilisation;  // [nodes * 2 dims]
  std::vector<float> buffer_occupancy;  // [nodes * ports], mean fraction of V*B
};

struct MeasureResult {
  double avg_packet_latency = 0, avg_network_latency = 0, avg_flit_latency = 0, avg_hops = 0;
  double accepted_flit_rate = 0, injected_flit_rate = 0;
  std::string status;          // ok | saturated | unstable
  std::string booksim_result;  // completed_converged | completed_max_samples |
                               // aborted_latency_thres | deadlock | drain_limit
  bool deadlock = false;
  int sample_periods = 0;
  int64_t total_cycles = 0;
  int64_t measured_packets = 0;
  std::vector<double> period_latency, period_accepted;
};

// ----------------------------------------------------------------- network
class Network {
 public:
  explicit Network(const Config& cfg);

  // Advance `cycles` cycles (0 <= cycles <= 2^40); stats of these cycles.
  RunStats run(int64_t cycles);

  void set_injection_rate(double rate);
  void set_traffic(const std::string& pattern);
  void set_routing(const std::string& routing);
  void set_routing_per_router(const std::vector<int64_t>& index);  // into per_router_routing_names()
  // Enqueue one packet from src to dst, created now (bypasses the traffic pattern).
  void send(int64_t src, int64_t dst);
  // Stop (or resume) packet generation; queued and in-flight packets continue.
  void set_generation(bool on) {
    if (on && !generation_) reset_generators();
    generation_ = on;
  }

  int64_t cycle() const { return now_; }
  const Params& params() const { return p_; }
  const Counters& counters() const { return ctr_; }
  bool deadlocked() const { return deadlocked_; }
  int64_t last_move() const { return last_move_; }
  // Recording of delivered packets (for the last run() call).
  void set_record(bool on) { record_ = on; }
  const std::vector<DeliveredPacket>& delivered() const { return delivered_; }
  // Packet latencies of the packets delivered in the last run() call.
  const std::vector<int32_t>& latencies() const { return win_latencies_; }
  // Per-node backlog in flits (source queue + un-injected flits of the current packet).
  std::vector<int64_t> backlog_per_node() const;
  // Free credits per output VC: [nodes][ports][V] (B - used).
  std::vector<int32_t> credits() const;
  // Current number of buffered flits per input port: [nodes][ports].
  std::vector<int32_t> occupancy() const;
  // Destination of each node for a deterministic pattern (-1 for random ones).
  std::vector<int32_t> destinations() const;
  // dragonflynew or flatfly with ugal: the decision rule of each source router, indices
  // into ugal_decision_names() [routers]; read when a packet leaves its source router.
  void set_ugal_decisions(const std::vector<int64_t>& index);
  // dragonflynew: credits in use now per router and port class [routers][2] (local
  // ports, global ports; all VCs), and the ports of each class.
  std::vector<int32_t> dragonfly_credits_in_use() const;
  std::array<int, 2> dragonfly_class_ports() const { return {2 * k_ - 1, k_}; }
  // flatfly: the same per router on its row and its column output ports (k - 1 each).
  std::vector<int32_t> flatfly_credits_in_use() const;
  std::array<int, 2> flatfly_class_ports() const { return {k_ - 1, k_ - 1}; }
  // The router each node injects at [nodes].
  const std::vector<int32_t>& node_routers() const { return ch_.inject_router; }

  friend MeasureResult measure(const Config& cfg);

 private:
  std::vector<int32_t> class_credits_in_use(int first, std::array<int, 2> ports) const;
  struct Packet {
    int64_t ctime, itime;
    int32_t src, dst, inter;
    int16_t hops;
    uint8_t algo, phase, measured;
    uint8_t dateline;  // torus dim_order: the dateline class in the current dimension
    uint8_t order;     // flatfly ugal_xyyx: 0 row first, 1 column first (drawn at the source)
    uint8_t pad[1];
  };
  struct Arrival { int32_t r; int32_t i; Flit flit; };
  struct Ejection { int32_t node; Flit flit; };
  struct Source {
    int64_t next_gen;   // cycle of the next Bernoulli success
    int64_t qhead = 0;  // ring buffer into queue_[node]
    int32_t cur = -1;   // materialised packet, -1 none
    int16_t cur_vc = -1, last_vc = -1;
    int32_t sent = 0;
    uint32_t alloc = 0;  // injection VCs held
    uint8_t on = 0;
    int64_t seq = 0;  // priority = sequence: packets materialised so far
  };
  enum : uint8_t { kIdle, kRouting, kVcAlloc, kActive };
  enum class Phase : uint8_t { Free, Warming, Running, Draining, Emptying };


  // The routers' VC masks (input VCs, output VCs, route sets): a uint64_t when
  // ports x VCs fit 64 bits, else kW words (the fewest of 2, 4, 8 that hold them).
  template <int kW>
  using Mask = std::conditional_t<kW == 1, uint64_t, WideMask<kW>>;
  // One cycle.  The hot loop is a template on the shape (VCs kV, buffer depth
  // kB, dimensions kD of a k-ary n-cube; 0: the members' values, any topology)
  // and on the words kW of the routers' masks, instantiated for common shapes.
  void step() { (this->*step_)(); }
  using StepFn = void (Network::*)();
  StepFn step_ = nullptr;
  StepFn pick_step();
  template <int kV, int kB, int kD, int kW> StepFn step_for();
  template <int kV, int kB, int kD, int kW> struct Shape;
  template <int kV, int kB, int kD, int kW> void step_impl();
  template <int kV, int kB, int kD, int kW>
  void router_step(const Shape<kV, kB, kD, kW>& S, int r, int64_t t);
  template <int kV, int kB, int kD, int kW>
  void vc_alloc(const Shape<kV, kB, kD, kW>& S, int r, int64_t t);
  template <int kV, int kB, int kD, int kW>
  void sw_alloc(const Shape<kV, kB, kD, kW>& S, int r, int64_t t);
  template <int kV, int kB, int kD, int kW> void sw_alloc_general(int r, int64_t t);
  // Grant input VC (p, v) the switch to output o in cycle t; the flit leaves the
  // router's output o in cycle `depart` (t but behind an output queue, §5b).
  template <int kV, int kB, int kD, int kW>
  void grant_switch(const Shape<kV, kB, kD, kW>& S, int r, int p, int o, int v, int64_t t,
                    int64_t depart);
  // A match of the requests req[i] (a mask of outputs per input i of `inputs`) by
  // allocator a; out[i]: the output of input i, -1 none.  `accept(i, offered)` is
  // input i's pick among the outputs offered to it.  Moves the pointers as §5b.
  template <int kN> struct Arbiters;
  // `grant(j, requesters)` is output j's pick among the inputs requesting it (the
  // allocators that honour priorities).
  template <class M, int kN, class Accept, class Grant>
  void allocate(Allocator a, int ni, int no, const M* req, M inputs, Arbiters<kN>& arb,
                int16_t* out, Accept&& accept, Grant&& grant);
  // The packet priority (§5b) of the flit at the front of input VC gvc (its ring's
  // head and count): larger wins.
  int64_t vc_priority(size_t gvc, int head, int count) const;
  template <int kV, int kB, int kD, int kW>
  void buffer_write(const Shape<kV, kB, kD, kW>& S, int r, int i, const Flit& f);
  template <int kW> void init_routers();
  void generate(int64_t t);
  void inject(int64_t t);
  void inject_node(int v, int64_t t);  // node v's next flit, if its VC has a credit
  void route(int r, int i, const Flit& f, InVc& q);
  void retire(int node, const Flit& f, int64_t t);
  void materialise(int node, int64_t t);
  void enqueue(int node, uint64_t entry);
  int32_t draw_destination(int node);
  int64_t draw_gap();
  void reset_generators();
  void build_destinations();
  void occ_change(int port_index, int delta);
  int32_t alloc_packet();

  // ---- routing (routing.cpp): the registered routing functions and their helpers
  friend const std::vector<RoutingFunction>& routing_functions();
  void route_dor(int r, int i, const Flit& f, InVc& q);
  void route_dim_order(int r, int i, const Flit& f, InVc& q);
  void route_min_adapt_torus(int r, int i, const Flit& f, InVc& q);
  enum class Tie : uint8_t { Coin, Minus, Plus };  // torus_dor_hop's tie-break
  int torus_dor_hop(int r, int dst, int& entry_class, Tie tie);
  void torus_dimension_order(int r, int i, const Flit& f, int lo, int hi, bool balanced,
                             InVc& q);
  void route_dim_order_bal(int r, int i, const Flit& f, InVc& q);
  void route_dim_order_ni(int r, int i, const Flit& f, InVc& q);
  void route_dim_order_pni(int r, int i, const Flit& f, InVc& q);
  void route_chaos(int r, int i, const Flit& f, InVc& q);
  void route_planar_adapt(int r, int i, const Flit& f, InVc& q);
  void route_romm_ni(int r, int i, const Flit& f, InVc& q);
  void dest_vcs(int cls, int classes, int& lo, int& hi) const;
  void injection_vcs(const Packet& pk, int& lo, int& hi) const;
  int32_t romm_intermediate(const Flit& f);
  void route_yx(int r, int i, const Flit& f, InVc& q);
  void route_xy_yx(int r, int i, const Flit& f, InVc& q);
  void route_adaptive_xy_yx(int r, int i, const Flit& f, InVc& q);
  template <bool kAtomic>
  void route_min_adapt(int r, int i, const Flit& f, InVc& q);
  void route_duato(int r, int i, const Flit& f, InVc& q);
  void route_random_min(int r, int i, const Flit& f, InVc& q);
  void route_romm(int r, int i, const Flit& f, InVc& q);
  void route_valiant(int r, int i, const Flit& f, InVc& q);
  template <TurnRule kAllowed, bool kAdaptive>
  void route_turn_model(int r, int i, const Flit& f, InVc& q);
  void route_per_router_dor(int r, int i, const Flit& f, InVc& q);
  void route_min(int r, int i, const Flit& f, InVc& q);
  void route_dest_tag(int r, int i, const Flit& f, InVc& q);
  template <bool kAdaptive>
  void route_nca(int r, int i, const Flit& f, InVc& q);
  int flatfly_port(int r, int dst, bool x_first) const;
  void route_ran_min(int r, int i, const Flit& f, InVc& q);
  template <bool kAdaptive>
  void route_xyyx(int r, int i, const Flit& f, InVc& q);
  int flatfly_router_port(int r, int t, bool x_first) const;
  void route_valiant_flatfly(int r, int i, const Flit& f, InVc& q);
  void route_ugal_flatfly(int r, int i, const Flit& f, InVc& q);
  bool ugal_flatfly_nonminimal(UgalDecision rule, int r, int t, int inter) const;
  int flatfly_path_queue(int a, int b) const;  // credits in use along a's row-first path to b
  void route_flatfly_phases(int r, const Flit& f, Packet& pk, InVc& q) const;
  void route_ugal_xyyx_flatfly(int r, int i, const Flit& f, InVc& q);
  void route_ugal_pni_flatfly(int r, int i, const Flit& f, InVc& q);
  int flatfly_ugal_intermediate(int r, int t);
  bool flatfly_ugal_detours(int r, int t, int inter, bool x_first) const;
  // dragonflynew (docs/design/noc.md §15c)
  void route_min_dragonfly(int r, int i, const Flit& f, InVc& q);
  void route_ugal(int r, int i, const Flit& f, InVc& q);
  int dfly_port(int r, int target_router) const;  // minimal next port toward a router
  int dfly_group_port(int r, int group) const;     // the port toward another group
  bool dfly_global(int port) const { return port >= k_ + 2 * k_ - 1; }
  // The credits in use (all VCs) on group G's global channel toward group H, read at
  // the router that owns it (UGAL-G).
  int dfly_global_queue(int G, int H) const;
  bool ugal_nonminimal(UgalDecision rule, int r, int t, int I) const;
  std::vector<uint8_t> ugal_decision_;  // [routers] UgalDecision; empty: every router UGAL-L
  UgalDecision ugal_rule(int r) const {
    return ugal_decision_.empty() ? UgalDecision::Local : static_cast<UgalDecision>(ugal_decision_[r]);
  }
  // cmesh (docs/design/noc.md §15d)
  int cmesh_port(int r, int dst, bool x_first, bool express) const;
  template <bool kExpress>
  void route_cmesh_dor(int r, int i, const Flit& f, InVc& q);
  template <bool kExpress>
  void route_cmesh_xy_yx(int r, int i, const Flit& f, InVc& q);

  static void add_route(InVc& q, const VcMask& mask, int prio, bool atomic = false);
  static void add_route(InVc& q, VcSpan span, int prio, bool atomic = false);
  void eject(InVc& q) const;
  bool eject_at_router(int r, int dst, InVc& q) const;
  bool from_node(int r, int i) const;
  int order_class(int r, int i);
  void add_order_route(InVc& q, int o, int cls) const;
  void add_escape(int r, int dst, InVc& q) const;
  void add_dimension_order_class(int r, int dst, int cls, InVc& q) const;
  void route_via_intermediate(int r, const Flit& f, Packet& pk, InVc& q) const;
  int coin() { return static_cast<int>(rng_.next() >> 63); }
  int less_used(int r, int a, int b, int lo, int hi);
  int productive_ports(int r, int dst, int ports[2]) const;
  int dor_port(int cur, int tgt) const;
  int coord(int v, int d) const { return C_[v * D_ + d]; }
  int escape_vcs() const { return torus_ ? 2 : 1; }
  VcSpan vcs(int port, int lo, int hi) const;
  int dir(int c, int t) const;  // 0 plus, 1 minus
  int xy_port(int cur, int tgt) const { return dor_port(cur, tgt); }
  int yx_port(int cur, int tgt) const;
  VcSpan vc_range(int cur, int tgt, int port, int lo, int hi) const;
  int used_sum(int r, int o, int lo, int hi) const;

  Params p_;
  int n_, R_, V_, B_, VCS_, P_;  // nodes, routers, ...
  int k_;
  int traffic_k_;  // the radix of the node coordinates the traffic patterns read (traffic_side)
  int D_, NP_, LP_;  // dimensions, ports (2D + 1), the local port (2D)
  bool torus_;
  bool wait_tail_;  // wait_for_tail_credit
  const RoutingFunction* routings_;  // routing_functions()
  int routing_;                      // network-wide routing id
  bool per_router_ = false;
  // The routing id of dor when the network is a mesh (router_step routes it
  // inline), else -1.
  int mesh_dor_ = -1;
  std::vector<uint8_t> router_algo_;
  Traffic traffic_;
  double packet_prob_;
  double log1mp_ = 0;
  double r1_ = 0;  // on/off injection probability while on
  bool generation_ = true;
  int off_flit_, off_credit_;

  // RNG streams: destinations/routing/ties, injection.
  struct Rng {
    uint64_t s[4];
    void seed(uint64_t v);
    uint64_t next();
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    uint32_t below(uint32_t n) {
      return static_cast<uint32_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
  } rng_, rng_inj_, rng_alloc_;

  std::vector<int16_t> C_;         // [n*D] coordinates, dimension 0 first
  uint8_t port_of_[kVcMaskBits], vc_of_[kVcMaskBits], nextp_[kMaxPorts];
  Channels ch_;                    // the topology (out, in: [R*NP])
  std::vector<int32_t> inject_vc_, eject_vc_;  // [n] router * kVcMaskBits + port * V
  // The cycles of node v's injection and ejection channels (1, more on a flatfly: §15b).
  int inject_latency(int v) const {
    return ch_.in[ch_.inject_router[v] * NP_ + ch_.inject_port[v]].latency;
  }
  int eject_latency(int v) const {
    return ch_.out[ch_.eject_router[v] * NP_ + ch_.eject_port[v]].latency;
  }
  std::vector<int32_t> dest_table_;
  std::vector<double> hot_cum_;
  std::vector<int32_t> hot_nodes_;

  // routers
  std::vector<Flit> buf_;          // [R*VCS*B]
  std::vector<int16_t> used_;      // [R*VCS] (output VCs)
  // An input VC: its buffer ring, pipeline state and route set (InVc's, in masks M).
  template <class M>
  struct VcState {
    int64_t elig;
    M rs_mask[kMaxRoutes];
    int8_t rs_prio[kMaxRoutes];
    uint8_t rs_n, state, outp, outvc;
    uint8_t rs_atomic;
    uint16_t head, count;
  };
  // Per router: input VCs per pipeline stage, eligible now / from the next
  // cycle / later (delays > 1, then VcState::elig holds the cycle), and the
  // output-VC masks.
  template <class M>
  struct Router {
    M rc_now{}, rc_next{}, va_now{}, va_next{}, va_later{};
    M sa_now{}, sa_next{}, sa_later{};
    M alloc{};  // output VCs held by a packet
    M busy{};   // output VCs with credits in use (used > 0)
    bool has_work() const {
      return static_cast<bool>(rc_now | rc_next | va_now | va_next | va_later | sa_now |
                               sa_next | sa_later);
    }
    void advance(int64_t t, const VcState<M>* vcs);  // vcs: the router's input VCs
  };
  // Round-robin pointers of one allocator over up to kN inputs and outputs, and a
  // wavefront allocator's priority diagonal.
  template <int kN>
  struct Arbiters {
    uint16_t in[kN] = {}, out[kN] = {};
    uint16_t diag = 0;
  };
  // The routers' state in masks of kW words.
  template <int kW>
  struct RouterState {
    std::vector<VcState<Mask<kW>>> vcs;          // [R*VCS]
    std::vector<Router<Mask<kW>>> routers;       // [R]
    std::vector<Mask<kW>> tail_sent;             // [R] wait_for_tail_credit: output VCs held until their credits return
    std::vector<Arbiters<64 * kW>> va_arb;       // [R] when general_va_ (wavefront's diagonal)
    // input VCs of the current router that requested the switch speculatively in this
    // cycle (VA's requesters that passed speculation's checks, §5b)
    Mask<kW> spec_req{};
  };
  // The one in use has mask width words_ (the others stay empty).
  int words_ = 1;
  RouterState<1> st1_;
  RouterState<2> st2_;
  RouterState<4> st4_;
  RouterState<8> st8_;
  template <int kW>
  RouterState<kW>& state() {
    if constexpr (kW == 1) return st1_;
    else if constexpr (kW == 2) return st2_;
    else if constexpr (kW == 4) return st4_;
    else return st8_;
  }
  InVc route_set_;  // the routing functions' output, before it is copied into its VcState
  // Per router: the switch allocator's round-robin pointers (apart from Router,
  // whose flags every cycle scans: kMaxPorts of them would crowd the cache).
  struct SaPtrs {
    uint8_t sa_in[kMaxPorts] = {}, sa_out[kMaxPorts] = {}, sa_vc[kMaxPorts] = {};
  };
  std::vector<SaPtrs> sa_ptr_;
  // The router options (§5b): a general switch allocator (expanded crossbar ports,
  // speculation, held switches, any allocator) and VC allocator; off by default.
  bool general_sa_ = false, general_va_ = false;
  bool spec_ = false, hold_ = false;
  int si_ = 1, so_ = 1, iters_ = 1;
  // internal_speedup (§5b): router steps per cycle, kept as BookSim's running
  // fraction; depart_ is the SA grant's departure cycle in the current step (a
  // cycle earlier when another step of the cycle follows: ST in that step)
  double internal_ = 1.0, partial_ = 0.0;
  int64_t depart_ = 0;
  Priority prio_ = Priority::None;
  bool prioritised_ = false;          // a priority other than none/class (general allocators)
  std::vector<uint32_t> arrival_;     // [R*VCS*B] local_age: cycle each buffered flit arrived
  std::vector<int64_t> pkt_seq_;      // [packets] sequence: the packet's number at its source
  struct SwState {
    Arbiters<64> arb, spec;           // the switch allocator and the speculative one
    uint8_t vc[64] = {}, spec_vc[64] = {};  // per crossbar input: VC pointer
    int16_t hold[64];                 // per crossbar input: the input VC holding it, -1 none
    SwState() { std::fill(std::begin(hold), std::end(hold), int16_t{-1}); }
  };
  std::vector<SwState> sw_;          // [R] when general_sa_
  std::vector<int64_t> chan_free_;   // [R*NP] output or internal speedup: first cycle output o is free
  std::vector<uint16_t> va_in_ptr_, va_out_ptr_;  // [R*VCS]
  struct Occ {
    int64_t integral = 0;  // time integral of `count`, less count * now (occ_change)
    int32_t count = 0;
    int64_t at(int64_t now) const { return integral + count * now; }  // the integral up to now
  };
  std::vector<Occ> occ_;           // [R*NP] flits buffered per input port
  std::vector<int64_t> link_cnt_;  // [R*NP] flits sent per output port

  // Channels are timing wheels: slot (cycle & wheel_mask_); as few slots as the
  // delays need, so the live slots stay in L1.  Each slot is a fixed-capacity
  // list (the most items one cycle can deliver), so the loop never allocates.
  template <class T>
  struct Wheel {
    std::vector<T> items;      // [slots * cap]
    std::vector<int32_t> len;  // [slots]
    size_t cap = 0;
    void init(int slots, size_t capacity) {
      items.assign(slots * capacity, T{});
      len.assign(slots, 0);
      cap = capacity;
    }
    T& add(int64_t slot) { return items[slot * cap + len[slot]++]; }  // a new item, to fill
    void push(int64_t slot, const T& x) { add(slot) = x; }
    const T* begin(int64_t slot) const { return &items[slot * cap]; }
    const T* end(int64_t slot) const { return begin(slot) + len[slot]; }
  };
  int64_t wheel_mask_ = 0;
  Wheel<Arrival> arrive_;
  Wheel<Ejection> eject_;
  Wheel<int32_t> credit_;  // r * kVcMaskBits + output VC j
  Wheel<int32_t> src_credit_;

  // sources
  std::vector<Source> src_;
  std::vector<std::vector<uint64_t>> queue_;  // per node ring: (dst+1) << 40 | ctime
  std::vector<int64_t> qlen_;
  std::vector<uint64_t> src_busy_;  // [n / 64] bit v: node v has a queued or partly sent packet
  std::vector<int32_t> src_used_;  // [n*V]
  int64_t queued_total_ = 0;

  // packets
  std::vector<Packet> pkts_;
  std::vector<int32_t> free_pkts_;

  // stats
  int64_t now_ = 0;
  int64_t last_move_ = 0;
  bool deadlocked_ = false;
  Counters ctr_;
  bool record_ = false;
  std::vector<DeliveredPacket> delivered_;
  std::vector<int32_t> win_latencies_;  // packet latencies of the current run() call
  // window of the current run() call
  double win_lat_ = 0, win_nlat_ = 0, win_hops_ = 0;
  int64_t win_pk_ = 0;
  // measurement (measure())
  Phase phase_ = Phase::Free;
  int64_t drain_start_ = 0;
  int64_t counted_pk_ = 0;
  double counted_lat_ = 0, counted_nlat_ = 0, counted_hops_ = 0;
  int64_t inflight_flits_ = 0;        // materialised, not yet ejected
  int64_t inflight_ctime_sum_ = 0;    // sum of their ctimes
  int64_t measured_inflight_ = 0;     // measured flits materialised, not yet ejected
  int64_t pending_before_drain_ = 0;  // queued packets created before the drain start
};

MeasureResult measure(const Config& cfg);

// Cancellation (Ctrl-C): measure() polls a process-wide flag every
// kCancelPollCycles cycles and throws Cancelled once it is set.  The flag stays
// set (every running measure() stops) until set_cancelled(false).
inline constexpr int64_t kCancelPollCycles = 16;
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("simulation cancelled") {}
};
void set_cancelled(bool on);
bool cancelled();

}  // namespace archgym::noc
