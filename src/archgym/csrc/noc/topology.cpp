// The topologies as channel tables (see noc.hpp and docs/design/noc.md §15):
// which router port leads where, after how many cycles, and where each node
// injects and ejects.  The router pipeline reads nothing else about the network.
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "noc/noc.hpp"

namespace archgym::noc {

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

// Connects output port o of router a to input port p of router b.
void link(Channels& ch, int ports, int a, int o, int b, int p, int latency) {
  ch.out[a * ports + o] = Channel{b, -1, static_cast<uint8_t>(p), static_cast<uint8_t>(latency)};
  ch.in[b * ports + p] = Channel{a, -1, static_cast<uint8_t>(o), static_cast<uint8_t>(latency)};
}

// Node v injects at input port p of router a and ejects at output port q of router b,
// over channels of `latency` cycles each way (1 on every topology but the flatfly).
void attach(Channels& ch, int ports, int v, int a, int p, int b, int q, int latency = 1) {
  ch.in[a * ports + p] = Channel{-1, v, 0, static_cast<uint8_t>(latency)};
  ch.out[b * ports + q] = Channel{-1, v, 0, static_cast<uint8_t>(latency)};
  ch.inject_router[v] = a;
  ch.inject_port[v] = p;
  ch.eject_router[v] = b;
  ch.eject_port[v] = q;
}

// k-ary n-cube: router v is node v; output port 2d leads to +1 in dimension d,
// 2d+1 to -1 (wrapping on a torus, none off a mesh edge), into the opposite
// port; the last port is the node's.  A torus link takes twice link_latency
// (BookSim's torus channels under use_noc_latency take 2 cycles; §14).
void cube(const Params& p, Channels& ch) {
  const int k = p.k, D = p.dims, NP = p.ports;
  const bool torus = p.topology == Topology::Torus;
  const int latency = p.cfg.link_latency * (torus ? 2 : 1);
  for (int v = 0; v < p.nodes; ++v) {
    for (int d = 0, stride = 1; d < D; ++d, stride *= k) {
      const int c = v / stride % k;
      for (int s = 0; s < 2; ++s) {
        int to = c + (s ? -1 : 1);
        if (torus) to = (to + k) % k;
        else if (to < 0 || to >= k) continue;
        link(ch, NP, v, 2 * d + s, v + (to - c) * stride, 2 * d + (1 - s), latency);
      }
    }
    attach(ch, NP, v, v, NP - 1, v, NP - 1);
  }
}

// k-ary n-fly: n stages of k^(n-1) routers of k inputs and k outputs; router
// `a` of stage s is router s * k^(n-1) + a.  Node v injects at input v mod k
// of stage-0 router v / k and ejects at output v mod k of last-stage router
// v / k.  Output d of stage s < n-1 replaces radix-k digit n-2-s of the
// router's number by d (input port: the digit it replaced), so the outputs
// taken stage by stage spell the destination's digits, most significant first
// (dest_tag routing).  Channels take link_latency cycles.
void fly(const Params& p, Channels& ch) {
  const int k = p.k, n = p.dims, per_stage = p.routers / n;
  for (int v = 0; v < p.nodes; ++v)
    attach(ch, k, v, v / k, v % k, (n - 1) * per_stage + v / k, v % k);
  for (int s = 0; s + 1 < n; ++s) {
    int weight = 1;
    for (int j = 0; j < n - 2 - s; ++j) weight *= k;
    for (int a = 0; a < per_stage; ++a) {
      const int digit = a / weight % k;
      for (int d = 0; d < k; ++d)
        link(ch, k, s * per_stage + a, d, (s + 1) * per_stage + a + (d - digit) * weight, digit,
             p.cfg.link_latency);
    }
  }
}

// k-ary n-tree (BookSim's fattree): n levels of k^(n-1) routers, level 0 the
// roots, level n-1 the leaves; router j of level l is router l * k^(n-1) + j.
// Ports 0 to k-1 lead down, k to 2k-1 up (a root's up ports lead nowhere).
// Node v injects and ejects at port v mod k of leaf v / k.  Down port d of
// router j at level l replaces radix-k digit n-2-l of j by d and enters the
// router below at up port k + the digit it replaced (as the oracle's
// "router_level<l>_<j>" channels show).  Channels take link_latency cycles.
void fattree(const Params& p, Channels& ch) {
  const int k = p.k, n = p.dims, per_level = p.routers / n, NP = p.ports;
  for (int v = 0; v < p.nodes; ++v) {
    const int leaf = (n - 1) * per_level + v / k;
    attach(ch, NP, v, leaf, v % k, leaf, v % k);
  }
  for (int l = 0, weight = per_level / k; l + 1 < n; ++l, weight /= k)
    for (int j = 0; j < per_level; ++j) {
      const int digit = j / weight % k, a = l * per_level + j;
      for (int d = 0; d < k; ++d) {
        const int b = (l + 1) * per_level + j + (d - digit) * weight;
        link(ch, NP, a, d, b, k + digit, p.cfg.link_latency);
        link(ch, NP, b, k + digit, a, d, p.cfg.link_latency);
      }
    }
}

// dragonflynew (BookSim's, as its traces show; docs/design/noc.md §15c): p = k
// nodes per router, a = 2k routers per group, h = k global channels per router,
// g = a h + 1 groups, each pair of groups joined by one global channel.  Router r
// is router r mod a of group r / a; node v hangs on port v mod p of router v / p.
// Ports: the p nodes, then the a - 1 other routers of the group in increasing
// order (10-cycle local channels), then the h global channels (100 cycles):
// global channel c of group G (c = index * h + port - p - (a - 1)) leads to group
// c if c < G, else c + 1, arriving on that group's channel back to G.
void dragonfly(const Params& p, Channels& ch) {
  const int P = p.k, a = 2 * p.k, h = p.k, g = a * h + 1, NP = p.ports;
  for (int v = 0; v < p.nodes; ++v) attach(ch, NP, v, v / P, v % P, v / P, v % P);
  for (int G = 0; G < g; ++G)
    for (int i = 0; i < a; ++i) {
      const int r = G * a + i;
      for (int j = 0; j < a; ++j)
        if (j != i)
          link(ch, NP, r, P + (j < i ? j : j - 1), G * a + j, P + (i < j ? i : i - 1),
               kDragonflyLocalLatency);
      for (int x = 0; x < h; ++x) {
        const int c = i * h + x, H = c < G ? c : c + 1, back = G < H ? G : G - 1;
        link(ch, NP, r, P + a - 1 + x, H * a + back / h, P + a - 1 + back % h,
             kDragonflyGlobalLatency);
      }
    }
}

// How far beyond the middle of its router's side of xr nodes a flatfly node at
// offset q lies, in nodes: its distance |q - (xr - 1) / 2| from the middle, less
// a half and rounded down (xr = 4: 1 0 0 1; xr = 5: 1 0 0 0 1; xr = 6: 2 1 0 0 1 2).
int flatfly_far(int q, int xr) { return std::max(0, (std::abs(2 * q - (xr - 1)) - 1) / 2); }

// BookSim's on-chip flattened butterfly (flatfly, n = 2): k x k routers, router
// r at (r mod k, r / k), each with a square of c = xr * xr nodes: node v at
// (v mod kxr, v / kxr) of the node grid is on router (x / xr, y / xr), port
// (x mod xr) + xr (y mod xr).  Ports c + d (k-1) ... lead to the other k-1
// routers of the row (d = 0) or column (d = 1), in increasing coordinate; a
// channel spanning s routers takes s * xr * link_latency cycles (its length
// in nodes), as the oracle's channels show.  A node's channels to and from its
// router take 1 + far(x mod xr) + far(y mod xr) cycles (flatfly_far: 0 near the
// middle of the square; docs/design/noc.md §15b).
void flatfly(const Params& p, Channels& ch) {
  const int k = p.k, c = p.cfg.c, xr = flatfly_side(c), width = k * xr, NP = p.ports;
  for (int v = 0; v < p.nodes; ++v) {
    const int x = v % width, y = v / width;
    const int r = x / xr + k * (y / xr), port = x % xr + xr * (y % xr);
    attach(ch, NP, v, r, port, r, port, 1 + flatfly_far(x % xr, xr) + flatfly_far(y % xr, xr));
  }
  auto port_to = [&](int from, int to, int d) { return c + d * (k - 1) + (to < from ? to : to - 1); };
  for (int r = 0; r < p.routers; ++r)
    for (int d = 0, stride = 1; d < 2; ++d, stride = k) {
      const int self = r / stride % k;
      for (int t = 0; t < k; ++t)
        if (t != self)
          link(ch, NP, r, port_to(self, t, d), r + (t - self) * stride, port_to(t, self, d),
               std::abs(t - self) * xr * p.cfg.link_latency);
    }
}

// BookSim's concentrated mesh (cmesh, as its traces show; docs/design/noc.md §15d):
// k x k routers, router r at (r mod k, r / k), each with a 2 x 2 square of nodes:
// node v at (v mod 2k, v / 2k) of the node grid is on router (x / 2, y / 2), port
// (x mod 2) + 2 (y mod 2).  Ports 4 + 2d lead +1 in dimension d into the
// neighbour's port 4 + 2d + 1, and the other way, as a mesh's (2 link_latency
// cycles: a channel spans 2 nodes).  The ports that would leave the mesh are its
// express channels, along the edge: on row 0 (port 7, -y) and row k-1 (port 6, +y)
// to the router k/2 columns away in the row, on column 0 (port 5, -x) and column
// k-1 (port 4, +x) to the router k/2 rows away in the column (toward the middle),
// into the same port; they take k link_latency cycles.  Odd k has none (BookSim's
// would collide; the routings that use them are refused there).
void cmesh(const Params& p, Channels& ch) {
  const int k = p.k, width = kCmeshSide * k, NP = p.ports, C = kCmeshConcentration;
  const int lat = kCmeshSide * p.cfg.link_latency, span = k / 2;
  for (int v = 0; v < p.nodes; ++v) {
    const int x = v % width, y = v / width;
    const int r = x / kCmeshSide + k * (y / kCmeshSide);
    const int port = x % kCmeshSide + kCmeshSide * (y % kCmeshSide);
    attach(ch, NP, v, r, port, r, port);
  }
  for (int r = 0; r < p.routers; ++r) {
    const int xy[2] = {r % k, r / k};
    for (int d = 0, stride = 1; d < 2; ++d, stride = k)
      for (int s = 0; s < 2; ++s) {
        const int o = C + 2 * d + s, to = xy[d] + (s ? -1 : 1);
        if (to >= 0 && to < k) {
          link(ch, NP, r, o, r + (to - xy[d]) * stride, C + 2 * d + (1 - s), lat);
        } else if (k % 2 == 0) {  // off the edge: the express channel along it
          const int e = 1 - d, estride = e ? k : 1;
          const int eto = xy[e] < span ? xy[e] + span : xy[e] - span;
          link(ch, NP, r, o, r + (eto - xy[e]) * estride, o, span * lat);
        }
      }
  }
}

// The neighbours of each anynet router, by router id (its output ports after
// its nodes', in this order, as BookSim numbers them), with each channel's latency.
std::vector<std::map<int, int>> anynet_neighbours(const Config& c, int routers) {
  std::vector<std::map<int, int>> nb(routers);
  for (size_t x = 0; x + 2 < c.anynet_channels.size(); x += 3)
    nb[c.anynet_channels[x]][c.anynet_channels[x + 1]] = c.anynet_channels[x + 2];
  return nb;
}

void anynet(const Params& p, Channels& ch) {
  const int R = p.routers, NP = p.ports;
  const auto nb = anynet_neighbours(p.cfg, R);
  std::vector<int> local(R, 0);  // nodes attached so far
  for (int v = 0; v < p.nodes; ++v) {
    const int r = p.cfg.anynet_nodes[v];
    attach(ch, NP, v, r, local[r], r, local[r]);
    ++local[r];
  }
  auto port_to = [&](int a, int b) {  // output port of a toward b
    return local[a] + static_cast<int>(std::distance(nb[a].begin(), nb[a].find(b)));
  };
  for (int a = 0; a < R; ++a)
    for (const auto& [b, latency] : nb[a]) link(ch, NP, a, port_to(a, b), b, port_to(b, a), latency);
  // Minimal routing: shortest paths by channel latency (Dijkstra toward each
  // router over the reversed channels); among equally short next hops, the
  // lowest output port.
  const int inf = std::numeric_limits<int>::max();
  ch.next_port.assign(static_cast<size_t>(R) * R, -1);
  std::vector<int> dist(R);
  for (int d = 0; d < R; ++d) {
    std::fill(dist.begin(), dist.end(), inf);
    dist[d] = 0;
    using Item = std::pair<int, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> pq;
    pq.push({0, d});
    while (!pq.empty()) {
      const auto [du, u] = pq.top();
      pq.pop();
      if (du > dist[u]) continue;
      for (int o = 0; o < NP; ++o) {  // the channels into u come from ch.in
        const Channel& from = ch.in[u * NP + o];
        if (from.router < 0) continue;
        const int alt = du + from.latency;
        if (alt < dist[from.router]) {
          dist[from.router] = alt;
          pq.push({alt, from.router});
        }
      }
    }
    for (int r = 0; r < R; ++r) {  // every router reaches d (check_anynet)
      if (r == d) continue;
      int best = -1, best_len = inf;
      for (int o = 0; o < NP; ++o) {
        const Channel& to = ch.out[r * NP + o];
        if (to.router < 0 || dist[to.router] == inf) continue;
        const int len = to.latency + dist[to.router];
        if (len < best_len) best = o, best_len = len;
      }
      ch.next_port[static_cast<size_t>(r) * R + d] = static_cast<int16_t>(best);
    }
  }
}

}  // namespace

