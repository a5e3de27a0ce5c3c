// MAESTRO-style cost model engine.  See maestro.hpp; "§n" refers to
// docs/design/costmodel.md.  Integer arithmetic follows C++ semantics on
// purpose (division truncates toward zero, tile sizes may be negative): the
// reference behaviour depends on it.
//
// Reading order: Engine::build_levels prepares each level's static tables
// (§1-§3); Engine::analyze analyses one level case by case (§4-§6), each step a
// function named after its section; Engine::run reports the figures (§7).
#include "costmodel/maestro.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace archgym::costmodel {

namespace {

constexpr int kMaxDirs = 16;  // directives in one level, repeats included
static_assert(kHardwareFields[0].member == &Hardware::num_pes);
constexpr i64 kMaxPes = kHardwareFields[0].range.hi;

const char* const kVarNames[kNumVars] = {"K", "C", "R", "S", "Y", "X", "N", "G", "Y'", "X'"};

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

void check_range(const char* what, i64 v, Range r) {
  if (v < r.lo || v > r.hi)
    fail(std::string(what) + " must be in [" + std::to_string(r.lo) + ", " +
         std::to_string(r.hi) + "], got " + std::to_string(v));
}

// Signed 64-bit arithmetic that records overflow instead of wrapping.
struct Checked {
  bool overflow = false;
  i64 mul(i64 a, i64 b) {
    i64 r;
    if (__builtin_mul_overflow(a, b, &r)) { overflow = true; return 0; }
    return r;
  }
  i64 add(i64 a, i64 b) {
    i64 r;
    if (__builtin_add_overflow(a, b, &r)) { overflow = true; return 0; }
    return r;
  }
};

// ---------------------------------------------------------------- constants
struct Constants {
  double e_mac, a_mac, p_mac, unit1, a1, p1, unit2, a2, p2;
  bool offchip_term;  // HEAD's §6 step 10
  bool rs_check;      // HEAD's TemporalMap-on-R/S check (§1)
};

const Constants& constants(Preset p) {
  static const Constants k2020{0.904, 4470.9014, 1.2223, 64, 4505.1889, 0.2208,
                               32768, 4161.536, 4, false, false};
  static const Constants k2021{0.00023, 283, 1.2223, 1, 0.104, 0.00345,
                               1, 0.104, 0.00345, true, true};
  return p == Preset::Maestro2020 ? k2020 : k2021;
}

// ---------------------------------------------------------------- structures
enum Pos : int { kInit = 0, kSteady = 1, kEdgePos = 2 };

// §4.1: one state of a directive.
struct State {
  int pos = kInit;
  i64 occ = 1;
  bool unrolled = false, init_edge = false, edge_edge = false;
  bool edge() const { return pos == kEdgePos || init_edge; }
};

// A directive bound to the layer: sizes and offsets are numbers.
struct Dir {
  bool spatial = false;
  int var = K;
  i64 M = 1, O = 1;
};

// §3.2: mapped m, unique u, edge-mapped mᵉ, edge-unique uᵉ.
struct Tile {
  i64 m = 0, u = 0, me = 0, ue = 0;
};

using Table = std::array<i64, kNumVars>;

struct Level {
  int index = 0;  // ℓ, 0 at the top
  int nd = 0;
  std::array<Dir, kMaxDirs> dirs{};
  // §2.5: the first and the last directive on a variable (-1 if none), and for each
  // directive the one whose state it shows (the last on its variable).
  std::array<int, kNumVars> dir_of{}, last_of{};
  std::array<int, kMaxDirs> shown{};
  bool repeats = false;  // some variable has several directives
  i64 N = 1;                           // sub-clusters (§2.1)
  i64 E = 1;                           // edge sub-clusters (§3.1)
  int first_spatial = -1;              // the primary spatial map (§2.4)
  Table T{};                           // static tile table (§2.3)
  std::array<bool, kNumVars> has{};
  std::array<Tile, kNumVars> tile{};   // §3.2
};

struct Tensor {
  int n = 0;
  std::array<int, 6> vars{};
  unsigned mask = 0;
  bool has(int var) const { return mask >> var & 1u; }
};

enum TensorIndex : int { kInput = 0, kFilter = 1, kOutput = 2 };
using Tensors = std::array<Tensor, 3>;

// out(v) of §0: the output extent of an input-coordinate variable.
int out_var(int v) { return v == Y ? YP : v == X ? XP : v; }

// What one level analysis accumulates (§6).
struct Analysis {
  i64 runtime = 0, macs = 0;
  std::array<i64, 3> l2size{}, l1size{}, l2read{}, l2write{}, l1read{}, l1write{};
  i64 peak = 0, offreq = 0, avg_acc = 0, total = 0;
  double active_acc = 0, ai = 0;
  std::array<i64, 3> dmin{std::numeric_limits<i64>::max(), std::numeric_limits<i64>::max(),
                          std::numeric_limits<i64>::max()};
  std::array<i64, 3> dmax{}, dsum{};  // ingress, egress, compute
  // 0 for an analysis that processed no case (its sub-clusters count as idle).
  double avg_active() const { return total ? active_acc / static_cast<double>(total) : 0.0; }
};

// ---------------------------------------------------------------- §4 cases
// §4.1: the states of one directive over a dimension of extent d.
int make_states(const Dir& dir, i64 d, i64 N, State* out) {
  const i64 M = dir.M, O = dir.O;
  int n = 0;
  if (!dir.spatial) {
    const i64 steps = (d - M) / O;
    out[n++] = State{kInit, 1, d <= M, d < M, false};
    if (d > M && steps > 0) out[n++] = State{kSteady, steps, false, false, false};
    if (d >= M && steps * O + M < d) out[n++] = State{kEdgePos, 1, false, false, false};
  } else {
    const i64 F = M + O * (N - 1);
    const i64 q = ((d - M) / O + 1) / N - 1;
    out[n++] = State{kInit, 1, d <= F, d < F, d < F};
    if (d > F && q > 0) out[n++] = State{kSteady, q, false, false, false};
    if (d > F && (q + 1) * O * N + F > d && q * O * N + F != d) {
      const i64 rho = d - (q + 1) * O * N;
      const i64 a = rho < M ? 1 : (rho - M) / O + 1;
      out[n++] = State{kEdgePos, 1, false, false, (a - 1) * O + M < rho};
    }
  }
  return n;
}

// One case (§4.2): a state per directive, and the notions of §4.3.
struct Case {
  std::array<const State*, kMaxDirs> st{};
  i64 occ = 1;                   // o, the product of the states' occurrences
  int cstar = -1;                // c*, the last directive not at Init (-1: all-Init)
  std::array<bool, 2> inited{};  // inited(input), inited(filter)
};

// §4.1-§4.2: the states of every directive over the dimension table D, and
// the cases in their order.
class Cases {
 public:
  Cases(const Level& lev, const Table& D) : nd_(lev.nd) {
    for (int i = 0; i < nd_; ++i) {
      ns_[i] = make_states(lev.dirs[i], D[lev.dirs[i].var], lev.N, states_[i].data());
      count_ *= ns_[i];
    }
  }

  i64 count() const { return count_; }

