// BookSim's measurement (docs/design/noc.md §8) over a Network: sim_type
// latency, and throughput (§8, "sim_type = throughput").
#include <atomic>
#include <cmath>
#include <limits>

#include "noc/noc.hpp"

namespace archgym::noc {

namespace {
std::atomic<bool> g_cancelled{false};

// The cancellation check of the run loops below (every kCancelPollCycles cycles).
void poll_cancel(int64_t now) {
  if (now % kCancelPollCycles == 0 && g_cancelled.load(std::memory_order_relaxed))
    throw Cancelled();
}
}  // namespace

void set_cancelled(bool on) { g_cancelled.store(on, std::memory_order_relaxed); }
bool cancelled() { return g_cancelled.load(std::memory_order_relaxed); }

MeasureResult measure(const Config& cfg) {
  Network net(cfg);
  const Config& c = net.p_.cfg;
  const int64_t SP = c.sample_period;
  const int W = c.warmup_periods, M = c.max_samples;
  const double N = net.n_;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Throughput mode (as BookSim's, observed): no latency_thres abort, convergence
  // on the accepted rate alone, and no drain of the measured packets: the network
  // is emptied at once and the measured packets still in it count as they arrive.
  const bool throughput = net.p_.sim_type == SimType::Throughput;
  MeasureResult res;

  // Statistics "since the last clear".
  int64_t clear_t = 0, clear_ej = 0, clear_inj = 0, clear_flat = 0;
  auto clear = [&] {
    net.counted_pk_ = 0;
    net.counted_lat_ = net.counted_nlat_ = net.counted_hops_ = 0;
    clear_t = net.now_;
    clear_ej = net.ctr_.ejected_flits;
    clear_inj = net.ctr_.injected_flits;
    clear_flat = net.ctr_.flit_latency_sum;
  };
  // Mean latency of the packets counted since the clear plus the age of every
  // materialised, not yet ejected flit (packet and flit terms mixed, as BookSim).
  auto over_threshold = [&] {
    const double den = static_cast<double>(net.counted_pk_ + net.inflight_flits_);
    if (den <= 0) return false;
    const double ages = static_cast<double>(net.now_) * static_cast<double>(net.inflight_flits_) -
                        static_cast<double>(net.inflight_ctime_sum_);
    return (net.counted_lat_ + ages) / den > c.latency_thres;
  };
  const int64_t wd = c.watchdog_cycles;
  auto stalled = [&] { return net.ctr_.in_network_flits > 0 && net.now_ - 1 - net.last_move_ >= wd; };
  // Report the statistics since the last clear (an aborted run, like BookSim's last sample).
  auto report_partial = [&](const char* result, bool deadlock) {
    res.status = "unstable";
    res.booksim_result = result;
    res.deadlock = deadlock;
    const double pk = static_cast<double>(net.counted_pk_);
    const double cyc = static_cast<double>(net.now_ - clear_t);
    const int64_t ej = net.ctr_.ejected_flits - clear_ej;
    res.avg_packet_latency = pk > 0 ? net.counted_lat_ / pk : nan;
    res.avg_network_latency = pk > 0 ? net.counted_nlat_ / pk : nan;
    res.avg_hops = nan;
    res.avg_flit_latency =
        ej > 0 ? static_cast<double>(net.ctr_.flit_latency_sum - clear_flat) / ej : nan;
    res.accepted_flit_rate = cyc > 0 ? ej / cyc / N : nan;
    res.injected_flit_rate = cyc > 0 ? (net.ctr_.injected_flits - clear_inj) / cyc / N : nan;
    res.measured_packets = net.counted_pk_;
    res.total_cycles = net.now_;
  };

  net.phase_ = Network::Phase::Warming;
  double prev_l = nan, prev_a = nan;
  int conv = 0;
  bool converged = false;
  int64_t reset_t = 0, reset_ej = 0, reset_inj = 0, reset_flat = 0;
  for (int n = 0; n < M; ++n) {
    if (n == 0 || (W >= 2 && n == W - 1)) clear();
    if (n == W) {
      net.phase_ = Network::Phase::Running;
      clear();
      reset_t = net.now_;
      reset_ej = net.ctr_.ejected_flits;
      reset_inj = net.ctr_.injected_flits;
      reset_flat = net.ctr_.flit_latency_sum;
    }
    for (int64_t s = 0; s < SP; ++s) {
      net.step();
      poll_cancel(net.now_);
      if (stalled()) {
        res.sample_periods = n + 1;
        report_partial("deadlock", true);
        return res;
      }
    }
    res.sample_periods = n + 1;
    const double l = net.counted_pk_ > 0 ? net.counted_lat_ / net.counted_pk_ : nan;
    const double a = static_cast<double>(net.ctr_.ejected_flits - clear_ej) /
                     static_cast<double>(net.now_ - clear_t) / N;
    res.period_latency.push_back(l);
    res.period_accepted.push_back(a);
    if (!throughput && over_threshold()) {
      report_partial("aborted_latency_thres", false);
      return res;
    }
    if (n >= W) {
      const double dl = std::fabs(l - prev_l) / l, da = std::fabs(a - prev_a) / a;
      if ((throughput || dl <= c.stopping_thres) && da <= c.acc_stopping_thres) ++conv;  // false on NaN
      else conv = 0;
      if (conv >= 3) {
        converged = true;
        break;
      }
    }
    prev_l = l;
    prev_a = a;
  }

  // Drain (latency mode): every measured packet, including backlog created before D.
  const int64_t D = net.now_;
  const int64_t ej_d = net.ctr_.ejected_flits, inj_d = net.ctr_.injected_flits;
  if (!throughput) {
    net.phase_ = Network::Phase::Draining;
    net.drain_start_ = D;
    net.pending_before_drain_ = net.queued_total_;
    const int64_t limit = D + static_cast<int64_t>(c.max_drain_periods) * SP;
    while (net.measured_inflight_ > 0 || net.pending_before_drain_ > 0) {
      if (net.now_ >= limit) {
        report_partial("drain_limit", false);
        return res;
      }
      net.step();
      poll_cancel(net.now_);
      if (stalled()) {
        report_partial("deadlock", true);
        return res;
      }
      if ((net.now_ - D) % SP == 0 && over_threshold()) {
        report_partial("aborted_latency_thres", false);
        return res;
      }
    }
  }
  // The averages over the measured packets: now (latency mode), or once the
  // network is empty (throughput mode).
  auto averages = [&] {
    const double pk = static_cast<double>(net.counted_pk_);
    res.measured_packets = net.counted_pk_;
    res.avg_packet_latency = pk > 0 ? net.counted_lat_ / pk : nan;
    res.avg_network_latency = pk > 0 ? net.counted_nlat_ / pk : nan;
    res.avg_hops = pk > 0 ? net.counted_hops_ / pk : nan;
    const int64_t ej_all = net.ctr_.ejected_flits - reset_ej;
    res.avg_flit_latency =
        ej_all > 0 ? static_cast<double>(net.ctr_.flit_latency_sum - reset_flat) / ej_all : nan;
  };
  if (!throughput) averages();
  const double window = static_cast<double>(D - reset_t) * N;
  res.accepted_flit_rate = (ej_d - reset_ej) / window;
  res.injected_flit_rate = (inj_d - reset_inj) / window;
  const double offered = c.injection_rate_uses_flits ? c.injection_rate
                                                     : c.injection_rate * c.packet_size;
  res.booksim_result = converged ? "completed_converged" : "completed_max_samples";
  res.status = converged && res.accepted_flit_rate >= 0.95 * offered ? "ok" : "saturated";

  // BookSim then stops generation and empties the network.
  net.phase_ = Network::Phase::Emptying;
  net.generation_ = false;
  for (int v = 0; v < net.n_; ++v) {
    net.queued_total_ -= net.qlen_[v];
    net.qlen_[v] = 0;
  }
  const int64_t empty_limit = net.now_ + static_cast<int64_t>(c.max_drain_periods) * SP;
  while (net.inflight_flits_ > 0 && net.now_ < empty_limit && !stalled()) {
    net.step();
    poll_cancel(net.now_);
  }
  if (throughput) averages();
  res.total_cycles = net.now_;
  return res;
}

}  // namespace archgym::noc
