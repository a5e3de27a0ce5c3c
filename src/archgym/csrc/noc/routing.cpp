// The routing functions and their registry (see noc.hpp and docs/noc.md).
//
// As in BookSim (routefunc.cpp), every routing function is registered by name
// in one table, routing_functions(): the name, the function, the fewest VCs it
// needs on each topology (0: it does not run there) and, for the routings that
// may be mixed per router, the per-router variant.  Adding a routing means
// adding its function here and one entry to the table.
//
// A routing function fills the route set of the head flit f waiting at input
// VC i of router r: up to 3 entries (output-VC mask, priority) in decreasing
// priority, added with add_route().  VC allocation takes the highest-priority
// entry that has a free output VC.  Ports: 2d +1 in dimension d, 2d+1 -1 in
// dimension d, the last (LP_ = 2n: 4 on a 2-D network) local
// (ejection).  Output VC j of a router is bit j = port * V + vc of a mask.
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <string>
#include <vector>

#include "noc/noc.hpp"

namespace archgym::noc {

// ----------------------------------------------------------------- geometry
// Direction along one dimension from coordinate c to t: 0 plus, 1 minus (the
// shorter way round on a torus, plus on a tie).
inline int Network::dir(int c, int t) const {
  if (!torus_) return c < t ? 0 : 1;
  int off = t - c;
  if (off < 0) off += k_;
  return off <= k_ / 2 ? 0 : 1;
}

// Dimension order: the first dimension (dimension 0 first) in which cur and
// tgt differ; the local port at tgt.
inline int Network::dor_port(int cur, int tgt) const {
  for (int d = 0; d < D_; ++d)
    if (coord(cur, d) != coord(tgt, d)) return 2 * d + dir(coord(cur, d), coord(tgt, d));
  return LP_;
}

// YX order: the last dimension in which cur and tgt differ (the reverse of
// dimension order, as BookSim's xy_yx takes it on 1- and 3-D meshes: its route
// sets on a 4x4x4 mesh); the local port at tgt.
inline int Network::yx_port(int cur, int tgt) const {
  for (int d = D_ - 1; d >= 0; --d)
    if (coord(cur, d) != coord(tgt, d)) return 2 * d + dir(coord(cur, d), coord(tgt, d));
  return LP_;
}

// The productive (minimal) ports from r toward dst: x first; returns how many.
inline int Network::productive_ports(int r, int dst, int ports[2]) const {
  int np = 0;
  if (coord(r, 0) != coord(dst, 0)) ports[np++] = dir(coord(r, 0), coord(dst, 0));
  if (coord(r, 1) != coord(dst, 1)) ports[np++] = 2 + dir(coord(r, 1), coord(dst, 1));
  return np;
}

// Output VCs [lo, hi] of `port`.
inline VcSpan Network::vcs(int port, int lo, int hi) const {
  return VcSpan{port * V_ + lo, hi - lo + 1};
}

// Output VCs [lo, hi] of `port` toward tgt.  On a torus the range is
// split in two dateline classes, decided from coordinates alone: a hop whose
// remaining path in that dimension still crosses the wrap-around link uses the
// lower half, every other hop the upper half.  Neither class contains a cycle:
// the lower half never continues past the wrap link, the upper half never uses it.
inline VcSpan Network::vc_range(int cur, int tgt, int port, int lo, int hi) const {
  if (torus_ && port < LP_) {
    const int c = coord(cur, port / 2);
    const int d = coord(tgt, port / 2);
    const bool crossing = (port & 1) == 0 ? c > d : c < d;
    const int mid = lo + (hi - lo + 1) / 2;
    if (crossing) hi = mid - 1;
    else lo = mid;
  }
  return vcs(port, lo, hi);
}

// Credits in use on output VCs [lo, hi] of port o.
inline int Network::used_sum(int r, int o, int lo, int hi) const {
  const int16_t* u = &used_[static_cast<size_t>(r) * VCS_ + o * V_];
  int s = 0;
  for (int w = lo; w <= hi; ++w) s += u[w];
  return s;
}

// 0 if port a has fewer credits in use on VCs [lo, hi] than port b, 1 if more,
// a coin flip on a tie.
inline int Network::less_used(int r, int a, int b, int lo, int hi) {
  const int ua = used_sum(r, a, lo, hi), ub = used_sum(r, b, lo, hi);
  return ua < ub ? 0 : ua > ub ? 1 : coin();
}

// ----------------------------------------------------------------- route sets
inline void Network::add_route(InVc& q, const VcMask& mask, int prio, bool atomic) {
  q.rs_mask[q.rs_n] = mask;
  q.rs_prio[q.rs_n] = static_cast<int8_t>(prio);
  if (atomic) q.rs_atomic |= static_cast<uint8_t>(1u << q.rs_n);
  ++q.rs_n;
}

inline void Network::add_route(InVc& q, VcSpan span, int prio, bool atomic) {
  if (q.words == 1) q.rs_mask[q.rs_n].w[0] = span.low_bits();  // the common router: one word
  else q.rs_mask[q.rs_n] = span;
  q.rs_prio[q.rs_n] = static_cast<int8_t>(prio);
  if (atomic) q.rs_atomic |= static_cast<uint8_t>(1u << q.rs_n);
  ++q.rs_n;
}

// At the destination: any VC of the ejection port.
inline void Network::eject(InVc& q) const { add_route(q, vcs(LP_, 0, V_ - 1), 0); }

// The same on a network of channel tables (routers of several nodes): at the
// destination's router, any VC of its ejection port; whether it routed.
inline bool Network::eject_at_router(int r, int dst, InVc& q) const {
  if (r != ch_.eject_router[dst]) return false;
  add_route(q, vcs(ch_.eject_port[dst], 0, V_ - 1), 0);
  return true;
}

// Whether input VC i of router r comes from a node: the packet enters the network here.
inline bool Network::from_node(int r, int i) const {
  return ch_.in[static_cast<size_t>(r) * NP_ + port_of_[i]].node >= 0;
}

// The two-order routings of the concentrated networks (flatfly's xyyx, cmesh's
// xy_yx): a packet's order class (0: x first, 1: y first) is drawn where it enters
// the network and kept by its VC half after.
inline int Network::order_class(int r, int i) { return from_node(r, i) ? coin() : vc_of_[i] >= V_ / 2; }

// Any VC of output o in order class cls: the lower VC half for 0, the upper for 1.
inline void Network::add_order_route(InVc& q, int o, int cls) const {
  add_route(q, cls ? vcs(o, V_ / 2, V_ - 1) : vcs(o, 0, V_ / 2 - 1), 0);
}

// The escape channel of the adaptive routings: VC 0 (on a torus VCs 0-1, the
// dateline classes) along the XY port, priority 0.
inline void Network::add_escape(int r, int dst, InVc& q) const {
  const int o = xy_port(r, dst);
  add_route(q, vc_range(r, dst, o, 0, escape_vcs() - 1), 0);
}

// Class 0: XY on the lower half of the VCs; class 1: YX on the upper half.
inline void Network::add_dimension_order_class(int r, int dst, int cls, InVc& q) const {
  const int h = V_ / 2;
  const int o = cls ? yx_port(r, dst) : xy_port(r, dst);
  add_route(q, cls ? vc_range(r, dst, o, h, V_ - 1) : vc_range(r, dst, o, 0, h - 1), 0);
}

void Network::route(int r, int i, const Flit& f, InVc& q) {
  q.rs_n = 0;
  q.rs_atomic = 0;
  if (per_router_) (this->*routings_[router_algo_[r]].per_router)(r, i, f, q);
  else (this->*routings_[f.algo].route)(r, i, f, q);
}

// ----------------------------------------------------------------- dimension order
// dor (BookSim's dor and dim_order on a mesh): X then Y, on every VC.
void Network::route_dor(int r, int i, const Flit& f, InVc& q) {
  if (p_.topology == Topology::Cmesh) return route_cmesh_dor<true>(r, i, f, q);
  if (r == f.dst) return eject(q);
  const int o = xy_port(r, f.dst);
  add_route(q, vc_range(r, f.dst, o, 0, V_ - 1), 0);
}

// BookSim's torus dimension-order hop toward dst: the first dimension in which
// r and dst differ, the shorter way round; when both ways are equally long (k
// even, offset k/2) a coin flip, or the way `tie` says.  Returns the output port;
// `entry_class` is the dateline class a packet takes on entering that
// dimension: 1 (upper) if its coordinate is above the destination's, else 0.
// With minimal paths neither class closes a cycle: class 0 holds the plus hops
// that stay below the wrap link and the minus hops that cross it, class 1 the
// others, and no path of at most k/2 hops goes once around the ring.
// (docs/design/noc.md §14)
int Network::torus_dor_hop(int r, int dst, int& entry_class, Tie tie) {
  int dim = 0;
  while (coord(r, dim) == coord(dst, dim)) ++dim;
  const int c = coord(r, dim), d = coord(dst, dim);
  int off = d - c;
  if (off < 0) off += k_;
  const int minus = 2 * off != k_ ? off > k_ / 2 : tie == Tie::Coin ? coin() : tie == Tie::Minus;
  entry_class = c > d;
  return 2 * dim + minus;
}

// dim_order on a torus: the VCs split in two dateline classes, the lower
// [0, (V-1)/2] and the upper [V/2, V-1] (they share a VC when V is odd).  A
// packet takes its class on entering a dimension (torus_dor_hop) and keeps it
// to the end of that dimension, across the wrap link.
void Network::route_dim_order(int r, int i, const Flit& f, InVc& q) {
  if (!torus_) return route_dor(r, i, f, q);
  if (r == f.dst) return eject(q);
  torus_dimension_order(r, i, f, 0, V_ - 1, false, q);
}

// dim_order_bal (torus only): dim_order with the classes balanced, as BookSim's
// route sets show: the ring splits in halves [0, h-1] and [h, k-1], h = ceil(k/2);
// a path across the wrap link takes the upper class, one across the middle link
// (h-1 to h) the lower class, one within a half either class at random,
// kept to the end of the dimension.  Neither class goes around the ring: the
// lower never crosses the wrap link, the upper never the middle one.
void Network::route_dim_order_bal(int r, int i, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  torus_dimension_order(r, i, f, 0, V_ - 1, true, q);
}

// The torus dimension-order hop on VCs [lo, hi], split in the two dateline
// classes [lo, lo + (n-1)/2] and [lo + n/2, hi] of n = hi - lo + 1 VCs, taken
// on entering a dimension as dim_order's or (`balanced`) dim_order_bal's.
void Network::torus_dimension_order(int r, int i, const Flit& f, int lo, int hi, bool balanced,
                                    InVc& q) {
  int cls = 0;
  const int o = torus_dor_hop(r, f.dst, cls, Tie::Coin);
  Packet& pk = pkts_[f.pkt];
  const int in = port_of_[i];
  if (in == LP_ || in / 2 != o / 2) {
    if (balanced) {
      const int c = coord(r, o / 2), d = coord(f.dst, o / 2), h = (k_ + 1) / 2;
      const bool plus = (o & 1) == 0;
      const bool wrap = plus ? c > d : c < d;
      const bool middle = plus ? c < h && d >= h && c < d : c >= h && d < h && c > d;
      cls = wrap ? 1 : middle ? 0 : coin();
    }
    pk.dateline = static_cast<uint8_t>(cls);
  }
  const int n = hi - lo + 1;
  add_route(q, pk.dateline ? vcs(o, lo + n / 2, hi) : vcs(o, lo, lo + (n - 1) / 2), 0);
}

// ----------------------------------------------------------------- non-interfering
// BookSim's non-interfering routings give each destination class its own VCs,
// V / classes of them (the rest unused): class d holds VCs
// [d * V/classes, (d+1) * V/classes - 1].  A packet never waits behind one
// bound elsewhere.
inline void Network::dest_vcs(int cls, int classes, int& lo, int& hi) const {
  const int per = V_ / classes;
  lo = cls * per;
  hi = lo + per - 1;
}

// The VCs [lo, hi] a source may inject a packet on: all of them, but for the
// routings with a class per destination node (*_ni) that node's VCs and for
// flatfly's ugal_pni its destination column's, as BookSim's sources do (its
// injection VCs follow the destination).
void Network::injection_vcs(const Packet& pk, int& lo, int& hi) const {
  if (routings_[pk.algo].vc_classes == VcClasses::PerNode) dest_vcs(pk.dst, n_, lo, hi);
  // flatfly ugal_pni: the V/k VCs of the destination router's column (its x), as
  // BookSim's sources (every injection of the oracle's traces, 8, 9, 12 and 16 VCs)
  if (routings_[pk.algo].route == &Network::route_ugal_pni_flatfly)
    dest_vcs(ch_.eject_router[pk.dst] % k_, k_, lo, hi);
}

// dim_order_ni: dimension order on the VCs of the destination node (one class
// per node, so at least k^n VCs); on a torus split in dateline classes as dim_order's.
void Network::route_dim_order_ni(int r, int i, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  int lo = 0, hi = 0;
  dest_vcs(f.dst, n_, lo, hi);
  if (torus_) return torus_dimension_order(r, i, f, lo, hi, false, q);
  add_route(q, vcs(xy_port(r, f.dst), lo, hi), 0);
}

// dim_order_pni (mesh only): dimension order, the VCs of a class per
// destination coordinate in the dimension being crossed (k classes, so at least
// k VCs): packets bound for different turning points or ejection ports do not share VCs.
void Network::route_dim_order_pni(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int o = xy_port(r, f.dst);
  int lo = 0, hi = 0;
  dest_vcs(coord(f.dst, o / 2), k_, lo, hi);
  add_route(q, vcs(o, lo, hi), 0);
}

// chaos: dimension order on VC 0 alone, whatever V (BookSim's chaos routing on
// an input-queued router: it requests VC 0 only); on a torus the shorter way,
// the plus way on a tie (as its requests on a 4-ring: 136 of 136 ties).
// BookSim's deadlocks earlier on a torus (docs/design/noc.md §14).
void Network::route_chaos(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  int cls = 0;
  add_route(q, vcs(torus_ ? torus_dor_hop(r, f.dst, cls, Tie::Plus) : xy_port(r, f.dst), 0, 0), 0);
}

// planar_adapt (mesh only; BookSim's, as its watch_out traces show on 2-D and
// 3-D meshes with 1 to 12 VCs, at zero load and in saturation): a packet is "in
// adaptive plane" p, the first dimension in which it differs from its destination,
// and moves in dimension p, the dimension-order port, every hop; it never takes the
// plane's second dimension.  Its VCs are the last of three classes of V/3 VCs,
// [2(V/3), V-1] (the classes for the second dimension are never requested); with
// V < 3 every VC.  Every VC into the node.  (docs/design/noc.md §14)
void Network::route_planar_adapt(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  add_route(q, vcs(xy_port(r, f.dst), 2 * (V_ / 3), V_ - 1), 0);
}

// yx: Y then X, on every VC.
void Network::route_yx(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int o = yx_port(r, f.dst);
  add_route(q, vc_range(r, f.dst, o, 0, V_ - 1), 0);
}

// xy_yx (O1TURN): XY or YX at random per packet, on the lower or upper VC half
// (on n dimensions: dimension order or its reverse).
void Network::route_xy_yx(int r, int i, const Flit& f, InVc& q) {
  if (p_.topology == Topology::Cmesh) return route_cmesh_xy_yx<true>(r, i, f, q);
  if (r == f.dst) return eject(q);
  const int cls = port_of_[i] == LP_ ? coin() : vc_of_[i] >= V_ / 2;
  add_dimension_order_class(r, f.dst, cls, q);
}

// adaptive_xy_yx: as xy_yx, the class chosen at injection by the first hop's
// credit use (XY's port against YX's port).
void Network::route_adaptive_xy_yx(int r, int i, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int cls = port_of_[i] == LP_
                      ? less_used(r, xy_port(r, f.dst), yx_port(r, f.dst), 0, V_ - 1)
                      : vc_of_[i] >= V_ / 2;
  add_dimension_order_class(r, f.dst, cls, q);
}

// ----------------------------------------------------------------- escape-VC adaptive
// min_adapt (BookSim's): the XY port on the adaptive VCs first, then the escape
// VC.  BookSim's route-set quirk keeps one entry per priority, so the adaptive
// entry is always the DOR port; once on the escape VC, a packet stays there.
// With 1 VC on a mesh there is no adaptive VC: it is dor (BookSim's runs: the same).
// kAtomic (per-router mode): adaptive VCs are taken only when empty.
template <bool kAtomic>
void Network::route_min_adapt(int r, int i, const Flit& f, InVc& q) {
  if (!kAtomic && torus_) return route_min_adapt_torus(r, i, f, q);
  if (r == f.dst) return eject(q);
  const int E = escape_vcs();
  const bool on_escape = port_of_[i] != LP_ && vc_of_[i] < E;
  if (!on_escape && V_ > E) add_route(q, vcs(xy_port(r, f.dst), E, V_ - 1), 1, kAtomic);
  add_escape(r, f.dst, q);
}

// min_adapt on a torus (BookSim's): the escape channel is dimension order on
// VC 0 or 1, its dateline class (kept along a dimension while the packet stays
// on it, else taken from the coordinates as by dim_order); the adaptive entry
// is VC 3 alone, whatever V (BookSim never offers VC 2 nor VCs above 3), on
// the dimension-order port (one entry per priority), the minus way on a tie.
// With 2 VCs there is no adaptive VC: it is dim_order.  Once on the escape
// channel a packet stays there.
void Network::route_min_adapt_torus(int r, int i, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int in = port_of_[i];
  const bool on_escape = in != LP_ && vc_of_[i] < 2;
  int cls = 0;
  if (!on_escape && V_ > 3) add_route(q, vcs(torus_dor_hop(r, f.dst, cls, Tie::Minus), 3, 3), 1);
  const int o = torus_dor_hop(r, f.dst, cls, Tie::Coin);
  if (on_escape && in / 2 == o / 2) cls = vc_of_[i];
  add_route(q, vcs(o, cls, cls), 0);
}

// The adaptive entries of duato and random_min are taken only when empty
// (atomic allocation): with VC reallocation at the tail's grant, queueing
// behind another packet on an adaptive VC could close a cycle that the escape
// VC cannot break.

// duato: both productive ports on the adaptive VCs, the less used first, then
// the escape VC.
void Network::route_duato(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int E = escape_vcs();
  int ports[2] = {};
  if (productive_ports(r, f.dst, ports) == 2) {
    const int best = less_used(r, ports[0], ports[1], E, V_ - 1);
    add_route(q, vcs(ports[best], E, V_ - 1), 2, true);
    add_route(q, vcs(ports[1 - best], E, V_ - 1), 1, true);
  } else {
    add_route(q, vcs(ports[0], E, V_ - 1), 1, true);
  }
  add_escape(r, f.dst, q);
}

// random_min: a random productive port on the adaptive VCs, then the escape VC.
void Network::route_random_min(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int E = escape_vcs();
  int ports[2] = {};
  const int np = productive_ports(r, f.dst, ports);
  add_route(q, vcs(np == 2 ? ports[coin()] : ports[0], E, V_ - 1), 1, true);
  add_escape(r, f.dst, q);
}

// Per-router dor: the XY port on the adaptive VCs (when empty), then the escape VC.
void Network::route_per_router_dor(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  const int E = escape_vcs();
  add_route(q, vcs(xy_port(r, f.dst), E, V_ - 1), 1, true);
  add_escape(r, f.dst, q);
}

// ----------------------------------------------------------------- two phases
// XY to the packet's intermediate node on the lower VC half (phase 0), then XY
// to the destination on the upper half (phase 1).  Quirk kept from BookSim: at
// the destination still in phase 0, all VCs toward the intermediate node.
void Network::route_via_intermediate(int r, const Flit& f, Packet& pk, InVc& q) const {
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  if (r == f.dst && pk.phase == 1) return eject(q);
  const int tgt = pk.phase ? f.dst : pk.inter;
  const int o = xy_port(r, tgt);
  if (r == f.dst) add_route(q, vc_range(r, tgt, o, 0, V_ - 1), 0);
  else if (pk.phase) add_route(q, vc_range(r, tgt, o, V_ / 2, V_ - 1), 0);
  else add_route(q, vc_range(r, tgt, o, 0, V_ / 2 - 1), 0);
}

// The intermediate node of romm: at random in the minimal quadrant of source and destination.
int32_t Network::romm_intermediate(const Flit& f) {
  int inter = 0;
  for (int d = 0, stride = 1; d < D_; ++d, stride *= k_) {
    const int s = coord(f.src, d), t = coord(f.dst, d);
    inter += stride * (std::min(s, t) + static_cast<int>(rng_.below(std::abs(s - t) + 1)));
  }
  return inter;
}

// romm: two phases through romm_intermediate(), on every VC.
void Network::route_romm(int r, int i, const Flit& f, InVc& q) {
  Packet& pk = pkts_[f.pkt];
  if (port_of_[i] == LP_) {
    pk.phase = 0;
    pk.inter = romm_intermediate(f);
  }
  route_via_intermediate(r, f, pk, q);
}

// romm_ni (mesh only): romm's two phases, both on every VC of the destination
// node (dest_vcs, one class per node), as BookSim's route sets show.  Each
// phase is XY, and the dependencies from phase 0 into phase 1 stay within the
// destination's class, which never leads out of it: no cycle.
void Network::route_romm_ni(int r, int i, const Flit& f, InVc& q) {
  Packet& pk = pkts_[f.pkt];
  if (port_of_[i] == LP_) {
    pk.phase = 0;
    pk.inter = romm_intermediate(f);
  }
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  if (r == f.dst && pk.phase == 1) return eject(q);
  int lo = 0, hi = 0;
  dest_vcs(f.dst, n_, lo, hi);
  add_route(q, vcs(xy_port(r, pk.phase ? f.dst : pk.inter), lo, hi), 0);
}

// valiant: the intermediate node at random anywhere (can deadlock on a mesh,
// as BookSim's).  On a torus each phase's VCs split again in dateline classes
// (vc_range), so at least 4 VCs; BookSim runs it there only with k <= 3.
void Network::route_valiant(int r, int i, const Flit& f, InVc& q) {
  if (p_.topology == Topology::Flatfly) return route_valiant_flatfly(r, i, f, q);
  Packet& pk = pkts_[f.pkt];
  if (port_of_[i] == LP_) {
    pk.phase = 0;
    pk.inter = static_cast<int32_t>(rng_.below(static_cast<uint32_t>(n_)));
  }
  route_via_intermediate(r, f, pk, q);
}

// ----------------------------------------------------------------- turn models
// Each rule lists the minimal ports its turn model allows (mesh only, every VC).
namespace {

// Glass and Ni's west-first: all westward hops first.
int west_first(int cx, int cy, int dx, int dy, int, int ports[2]) {
  const int ex = dx - cx, ey = dy - cy;
  if (ex < 0) {
    ports[0] = 1;
    return 1;
  }
  int np = 0;
  if (ex > 0) ports[np++] = 0;
  if (ey != 0) ports[np++] = ey > 0 ? 2 : 3;
  return np;
}

// north-last: no turn out of north.
int north_last(int cx, int cy, int dx, int dy, int, int ports[2]) {
  const int ex = dx - cx, ey = dy - cy;
  int np = 0;
  if (ex != 0) ports[np++] = ex > 0 ? 0 : 1;
  if (ey < 0) ports[np++] = 3;
  if (np == 0) ports[np++] = 2;  // only north remains
  return np;
}

// negative-first: all hops in negative directions first.
int negative_first(int cx, int cy, int dx, int dy, int, int ports[2]) {
  const int ex = dx - cx, ey = dy - cy;
  int np = 0;
  if (ex < 0) ports[np++] = 1;
  if (ey < 0) ports[np++] = 3;
  if (np == 0) {
    if (ex > 0) ports[np++] = 0;
    if (ey > 0) ports[np++] = 2;
  }
  return np;
}

// Chiu's odd-even: no east-to-north/south turn in even columns, no
// north/south-to-west turn in odd columns.
int odd_even(int cx, int cy, int dx, int dy, int sx, int ports[2]) {
  const int ex = dx - cx, ey = dy - cy;
  const int py = ey > 0 ? 2 : 3;
  int np = 0;
  if (ex == 0) {
    ports[np++] = py;
  } else if (ex > 0) {
    if (ey == 0) {
      ports[np++] = 0;
    } else {
      if ((cx & 1) == 1 || cx == sx) ports[np++] = py;
      if ((dx & 1) == 1 || ex != 1) ports[np++] = 0;
    }
  } else {
    ports[np++] = 1;
    if (ey != 0 && (cx & 1) == 0) ports[np++] = py;
  }
  return np;
}

}  // namespace

// A turn model on every VC: among two allowed ports, the less used first
// (kAdaptive) or one at random (oblivious).
template <TurnRule kAllowed, bool kAdaptive>
void Network::route_turn_model(int r, int, const Flit& f, InVc& q) {
  if (r == f.dst) return eject(q);
  int ports[2] = {};
  const int np = kAllowed(coord(r, 0), coord(r, 1), coord(f.dst, 0), coord(f.dst, 1),
                          coord(f.src, 0), ports);
  if (np == 1) {
    add_route(q, vcs(ports[0], 0, V_ - 1), 0);
  } else if (!kAdaptive) {
    add_route(q, vcs(ports[coin()], 0, V_ - 1), 0);
  } else {
    const int best = less_used(r, ports[0], ports[1], 0, V_ - 1);
    add_route(q, vcs(ports[best], 0, V_ - 1), 1);
    add_route(q, vcs(ports[1 - best], 0, V_ - 1), 0);
  }
}

// ----------------------------------------------------------------- other topologies
// min (anynet): the one shortest path of the channel table's routing table
// (ch_.next_port, by channel latency), on every VC.
void Network::route_min(int r, int i, const Flit& f, InVc& q) {
  if (p_.topology == Topology::Dragonfly) return route_min_dragonfly(r, i, f, q);
  const int d = ch_.eject_router[f.dst];
  const int o = r == d ? ch_.eject_port[f.dst] : ch_.next_port[static_cast<size_t>(r) * R_ + d];
  add_route(q, vcs(o, 0, V_ - 1), 0);
}

// dest_tag (fly): stage s takes the output named by the destination's radix-k
// digit n-1-s (most significant first; the last stage's is the node's port),
// on every VC.
void Network::route_dest_tag(int r, int, const Flit& f, InVc& q) {
  int rest = f.dst;
  for (int s = r / (R_ / D_); s < D_ - 1; ++s) rest /= k_;
  add_route(q, vcs(rest % k_, 0, V_ - 1), 0);
}

// nca and anca (fattree, BookSim's nearest-common-ancestor routings): a router
// of level l whose subtree holds the destination (its digits above n-2-l are
// the destination's leaf's) takes down port (dst / k^(n-1-l)) mod k; any other
// goes up, on one up port: nca's at random; anca's the less used of two up
// ports drawn at random, each of k (the same port possibly twice), by credits in
// use on all its VCs, the first drawn on a tie (docs/design/noc.md §15b: the
// oracle's choices fit this rule, not the least used of all k).  Every VC of
// the port.
template <bool kAdaptive>
void Network::route_nca(int r, int, const Flit& f, InVc& q) {
  const int per_level = R_ / D_, level = r / per_level, j = r % per_level;
  int below = 1;  // k^(n-1-level): the nodes under one down port
  for (int l = level; l < D_ - 1; ++l) below *= k_;
  if (j / below == f.dst / (below * k_)) return add_route(q, vcs(f.dst / below % k_, 0, V_ - 1), 0);
  int up = static_cast<int>(rng_.below(static_cast<uint32_t>(k_)));
  if (kAdaptive) {
    const int other = static_cast<int>(rng_.below(static_cast<uint32_t>(k_)));
    if (used_sum(r, k_ + other, 0, V_ - 1) < used_sum(r, k_ + up, 0, V_ - 1)) up = other;
  }
  add_route(q, vcs(k_ + up, 0, V_ - 1), 0);
}

// flatfly: the output port from router r toward node dst's router, the row
// (dimension 0) first if x_first, else the column; its port at the destination.
int Network::flatfly_port(int r, int dst, bool x_first) const {
  const int d = ch_.eject_router[dst];
  if (r == d) return ch_.eject_port[dst];
  return flatfly_router_port(r, d, x_first);
}

// flatfly: the output port from router r toward another router t, the row first
// if x_first, else the column.
int Network::flatfly_router_port(int r, int t, bool x_first) const {
  const int c = p_.cfg.c;
  int dim = x_first ? (r % k_ != t % k_ ? 0 : 1) : (r / k_ != t / k_ ? 1 : 0);
  const int self = dim ? r / k_ : r % k_, to = dim ? t / k_ : t % k_;
  return c + dim * (k_ - 1) + (to < self ? to : to - 1);
}

// ran_min (flatfly): the row, then the column, on every VC (BookSim's ran_min
// takes the row first on every packet of the oracle's traces and requests
// every VC).
void Network::route_ran_min(int r, int, const Flit& f, InVc& q) {
  add_route(q, vcs(flatfly_port(r, f.dst, true), 0, V_ - 1), 0);
}

// xyyx (flatfly): row then column on the lower VC half, or column then row on
// the upper half, chosen where the packet enters the network: at random, or
// (kAdaptive: BookSim's adaptive_xyyx) the order whose first port has fewer
// credits in use on all its VCs, a coin flip on a tie (within a row or a column
// both orders take the same port: half and half in the oracle's traces, 158 and
// 167 packets at 0.01).  Every VC into the node.  As the oracle's route sets show.
template <bool kAdaptive>
void Network::route_xyyx(int r, int i, const Flit& f, InVc& q) {
  if (eject_at_router(r, f.dst, q)) return;
  const int cls = kAdaptive && from_node(r, i)
                      ? less_used(r, flatfly_port(r, f.dst, true), flatfly_port(r, f.dst, false), 0, V_ - 1)
                      : order_class(r, i);
  add_order_route(q, flatfly_port(r, f.dst, cls == 0), cls);
}

// The second half of flatfly's valiant and ugal: a packet goes row first to its
// intermediate router (Packet::inter) on the lower VC class [0, (V-1)/2] (phase
// 0), then row first to the destination on the upper class [V/2, V-1] (with V
// odd the classes share VC V/2, as BookSim's).  A packet that reaches its
// destination's router ejects there, on every VC into the node, even before the
// intermediate.
void Network::route_flatfly_phases(int r, const Flit& f, Packet& pk, InVc& q) const {
  if (eject_at_router(r, f.dst, q)) return;
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  if (pk.phase == 0) return add_route(q, vcs(flatfly_router_port(r, pk.inter, true), 0, (V_ - 1) / 2), 0);
  add_route(q, vcs(flatfly_port(r, f.dst, true), V_ / 2, V_ - 1), 0);
}

// valiant (flatfly, BookSim's valiant as its traces show): the source router
// draws the intermediate router uniformly among all k^2 (its own and the
// destination's included), then route_flatfly_phases.  Within a row, the
// intermediates in the destination's column (k of k^2) end the path at the
// destination (the oracle: 294 of 1109 such packets of the example, 25%).
void Network::route_valiant_flatfly(int r, int i, const Flit& f, InVc& q) {
  Packet& pk = pkts_[f.pkt];
  if (from_node(r, i)) {
    pk.phase = 0;
    pk.inter = static_cast<int32_t>(rng_.below(static_cast<uint32_t>(R_)));
  }
  route_flatfly_phases(r, f, pk, q);
}

// ugal (flatfly, BookSim's ugal): the source router draws an intermediate router
// I (flatfly_ugal_intermediate) and sends the packet through I (route_flatfly_phases)
// when flatfly_ugal_detours says so (row first); else minimal, on the upper VC class
// from the source.  The threshold is fitted to the oracle's curves (docs/design/noc.md §15b).
// The source router's rule (set_ugal_decisions; unset: ugal_l, the above) may
// instead route the packet as ran_min (min: every VC, Packet::phase kEveryVcMinimal
// at every hop), as valiant (val) or with ugal_g's comparison (ugal_flatfly_nonminimal).
constexpr int kFlatflyUgalThreshold = 2;
constexpr uint8_t kEveryVcMinimal = 2;

void Network::route_ugal_flatfly(int r, int i, const Flit& f, InVc& q) {
  Packet& pk = pkts_[f.pkt];
  const int t = ch_.eject_router[f.dst];
  const bool source = from_node(r, i);
  const UgalDecision rule = ugal_rule(r);
  if (source && rule == UgalDecision::Min) pk.phase = kEveryVcMinimal;
  if (pk.phase == kEveryVcMinimal) return route_ran_min(r, i, f, q);
  if (source && rule == UgalDecision::Valiant) return route_valiant_flatfly(r, i, f, q);
  if (source && r != t) {
    pk.phase = 1;
    pk.inter = t;
    const int inter = flatfly_ugal_intermediate(r, t);
    if (ugal_flatfly_nonminimal(rule, r, t, inter)) {
      pk.inter = inter;
      pk.phase = 0;
    }
  }
  route_flatfly_phases(r, f, pk, q);
}

// Whether a packet at its source router r, bound for router t, goes through router
// inter under `rule`: ugal_l is flatfly_ugal_detours (row first); ugal_g compares the
// credits in use summed over every channel of the two paths (row first, each read at
// the router that owns it), with the same threshold.
bool Network::ugal_flatfly_nonminimal(UgalDecision rule, int r, int t, int inter) const {
  if (rule != UgalDecision::Global) return flatfly_ugal_detours(r, t, inter, true);
  return inter != r && inter != t &&
         flatfly_path_queue(r, t) >
             flatfly_path_queue(r, inter) + flatfly_path_queue(inter, t) + kFlatflyUgalThreshold;
}

// The credits in use (all VCs) summed over the channels of router a's row-first
// path to router b: along a's row to b's column, then along that column.
int Network::flatfly_path_queue(int a, int b) const {
  int sum = 0;
  while (a != b) {
    sum += used_sum(a, flatfly_router_port(a, b, true), 0, V_ - 1);
    a = a % k_ != b % k_ ? a - a % k_ + b % k_ : b;
  }
  return sum;
}

// The intermediate router of flatfly's ugal_xyyx and ugal_pni at source router r
// for a packet bound for router t: uniform in each dimension in which r and t
// differ, r's coordinate in the others (as ugal's, the oracle's traces).
int Network::flatfly_ugal_intermediate(int r, int t) {
  const int x = r % k_ == t % k_ ? r % k_ : static_cast<int>(rng_.below(static_cast<uint32_t>(k_)));
  const int y = r / k_ == t / k_ ? r / k_ : static_cast<int>(rng_.below(static_cast<uint32_t>(k_)));
  return y * k_ + x;
}

// UGAL's choice at source router r between the minimal path to router t and the
// one through `inter`, both in the same dimension order (x_first): through inter
// when the credits in use on all VCs of the minimal first port times the minimal
// hop count exceed those of the port toward inter times the hops through inter by
// more than kFlatflyUgalThreshold (ugal's rule).  Never through r itself, nor
// through a router whose first port is the minimal one (the oracle's traces: 0
// of 200 and 0 of 335 such packets detour).
bool Network::flatfly_ugal_detours(int r, int t, int inter, bool x_first) const {
  const int om = flatfly_router_port(r, t, x_first);
  if (inter == r || inter == t) return false;
  const int on = flatfly_router_port(r, inter, x_first);
  if (on == om) return false;
  const auto hops = [this](int a, int b) { return (a % k_ != b % k_) + (a / k_ != b / k_); };
  const int qm = used_sum(r, om, 0, V_ - 1), qn = used_sum(r, on, 0, V_ - 1);
  return qm * hops(r, t) > qn * (hops(r, inter) + hops(inter, t)) + kFlatflyUgalThreshold;
}

// ugal_xyyx (flatfly, BookSim's ugal_xyyx as its traces show; >= 4 VCs): ugal
// with xyyx's two dimension orders.  The source draws the order at random (row
// first or column first) and keeps it on both phases; the VCs split in two order
// halves, [0, (V-1)/2] row first and [V/2, V-1] column first, and each half of n
// VCs [lo, hi] in the phase classes [lo, lo + (n-1)/2] (to the intermediate) and
// [lo + n/2, hi] (to the destination; a minimal packet takes it from the source).
// The intermediate and the choice: flatfly_ugal_intermediate, flatfly_ugal_detours
// in the packet's order.  Every VC into the node.
void Network::route_ugal_xyyx_flatfly(int r, int i, const Flit& f, InVc& q) {
  if (eject_at_router(r, f.dst, q)) return;
  Packet& pk = pkts_[f.pkt];
  const int t = ch_.eject_router[f.dst];
  if (from_node(r, i)) {
    pk.order = static_cast<uint8_t>(coin());
    const int inter = flatfly_ugal_intermediate(r, t);
    const bool detour = flatfly_ugal_detours(r, t, inter, pk.order == 0);
    pk.inter = detour ? inter : t;
    pk.phase = detour ? 0 : 1;
  }
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  const bool x_first = pk.order == 0;
  const int lo = pk.order ? V_ / 2 : 0, hi = pk.order ? V_ - 1 : (V_ - 1) / 2, n = hi - lo + 1;
  if (pk.phase == 0)
    return add_route(q, vcs(flatfly_router_port(r, pk.inter, x_first), lo, lo + (n - 1) / 2), 0);
  add_route(q, vcs(flatfly_port(r, f.dst, x_first), lo + n / 2, hi), 0);
}

// ugal_pni (flatfly, BookSim's ugal_pni as its traces show; k = c, >= 2k VCs):
// ugal's paths (row first on both phases, the intermediate and the choice of
// flatfly_ugal_intermediate and flatfly_ugal_detours) on VCs of the packet's
// destination class: phase 0 takes VCs [0, V/2 - 1], phase 1 (and a minimal
// packet) [V/2, V-1], each split in k classes of (V/2)/k VCs (the rest unused);
// a row hop takes the class of the destination router's row (its y), a column
// hop that of the destination node's port on its router, in both phases (every
// hop of the oracle's traces, 8, 9, 12 and 16 VCs).  Every VC into the node.
void Network::route_ugal_pni_flatfly(int r, int i, const Flit& f, InVc& q) {
  if (eject_at_router(r, f.dst, q)) return;
  Packet& pk = pkts_[f.pkt];
  const int t = ch_.eject_router[f.dst];
  if (from_node(r, i)) {
    const int inter = flatfly_ugal_intermediate(r, t);
    const bool detour = flatfly_ugal_detours(r, t, inter, true);
    pk.inter = detour ? inter : t;
    pk.phase = detour ? 0 : 1;
  }
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  const int o = flatfly_router_port(r, pk.phase ? t : pk.inter, true);
  const bool row = o < p_.cfg.c + k_ - 1;
  const int cls = row ? t / k_ : ch_.eject_port[f.dst];
  const int per = V_ / 2 / k_, lo = (pk.phase ? V_ / 2 : 0) + cls * per;
  add_route(q, vcs(o, lo, lo + per - 1), 0);
}

// ----------------------------------------------------------------- cmesh
// Ports (topology.cpp): 4 nodes, then 4 + 2d toward +1 and 4 + 2d + 1 toward -1 in
// dimension d; on an edge router the port that would leave the mesh is an express
// channel along the edge, k/2 routers long.

// cmesh: the output port from router r toward node dst, x first if x_first, else y
// first; with `express`, a router on the edge that has an express channel in the
// dimension routed takes it when the destination is k/2 or more routers away in
// that dimension (as every hop of the oracle's traces on k = 4, 6 and 8).
int Network::cmesh_port(int r, int dst, bool x_first, bool express) const {
  const int t = ch_.eject_router[dst];
  if (r == t) return ch_.eject_port[dst];
  const int cur[2] = {r % k_, r / k_}, to[2] = {t % k_, t / k_};
  const int d = x_first ? (cur[0] != to[0] ? 0 : 1) : (cur[1] != to[1] ? 1 : 0);
  const int e = 1 - d;  // the edge's dimension: express channels in d lie on its ends
  if (express && std::abs(to[d] - cur[d]) >= k_ / 2 && (cur[e] == 0 || cur[e] == k_ - 1))
    return kCmeshConcentration + 2 * e + (cur[e] == 0 ? 1 : 0);
  return kCmeshConcentration + 2 * d + (to[d] < cur[d] ? 1 : 0);
}

// dor / dor_no_express (BookSim's on a cmesh): x then y, on every VC.
template <bool kExpress>
void Network::route_cmesh_dor(int r, int, const Flit& f, InVc& q) {
  add_route(q, vcs(cmesh_port(r, f.dst, true, kExpress), 0, V_ - 1), 0);
}

// xy_yx / xy_yx_no_express (cmesh): x then y on the lower VC half, or y then x on the
// upper half, at random per packet (chosen where it enters the network); every VC
// into the node.  As the oracle's route sets show.
template <bool kExpress>
void Network::route_cmesh_xy_yx(int r, int i, const Flit& f, InVc& q) {
  if (eject_at_router(r, f.dst, q)) return;
  const int cls = order_class(r, i);
  add_order_route(q, cmesh_port(r, f.dst, cls == 0, kExpress), cls);
}

// ----------------------------------------------------------------- dragonflynew
// Ports (topology.cpp): k nodes, the a - 1 = 2k - 1 other routers of the group,
// the h = k global channels.  Router r is router r mod a of group r / a.

// The output port of router r toward group `group` (not r's): its own global
// channel to it, or the local port to the router of r's group that has it.
int Network::dfly_group_port(int r, int group) const {
  const int a = 2 * k_, G = r / a, i = r % a;
  const int c = group < G ? group : group - 1;  // the group's channel toward `group`
  const int j = c / k_;
  if (j == i) return k_ + a - 1 + c % k_;
  return k_ + (j < i ? j : j - 1);
}

// The minimal next port from router r toward router t (r != t): local within a
// group, else toward t's group.
int Network::dfly_port(int r, int t) const {
  const int a = 2 * k_;
  if (r / a != t / a) return dfly_group_port(r, t / a);
  const int i = r % a, j = t % a;
  return k_ + (j < i ? j : j - 1);
}

// min (BookSim's min_dragonflynew): the minimal path (at most local, global,
// local), one VC per hop: VC 0 in the source group up to the global channel, VC 1
// on the global channel and after it (a packet within its group: VC 0 throughout).
void Network::route_min_dragonfly(int r, int, const Flit& f, InVc& q) {
  const int a = 2 * k_, t = f.dst / k_;
  const int o = r == t ? f.dst % k_ : dfly_port(r, t);
  const int vc = r / a != f.src / k_ / a || (r != t && dfly_global(o)) ? 1 : 0;
  add_route(q, vcs(o, vc, vc), 0);
}

// ugal (BookSim's ugal_dragonflynew, as its traces show; 3 VCs): at the source
// router a packet bound for another group draws an intermediate router uniformly
// (its group uniform over all groups); unless that group is the source's or the
// destination's, the packet goes through it (Valiant) when the source router's
// rule says so (ugal_nonminimal; by default UGAL-L: the credits in use on the
// minimal port exceed kUgalWeight x those on the port toward the intermediate
// group plus kUgalThreshold).  The decision is the packet's intermediate router
// (Packet::inter, -1 minimal).  A router set to minimal draws nothing.  VCs:
// toward the intermediate router VC 0; then (and on minimal paths) VC 1 on local
// hops outside the destination group, VC 2 on the global hop into it and within it.
void Network::route_ugal(int r, int i, const Flit& f, InVc& q) {
  if (p_.topology == Topology::Flatfly) return route_ugal_flatfly(r, i, f, q);
  Packet& pk = pkts_[f.pkt];
  const int a = 2 * k_, t = f.dst / k_, G = r / a, D = t / a;
  if (f.hops == 0) {  // the source router (no router traversed yet): the decision
    pk.inter = -1;
    pk.phase = 1;
    const auto rule = ugal_rule(r);
    if (G != D && rule != UgalDecision::Min) {
      const int I = static_cast<int>(rng_.below(static_cast<uint32_t>(a * k_ + 1)));
      const int inter = I * a + static_cast<int>(rng_.below(static_cast<uint32_t>(a)));
      if (I != G && I != D && ugal_nonminimal(rule, r, t, I)) {
        pk.inter = inter;
        pk.phase = 0;
      }
    }
  }
  if (pk.phase == 0 && r == pk.inter) pk.phase = 1;
  if (pk.phase == 0) return add_route(q, vcs(dfly_port(r, pk.inter), 0, 0), 0);
  const int o = r == t ? f.dst % k_ : dfly_port(r, t);
  const int vc = G == D || dfly_global(o) ? 2 : 1;
  add_route(q, vcs(o, vc, vc), 0);
}

// Whether a packet at its source router r, bound for router t, goes through
// intermediate group I (neither r's group nor t's) under `rule`.  UGAL-L compares
// the source router's own output ports (the minimal one and the one toward I);
// UGAL-G the two global channels the paths take out of the source group, each read
// at the router that owns it (Kim et al., ISCA 2008, the global-information
// variant); both with ugal's weight and threshold.
bool Network::ugal_nonminimal(UgalDecision rule, int r, int t, int I) const {
  const int a = 2 * k_, G = r / a;
  switch (rule) {
    case UgalDecision::Valiant: return true;
    case UgalDecision::Global:
      return dfly_global_queue(G, t / a) > kUgalWeight * dfly_global_queue(G, I) + kUgalThreshold;
    default:
      return used_sum(r, dfly_port(r, t), 0, V_ - 1) >
             kUgalWeight * used_sum(r, dfly_group_port(r, I), 0, V_ - 1) + kUgalThreshold;
  }
}

// Group G's channel toward group H is the group's channel c (§15c): global port
// c mod k of router c / k of G.
int Network::dfly_global_queue(int G, int H) const {
  const int a = 2 * k_, c = H < G ? H : H - 1;
  return used_sum(G * a + c / k_, k_ + a - 1 + c % k_, 0, V_ - 1);
}

const std::vector<std::string>& ugal_decision_names() {
  static const std::vector<std::string> names = {"ugal_l", "min", "val", "ugal_g"};
  return names;
}

const std::vector<std::string>& dragonfly_port_class_names() {
  static const std::vector<std::string> names = {"local", "global"};
  return names;
}

const std::vector<std::string>& flatfly_port_class_names() {
  static const std::vector<std::string> names = {"row", "column"};
  return names;
}

void Network::set_ugal_decisions(const std::vector<int64_t>& index) {
  const auto& names = ugal_decision_names();
  if (p_.topology != Topology::Dragonfly && p_.topology != Topology::Flatfly)
    throw std::invalid_argument("ugal decisions are set on a dragonflynew or a flatfly only (topology is '" +
                                p_.cfg.topology + "')");
  if (static_cast<int64_t>(index.size()) != R_)
    throw std::invalid_argument("the ugal decision array needs one entry per router (" +
                                std::to_string(R_) + "), got " + std::to_string(index.size()));
  std::vector<uint8_t> rule(R_);
  for (int v = 0; v < R_; ++v) {
    if (index[v] < 0 || index[v] >= static_cast<int64_t>(names.size()))
      throw std::invalid_argument("ugal decision of router " + std::to_string(v) +
                                  " must be between 0 and " + std::to_string(names.size() - 1) +
                                  " (got " + std::to_string(index[v]) + ")");
    rule[v] = static_cast<uint8_t>(index[v]);
  }
  ugal_decision_ = std::move(rule);
}

std::vector<int32_t> Network::dragonfly_credits_in_use() const {
  if (p_.topology != Topology::Dragonfly)
    throw std::invalid_argument("dragonfly_credits_in_use: topology is '" + p_.cfg.topology +
                                "', not dragonflynew");
  return class_credits_in_use(k_, dragonfly_class_ports());
}

std::vector<int32_t> Network::flatfly_credits_in_use() const {
  if (p_.topology != Topology::Flatfly)
    throw std::invalid_argument("flatfly_credits_in_use: topology is '" + p_.cfg.topology +
                                "', not flatfly");
  return class_credits_in_use(p_.cfg.c, flatfly_class_ports());
}

// Per router, the credits in use (all VCs) summed over two classes of output ports: the
// ports[0] ports from `first` on, then the ports[1] after them.
std::vector<int32_t> Network::class_credits_in_use(int first, std::array<int, 2> ports) const {
  std::vector<int32_t> out(2 * static_cast<size_t>(R_), 0);
  for (int r = 0; r < R_; ++r)
    for (int o = first; o < first + ports[0] + ports[1]; ++o)
      out[2 * static_cast<size_t>(r) + (o >= first + ports[0])] += used_sum(r, o, 0, V_ - 1);
  return out;
}

// ----------------------------------------------------------------- registry
const std::vector<RoutingFunction>& routing_functions() {
  using N = Network;
  constexpr MinVcs kPerRouter = {2, 3};  // escape VC(s) plus an adaptive VC
  // min_vcs: {mesh, torus, fly, anynet, fattree, flatfly, dragonflynew, cmesh}; 0 = not on that topology.  BookSim's names run
  // where BookSim runs them (dor, xy_yx and adaptive_xy_yx only on a mesh;
  // min_adapt on a torus with 2 VCs, but not with 3, where BookSim fails).
  // The 7th field: runs on networks of any dimension (else 2-D only).
  // BookSim's names that archgym refuses: booksim.py's BOOKSIM_FAILING.
  static const std::vector<RoutingFunction> registry = {
      {"dor", &N::route_dor, {1, 0, 0, 0, 0, 0, 0, 1}, &N::route_per_router_dor, kPerRouter, {}, true},
      {"dim_order", &N::route_dim_order, {1, 2}, nullptr, {}, {}, true},
      {"yx", &N::route_yx, {1, 2}},
      {"xy_yx", &N::route_xy_yx, {2, 0, 0, 0, 0, 0, 0, 2}, nullptr, {}, {}, true},
      {"adaptive_xy_yx", &N::route_adaptive_xy_yx, {2, 0}, nullptr, {}, {}, true},
      {"min_adapt", &N::route_min_adapt<false>, {1, 2}, &N::route_min_adapt<true>, kPerRouter,
       {0, 3}, true},
      {"duato", &N::route_duato, {2, 3}, &N::route_duato, kPerRouter},
      {"random_min", &N::route_random_min, {2, 3}, &N::route_random_min, kPerRouter},
      {"romm", &N::route_romm, {2, 0}, nullptr, {}, {}, true},
      // BookSim's valiant_torus fails an assertion on rings of more than 3 routers.
      {"valiant", &N::route_valiant, {2, 4, 0, 0, 0, 2}, nullptr, {}, {}, true, VcClasses::None,
       {0, 3}},
      {"dim_order_ni", &N::route_dim_order_ni, {1, 1}, nullptr, {}, {}, true, VcClasses::PerNode},
      {"dim_order_pni", &N::route_dim_order_pni, {1, 0}, nullptr, {}, {}, true,
       VcClasses::PerRadix},
      {"dim_order_bal", &N::route_dim_order_bal, {0, 2}, nullptr, {}, {}, true},
      {"romm_ni", &N::route_romm_ni, {1, 0}, nullptr, {}, {}, true, VcClasses::PerNode},
      {"chaos", &N::route_chaos, {1, 1}, nullptr, {}, {}, true},
      {"planar_adapt", &N::route_planar_adapt, {1, 0}, nullptr, {}, {}, true},
      {"west_first", &N::route_turn_model<west_first, true>, {1, 0}},
      {"north_last", &N::route_turn_model<north_last, true>, {1, 0}},
      {"negative_first", &N::route_turn_model<negative_first, true>, {1, 0}},
      {"odd_even", &N::route_turn_model<odd_even, true>, {1, 0}},
      {"west_first_oblivious", &N::route_turn_model<west_first, false>, {1, 0}},
      {"north_last_oblivious", &N::route_turn_model<north_last, false>, {1, 0}},
      {"negative_first_oblivious", &N::route_turn_model<negative_first, false>, {1, 0}},
      {"odd_even_oblivious", &N::route_turn_model<odd_even, false>, {1, 0}},
      {"dest_tag", &N::route_dest_tag, {0, 0, 1, 0}, nullptr, {}, {}, true},
      {"min", &N::route_min, {0, 0, 0, 1, 0, 0, 2}, nullptr, {}, {}, true},
      {"nca", &N::route_nca<false>, {0, 0, 0, 0, 1}, nullptr, {}, {}, true},
      {"anca", &N::route_nca<true>, {0, 0, 0, 0, 1}, nullptr, {}, {}, true},
      {"ran_min", &N::route_ran_min, {0, 0, 0, 0, 0, 1}, nullptr, {}, {}, true},
      {"xyyx", &N::route_xyyx<false>, {0, 0, 0, 0, 0, 2}, nullptr, {}, {}, true},
      // BookSim's ugal_dragonflynew asserts num_vcs == 3.
      {"ugal", &N::route_ugal, {0, 0, 0, 0, 0, 2, 3}, nullptr, {}, {}, true, VcClasses::None, {},
       {0, 0, 0, 0, 0, 0, 3}},
      {"adaptive_xyyx", &N::route_xyyx<true>, {0, 0, 0, 0, 0, 2}, nullptr, {}, {}, true},
      // BookSim's ugal_xyyx fails with fewer than 4 VCs; ugal_pni unless k = c (config.cpp)
      {"ugal_xyyx", &N::route_ugal_xyyx_flatfly, {0, 0, 0, 0, 0, 4}, nullptr, {}, {}, true},
      {"ugal_pni", &N::route_ugal_pni_flatfly, {0, 0, 0, 0, 0, 2}, nullptr, {}, {}, true,
       VcClasses::PerRadix},
      // cmesh (BookSim's dor and xy_yx on a cmesh take its express channels)
      {"dor_no_express", &N::route_cmesh_dor<false>, {0, 0, 0, 0, 0, 0, 0, 1}},
      {"xy_yx_no_express", &N::route_cmesh_xy_yx<false>, {0, 0, 0, 0, 0, 0, 0, 2}},
  };
  return registry;
}

const std::vector<std::string>& routing_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const RoutingFunction& rf : routing_functions()) out.push_back(rf.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& per_router_routing_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const RoutingFunction& rf : routing_functions())
      if (rf.per_router) out.push_back(rf.name);
    return out;
  }();
  return names;
}

}  // namespace archgym::noc