  // The state of every directive in case c; call for c = 0, 1, 2, ... in turn.
  void select(i64 c, std::array<const State*, kMaxDirs>& st) {
    // Directive i takes state ceil(c / f_i) mod s_i, i.e. digit + 1 mod s_i.
    for (int i = 0; i < nd_; ++i) {
      const int next = digit_[i] + 1;  // digit < s_i, so no division is needed
      st[i] = &states_[i][c == 0 || next == ns_[i] ? 0 : next];
    }
    if (c > 0) {
      for (int i = nd_ - 1; i >= 0; --i) {
        if (++digit_[i] < ns_[i]) break;
        digit_[i] = 0;
      }
    }
  }

 private:
  int nd_;
  std::array<std::array<State, 3>, kMaxDirs> states_;
  std::array<int, kMaxDirs> ns_{};
  std::array<int, kMaxDirs> digit_{};  // mixed-radix digits of (case - 1)
  i64 count_ = 1;
};

std::string directive_text(const Dir& d) {
  return std::string(d.spatial ? "SpatialMap(" : "TemporalMap(") + std::to_string(d.M) + "," +
         std::to_string(d.O) + ") " + kVarNames[d.var];
}

// §2.5: a temporal directive as wide as its level's static tile (unique slice u = 0)
// that still steps, because the level above hands down a wider dimension (a
// repeated directive there whose later size is the larger): MAESTRO exits with
// status 255 when such a step would load the new slice.
std::string empty_slice_message(const Level& lev, const Dir& d) {
  return directive_text(d) + " at level " + std::to_string(lev.index) + " covers the level's " +
         kVarNames[d.var] + " tile (" + std::to_string(lev.T[d.var]) +
         ") yet steps over a larger " + kVarNames[d.var] +
         " handed down by a repeated directive above; MAESTRO exits here"
         " (docs/design/costmodel.md §2.5)";
}

// ---------------------------------------------------------------- §5 volumes
// §5.1: a directive's factor of the mapped volume A_t(f, e).
i64 mapped_factor(const Dir& d, const State& s, const Tile& t, i64 E, bool f, bool e) {
  if (!d.spatial) return s.edge() ? t.me : t.m;
  if (!s.edge()) return t.m;
  if (E == 1) return (f || e) ? t.me : 1;
  return e ? t.me : t.m;
}

// §5.2: a directive's factor of the ingress volume B_t(f, e) of a case with
// c* >= 0.  before_cstar: the directive comes before c*; unique: it is c* and
// the tensor is not inited (it loads only the unique slice).
i64 ingress_factor(const Dir& d, const State& s, const Tile& t, bool f, bool e,
                   bool before_cstar, bool unique) {
  if (!d.spatial) {
    if (s.pos == kInit) return s.edge() ? t.me : t.m;
    return unique ? t.u : t.m;
  }
  const i64 mt = e ? t.me : t.m, ut = e ? t.ue : t.u;
  if (s.pos == kInit) return (f || before_cstar) ? mt : ut;
  return f ? mt : (unique ? ut : mt);
}

// §5.3 factor (a): the factor of W(1, f, e, r) of a directive whose variable
// is not an output variable.
i64 partial_sum_factor(const Dir& d, const State& s, const Tile& t, i64 E, bool f, bool e) {
  const i64 ustar = t.u != 0 ? t.u : 1;
  if (!d.spatial) return s.edge() ? t.me : t.m;
  if (s.pos == kInit) return (s.edge() && e) ? t.me : (f ? t.m : ustar);
  if (s.pos == kSteady) return f ? t.m : ustar;
  if (E == 1) return (f || e) ? t.me : 1;
  return e ? t.ue : (f ? t.m : ustar);
}

// §5.3 factor (b): the factor of W(p, f, e, r) of an output variable w; t is
// the tile of out(w), t_in that of w itself.
i64 output_factor(const Dir& d, const State& s, const Tile& t, const Tile& t_in, i64 E, bool f,
                  bool e, bool r) {
  const i64 ustar = t.u != 0 ? t.u : 1;
  if (!d.spatial) {
    if (s.pos == kInit) return s.edge() ? t.me : t.m;
    return s.pos == kSteady ? t.m : t.me;
  }
  if (s.pos == kInit) {
    if (s.edge() && e) return (E == 1 || !r) ? t.me : t.ue;
    return f ? t.m : ustar;
  }
  if (s.pos == kSteady) return f ? t.m : ustar;
  if (E == 1) return (f || e) ? t_in.me : 1;  // [quirk] the input-coordinate entry
  return e ? t.ue : (f ? t.m : ustar);
}

// §5.1-§5.3: the per-sub-cluster volumes of one case.  A case asks for the
// same arguments several times, so each product is computed once.
class TileVolumes {
 public:
  TileVolumes(const Level& lev, const Tensors& ten, const Case& cs, Checked& ck)
      : lev_(lev), ten_(ten), cs_(cs), ck_(ck) {}

  // B_t(f, e) of the input (t = 0) or the filter (t = 1).
  i64 ingress(int t, bool f, bool e) {
    const unsigned k = t * 4 + f * 2 + e;
    if (!(b_done_ >> k & 1u)) {
      b_memo_[k] = compute_ingress(t, f, e);
      b_done_ |= 1u << k;
    }
    return b_memo_[k];
  }

  // W(p, f, e, r) of the output; partial is p.
  i64 output(bool partial, bool f, bool e, bool r) {
    const unsigned k = partial * 8 + f * 4 + e * 2 + r;
    if (!(w_done_ >> k & 1u)) {
      w_memo_[k] = compute_output(partial, f, e, r);
      w_done_ |= 1u << k;
    }
    return w_memo_[k];
  }

 private:
  i64 compute_ingress(int t, bool f, bool e) {
    const Tensor& tn = ten_[t];
    const int cstar = cs_.cstar;
    if (cstar >= 0 && !tn.has(lev_.dirs[cstar].var)) return 0;  // stationary
    i64 p = 1;
    for (int i = 0; i < lev_.nd; ++i) {
      const Dir& d = lev_.dirs[i];
      if (!tn.has(d.var)) continue;
      const Tile& tile = lev_.tile[d.var];
      const State& s = *cs_.st[i];
      const bool unique = i == cstar && !cs_.inited[t];
      if (cstar >= 0 && unique && !d.spatial && s.pos != kInit && tile.u == 0)
        fail(empty_slice_message(lev_, d));
      const i64 x = cstar < 0 ? mapped_factor(d, s, tile, lev_.E, f, e)
                              : ingress_factor(d, s, tile, f, e, i < cstar, unique);
      p = ck_.mul(p, x);
    }
    return p;
  }

  // Factor (b) once per output variable, from its first directive (§2.5); factor
  // (a) once per directive.
  i64 compute_output(bool partial, bool f, bool e, bool r) {
    const Tensor& out = ten_[kOutput];
    i64 p = 1;
    for (int j = 0; j < out.n; ++j) {
      const int i = lev_.dir_of[out.vars[j]];
      if (i < 0) continue;
      const Dir& d = lev_.dirs[i];
      p = ck_.mul(p, output_factor(d, *cs_.st[i], lev_.tile[out_var(d.var)], lev_.tile[d.var],
                                   lev_.E, f, e, r));
    }
    if (!partial) return p;
    for (int i = 0; i < lev_.nd; ++i) {
      const Dir& d = lev_.dirs[i];
      if (!out.has(d.var))
        p = ck_.mul(p, partial_sum_factor(d, *cs_.st[i], lev_.tile[d.var], lev_.E, f, e));
    }
    return p;
  }

