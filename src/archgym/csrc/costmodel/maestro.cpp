// MAESTRO-style cost model engine.  See maestro.hpp; §n refers to
// shared/specs/maestro_engine.md.  Integer arithmetic follows C++ semantics on
// purpose (division truncates toward zero, tile sizes may be negative): the
// reference behaviour depends on it.
#include "costmodel/maestro.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace archgym::costmodel {

namespace {

constexpr int kMaxDirs = 8;    // one directive per variable and level
constexpr int kMaxLevels = 8;
constexpr i64 kMaxDim = i64{1} << 24;
constexpr i64 kMaxPes = i64{1} << 20;
constexpr i64 kMaxBw = i64{1} << 50;

const char* const kVarNames[kNumVars] = {"K", "C", "R", "S", "Y", "X", "N", "Y'", "X'"};

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

void check_range(const char* what, i64 v, i64 lo, i64 hi) {
  if (v < lo || v > hi)
    fail(std::string(what) + " must be in [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "], got " + std::to_string(v));
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

struct State {
  int pos = kInit;
  i64 occ = 1;
  bool unrolled = false, init_edge = false, edge_edge = false;
  bool edge() const { return pos == kEdgePos || init_edge; }
};

struct Dir {
  bool spatial = false;
  int var = K;
  i64 M = 1, O = 1;
};

struct Tile {
  i64 m = 0, u = 0, me = 0, ue = 0;
};

using Table = std::array<i64, kNumVars>;

struct Level {
  int nd = 0;
  std::array<Dir, kMaxDirs> dirs{};
  std::array<int, kNumVars> dir_of{};  // directive index of a variable, -1 if none
  i64 N = 1;                           // sub-clusters
  i64 E = 1;                           // edge sub-clusters (§3.1)
  int first_spatial = -1, last_spatial = -1;
  Table T{};                           // static tile table (§2.3)
  std::array<bool, kNumVars> has{};
  std::array<Tile, kNumVars> tile{};   // §3.2
};

struct Tensor {
  int n = 0;
  std::array<int, 4> vars{};
  unsigned mask = 0;
};

// What one level analysis accumulates (§6).
struct Analysis {
  i64 runtime = 0, macs = 0;
  std::array<i64, 3> l2size{}, l1size{}, l2read{}, l2write{}, l1read{}, l1write{};
  i64 peak = 0, offreq = 0, avg_acc = 0, total = 0;
  double active_acc = 0, ai = 0;
  std::array<i64, 3> dmin{std::numeric_limits<i64>::max(), std::numeric_limits<i64>::max(),
                          std::numeric_limits<i64>::max()};
  std::array<i64, 3> dmax{}, dsum{};  // ingress, egress, compute
  double avg_active() const {
    return total ? active_acc / static_cast<double>(total)
                 : std::numeric_limits<double>::quiet_NaN();
  }
};

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

// ---------------------------------------------------------------- the engine
class Engine {
 public:
  Engine(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
         const i64* params, const Options& opt);
  Result run();

 private:
  void build_levels(const DataflowSpec& spec, const i64* params);
  Analysis analyze(int l, const Table& D);
  const Analysis& sub_analysis(int l, const Table& G);

  Layer layer_;
  Hardware hw_;
  Options opt_;
  const Constants& k_;
  std::vector<Level> lv_;
  std::array<Tensor, 3> ten_{};  // input, filter, output
  std::vector<int> vin_;         // V_in, alphabetical
  Checked ck_;
  bool leaf_seen_ = false;
  std::array<i64, 3> leaf_l1_{};
  std::vector<std::pair<std::pair<int, Table>, Analysis>> cache_;
};

Tensor make_tensor(std::initializer_list<int> vars) {
  Tensor t;
  for (int v : vars) {
    t.vars[t.n++] = v;
    t.mask |= 1u << v;
  }
  return t;
}

Engine::Engine(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
               const i64* params, const Options& opt)
    : layer_(layer), hw_(hw), opt_(opt), k_(constants(opt.preset)) {
  spec.validate();
  static const char* const dim_what[] = {"layer dimension K", "layer dimension C",
                                         "layer dimension R", "layer dimension S",
                                         "layer dimension Y", "layer dimension X"};
  for (int v = K; v <= X; ++v) check_range(dim_what[v], layer.dims[v], 1, kMaxDim);
  check_range("layer dimension N (0 = none)", layer.dims[N], 0, kMaxDim);
  if (layer.dims[R] > layer.dims[Y])
    fail("layer dimension R (" + std::to_string(layer.dims[R]) +
         ") must not exceed Y (" + std::to_string(layer.dims[Y]) + ")");
  if (layer.dims[S] > layer.dims[X])
    fail("layer dimension S (" + std::to_string(layer.dims[S]) +
         ") must not exceed X (" + std::to_string(layer.dims[X]) + ")");
  check_range("num_pes", hw.num_pes, 1, kMaxPes);
  check_range("simd_lanes", hw.simd_lanes, 1, 1 << 16);
  check_range("noc_bw", hw.noc_bw, 1, kMaxBw);
  check_range("noc_hops", hw.noc_hops, 0, 1 << 16);
  check_range("noc_hop_latency", hw.noc_hop_latency, 0, 1 << 16);
  check_range("offchip_bw", hw.offchip_bw, 1, kMaxBw);
  for (int i = 0; i < spec.num_params; ++i)
    check_range("dataflow constant value", params[i], 1, kMaxDim);

  const bool has_n = layer.dims[N] > 0;
  if (layer.type == LayerType::Conv) {
    ten_[0] = has_n ? make_tensor({N, C, Y, X}) : make_tensor({C, Y, X});
    ten_[1] = make_tensor({K, C, R, S});
    ten_[2] = has_n ? make_tensor({N, K, Y, X}) : make_tensor({K, Y, X});
  } else {
    ten_[0] = has_n ? make_tensor({N, C, Y, X}) : make_tensor({C, Y, X});
    ten_[1] = make_tensor({C, R, S});
    ten_[2] = has_n ? make_tensor({N, C, Y, X}) : make_tensor({C, Y, X});
  }
  const unsigned in_mask = ten_[0].mask | ten_[1].mask;
  for (int v : {C, K, N, R, S, X, Y})  // alphabetical
    if (in_mask & (1u << v)) vin_.push_back(v);
  build_levels(spec, params);
}

// §2: resolve the directives, normalise each level, build the static tables.
void Engine::build_levels(const DataflowSpec& spec, const i64* params) {
  auto value = [&](const Expr& e, const char* what) -> i64 {
    i64 v = e.value;
    if (e.kind == Expr::DimSize) {
      v = layer_.dims[e.value];
      if (v <= 0) fail(std::string(what) + " uses Sz(" + kVarNames[e.value] +
                       "), but the layer does not declare " + kVarNames[e.value]);
    } else if (e.kind == Expr::Param) {
      v = params[e.value];
    }
    check_range(what, v, 1, kMaxDim);
    return v;
  };

  const int L = static_cast<int>(spec.levels.size()) - 1;
  i64 U = 1;
  std::vector<i64> csize(spec.clusters.size());
  for (size_t j = 0; j < spec.clusters.size(); ++j) {
    csize[j] = value(spec.clusters[j], "Cluster size");
    U = std::min(U * csize[j], kMaxPes + 1);
  }
  if (U > hw_.num_pes)
    fail("num_pes (" + std::to_string(hw_.num_pes) +
         ") must be at least the product of the Cluster sizes (" + std::to_string(U) + ")");

  lv_.assign(L + 1, Level{});
  for (int l = 0; l <= L; ++l) {
    Level& lev = lv_[l];
    lev.N = l == 0 ? hw_.num_pes / U : csize[l - 1];
    // §2.3 static table.
    if (l == 0) {
      for (int v = 0; v < kNumDims; ++v) {
        lev.T[v] = layer_.dims[v];
        lev.has[v] = layer_.dims[v] > 0;
      }
      lev.T[YP] = layer_.dims[Y] - layer_.dims[R] + 1;
      lev.T[XP] = layer_.dims[X] - layer_.dims[S] + 1;
      lev.has[YP] = lev.has[XP] = true;
    } else {
      const Level& up = lv_[l - 1];
      for (int v : vin_) {
        lev.T[v] = std::min(up.dirs[up.dir_of[v]].M, up.T[v]);
        lev.has[v] = true;
      }
    }
    // Resolve the written directives.
    std::vector<Dir> dirs;
    for (const DirectiveSpec& d : spec.levels[l]) {
      if (d.var == N && layer_.dims[N] <= 0)
        fail("the dataflow maps N, but the layer does not declare N");
      Dir r{d.spatial, d.var, value(d.size, "directive size"), value(d.offset, "directive offset")};
      if (k_.rs_check && !d.spatial && (d.var == R || d.var == S) &&
          (r.M != layer_.dims[d.var] || r.O != layer_.dims[d.var]))
        fail(std::string("TemporalMap on ") + kVarNames[d.var] +
             " must have size = offset = Sz(" + kVarNames[d.var] + ") (MAESTRO 2021+ rule)");
      dirs.push_back(r);
    }
    // §2.2 step 1: input-centric conversion of Y' / X'.
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
    // Step 2: inheritance, each inherited directive inserted at the front.
    if (l > 0) {
      for (int i = 0; i < lv_[l - 1].nd; ++i) {
        const Dir& up = lv_[l - 1].dirs[i];
        const bool present = std::any_of(dirs.begin(), dirs.end(),
                                         [&](const Dir& d) { return d.var == up.var; });
        if (!present) dirs.insert(dirs.begin(), Dir{false, up.var, up.M, up.O});
      }
    }
    // Step 3: completion, alphabetical over V_in.
    for (int v : vin_) {
      const bool present =
          std::any_of(dirs.begin(), dirs.end(), [&](const Dir& d) { return d.var == v; });
      if (!present && lev.has[v]) dirs.push_back(Dir{false, v, lev.T[v], lev.T[v]});
    }
    if (static_cast<int>(dirs.size()) > kMaxDirs) fail("too many directives in one level");
    lev.nd = static_cast<int>(dirs.size());
    lev.dir_of.fill(-1);
    for (int i = 0; i < lev.nd; ++i) {
      lev.dirs[i] = dirs[i];
      if (lev.dir_of[dirs[i].var] >= 0)
        fail(std::string("dimension ") + kVarNames[dirs[i].var] + " is mapped twice in level " +
             std::to_string(l));
      lev.dir_of[dirs[i].var] = i;
      if (dirs[i].spatial) {
        if (lev.first_spatial < 0) lev.first_spatial = i;
        lev.last_spatial = i;
      }
    }
    for (int v : vin_)
      if (lev.dir_of[v] < 0)
        fail(std::string("level ") + std::to_string(l) + " has no directive for " + kVarNames[v]);

    // §3.2 tile tables.
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
      const Dir& d = lev.dirs[lev.dir_of[in]];
      const Tile& ti = lev.tile[in];
      const Tile& tw = lev.tile[win];
      Tile& t = lev.tile[out];
      t.m = ti.m - tw.m + 1;
      t.u = std::min(d.O, d.M);
      t.me = ti.me - tw.me + 1;
      t.ue = std::min(d.O, t.me);
    }
    // §3.1 edge sub-cluster count.
    if (lev.first_spatial >= 0) {
      const Dir& d = lev.dirs[lev.first_spatial];
      const i64 D = lev.T[d.var];
      const i64 F = d.O * (lev.N - 1) + d.M;
      if (D > F) {
        const i64 q = ((D - d.M) / d.O + 1) / lev.N - 1;
        const i64 rho = D - (q + 1) * d.O * lev.N;
        lev.E = rho < d.M ? 1 : (rho - d.M) / d.O + 1;
      } else if (D > d.M) {
        lev.E = (D - d.M) / d.O + 1;
        if (d.O * (lev.E - 1) + d.M < D) lev.E += 1;
      } else {
        lev.E = 1;
      }
    }
  }
}

const Analysis& Engine::sub_analysis(int l, const Table& G) {
  for (const auto& [key, result] : cache_)
    if (key.first == l && key.second == G) return result;
  Analysis a = analyze(l, G);
  cache_.emplace_back(std::make_pair(l, G), a);
  return cache_.back().second;
}

// §4-§6: one level analysis over the dynamic dimension table D.
Analysis Engine::analyze(int l, const Table& D) {
  const Level& lev = lv_[l];
  const bool innermost = l + 1 == static_cast<int>(lv_.size());
  const i64 E = lev.E, Nsub = lev.N;
  const unsigned out_mask = ten_[2].mask;

  std::array<std::array<State, 3>, kMaxDirs> states;
  std::array<int, kMaxDirs> ns{};
  i64 ncases = 1;
  for (int i = 0; i < lev.nd; ++i) {
    ns[i] = make_states(lev.dirs[i], D[lev.dirs[i].var], Nsub, states[i].data());
    ncases *= ns[i];
  }

  Analysis a;
  bool processed_any = false;
  std::array<int, kMaxDirs> digit{};  // mixed-radix digits of (case - 1)
  std::array<const State*, kMaxDirs> st{};

  for (i64 c = 0; c < ncases; ++c) {
    // §4.2: directive i takes state ceil(c / f_i) mod s_i, i.e. digit + 1 mod s_i.
    for (int i = 0; i < lev.nd; ++i) {
      const int next = digit[i] + 1;  // digit < s_i, so no division is needed
      st[i] = &states[i][c == 0 || next == ns[i] ? 0 : next];
    }
    if (c > 0) {
      for (int i = lev.nd - 1; i >= 0; --i) {
        if (++digit[i] < ns[i]) break;
        digit[i] = 0;
      }
    }
    i64 o = 1;
    int cstar = -1;
    for (int i = 0; i < lev.nd; ++i) {
      o = ck_.mul(o, st[i]->occ);
      if (st[i]->pos != kInit) cstar = i;
    }
    // §4.3 inited(t).
    std::array<bool, 2> inited{};
    for (int t = 0; t < 2; ++t)
      for (int i = cstar + 1; i < lev.nd; ++i)
        if ((ten_[t].mask >> lev.dirs[i].var & 1u) && st[i]->pos == kInit && !st[i]->unrolled)
          inited[t] = true;

    // Volumes are products over the directives; a case asks for the same
    // (tensor, flags) several times, so each is computed once per case.
    std::array<i64, 8> b_memo;
    std::array<i64, 16> w_memo;
    unsigned b_done = 0, w_done = 0;

    // §5.2 ingress volume of input/filter t (with §5.1 when all-Init).
    auto B_compute = [&](int t, bool f, bool e) -> i64 {
      if (cstar >= 0 && !(ten_[t].mask >> lev.dirs[cstar].var & 1u)) return 0;
      i64 p = 1;
      for (int i = 0; i < lev.nd; ++i) {
        const Dir& d = lev.dirs[i];
        if (!(ten_[t].mask >> d.var & 1u)) continue;
        const Tile& tl = lev.tile[d.var];
        const State& s = *st[i];
        i64 x;
        if (cstar < 0) {  // A_t(f, e)
          if (!d.spatial) x = s.edge() ? tl.me : tl.m;
          else if (!s.edge()) x = tl.m;
          else if (E == 1) x = (f || e) ? tl.me : 1;
          else x = e ? tl.me : tl.m;
        } else if (!d.spatial) {
          if (s.pos == kInit) x = s.edge() ? tl.me : tl.m;
          else x = (i == cstar && !inited[t]) ? tl.u : tl.m;
        } else {
          const i64 mt = e ? tl.me : tl.m, ut = e ? tl.ue : tl.u;
          if (s.pos == kInit) x = (f || i < cstar) ? mt : ut;
          else x = f ? mt : ((i == cstar && !inited[t]) ? ut : mt);
        }
        p = ck_.mul(p, x);
      }
      return p;
    };
    auto B = [&](int t, bool f, bool e) -> i64 {
      const unsigned k = t * 4 + f * 2 + e;
      if (!(b_done >> k & 1u)) {
        b_memo[k] = B_compute(t, f, e);
        b_done |= 1u << k;
      }
      return b_memo[k];
    };
    // §5.3 output volume W(p, f, e, r).
    auto W_compute = [&](bool partial, bool f, bool e, bool r) -> i64 {
      i64 p = 1;
      for (int i = 0; i < lev.nd; ++i) {
        const Dir& d = lev.dirs[i];
        const State& s = *st[i];
        const bool is_out = out_mask >> d.var & 1u;
        const int w = d.var == Y ? YP : d.var == X ? XP : d.var;  // out(w)
        const Tile& t = lev.tile[is_out ? w : d.var];
        const i64 ustar = t.u != 0 ? t.u : 1;
        i64 x;
        if (!is_out) {  // factor (a)
          if (!partial) continue;
          if (!d.spatial) x = s.edge() ? t.me : t.m;
          else if (s.pos == kInit) x = (s.edge() && e) ? t.me : (f ? t.m : ustar);
          else if (s.pos == kSteady) x = f ? t.m : ustar;
          else if (E == 1) x = (f || e) ? t.me : 1;
          else x = e ? t.ue : (f ? t.m : ustar);
        } else if (!d.spatial) {  // factor (b)
          if (s.pos == kInit) x = s.edge() ? t.me : t.m;
          else if (s.pos == kSteady) x = t.m;
          else x = t.me;
        } else if (s.pos == kInit) {
          if (s.edge() && e) x = (E == 1 || !r) ? t.me : t.ue;
          else x = f ? t.m : ustar;
        } else if (s.pos == kSteady) {
          x = f ? t.m : ustar;
        } else if (E == 1) {
          x = (f || e) ? lev.tile[d.var].me : 1;  // [quirk] input-coordinate entry
        } else {
          x = e ? t.ue : (f ? t.m : ustar);
        }
        p = ck_.mul(p, x);
      }
      return p;
    };
    auto W = [&](bool partial, bool f, bool e, bool r) -> i64 {
      const unsigned k = partial * 8 + f * 4 + e * 2 + r;
      if (!(w_done >> k & 1u)) {
        w_memo[k] = W_compute(partial, f, e, r);
        w_done |= 1u << k;
      }
      return w_memo[k];
    };
    // §5.4 aggregation over sub-clusters.
    struct Spatial {
      bool sp = false, edge = false, ee = false;
    };
    auto spatial_of = [&](unsigned mask) {
      Spatial r;
      int last = -1;
      for (int i = 0; i < lev.nd; ++i) {
        if (!lev.dirs[i].spatial || !(mask >> lev.dirs[i].var & 1u)) continue;
        r.sp = true;
        r.edge |= st[i]->edge();
        last = i;
      }
      if (last >= 0) r.ee = st[last]->edge_edge;
      return r;
    };
    // Tensors list their variables in tensor order; σ is the last spatially
    // mapped one in that order.
    auto spatial_of_tensor = [&](const Tensor& tn) {
      Spatial r;
      int last = -1;
      for (int j = 0; j < tn.n; ++j) {
        const int i = lev.dir_of[tn.vars[j]];
        if (i < 0 || !lev.dirs[i].spatial) continue;
        r.sp = true;
        r.edge |= st[i]->edge();
        last = i;
      }
      if (last >= 0) r.ee = st[last]->edge_edge;
      return r;
    };
    auto aggregate = [&](const Spatial& sp, auto&& vol) -> i64 {
      if (!sp.sp) return vol(true, false);
      if (!sp.edge) return ck_.add(vol(true, false), ck_.mul(Nsub - 1, vol(false, false)));
      const bool g = E == 1 && sp.ee;
      const i64 nee = sp.ee ? 1 : 0, nfull = std::max<i64>(E - nee - 1, 0);
      i64 v = vol(true, g);
      if (E > 1)
        v = ck_.add(v, ck_.add(ck_.mul(nfull, vol(false, false)), ck_.mul(nee, vol(false, true))));
      return v;
    };

    std::array<i64, 2> I{};
    for (int t = 0; t < 2; ++t)
      I[t] = aggregate(spatial_of_tensor(ten_[t]), [&](bool f, bool e) { return B(t, f, e); });
    const Spatial out_sp = spatial_of_tensor(ten_[2]);
    const i64 Omega = aggregate(out_sp, [&](bool f, bool e) { return W(false, f, e, true); });
    const i64 Pi = (!out_sp.sp || !out_sp.edge) ? W(true, true, false, true)
                                                 : W(true, true, E == 1 && out_sp.ee, true);
    const Spatial all_sp = spatial_of(~0u);
    i64 Q;
    if (!all_sp.edge) {
      Q = ck_.mul(Nsub, W(true, true, false, true));
    } else {
      const bool g = E == 1 && all_sp.ee;
      const i64 nee = all_sp.ee ? 1 : 0, nfull = std::max<i64>(E - nee - 1, 0);
      Q = W(true, true, g, true);
      if (E > 1)
        Q = ck_.add(Q, ck_.add(ck_.mul(nfull, W(true, true, false, true)),
                               ck_.mul(nee, W(true, false, true, false))));
    }

    // §6 step 1: buffer sizing, until a case has been processed.
    if (!processed_any) {
      for (int t = 0; t < 2; ++t) {
        a.l2size[t] = ck_.add(a.l2size[t], ck_.mul(2, I[t]));
        i64 vol = 1, tile = 1;
        for (int j = 0; j < ten_[t].n; ++j) {
          vol = ck_.mul(vol, D[ten_[t].vars[j]]);
          tile = ck_.mul(tile, lev.tile[ten_[t].vars[j]].m);
        }
        a.l2write[t] = vol;
        a.l1size[t] = ck_.add(a.l1size[t], ck_.mul(2, tile));
      }
      a.l2size[2] = ck_.mul(2, Omega);
      i64 vol = 1, tile = 1;
      for (int j = 0; j < ten_[2].n; ++j) {
        const int w = ten_[2].vars[j];
        const i64 ext = w == Y ? D[Y] - D[R] + 1 : w == X ? D[X] - D[S] + 1 : D[w];
        vol = ck_.mul(vol, ext);
        const int tw = opt_.compat ? w : (w == Y ? YP : w == X ? XP : w);
        tile = ck_.mul(tile, lev.tile[tw].m);
      }
      a.l2read[2] = vol;
      a.l1size[2] = ck_.mul(2, tile);
    }
    // Step 2: output counters.
    a.l2write[2] = ck_.add(a.l2write[2], ck_.mul(o, Omega));
    a.l1write[2] = ck_.add(a.l1write[2], ck_.mul(o, Q));
    a.l1read[2] = ck_.add(a.l1read[2], ck_.mul(o, Q));
    // Step 3: skip rule.
    if (Pi <= 0) continue;
    processed_any = true;
    // Step 4: input counters ([quirk] L1 write := L2 read).
    for (int t = 0; t < 2; ++t) {
      a.l2read[t] = ck_.add(a.l2read[t], ck_.mul(o, I[t]));
      a.l1write[t] = a.l2read[t];
      a.l1read[t] = ck_.add(a.l1read[t], ck_.mul(o, Q));
    }
    const i64 Iall = ck_.add(I[0], I[1]);
    // Step 5: arithmetic intensity of the last processed case.
    a.ai = static_cast<double>(Q) / static_cast<double>(Iall);
    // Step 6: active sub-clusters from the primary spatial state.
    const State* s0 = lev.first_spatial >= 0 ? st[lev.first_spatial] : nullptr;
    const i64 active = (s0 && s0->edge()) ? E : Nsub;
    // Step 7: compute delay.
    i64 Cd;
    double A = 0;
    if (innermost) {
      Cd = hw_.simd_lanes == 1 ? Pi : Pi / hw_.simd_lanes + (Pi % hw_.simd_lanes != 0);  // ceil
    } else {
      auto G = [&](bool e) {
        Table g{};
        for (int i = 0; i < lev.nd; ++i) {
          const Dir& d = lev.dirs[i];
          const State& s = *st[i];
          const Tile& t = lev.tile[d.var];
          if (!d.spatial) g[d.var] = s.edge() ? t.me : t.m;
          else if (s.pos == kSteady || (s.pos == kInit && !s.edge())) g[d.var] = t.m;
          else g[d.var] = (E == 1 || e) ? t.me : t.m;
        }
        g[YP] = g[Y] - g[R] + 1;
        g[XP] = g[X] - g[S] + 1;
        return g;
      };
      Cd = 0;
      auto add_sub = [&](bool e, i64 w) {
        const Analysis& sub = sub_analysis(l + 1, G(e));
        Cd = std::max(Cd, sub.runtime);
        A += sub.avg_active() * static_cast<double>(w);
      };
      if (s0 && s0->edge() && s0->edge_edge) {
        add_sub(true, 1);
        if (E > 1) add_sub(false, E - 1);
      } else if (s0 && s0->edge()) {
        add_sub(false, E);
      } else {
        add_sub(false, Nsub);
      }
    }
    if (A == 0) A = static_cast<double>(active);  // step 12 (no sub-results or A = 0)
    // Steps 8-9: NoC delays and case delay.
    const i64 H = hw_.noc_hops * hw_.noc_hop_latency;
    auto noc = [&](i64 d) {
      if (d > 0 && d <= hw_.noc_bw) return H;  // one bandwidth-cycle: the common case
      return ck_.add(H, d / hw_.noc_bw + (d % hw_.noc_bw != 0)) - 1;
    };
    const i64 din = noc(Iall), dout = noc(Omega);
    i64 delay = cstar < 0 ? ck_.add(Cd, din) : std::max({dout, Cd, din});
    const i64 Cp = Cd != 0 ? Cd : 1;
    // Step 10: off-chip (top level, HEAD).  C = 0 would divide by zero in
    // MAESTRO; C' is used instead.
    if (l == 0 && k_.offchip_term) {
      const i64 in_f = ck_.add(a.l2size[0], a.l2size[1]);
      const i64 ao = a.l2size[2] / hw_.offchip_bw, bi = in_f / hw_.offchip_bw;
      delay = std::max({bi / 2, delay, ao / 2});
      a.offreq = std::max({a.offreq, a.l2size[2] / Cp, in_f / Cp}) / 2;
    }
    // Steps 11-15.
    a.runtime = ck_.add(a.runtime, ck_.mul(o, delay));
    a.macs = ck_.add(a.macs, ck_.mul(o, Q));
    a.active_acc += static_cast<double>(o) * A;
    const i64 traffic = std::max(Iall, Omega);
    a.peak = std::max(a.peak, traffic / Cp);
    a.avg_acc = ck_.add(a.avg_acc, ck_.mul(o, traffic) / Cp);
    const std::array<i64, 3> dl{din, dout, Cp};
    for (int j = 0; j < 3; ++j) {
      a.dmin[j] = std::min(a.dmin[j], dl[j]);
      a.dmax[j] = std::max(a.dmax[j], dl[j]);
      a.dsum[j] = ck_.add(a.dsum[j], ck_.mul(o, dl[j]));
    }
    a.total = ck_.add(a.total, o);
  }
  if (innermost && !leaf_seen_) {
    leaf_seen_ = true;
    leaf_l1_ = a.l1size;
  }
  return a;
}

Result Engine::run() {
  Table T0 = lv_[0].T;
  const Analysis top = analyze(0, T0);

  Result res;
  auto& o = res.ints;
  auto& f = res.floats;
  const bool degenerate = top.total == 0;
  const auto& l1 = leaf_seen_ ? leaf_l1_ : top.l1size;
  o[kRuntime] = top.runtime;
  o[kMacs] = top.macs;
  o[kL1Size] = ck_.add(ck_.add(l1[0], l1[1]), l1[2]);
  o[kL2Size] = ck_.add(ck_.add(top.l2size[0], top.l2size[1]), top.l2size[2]);
  o[kPeakBw] = top.peak;
  o[kOffchipBw] = top.offreq;
  for (int t = 0; t < 3; ++t) {
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
  const i64 n = d[N] > 0 ? d[N] : 1;
  o[kInputPixels] = ck_.mul(ck_.mul(n, d[C]), ck_.mul(d[Y], d[X]));
  o[kWeightPixels] = ck_.mul(ck_.mul(layer_.type == LayerType::Conv ? d[K] : 1, d[C]),
                             ck_.mul(d[R], d[S]));
  o[kDegenerate] = degenerate;
  o[kSingleEntry] = degenerate || lv_.size() == 1;

  i64 l2_count = 0, l1_count = 0;
  for (i64 c : {top.l2read[0], top.l2write[0], top.l2read[1], top.l2write[1], top.l2write[2]})
    l2_count = ck_.add(l2_count, c);
  for (int t = 0; t < 3; ++t)
    l1_count = ck_.add(l1_count, ck_.add(top.l1read[t], top.l1write[t]));
  if (ck_.overflow)
    fail("the layer is too large: a 64-bit counter of the cost model would overflow");
  const double l2_acc = static_cast<double>(l2_count), l1_acc = static_cast<double>(l1_count);
  f[kEnergyL2] = k_.e_mac * (18.61 * l2_acc);
  f[kEnergyL1] = k_.e_mac * (1.68 * l1_acc);
  f[kEnergyMac] = k_.e_mac * static_cast<double>(top.macs);
  if (opt_.compat)
    f[kEnergy] = k_.e_mac * (18.61 * l2_acc + (o[kSingleEntry] ? 1.68 * l1_acc : 0.0));
  else
    f[kEnergy] = k_.e_mac * (static_cast<double>(top.macs) + 18.61 * l2_acc + 1.68 * l1_acc);

  // Area and power (§7).
  const double P = static_cast<double>(hw_.num_pes), vw = static_cast<double>(hw_.simd_lanes),
               bw = static_cast<double>(hw_.noc_bw);
  auto cells = [](i64 size, double unit) {
    const double c = std::ceil(static_cast<double>(size) / unit);
    return c == 0 ? 1.0 : c;
  };
  const double c1 = cells(o[kL1Size], k_.unit1), c2 = cells(o[kL2Size], k_.unit2);
  const double beta = 14.662 * P + 28.895;
  const double alpha = 1.2886 * P * P + 5.5814 * P - 23.711;
  f[kArea] = P * (k_.a_mac * vw + k_.a1 * c1) + k_.a2 * c2 + 101.7938 * beta * bw +
             std::max(395.473, 395.473 * alpha);
  f[kPePower] = P * k_.p_mac * vw;
  f[kL1Power] = P * k_.p1 * c1;
  f[kL2Power] = k_.p2 * c2;
  f[kNocPower] = 0.8 * beta / 1000 * bw + std::max(0.34, 0.34 * alpha / 1000);
  f[kPower] = f[kPePower] + f[kL1Power] + f[kL2Power] + f[kNocPower];

  const double total = static_cast<double>(top.total);
  f[kAvgBw] = degenerate ? std::numeric_limits<double>::quiet_NaN()
                         : static_cast<double>(top.avg_acc) / total;
  f[kAvgActive] = degenerate ? 0.0 : top.active_acc / total;
  f[kArithIntensity] = degenerate ? 0.0 : top.ai;
  return res;
}

}  // namespace

const char* var_name(int var) { return var >= 0 && var < kNumVars ? kVarNames[var] : "?"; }

const char* int_field_name(int f) {
  static const char* const names[kNumIntFields] = {
      "runtime", "macs", "l1_size", "l2_size", "peak_bw", "offchip_bw",
      "input_l1_read", "input_l1_write", "input_l2_read", "input_l2_write",
      "filter_l1_read", "filter_l1_write", "filter_l2_read", "filter_l2_write",
      "output_l1_read", "output_l1_write", "output_l2_read", "output_l2_write",
      "ingress_min", "ingress_max", "ingress_avg", "egress_min", "egress_max", "egress_avg",
      "compute_min", "compute_max", "compute_avg", "input_pixels", "weight_pixels",
      "degenerate", "single_entry"};
  return f >= 0 && f < kNumIntFields ? names[f] : "?";
}

const char* float_field_name(int f) {
  static const char* const names[kNumFloatFields] = {
      "energy", "energy_l2", "energy_l1", "energy_mac", "area", "power", "pe_power",
      "l1_power", "l2_power", "noc_power", "avg_bw", "avg_active", "arith_intensity"};
  return f >= 0 && f < kNumFloatFields ? names[f] : "?";
}

void DataflowSpec::validate() const {
  if (levels.empty()) fail("a dataflow needs at least one level of directives");
  if (static_cast<int>(levels.size()) > kMaxLevels)
    fail("a dataflow may have at most " + std::to_string(kMaxLevels) + " cluster levels");
  if (clusters.size() + 1 != levels.size())
    fail("a dataflow with " + std::to_string(levels.size()) + " levels needs " +
         std::to_string(levels.size() - 1) + " Cluster directives");
  if (num_params < 0 || num_params > 64) fail("num_params must be in [0, 64]");
  auto check_expr = [&](const Expr& e) {
    if (e.kind == Expr::DimSize && (e.value < 0 || e.value >= kNumDims))
      fail("Sz() must name one of K, C, R, S, Y, X, N");
    if (e.kind == Expr::Param && (e.value < 0 || e.value >= num_params))
      fail("a directive refers to an unknown dataflow constant");
    if (e.kind != Expr::Literal && e.kind != Expr::DimSize && e.kind != Expr::Param)
      fail("unknown expression kind");
  };
  for (const Expr& e : clusters) check_expr(e);
  for (size_t l = 0; l < levels.size(); ++l) {
    unsigned seen = 0;
    for (const DirectiveSpec& d : levels[l]) {
      if (d.var < 0 || d.var >= kNumVars)
        fail("a directive names an unknown dimension (allowed: K, C, R, S, Y, X, N, Y', X')");
      const int base = d.var == YP ? Y : d.var == XP ? X : d.var;
      if (seen >> base & 1u)
        fail(std::string("dimension ") + kVarNames[base] + " is mapped twice in level " +
             std::to_string(l) + " (Y' counts as Y and X' as X)");
      seen |= 1u << base;
      check_expr(d.size);
      check_expr(d.offset);
    }
  }
}

Result evaluate(const DataflowSpec& spec, const Layer& layer, const Hardware& hw,
                const i64* params, const Options& opt) {
  Engine engine(spec, layer, hw, params, opt);
  return engine.run();
}

}  // namespace archgym::costmodel