// The side xr of a flatfly router's square of c = xr * xr nodes (0 if c is no square).
int flatfly_side(int c) {
  for (int xr = 1; xr * xr <= c; ++xr)
    if (xr * xr == c) return xr;
  return 0;
}

void check_anynet(const Config& c, int& nodes, int& routers, int& ports) {
  nodes = static_cast<int>(c.anynet_nodes.size());
  if (nodes < 1) fail("anynet_nodes must give the router of each node (none given)");
  if (c.anynet_channels.size() % 3)
    fail("anynet_channels must be (from router, to router, latency) triples (" +
         std::to_string(c.anynet_channels.size()) + " numbers)");
  routers = 0;
  for (int r : c.anynet_nodes) routers = std::max(routers, r + 1);
  std::set<std::pair<int, int>> seen;
  for (size_t x = 0; x < c.anynet_channels.size(); x += 3) {
    const int a = c.anynet_channels[x], b = c.anynet_channels[x + 1],
              latency = c.anynet_channels[x + 2];
    if (a >= kMaxNodes || b >= kMaxNodes)
      fail("anynet: router ids must be below " + std::to_string(kMaxNodes) + " (got " +
           std::to_string(std::max(a, b)) + ")");
    if (a == b) fail("anynet: router " + std::to_string(a) + " is connected to itself");
    if (latency < 1 || latency > kMaxChannelLatency)
      fail("anynet: the latency of the channel from router " + std::to_string(a) + " to router " +
           std::to_string(b) + " must be between 1 and " + std::to_string(kMaxChannelLatency) +
           " cycles (got " + std::to_string(latency) + ")");
    if (!seen.insert({a, b}).second)
      fail("anynet: the channel from router " + std::to_string(a) + " to router " +
           std::to_string(b) + " is given twice");
    routers = std::max({routers, a + 1, b + 1});
  }
  for (const auto& [a, b] : seen)
    if (!seen.count({b, a}))
      fail("anynet: router " + std::to_string(a) + " has a channel to router " +
           std::to_string(b) + " but none back (BookSim's connections go both ways)");
  if (routers > kMaxNodes)
    fail("anynet: at most " + std::to_string(kMaxNodes) + " routers (got " +
         std::to_string(routers) + ")");
  std::vector<int> degree(routers, 0);
  for (int r : c.anynet_nodes) ++degree[r];
  for (const auto& [a, b] : seen) ++degree[a];
  ports = 0;
  for (int r = 0; r < routers; ++r) {
    if (degree[r] == 0)
      fail("anynet: router ids must be 0 to " + std::to_string(routers - 1) +
           " without gaps; router " + std::to_string(r) + " is connected to nothing");
    ports = std::max(ports, degree[r]);
  }
  // connected: every router reached from router 0 (the channels go both ways)
  std::vector<std::vector<int>> nb(routers);
  for (const auto& [a, b] : seen) nb[a].push_back(b);
  std::vector<bool> reached(routers, false);
  std::vector<int> todo = {0};
  reached[0] = true;
  while (!todo.empty()) {
    const int u = todo.back();
    todo.pop_back();
    for (int w : nb[u])
      if (!reached[w]) reached[w] = true, todo.push_back(w);
  }
  for (int r = 0; r < routers; ++r)
    if (!reached[r])
      fail("anynet: router " + std::to_string(r) + " cannot be reached from router 0; the "
           "network must be connected");
}