  const Level& lev_;
  const Tensors& ten_;
  const Case& cs_;
  Checked& ck_;
  std::array<i64, 8> b_memo_;
  std::array<i64, 16> w_memo_;
  unsigned b_done_ = 0, w_done_ = 0;
};

// §5.4: whether some directives are spatial (sp), whether one of them is in an
// edge state, and the edge-edge flag of σ, the last of them.
struct Spread {
  bool sp = false, edge = false, ee = false;
};

// Over the spatially mapped variables of a tensor, in tensor order.
Spread spread_of_tensor(const Level& lev, const Case& cs, const Tensor& tn) {
  Spread r;
  int last = -1;
  for (int j = 0; j < tn.n; ++j) {
    const int i = lev.dir_of[tn.vars[j]];
    if (i < 0 || !lev.dirs[i].spatial) continue;
    r.sp = true;
    r.edge |= cs.st[i]->edge();
    last = i;
  }
  if (last >= 0) r.ee = cs.st[last]->edge_edge;
  return r;
}

// Over all spatial directives of the level, in level order.
Spread spread_of_level(const Level& lev, const Case& cs) {
  Spread r;
  int last = -1;
  for (int i = 0; i < lev.nd; ++i) {
    if (!lev.dirs[i].spatial) continue;
    r.sp = true;
    r.edge |= cs.st[i]->edge();
    last = i;
  }
  if (last >= 0) r.ee = cs.st[last]->edge_edge;
  return r;
}

// §5.4: a per-sub-cluster volume vol(f, e) summed over the sub-clusters (the
// ingress I_t and the egress Ω).
template <typename Volume>
i64 sum_over_subclusters(const Spread& sp, const Level& lev, Checked& ck, Volume&& vol) {
  if (!sp.sp) return vol(true, false);
  if (!sp.edge) return ck.add(vol(true, false), ck.mul(lev.N - 1, vol(false, false)));
  const bool g = lev.E == 1 && sp.ee;
  const i64 nee = sp.ee ? 1 : 0, nfull = std::max<i64>(lev.E - nee - 1, 0);
  i64 v = vol(true, g);
  if (lev.E > 1)
    v = ck.add(v, ck.add(ck.mul(nfull, vol(false, false)), ck.mul(nee, vol(false, true))));
  return v;
}

// §5.4: the MACs of the whole array, Q.
i64 array_macs(const Spread& all, const Level& lev, Checked& ck, TileVolumes& vol) {
  if (!all.edge) return ck.mul(lev.N, vol.output(true, true, false, true));
  const bool g = lev.E == 1 && all.ee;
  const i64 nee = all.ee ? 1 : 0, nfull = std::max<i64>(lev.E - nee - 1, 0);
  i64 q = vol.output(true, true, g, true);
  if (lev.E > 1)
    q = ck.add(q, ck.add(ck.mul(nfull, vol.output(true, true, false, true)),
                         ck.mul(nee, vol.output(true, false, true, false))));
  return q;
}

// The volumes of one case, summed over the sub-clusters (§5.4).
struct Volumes {
  std::array<i64, 2> ingress{};  // I_input, I_filter
  i64 egress = 0;                // Ω
  i64 psums = 0;                 // Π, the partial sums on the critical path
  i64 macs = 0;                  // Q
};

Volumes case_volumes(const Level& lev, const Tensors& ten, const Case& cs, Checked& ck) {
  TileVolumes vol(lev, ten, cs, ck);
  Volumes v;
  for (int t = kInput; t <= kFilter; ++t)
    v.ingress[t] = sum_over_subclusters(spread_of_tensor(lev, cs, ten[t]), lev, ck,
                                        [&](bool f, bool e) { return vol.ingress(t, f, e); });
  const Spread out = spread_of_tensor(lev, cs, ten[kOutput]);
  v.egress = sum_over_subclusters(out, lev, ck,
                                  [&](bool f, bool e) { return vol.output(false, f, e, true); });
  v.psums = (!out.sp || !out.edge) ? vol.output(true, true, false, true)
                                   : vol.output(true, true, lev.E == 1 && out.ee, true);
  v.macs = array_macs(spread_of_level(lev, cs), lev, ck, vol);
  return v;
}

// §5.5: the dimension table G(e) a sub-cluster of this case is analysed with.
Table subcluster_table(const Level& lev, const Case& cs, bool e) {
  Table g{};
  for (int i = 0; i < lev.nd; ++i) {
    const Dir& d = lev.dirs[i];
    const State& s = *cs.st[i];
    const Tile& t = lev.tile[d.var];
    if (!d.spatial) g[d.var] = s.edge() ? t.me : t.m;
    else if (s.pos == kSteady || (s.pos == kInit && !s.edge())) g[d.var] = t.m;
    else g[d.var] = (lev.E == 1 || e) ? t.me : t.m;
  }
  g[YP] = g[Y] - g[R] + 1;
  g[XP] = g[X] - g[S] + 1;
  return g;
}

// ---------------------------------------------------------------- §2-§3 levels
bool maps(const std::vector<Dir>& dirs, int var) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const Dir& d) { return d.var == var; });
}

// §2.2 step 0 (§2.5): every directive stays, repeats included.  MAESTRO stops
// at a third SpatialMap in one level; a level mapping both Y' and Y (X' and X),
// and Y (X) mapped twice under a stride along it, are not modelled.  All are
// refused.
void check_repeats(const Level& lev, i64 stride_y, i64 stride_x, const std::vector<Dir>& dirs) {
  std::vector<std::string> spatial;
  for (const Dir& d : dirs)
    if (d.spatial) spatial.push_back(directive_text(d));
  if (spatial.size() > 2)
    fail("level " + std::to_string(lev.index) + " has " + std::to_string(spatial.size()) +
         " SpatialMaps (" + spatial[0] + ", " + spatial[1] + ", " + spatial[2] +
         "); MAESTRO allows at most two per cluster level");
  for (auto [out, in] : {std::array<int, 2>{YP, Y}, std::array<int, 2>{XP, X}})
    if (maps(dirs, out) && maps(dirs, in))
      fail(std::string("level ") + std::to_string(lev.index) + " maps both " + kVarNames[out] +
           " and " + kVarNames[in] + "; map one of them (docs/design/costmodel.md §2.5)");
  for (auto [in, stride] : {std::array<i64, 2>{Y, stride_y}, std::array<i64, 2>{X, stride_x}}) {
    if (stride == 1) continue;
    const auto first = std::find_if(dirs.begin(), dirs.end(), [&](const Dir& d) {
      return d.var == in || d.var == out_var(static_cast<int>(in)); });
    const auto again = first == dirs.end() ? first : std::find_if(first + 1, dirs.end(),
        [&](const Dir& d) { return d.var == first->var; });
    if (again != dirs.end())
      fail(std::string("level ") + std::to_string(lev.index) + " maps " + kVarNames[in] +
           " twice (" + directive_text(*first) + ", " + directive_text(*again) +
           ") under a stride of " + std::to_string(stride) + " along it, which is not modelled"
           " (docs/design/costmodel.md §2.5)");
  }
}

