// Python bindings of the NoC core (archgym._sim.noc).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bindings/common.hpp"
#include "noc/noc.hpp"

namespace nb = nanobind;
namespace noc = archgym::noc;

namespace {

template <typename T>
nb::ndarray<nb::numpy, T> owned_array(const std::vector<T>& src, std::initializer_list<size_t> shape) {
  T* raw = new T[std::max<size_t>(src.size(), 1)];
  std::copy(src.begin(), src.end(), raw);
  nb::capsule owner(raw, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::ndarray<nb::numpy, T>(raw, shape.size(), shape.begin(), owner);
}

nb::dict result_dict(const noc::MeasureResult& r) {
  nb::dict d;
  d["avg_packet_latency"] = r.avg_packet_latency;
  d["avg_network_latency"] = r.avg_network_latency;
  d["avg_flit_latency"] = r.avg_flit_latency;
  d["avg_hops"] = r.avg_hops;
  d["accepted_flit_rate"] = r.accepted_flit_rate;
  d["injected_flit_rate"] = r.injected_flit_rate;
  d["status"] = r.status;
  d["sample_periods"] = r.sample_periods;
  d["total_cycles"] = r.total_cycles;
  d["booksim_result"] = r.booksim_result;
  d["deadlock"] = r.deadlock;
  d["measured_packets"] = r.measured_packets;
  d["period_latency"] = nb::cast(r.period_latency);
  d["period_accepted"] = nb::cast(r.period_accepted);
  return d;
}

nb::dict counters_dict(const noc::Counters& c) {
  nb::dict d;
  d["created_packets"] = c.created_packets;
  d["created_flits"] = c.created_flits;
  d["dropped_packets"] = c.dropped_packets;
  d["injected_flits"] = c.injected_flits;
  d["ejected_flits"] = c.ejected_flits;
  d["retired_packets"] = c.retired_packets;
  d["backlog_flits"] = c.backlog_flits;
  d["in_network_flits"] = c.in_network_flits;
  d["buffered_flits"] = c.buffered_flits;
  d["flit_latency_sum"] = c.flit_latency_sum;
  d["packet_latency_sum"] = c.packet_latency_sum;
  d["in_network_integral"] = c.in_network_integral;
  d["in_system_packets"] = c.in_system_packets;
  d["in_system_integral"] = c.in_system_integral;
  return d;
}

nb::dict run_network(noc::Network& net, int64_t cycles) {
  noc::RunStats st;
  {
    nb::gil_scoped_release release;
    st = net.run(cycles);
  }
  const size_t n = static_cast<size_t>(net.params().n);
  const auto& lat = net.latencies();
  const auto& c = net.counters();
  nb::dict d;
  const double cyc = static_cast<double>(st.cycles);
  const double pk = static_cast<double>(st.delivered_packets);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  d["cycles"] = st.cycles;
  d["delivered_packets"] = st.delivered_packets;
  d["delivered_flits"] = st.delivered_flits;
  d["avg_latency"] = pk > 0 ? st.latency_sum / pk : nan;
  d["avg_network_latency"] = pk > 0 ? st.network_latency_sum / pk : nan;
  d["avg_hops"] = pk > 0 ? st.hops_sum / pk : nan;
  d["accepted_flit_rate"] = cyc > 0 ? st.delivered_flits / cyc / n : 0.0;
  d["injected_flit_rate"] = cyc > 0 ? st.injected_flits / cyc / n : 0.0;
  d["backlog_flits"] = c.backlog_flits;
  d["in_network_flits"] = c.in_network_flits;
  d["latencies"] = owned_array(lat, {lat.size()});
  d["link_utilisation"] = owned_array(st.link_utilisation, {n, 4});
  d["buffer_occupancy"] = owned_array(st.buffer_occupancy, {n, 5});
  d["status"] = st.deadlock ? "deadlock" : "ok";
  return d;
}

std::vector<nb::dict> measure_many(const std::vector<noc::Config>& configs, int threads) {
  if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: one per core)");
  for (size_t i = 0; i < configs.size(); ++i) {
    try {
      noc::Params check(configs[i]);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("config " + std::to_string(i) + ": " + e.what());
    }
  }
  std::vector<noc::MeasureResult> results(configs.size());
  std::vector<std::string> errors(configs.size());
  {
    nb::gil_scoped_release release;
    const size_t hw = std::max(1u, std::thread::hardware_concurrency());
    const size_t workers =
        std::max<size_t>(1, std::min(configs.size(), threads > 0 ? static_cast<size_t>(threads) : hw));
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < configs.size(); i = next++) {
        try {
          results[i] = noc::measure(configs[i]);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  std::vector<nb::dict> out;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (!errors[i].empty()) throw std::runtime_error("config " + std::to_string(i) + ": " + errors[i]);
    out.push_back(result_dict(results[i]));
  }
  return out;
}

void bind_noc(nb::module_& m) {
  auto mod = m.def_submodule("noc", "cycle-level network-on-chip simulator (BookSim2-compatible)");

  nb::class_<noc::Config>(mod, "Config")
      .def(nb::init<>())
      .def_rw("topology", &noc::Config::topology)
      .def_rw("k", &noc::Config::k)
      .def_rw("num_vcs", &noc::Config::num_vcs)
      .def_rw("vc_buf_size", &noc::Config::vc_buf_size)
      .def_rw("routing_function", &noc::Config::routing_function)
      .def_rw("traffic", &noc::Config::traffic)
      .def_rw("packet_size", &noc::Config::packet_size)
      .def_rw("injection_rate", &noc::Config::injection_rate)
      .def_rw("injection_rate_uses_flits", &noc::Config::injection_rate_uses_flits)
      .def_rw("injection_process", &noc::Config::injection_process)
      .def_rw("burst_alpha", &noc::Config::burst_alpha)
      .def_rw("burst_beta", &noc::Config::burst_beta)
      .def_rw("routing_delay", &noc::Config::routing_delay)
      .def_rw("vc_alloc_delay", &noc::Config::vc_alloc_delay)
      .def_rw("sw_alloc_delay", &noc::Config::sw_alloc_delay)
      .def_rw("st_final_delay", &noc::Config::st_final_delay)
      .def_rw("credit_delay", &noc::Config::credit_delay)
      .def_rw("link_latency", &noc::Config::link_latency)
      .def_rw("vc_allocator", &noc::Config::vc_allocator)
      .def_rw("sw_allocator", &noc::Config::sw_allocator)
      .def_rw("warmup_periods", &noc::Config::warmup_periods)
      .def_rw("sample_period", &noc::Config::sample_period)
      .def_rw("max_samples", &noc::Config::max_samples)
      .def_rw("latency_thres", &noc::Config::latency_thres)
      .def_rw("stopping_thres", &noc::Config::stopping_thres)
      .def_rw("acc_stopping_thres", &noc::Config::acc_stopping_thres)
      .def_rw("seed", &noc::Config::seed)
      .def_rw("hotspot_nodes", &noc::Config::hotspot_nodes)
      .def_rw("hotspot_rates", &noc::Config::hotspot_rates)
      .def_rw("watchdog_cycles", &noc::Config::watchdog_cycles)
      .def_rw("max_drain_periods", &noc::Config::max_drain_periods);

  mod.def("validate", [](const noc::Config& c) { noc::Params check(c); },
          "Raise ValueError if the configuration is invalid.");

  mod.def(
      "measure",
      [](const noc::Config& c) {
        noc::MeasureResult r;
        {
          noc::Params check(c);
          nb::gil_scoped_release release;
          r = noc::measure(c);
        }
        return result_dict(r);
      },
      nb::arg("config"), "BookSim latency-mode measurement of one configuration.");
  mod.def("measure_many", &measure_many, nb::arg("configs"), nb::arg("threads") = 0,
          "Independent measurements over `threads` threads (0: one per core), GIL released.");

  nb::class_<noc::Network>(mod, "Network")
      .def(nb::init<const noc::Config&>(), nb::arg("config"))
      .def("run", &run_network, nb::arg("cycles"))
      .def("set_injection_rate", &noc::Network::set_injection_rate, nb::arg("rate"))
      .def("set_traffic", &noc::Network::set_traffic, nb::arg("pattern"))
      .def("set_routing", &noc::Network::set_routing, nb::arg("routing"))
      .def(
          "set_routing_per_router",
          [](noc::Network& net, archgym::bindings::Vector<int32_t> idx) {
            std::vector<int32_t> v(idx.data(), idx.data() + idx.shape(0));
            net.set_routing_per_router(v);
          },
          nb::arg("index"))
      .def("send", &noc::Network::send, nb::arg("src"), nb::arg("dst"))
      .def("set_generation", &noc::Network::set_generation, nb::arg("on"))
      .def_prop_ro("cycle", &noc::Network::cycle)
      .def_prop_ro("deadlocked", &noc::Network::deadlocked)
      .def("counters", [](const noc::Network& net) { return counters_dict(net.counters()); })
      .def("backlog_per_node",
           [](const noc::Network& net) {
             auto v = net.backlog_per_node();
             return owned_array(v, {v.size()});
           })
      .def("credits",
           [](const noc::Network& net) {
             const size_t n = net.params().n, V = net.params().V;
             return owned_array(net.credits(), {n, 5, V});
           })
      .def("occupancy",
           [](const noc::Network& net) {
             const size_t n = net.params().n;
             return owned_array(net.occupancy(), {n, 5});
           })
      .def("destinations",
           [](const noc::Network& net) {
             auto v = net.destinations();
             return owned_array(v, {v.size()});
           })
      .def("set_record", &noc::Network::set_record, nb::arg("on"))
      .def("delivered", [](const noc::Network& net) {
        const auto& dl = net.delivered();
        const size_t m = dl.size();
        std::vector<int32_t> src(m), dst(m), hops(m);
        std::vector<int64_t> ct(m), it(m), at(m);
        for (size_t i = 0; i < m; ++i) {
          src[i] = dl[i].src;
          dst[i] = dl[i].dst;
          hops[i] = dl[i].hops;
          ct[i] = dl[i].ctime;
          it[i] = dl[i].itime;
          at[i] = dl[i].atime;
        }
        nb::dict d;
        d["src"] = owned_array(src, {m});
        d["dst"] = owned_array(dst, {m});
        d["hops"] = owned_array(hops, {m});
        d["ctime"] = owned_array(ct, {m});
        d["itime"] = owned_array(it, {m});
        d["atime"] = owned_array(at, {m});
        return d;
      });

  auto tuple_of = [](const std::vector<std::string>& names) {
    nb::list l;
    for (const auto& s : names) l.append(s);
    return nb::tuple(l);
  };
  mod.attr("ROUTING_FUNCTIONS") = tuple_of(noc::routing_names());
  mod.attr("TRAFFIC_PATTERNS") = tuple_of(noc::traffic_names());
  mod.attr("ROUTINGS_PER_ROUTER") = tuple_of(noc::per_router_routing_names());
  mod.attr("MAX_K") = noc::kMaxK;
  mod.attr("MAX_VCS") = noc::kMaxVcs;
}

ARCHGYM_BINDER(noc, bind_noc)

}  // namespace