void check_flatfly(const Config& c, int dims, int& nodes) {
  if (dims != 2)
    fail("a flatfly has n = 2 (BookSim's on-chip flattened butterfly: k x k routers); got n = " +
         std::to_string(dims));
  if (flatfly_side(c.c) == 0)
    fail("a flatfly's c (nodes per router) must be a square xr * xr, as BookSim's xr = yr "
         "(got c = " + std::to_string(c.c) + ")");
  nodes = static_cast<int>(shape_nodes(Topology::Flatfly, c.k, dims, c.c));
  if (nodes > kMaxNodes)
    fail("a flatfly has c k^2 nodes, at most " + std::to_string(kMaxNodes) + " (c = " +
         std::to_string(c.c) + ", k = " + std::to_string(c.k) + ": " + std::to_string(nodes) + ")");
}

void check_cmesh(const Config& c, int dims, int& nodes) {
  if (dims != 2)
    fail("a cmesh has n = 2 (BookSim asserts n <= 2 and fails with n = 1); got n = " +
         std::to_string(dims));
  if (c.c != kCmeshConcentration)
    fail("a cmesh has c = " + std::to_string(kCmeshConcentration) +
         " nodes per router, as BookSim asserts (got c = " + std::to_string(c.c) + ")");
  nodes = static_cast<int>(shape_nodes(Topology::Cmesh, c.k, dims, c.c));
  if (nodes > kMaxNodes)
    fail("a cmesh has 4 k^2 nodes, at most " + std::to_string(kMaxNodes) + " (k = " +
         std::to_string(c.k) + ": " + std::to_string(nodes) + ")");
  if (c.k * c.link_latency > kMaxChannelLatency)
    fail("a cmesh's express channels take k * link_latency cycles, at most " +
         std::to_string(kMaxChannelLatency) + " (k = " + std::to_string(c.k) +
         ", link_latency = " + std::to_string(c.link_latency) + ")");
}

Channels build_channels(const Params& p) {
  Channels ch;
  ch.out.assign(static_cast<size_t>(p.routers) * p.ports, Channel{});
  ch.in.assign(static_cast<size_t>(p.routers) * p.ports, Channel{});
  for (auto* v : {&ch.inject_router, &ch.inject_port, &ch.eject_router, &ch.eject_port})
    v->assign(p.nodes, -1);
  switch (p.topology) {
    case Topology::Fly: fly(p, ch); break;
    case Topology::Anynet: anynet(p, ch); break;
    case Topology::Fattree: fattree(p, ch); break;
    case Topology::Flatfly: flatfly(p, ch); break;
    case Topology::Dragonfly: dragonfly(p, ch); break;
    case Topology::Cmesh: cmesh(p, ch); break;
    default: cube(p, ch); break;
  }
  return ch;
}

}  // namespace archgym::noc