// §2.2 step 1: a directive on Y' (X') becomes one on Y (X), M + M_R - 1 wide.
void to_input_centric(const Level& lev, std::vector<Dir>& dirs) {
  for (auto [out, in, win] : {std::array<int, 3>{YP, Y, R}, std::array<int, 3>{XP, X, S}}) {
    for (Dir& d : dirs) {
      if (d.var != out) continue;
      i64 m_win = lev.T[win];
      for (const Dir& w : dirs)
        if (w.var == win) m_win = w.M;
      d.var = in;
      d.M = d.M + m_win - 1;
    }
  }
}

// §2.2 step 4 (§20.1): with a stride s along Y (X), each directive on Y (X)
// covers n outputs.  Let w be the window, R (S) in the level's static table
// (not its directive's size), and s' = min(s, w) the spacing of the outputs'
// windows inside a tile.  At the top level n = (M - w) ÷ s + 1 and the offset
// becomes n·s; below it, n = (M - w) ÷ s' + 1 and the offset n·s'.  The size
// becomes (n - 1)·s' + w at every level.  The written offset is dropped.  A
// directive narrower than the window (M < w) is kept as written.
void apply_strides(const Level& lev, bool top, i64 stride_y, i64 stride_x,
                   std::vector<Dir>& dirs) {
  for (auto [in, win, stride] : {std::array<i64, 3>{Y, R, stride_y}, {X, S, stride_x}}) {
    if (stride == 1) continue;
    const i64 w = lev.T[win];
    const i64 spacing = std::min(stride, w), step = top ? stride : spacing;
    for (Dir& d : dirs) {
      if (d.var != in) continue;
      if (d.M < w) continue;  // narrower than the window: kept as written
      const i64 n = (d.M - w) / step + 1;
      d.M = (n - 1) * spacing + w;
      d.O = n * step;
    }
  }
}

// §2.2 step 2: the upper level's directives this level lacks, as temporal
// maps, each inserted at the front.
void inherit(const Level& up, std::vector<Dir>& dirs) {
  for (int i = 0; i < up.nd; ++i) {
    const Dir& d = up.dirs[i];
    if (!maps(dirs, d.var)) dirs.insert(dirs.begin(), Dir{false, d.var, d.M, d.O});
  }
}

// §2.2 step 3: "fully unrolled" temporal maps for the rest of V_in.
void complete(const Level& lev, const std::vector<int>& vin, std::vector<Dir>& dirs) {
  for (int v : vin)
    if (!maps(dirs, v) && lev.has[v]) dirs.push_back(Dir{false, v, lev.T[v], lev.T[v]});
}

// §3.2: the tile-size tables, then those of Y' and X' (a GEMM has no window:
// its output extents are the tiles of Y and X themselves, §20.3).
void tile_tables(Level& lev, bool windowed) {
  for (int i = 0; i < lev.nd; ++i) {
    const Dir& d = lev.dirs[i];
    const i64 D = lev.T[d.var];
    const i64 n = std::max<i64>(0, (D - d.M) / d.O);
    const bool h = n * d.O + d.M < D || d.M > D;
    i64 rho = D - (n + 1) * d.O;
    if (rho < 0) rho = D;
    Tile& t = lev.tile[d.var];
    t.m = d.M;
    t.u = (!d.spatial && D <= d.M) ? 0 : std::min(d.M, d.O);
    t.me = h ? rho : d.M;
    t.ue = std::max<i64>(d.O - (d.M - rho), 0);
  }
  for (auto [out, in, win] : {std::array<int, 3>{YP, Y, R}, std::array<int, 3>{XP, X, S}}) {
    if (lev.dir_of[in] < 0 || lev.dir_of[win] < 0) continue;
    if (!windowed) {
      lev.tile[out] = lev.tile[in];
      continue;
    }
    const Dir& d = lev.dirs[lev.last_of[in]];  // the directive whose tile is ti (§2.5)
    const Tile& ti = lev.tile[in];
    const Tile& tw = lev.tile[win];
    Tile& t = lev.tile[out];
    t.m = ti.m - tw.m + 1;
    t.u = std::min(d.O, d.M);
    t.me = ti.me - tw.me + 1;
    t.ue = std::min(d.O, t.me);
  }
}

// §3.1: the edge sub-cluster count E, from the primary spatial map.
i64 edge_subclusters(const Level& lev) {
  if (lev.first_spatial < 0) return 1;
  const Dir& d = lev.dirs[lev.first_spatial];
  const i64 D = lev.T[d.var];
  const i64 F = d.O * (lev.N - 1) + d.M;
  if (D > F) {
    const i64 q = ((D - d.M) / d.O + 1) / lev.N - 1;
    const i64 rho = D - (q + 1) * d.O * lev.N;
    return rho < d.M ? 1 : (rho - d.M) / d.O + 1;
  }
  if (D > d.M) {
    const i64 E = (D - d.M) / d.O + 1;
    return d.O * (E - 1) + d.M < D ? E + 1 : E;
  }
  return 1;
}

// ---------------------------------------------------------------- the engine
// The timing of one processed case (§6 steps 6-10).
struct CaseTiming {
  i64 compute = 0;        // C (step 7)
  double active = 0;      // A, the active sub-clusters (steps 6 and 12)
  i64 ingress_delay = 0;  // δ_in (step 8)
  i64 egress_delay = 0;   // δ_out (step 8)
  i64 delay = 0;          // Δ (steps 9 and 10)
};

class Engine {
 public:
  Engine(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
         const i64* params, const Options& opt);
  Result run();

 private:
  // §1-§3: the levels and their static tables.
  i64 bind(const Expr& e, const i64* params, const char* what) const;
  void build_levels(const DataflowSpec& spec, const i64* params);
  void static_table(int l);
  std::vector<Dir> bind_directives(const std::vector<DirectiveSpec>& level,
                                   const i64* params) const;
  void place_directives(int l, const std::vector<Dir>& dirs);

  // §4-§6: one level analysis, ρ_ℓ(D).
  Analysis analyze(int l, const Table& D);
  const Analysis& sub_analysis(int l, const Table& G);
  Case make_case(const Level& lev, Cases& cases, i64 c);
  void size_buffers(const Level& lev, const Table& D, const Volumes& v, Analysis& a);
  void count_output_accesses(i64 o, const Volumes& v, Analysis& a);
  void count_input_accesses(i64 o, const Volumes& v, Analysis& a);
  CaseTiming time_case(int l, const Case& cs, const Volumes& v, i64 ingress, Analysis& a);
  void compute_delay(int l, const Case& cs, i64 psums, CaseTiming& t);
  i64 noc_delay(i64 d);
  std::string zero_compute_message() const;
  void add_case(i64 o, const Volumes& v, i64 ingress, const CaseTiming& t, Analysis& a);

  // §7: the reported figures.
  void report_counts(const Analysis& top, Result& res);
  void report_energy(const Analysis& top, Result& res);
  void report_area_power(Result& res) const;
  void report_averages(const Analysis& top, Result& res) const;

  Layer layer_;
  Hardware hw_;
  Options opt_;
  const Constants& k_;
  std::vector<Level> lv_;
  Tensors ten_{};        // input, filter, output
  std::vector<int> vin_;  // V_in, alphabetical
  Checked ck_;
  bool leaf_seen_ = false;
  std::array<i64, 3> leaf_l1_{};
  std::vector<std::pair<std::pair<int, Table>, Analysis>> cache_;
};


Engine::Engine(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
               const i64* params, const Options& opt)
    : layer_(layer), hw_(hw), opt_(opt), k_(constants(opt.preset)) {
  spec.validate();
  static const char* const dim_what[kNumDims] = {
      "layer dimension K", "layer dimension C", "layer dimension R", "layer dimension S",
      "layer dimension Y", "layer dimension X", "layer dimension N (0 = none)",
      "layer dimension G (0 = none)"};
  for (int v = 0; v < kNumDims; ++v) check_range(dim_what[v], layer.dims[v], dim_range(v));
  check_range("stride_y", layer.stride_y, kStrideRange);
  check_range("stride_x", layer.stride_x, kStrideRange);
  const bool grouped = layer.type == LayerType::GroupedConv;
  if (grouped != (layer.dims[G] > 0))
    fail(grouped ? "an NGCONV layer needs the group count G (>= 1)"
                 : "layer dimension G (groups) is only for NGCONV layers");
  if (layer.type == LayerType::Gemm &&
      (layer.dims[R] != 1 || layer.dims[S] != 1 || layer.dims[X] != 1))
    fail("a GEMM layer has R = S = X = 1 (M, N, K are Y, K, C)");
  if (layer.dims[R] > layer.dims[Y])
    fail("layer dimension R (" + std::to_string(layer.dims[R]) +
         ") must not exceed Y (" + std::to_string(layer.dims[Y]) + ")");
  if (layer.dims[S] > layer.dims[X])
    fail("layer dimension S (" + std::to_string(layer.dims[S]) +
         ") must not exceed X (" + std::to_string(layer.dims[X]) + ")");
  for (const HardwareField& f : kHardwareFields) check_range(f.name, hw.*f.member, f.range);
  for (int i = 0; i < spec.num_params; ++i)
    check_range("dataflow constant value", params[i], kDimRange);

  // §1 tensors (§20.2 for NGCONV); N leads the input and output when declared.
  const TensorVars tv = tensor_vars(layer.type);
  for (int t = kInput; t <= kOutput; ++t) {
    Tensor& tn = ten_[t];
    for (int v : tv[t]) {
      if (v == N && (layer.dims[N] <= 0 || !layer.batch_in_tensors)) continue;
      tn.vars[tn.n++] = v;
      tn.mask |= 1u << v;
    }
  }
  const unsigned in_mask = ten_[kInput].mask | ten_[kFilter].mask;
  for (int v : {C, G, K, N, R, S, X, Y})  // alphabetical
    if (in_mask & (1u << v)) vin_.push_back(v);
  build_levels(spec, params);
}

// ---------------------------------------------------------------- §1-§3 levels
// §1: a directive size, offset or cluster size bound to the layer and the
// constants.
i64 Engine::bind(const Expr& e, const i64* params, const char* what) const {
  i64 v = e.value;
  if (e.kind == Expr::DimSize) {
    v = layer_.dims[e.value];
    if (v <= 0) fail(std::string(what) + " uses Sz(" + kVarNames[e.value] +
                     "), but the layer does not declare " + kVarNames[e.value]);
  } else if (e.kind == Expr::Param) {
    v = params[e.value];
  }
  check_range(what, v, kDimRange);
  return v;
}

// §2: the levels, top first, each normalised (§2.2) with its static tables
// (§2.3, §3).
void Engine::build_levels(const DataflowSpec& spec, const i64* params) {
  // §2.1: sub-clusters per level, the top's being P ÷ U.
  std::vector<i64> subclusters{0};
  i64 U = 1;
  for (const Expr& c : spec.clusters) {
    subclusters.push_back(bind(c, params, "Cluster size"));
    U = std::min(U * subclusters.back(), kMaxPes + 1);
  }
  if (U > hw_.num_pes)
    fail("num_pes (" + std::to_string(hw_.num_pes) +
         ") must be at least the product of the Cluster sizes (" + std::to_string(U) + ")");
  subclusters[0] = hw_.num_pes / U;

  lv_.assign(spec.levels.size(), Level{});
  for (int l = 0; l < static_cast<int>(lv_.size()); ++l) {
    Level& lev = lv_[l];
    lev.index = l;
    lev.N = subclusters[l];
    static_table(l);
    std::vector<Dir> dirs = bind_directives(spec.levels[l], params);
    check_repeats(lev, layer_.stride_y, layer_.stride_x, dirs);
    to_input_centric(lev, dirs);
    if (l > 0) inherit(lv_[l - 1], dirs);
    complete(lev, vin_, dirs);
    apply_strides(lev, l == 0, layer_.stride_y, layer_.stride_x, dirs);
    place_directives(l, dirs);
    tile_tables(lev, layer_.type != LayerType::Gemm);
    lev.E = edge_subclusters(lev);
  }
}

// §2.3: the static tile table of level l.
void Engine::static_table(int l) {
  Level& lev = lv_[l];
  if (l == 0) {
    for (int v = 0; v < kNumDims; ++v) {
      lev.T[v] = layer_.dims[v];
      lev.has[v] = layer_.dims[v] > 0;
    }
    lev.T[YP] = layer_.dims[Y] - layer_.dims[R] + 1;
    lev.T[XP] = layer_.dims[X] - layer_.dims[S] + 1;
    lev.has[YP] = lev.has[XP] = true;
    return;
  }
  const Level& up = lv_[l - 1];
  for (int v : vin_) {
    lev.T[v] = std::min(up.dirs[up.dir_of[v]].M, up.T[v]);
    lev.has[v] = true;
  }
}

// §1: a level's written directives with their sizes and offsets bound.
std::vector<Dir> Engine::bind_directives(const std::vector<DirectiveSpec>& level,
                                         const i64* params) const {
  std::vector<Dir> dirs;
  for (const DirectiveSpec& d : level) {
    if ((d.var == N || d.var == G) && layer_.dims[d.var] <= 0)
      fail(std::string("the dataflow maps ") + kVarNames[d.var] +
           ", but the layer does not declare " + kVarNames[d.var]);
    Dir r{d.spatial, d.var, bind(d.size, params, "directive size"),
          bind(d.offset, params, "directive offset")};
    if (k_.rs_check && !d.spatial && (d.var == R || d.var == S) &&
        (r.M != layer_.dims[d.var] || r.O != layer_.dims[d.var]))
      fail(std::string("TemporalMap(") + std::to_string(r.M) + "," + std::to_string(r.O) + ") " +
           kVarNames[d.var] + ": a TemporalMap on " + kVarNames[d.var] +
           " must have size = offset = Sz(" + kVarNames[d.var] + ") = " +
           std::to_string(layer_.dims[d.var]) + " (MAESTRO 2021+ rule)");
    dirs.push_back(r);
  }
  return dirs;
}

// Stores a level's normalised directives and indexes them by variable (first and
// last directive, §2.5).
void Engine::place_directives(int l, const std::vector<Dir>& dirs) {
  Level& lev = lv_[l];
  if (static_cast<int>(dirs.size()) > kMaxDirs)
    fail("level " + std::to_string(l) + " has " + std::to_string(dirs.size()) +
         " directives with the inherited and completed ones; at most " +
         std::to_string(kMaxDirs) + " are allowed");
  lev.nd = static_cast<int>(dirs.size());
  lev.dir_of.fill(-1);
  lev.last_of.fill(-1);
  for (int i = 0; i < lev.nd; ++i) {
    lev.dirs[i] = dirs[i];
    if (lev.dir_of[dirs[i].var] < 0) lev.dir_of[dirs[i].var] = i;
    lev.last_of[dirs[i].var] = i;
    if (dirs[i].spatial && lev.first_spatial < 0) lev.first_spatial = i;
  }
  for (int i = 0; i < lev.nd; ++i) {
    lev.shown[i] = lev.last_of[dirs[i].var];
    lev.repeats |= lev.shown[i] != i;
  }
  for (int v : vin_)
    if (lev.dir_of[v] < 0)
      fail(std::string("level ") + std::to_string(l) + " has no directive for " + kVarNames[v]);
}

// ---------------------------------------------------------------- §4-§6 analysis
const Analysis& Engine::sub_analysis(int l, const Table& G) {
  for (const auto& [key, result] : cache_)
    if (key.first == l && key.second == G) return result;
  Analysis a = analyze(l, G);
  cache_.emplace_back(std::make_pair(l, G), a);
  return cache_.back().second;
}

// §6: one level analysis over the dynamic dimension table D, case by case.
Analysis Engine::analyze(int l, const Table& D) {
  const Level& lev = lv_[l];
  Cases cases(lev, D);
  Analysis a;
  bool processed_any = false;
  for (i64 c = 0; c < cases.count(); ++c) {
    const Case cs = make_case(lev, cases, c);
    const Volumes v = case_volumes(lev, ten_, cs, ck_);
    if (!processed_any) size_buffers(lev, D, v, a);  // step 1, [quirk] until a case is processed
    count_output_accesses(cs.occ, v, a);             // step 2
    if (v.psums <= 0) continue;                      // step 3: the skip rule
    processed_any = true;
    count_input_accesses(cs.occ, v, a);  // step 4
    const i64 ingress = ck_.add(v.ingress[kInput], v.ingress[kFilter]);
    a.ai = static_cast<double>(v.macs) / static_cast<double>(ingress);  // step 5: last case wins
    add_case(cs.occ, v, ingress, time_case(l, cs, v, ingress, a), a);
  }
  if (l + 1 == static_cast<int>(lv_.size()) && !leaf_seen_) {  // §7 L1 size: the first leaf
    leaf_seen_ = true;
    leaf_l1_ = a.l1size;
  }
  return a;
}

// §4.2-§4.3: case c, its occurrence, c* and inited(t).
Case Engine::make_case(const Level& lev, Cases& cases, i64 c) {
  Case cs;
  cases.select(c, cs.st);
  // Every directive iterates (o multiplies all of them); a repeated variable's
  // directives all show the state of its last one (§2.5).
  for (int i = 0; i < lev.nd; ++i) cs.occ = ck_.mul(cs.occ, cs.st[i]->occ);
  if (lev.repeats) {
    const auto own = cs.st;
    for (int i = 0; i < lev.nd; ++i) cs.st[i] = own[lev.shown[i]];
  }
  for (int i = 0; i < lev.nd; ++i)
    if (cs.st[i]->pos != kInit) cs.cstar = i;
  for (int t = kInput; t <= kFilter; ++t)
    for (int i = cs.cstar + 1; i < lev.nd; ++i)
      if (ten_[t].has(lev.dirs[i].var) && cs.st[i]->pos == kInit && !cs.st[i]->unrolled)
        cs.inited[t] = true;
  return cs;
}

// §6 step 1: the L1 and L2 buffer sizes and the L2 traffic of whole tensors.
void Engine::size_buffers(const Level& lev, const Table& D, const Volumes& v, Analysis& a) {
  for (int t = kInput; t <= kFilter; ++t) {
    a.l2size[t] = ck_.add(a.l2size[t], ck_.mul(2, v.ingress[t]));
    i64 vol = 1, tile = 1;
    for (int j = 0; j < ten_[t].n; ++j) {
      vol = ck_.mul(vol, D[ten_[t].vars[j]]);
      tile = ck_.mul(tile, lev.tile[ten_[t].vars[j]].m);
    }
    a.l2write[t] = vol;
    a.l1size[t] = ck_.add(a.l1size[t], ck_.mul(2, tile));
  }
  a.l2size[kOutput] = ck_.mul(2, v.egress);
  i64 vol = 1, tile = 1;
  for (int j = 0; j < ten_[kOutput].n; ++j) {
    const int w = ten_[kOutput].vars[j];
    const i64 ext = w == Y ? D[Y] - D[R] + 1 : w == X ? D[X] - D[S] + 1 : D[w];
    vol = ck_.mul(vol, ext);
    tile = ck_.mul(tile, lev.tile[opt_.compat ? w : out_var(w)].m);  // [quirk] input coordinates
  }
  a.l2read[kOutput] = vol;
  a.l1size[kOutput] = ck_.mul(2, tile);
}

// §6 step 2: the output's counters, for every case.
void Engine::count_output_accesses(i64 o, const Volumes& v, Analysis& a) {
  a.l2write[kOutput] = ck_.add(a.l2write[kOutput], ck_.mul(o, v.egress));
  a.l1write[kOutput] = ck_.add(a.l1write[kOutput], ck_.mul(o, v.macs));
  a.l1read[kOutput] = ck_.add(a.l1read[kOutput], ck_.mul(o, v.macs));
}

// §6 step 4: the input and filter counters of a processed case.
void Engine::count_input_accesses(i64 o, const Volumes& v, Analysis& a) {
  for (int t = kInput; t <= kFilter; ++t) {
    a.l2read[t] = ck_.add(a.l2read[t], ck_.mul(o, v.ingress[t]));
    a.l1write[t] = a.l2read[t];  // [quirk] L1 write := L2 read
    a.l1read[t] = ck_.add(a.l1read[t], ck_.mul(o, v.macs));
  }
}

// §6 steps 6-10: the compute and NoC delays of a processed case, and its delay
// Δ; step 10 also updates OffReq.
CaseTiming Engine::time_case(int l, const Case& cs, const Volumes& v, i64 ingress, Analysis& a) {
  CaseTiming t;
  compute_delay(l, cs, v.psums, t);
  t.ingress_delay = noc_delay(ingress);
  t.egress_delay = noc_delay(v.egress);
  // Step 9: with double buffering, only the all-Init case serialises δ_in.
  t.delay = cs.cstar < 0 ? ck_.add(t.compute, t.ingress_delay)
                         : std::max({t.egress_delay, t.compute, t.ingress_delay});
  // Step 10: off-chip (top level, HEAD).  MAESTRO divides by C here: C = 0 (an
  // inner level that processes no case) crashes it, and archgym refuses (§2.5).
  if (l == 0 && k_.offchip_term) {
    if (t.compute == 0) fail(zero_compute_message());
    const i64 Cp = t.compute != 0 ? t.compute : 1;
    const i64 in_f = ck_.add(a.l2size[kInput], a.l2size[kFilter]);
    const i64 ao = a.l2size[kOutput] / hw_.offchip_bw, bi = in_f / hw_.offchip_bw;
    t.delay = std::max({bi / 2, t.delay, ao / 2});
    a.offreq = std::max({a.offreq, a.l2size[kOutput] / Cp, in_f / Cp}) / 2;
  }
  return t;
}

// §6 steps 6, 7 and 12: the compute delay C (the SIMD lanes at the innermost
// level, else the slowest sub-cluster's analysis) and the active sub-clusters A.
void Engine::compute_delay(int l, const Case& cs, i64 psums, CaseTiming& t) {
  const Level& lev = lv_[l];
  const State* s0 = lev.first_spatial >= 0 ? cs.st[lev.first_spatial] : nullptr;
  const bool edge = s0 && s0->edge();
  if (l + 1 == static_cast<int>(lv_.size())) {
    const i64 lanes = hw_.simd_lanes;
    t.compute = lanes == 1 ? psums : psums / lanes + (psums % lanes != 0);  // ceil
  } else {
    auto add_sub = [&](bool e, i64 w) {
      const Analysis& sub = sub_analysis(l + 1, subcluster_table(lev, cs, e));
      t.compute = std::max(t.compute, sub.runtime);
      t.active += sub.avg_active() * static_cast<double>(w);
    };
    if (edge && s0->edge_edge) {
      add_sub(true, 1);
      if (lev.E > 1) add_sub(false, lev.E - 1);
    } else {
      add_sub(false, edge ? lev.E : lev.N);
    }
  }
  if (t.active == 0) t.active = static_cast<double>(edge ? lev.E : lev.N);  // step 12
}

// Why level 1 processed no case, for the refusal of §6 step 10: a directive on Y
// (X) below the top whose output tile Y' (X') is not positive, if there is one.
std::string Engine::zero_compute_message() const {
  std::string msg = "level 1 processes no case (none has partial sums), so its compute delay"
                    " is 0 and MAESTRO divides by it (SIGFPE)";
  for (size_t l = 1; l < lv_.size(); ++l) {
    const Level& lev = lv_[l];
    for (auto [out, in, win] : {std::array<int, 3>{YP, Y, R}, std::array<int, 3>{XP, X, S}}) {
      if (lev.last_of[in] < 0 || lev.last_of[win] < 0) continue;
      const bool edge = lev.tile[out].m > 0;  // else the full tile is the culprit
      const i64 tile_out = edge ? lev.tile[out].me : lev.tile[out].m;
      if (tile_out > 0) continue;
      return msg + ": at level " + std::to_string(l) + ", " +
             directive_text(lev.dirs[lev.last_of[in]]) + " leaves an output tile " +
             kVarNames[out] + " of " + std::to_string(tile_out) + " (" + kVarNames[in] + " tile " +
             std::to_string(edge ? lev.tile[in].me : lev.tile[in].m) + " against the window " +
             kVarNames[win] + " = " + std::to_string(edge ? lev.tile[win].me : lev.tile[win].m) +
             ") (docs/design/costmodel.md §2.5)";
    }
  }
  return msg + " (docs/design/costmodel.md §2.5)";
}

// §6 step 8: the NoC delay of d elements.
i64 Engine::noc_delay(i64 d) {
  const i64 H = hw_.noc_hops * hw_.noc_hop_latency;
  if (d > 0 && d <= hw_.noc_bw) return H;  // one bandwidth-cycle: the common case
  return ck_.add(H, d / hw_.noc_bw + (d % hw_.noc_bw != 0)) - 1;
}

// §6 steps 11 and 13-15: one processed case into the level's totals.
void Engine::add_case(i64 o, const Volumes& v, i64 ingress, const CaseTiming& t, Analysis& a) {
  a.runtime = ck_.add(a.runtime, ck_.mul(o, t.delay));
  a.macs = ck_.add(a.macs, ck_.mul(o, v.macs));
  a.active_acc += static_cast<double>(o) * t.active;
  const i64 Cp = t.compute != 0 ? t.compute : 1;
  const i64 traffic = std::max(ingress, v.egress);
  a.peak = std::max(a.peak, traffic / Cp);
  a.avg_acc = ck_.add(a.avg_acc, ck_.mul(o, traffic) / Cp);
  const std::array<i64, 3> dl{t.ingress_delay, t.egress_delay, Cp};
  for (int j = 0; j < 3; ++j) {
    a.dmin[j] = std::min(a.dmin[j], dl[j]);
    a.dmax[j] = std::max(a.dmax[j], dl[j]);
    a.dsum[j] = ck_.add(a.dsum[j], ck_.mul(o, dl[j]));
  }
  a.total = ck_.add(a.total, o);
}

// ---------------------------------------------------------------- §7 report
Result Engine::run() {
  const Analysis top = analyze(0, lv_[0].T);
  Result res;
  report_counts(top, res);
  report_energy(top, res);
  report_area_power(res);
  report_averages(top, res);
  return res;
}

// §7: runtime, MACs, buffer sizes, access counts, delays and pixel counts.
void Engine::report_counts(const Analysis& top, Result& res) {
  auto& o = res.ints;
  const bool degenerate = top.total == 0;  // no top case processed
  const auto& l1 = leaf_seen_ ? leaf_l1_ : top.l1size;
  o[kRuntime] = top.runtime;
  o[kMacs] = top.macs;
  o[kL1Size] = ck_.add(ck_.add(l1[kInput], l1[kFilter]), l1[kOutput]);
  o[kL2Size] = ck_.add(ck_.add(top.l2size[kInput], top.l2size[kFilter]), top.l2size[kOutput]);
  o[kPeakBw] = top.peak;
  o[kOffchipBw] = top.offreq;
  for (int t = kInput; t <= kOutput; ++t) {
    o[kInL1Read + 4 * t] = top.l1read[t];
    o[kInL1Write + 4 * t] = top.l1write[t];
    o[kInL2Read + 4 * t] = top.l2read[t];
    o[kInL2Write + 4 * t] = top.l2write[t];
  }
  for (int j = 0; j < 3; ++j) {
    const i64 lowest = std::numeric_limits<i64>::min();
    o[kIngressMin + 3 * j] = degenerate ? lowest : top.dmin[j];
    o[kIngressMax + 3 * j] = top.dmax[j];
    o[kIngressAvg + 3 * j] = degenerate ? lowest : top.dsum[j] / top.total;
  }
  const auto& d = layer_.dims;
  const i64 n = d[N] > 0 && layer_.batch_in_tensors ? d[N] : 1, g = d[G] > 0 ? d[G] : 1;
  const i64 k = layer_.type == LayerType::DepthwiseConv ? 1 : d[K];
  o[kInputPixels] = ck_.mul(ck_.mul(ck_.mul(n, g), d[C]), ck_.mul(d[Y], d[X]));
  o[kWeightPixels] = ck_.mul(ck_.mul(ck_.mul(g, k), d[C]), ck_.mul(d[R], d[S]));
  o[kDegenerate] = degenerate;
  o[kSingleEntry] = degenerate || lv_.size() == 1;
}

// §7 energy: e_mac × (18.61 × L2 accesses + λ × 1.68 × L1 accesses), with
// MAESTRO's λ [quirk] under compat; without it, the MAC term plus every access.
void Engine::report_energy(const Analysis& top, Result& res) {
  i64 l2_count = 0, l1_count = 0;
  for (i64 c : {top.l2read[kInput], top.l2write[kInput], top.l2read[kFilter],
                top.l2write[kFilter], top.l2write[kOutput]})
    l2_count = ck_.add(l2_count, c);
  for (int t = kInput; t <= kOutput; ++t)
    l1_count = ck_.add(l1_count, ck_.add(top.l1read[t], top.l1write[t]));
  if (ck_.overflow)
    fail("the layer is too large: a 64-bit counter of the cost model would overflow");
  auto& f = res.floats;
  const double l2_acc = static_cast<double>(l2_count), l1_acc = static_cast<double>(l1_count);
  f[kEnergyL2] = k_.e_mac * (18.61 * l2_acc);
  f[kEnergyL1] = k_.e_mac * (1.68 * l1_acc);
  f[kEnergyMac] = k_.e_mac * static_cast<double>(top.macs);
  if (opt_.compat)
    f[kEnergy] = k_.e_mac * (18.61 * l2_acc + (res.ints[kSingleEntry] ? 1.68 * l1_acc : 0.0));
  else
    f[kEnergy] = k_.e_mac * (static_cast<double>(top.macs) + 18.61 * l2_acc + 1.68 * l1_acc);
}

// §7 area and power, from the reported L1 and L2 sizes.
void Engine::report_area_power(Result& res) const {
  auto& f = res.floats;
  const double P = static_cast<double>(hw_.num_pes), vw = static_cast<double>(hw_.simd_lanes),
               bw = static_cast<double>(hw_.noc_bw);
  auto cells = [](i64 size, double unit) {
    const double c = std::ceil(static_cast<double>(size) / unit);
    return c == 0 ? 1.0 : c;
  };
  const double c1 = cells(res.ints[kL1Size], k_.unit1), c2 = cells(res.ints[kL2Size], k_.unit2);
  const double beta = 14.662 * P + 28.895;                    // bus scaling
  const double alpha = 1.2886 * P * P + 5.5814 * P - 23.711;  // arbiter scaling
  f[kArea] = P * (k_.a_mac * vw + k_.a1 * c1) + k_.a2 * c2 + 101.7938 * beta * bw +
             std::max(395.473, 395.473 * alpha);
  f[kPePower] = P * k_.p_mac * vw;
  f[kL1Power] = P * k_.p1 * c1;
  f[kL2Power] = k_.p2 * c2;
  f[kNocPower] = 0.8 * beta / 1000 * bw + std::max(0.34, 0.34 * alpha / 1000);
  f[kPower] = f[kPePower] + f[kL1Power] + f[kL2Power] + f[kNocPower];
}

// §7 (and §6, "at the end"): average bandwidth, utilised PEs and arithmetic
// intensity.
void Engine::report_averages(const Analysis& top, Result& res) const {
  auto& f = res.floats;
  const bool degenerate = top.total == 0;
  const double total = static_cast<double>(top.total);
  f[kAvgBw] = degenerate ? std::numeric_limits<double>::quiet_NaN()
                         : static_cast<double>(top.avg_acc) / total;
  f[kAvgActive] = degenerate ? 0.0 : top.active_acc / total;
  f[kArithIntensity] = degenerate ? 0.0 : top.ai;
}

template <size_t n>
const char* name_of(const char* const (&names)[n], int i) {
  return i >= 0 && i < static_cast<int>(n) ? names[i] : "?";
}

}  // namespace

const char* var_name(int var) { return name_of(kVarNames, var); }

TensorVars tensor_vars(LayerType type) {
  switch (type) {
    case LayerType::DepthwiseConv:
      return {{{N, C, Y, X}, {C, R, S}, {N, C, Y, X}}};
    case LayerType::GroupedConv:
      return {{{N, G, C, Y, X}, {G, K, C, R, S}, {N, G, K, C, Y, X}}};
    default:  // CONV, TRCONV, GEMM
      return {{{N, C, Y, X}, {K, C, R, S}, {N, K, Y, X}}};
  }
}

const char* layer_type_name(int type) {
  static const char* const names[] = {"CONV", "DSCONV", "NGCONV", "TRCONV", "GEMM"};
  static_assert(std::size(names) == static_cast<size_t>(LayerType::kNumLayerTypes));
  return name_of(names, type);
}

const char* preset_name(int preset) {
  static const char* const names[] = {"maestro2020", "maestro2021"};
  static_assert(std::size(names) == static_cast<size_t>(Preset::kNumPresets));
  return name_of(names, preset);
}

const char* expr_kind_name(int kind) {
  static const char* const names[] = {"literal", "dim_size", "param"};
  static_assert(std::size(names) == Expr::kNumKinds);
  return name_of(names, kind);
}

const char* int_field_name(int f) {
  static const char* const names[] = {
      "runtime", "macs", "l1_size", "l2_size", "peak_bw", "offchip_bw",
      "input_l1_read", "input_l1_write", "input_l2_read", "input_l2_write",
      "filter_l1_read", "filter_l1_write", "filter_l2_read", "filter_l2_write",
      "output_l1_read", "output_l1_write", "output_l2_read", "output_l2_write",
      "ingress_min", "ingress_max", "ingress_avg", "egress_min", "egress_max", "egress_avg",
      "compute_min", "compute_max", "compute_avg", "input_pixels", "weight_pixels",
      "degenerate", "single_entry"};
  static_assert(std::size(names) == kNumIntFields);
  return name_of(names, f);
}

const char* float_field_name(int f) {
  static const char* const names[] = {
      "energy", "energy_l2", "energy_l1", "energy_mac", "area", "power", "pe_power",
      "l1_power", "l2_power", "noc_power", "avg_bw", "avg_active", "arith_intensity"};
  static_assert(std::size(names) == kNumFloatFields);
  return name_of(names, f);
}

namespace {

// A directive size, offset or cluster size of a dataflow with num_params constants.
void check_expr(const Expr& e, int num_params) {
  if (e.kind == Expr::Literal && (e.value < kDimRange.lo || e.value > kDimRange.hi))
    fail("directive sizes, offsets and cluster sizes must be >= " + std::to_string(kDimRange.lo) +
         " and <= " + std::to_string(kDimRange.hi) + ", got " + std::to_string(e.value));
  if (e.kind == Expr::DimSize && (e.value < 0 || e.value >= kNumDims))
    fail("Sz() must name one of K, C, R, S, Y, X, N, G");
  if (e.kind == Expr::Param && (e.value < 0 || e.value >= num_params))
    fail("a directive refers to an unknown dataflow constant");
  if (e.kind != Expr::Literal && e.kind != Expr::DimSize && e.kind != Expr::Param)
    fail("unknown expression kind");
}

}  // namespace

void DataflowSpec::validate() const {
  if (levels.empty()) fail("a dataflow needs at least one level of directives");
  if (static_cast<int>(levels.size()) > kMaxLevels)
    fail("a dataflow may have at most " + std::to_string(kMaxLevels) + " cluster levels");
  if (clusters.size() + 1 != levels.size())
    fail("a dataflow with " + std::to_string(levels.size()) + " levels needs " +
         std::to_string(levels.size() - 1) + " Cluster directives");
  if (num_params < 0 || num_params > kMaxParams)
    fail("num_params must be in [0, " + std::to_string(kMaxParams) + "]");
  for (const Expr& e : clusters) check_expr(e, num_params);
  for (size_t l = 0; l < levels.size(); ++l) {
    for (const DirectiveSpec& d : levels[l]) {
      if (d.var < 0 || d.var >= kNumVars)
        fail("a directive names an unknown dimension (allowed: K, C, R, S, Y, X, N, G, Y', X')");
      check_expr(d.size, num_params);
      check_expr(d.offset, num_params);
    }
  }
}

Result evaluate(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
                const i64* params, const Options& opt) {
  Engine engine(spec, layer, hw, params, opt);
  return engine.run();
}

}  // namespace archgym::costmodel
