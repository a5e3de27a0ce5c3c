// Python bindings of the NoC core (archgym._sim.noc).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <variant>
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

nb::tuple tuple_of(const std::vector<std::string>& names) {
  nb::list l;
  for (const auto& s : names) l.append(s);
  return nb::tuple(l);
}

template <typename T>
nb::ndarray<nb::numpy, T> owned_array(const std::vector<T>& src, std::initializer_list<size_t> shape) {
  T* raw = new T[std::max<size_t>(src.size(), 1)];
  std::copy(src.begin(), src.end(), raw);
  nb::capsule owner(raw, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::ndarray<nb::numpy, T>(raw, shape.size(), shape.begin(), owner);
}

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};

// ------------------------------------------------- Python values -> C++ values
// Every Python value given for a configuration field goes through to_field:
// the wrong type is rejected with the field's message (what it accepts), the
// ranges and names are then checked by Params like any Config.

bool is_bool(nb::handle h) {
  if (PyBool_Check(h.ptr())) return true;
  const std::string type = Py_TYPE(h.ptr())->tp_name;
  return type == "numpy.bool" || type == "numpy.bool_";
}

std::string shown(nb::handle h) { return nb::repr(h).c_str(); }

// A Python integer (or NumPy integer; not a bool) as T, or reject.
template <typename T>
T to_int(const noc::ConfigField& f, nb::handle h) {
  if (is_bool(h) || !PyIndex_Check(h.ptr())) noc::reject(f, shown(h));
  nb::object i = nb::steal(PyNumber_Index(h.ptr()));
  if (!i.is_valid()) {
    PyErr_Clear();
    noc::reject(f, shown(h));
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if constexpr (std::is_same_v<T, uint64_t>) {
    if (overflow < 0 || (overflow == 0 && v < 0)) noc::reject(f, shown(h));
    if (overflow == 0) return static_cast<T>(v);
    const unsigned long long u = PyLong_AsUnsignedLongLong(i.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      noc::reject(f, shown(h));
    }
    return static_cast<T>(u);
  } else {
    if (overflow != 0 || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
      noc::reject(f, shown(h));
    return static_cast<T>(v);
  }
}

// A Python real number (int, float, NumPy number; not a bool or a string), or reject.
double to_real(const noc::ConfigField& f, nb::handle h) {
  if (is_bool(h) || nb::isinstance<nb::str>(h) || nb::isinstance<nb::bytes>(h))
    noc::reject(f, shown(h));
  const double v = PyFloat_AsDouble(h.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    noc::reject(f, shown(h));
  }
  return v;
}

template <typename T, typename Item>
std::vector<T> to_list(const noc::ConfigField& f, nb::handle h, Item item) {
  if (nb::isinstance<nb::str>(h) || nb::isinstance<nb::bytes>(h) || !PySequence_Check(h.ptr()))
    noc::reject(f, shown(h));
  std::vector<T> out;
  for (nb::handle x : nb::borrow<nb::sequence>(h)) out.push_back(item(f, x));
  return out;
}

void to_field(noc::Config& c, const noc::ConfigField& f, nb::handle h) {
  using C = noc::Config;
  std::visit(Overloaded{
                 [&](int C::*m) { c.*m = to_int<int>(f, h); },
                 [&](uint64_t C::*m) { c.*m = to_int<uint64_t>(f, h); },
                 [&](double C::*m) { c.*m = to_real(f, h); },
                 [&](bool C::*m) {
                   if (!is_bool(h)) noc::reject(f, shown(h));
                   c.*m = PyObject_IsTrue(h.ptr()) == 1;
                 },
                 [&](std::string C::*m) {
                   if (!nb::isinstance<nb::str>(h)) noc::reject(f, shown(h));
                   c.*m = nb::cast<std::string>(h);
                 },
                 [&](std::vector<int> C::*m) { c.*m = to_list<int>(f, h, to_int<int>); },
                 [&](std::vector<double> C::*m) { c.*m = to_list<double>(f, h, to_real); },
             },
             f.member);
}

nb::object from_field(const noc::Config& c, const noc::ConfigField& f) {
  return std::visit([&](auto m) { return nb::cast(c.*m); }, f.member);
}

// A Python integer argument of a method, or ValueError naming it.
int64_t int_arg(nb::handle h, const char* name) {
  if (is_bool(h) || !PyIndex_Check(h.ptr()))
    throw std::invalid_argument(std::string(name) + " must be an integer (got " + shown(h) + ")");
  nb::object i = nb::steal(PyNumber_Index(h.ptr()));
  int overflow = 0;
  const long long v = i.is_valid() ? PyLong_AsLongLongAndOverflow(i.ptr(), &overflow) : 0;
  if (!i.is_valid() || overflow != 0) {
    PyErr_Clear();
    throw std::invalid_argument(std::string(name) + " is out of range (got " + shown(h) + ")");
  }
  return v;
}

// CONFIG_FIELDS: the field table for Python (NocConfig is generated from it).
nb::tuple config_fields_for_python() {
  nb::module_ builtins = nb::module_::import_("builtins");
  const noc::Config defaults;
  nb::list out;
  for (const noc::ConfigField& f : noc::config_fields()) {
    nb::dict d;
    d["name"] = f.name;
    nb::object type, lo = nb::none(), hi = nb::none();
    std::visit(Overloaded{
                   [&](int noc::Config::*) {
                     type = builtins.attr("int");
                     lo = nb::int_(static_cast<int>(f.lo));
                     hi = nb::int_(static_cast<int>(f.hi));
                   },
                   [&](uint64_t noc::Config::*) {
                     type = builtins.attr("int");
                     lo = nb::cast(uint64_t{0});
                     hi = nb::cast(std::numeric_limits<uint64_t>::max());
                   },
                   [&](double noc::Config::*) {
                     type = builtins.attr("float");
                     lo = nb::float_(f.lo);
                     hi = nb::float_(f.hi);
                   },
                   [&](bool noc::Config::*) { type = builtins.attr("bool"); },
                   [&](std::string noc::Config::*) { type = builtins.attr("str"); },
                   [&](std::vector<int> noc::Config::*) {
                     type = builtins.attr("tuple");
                     lo = nb::int_(static_cast<int>(f.lo));
                     hi = nb::int_(static_cast<int>(f.hi));
                   },
                   [&](std::vector<double> noc::Config::*) {
                     type = builtins.attr("tuple");
                     lo = nb::float_(f.lo);
                     hi = nb::float_(f.hi);
                   },
               },
               f.member);
    nb::object value = from_field(defaults, f);
    d["type"] = type;
    d["default"] = nb::isinstance<nb::list>(value) ? nb::object(nb::tuple(value)) : value;
    d["min"] = lo;
    d["max"] = hi;
    d["min_exclusive"] = f.lo_open;
    d["choices"] = f.choices ? nb::object(tuple_of(f.choices())) : nb::none();
    d["accepted"] = noc::accepted(f);
    d["doc"] = f.doc;
    out.append(d);
  }
  return nb::tuple(out);
}

// {routing: {topology: fewest VCs}} over the topologies the routing runs on.
nb::dict min_vcs_for_python(bool per_router) {
  nb::dict out;
  for (const noc::RoutingFunction& rf : noc::routing_functions()) {
    if (per_router && !rf.per_router) continue;
    nb::dict by_topology;
    const noc::MinVcs& need = per_router ? rf.per_router_min_vcs : rf.min_vcs;
    for (size_t t = 0; t < need.size(); ++t)
      if (need[t] > 0) by_topology[noc::topology_names()[t].c_str()] = need[t];
    out[rf.name] = by_topology;
  }
  return out;
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
  const size_t n = static_cast<size_t>(net.params().nodes);
  const size_t routers = static_cast<size_t>(net.params().routers);
  const size_t links = net.params().link_ports, ports = net.params().ports;
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
  d["link_utilisation"] = owned_array(st.link_utilisation, {routers, links});
  d["buffer_occupancy"] = owned_array(st.buffer_occupancy, {routers, ports});
  d["status"] = st.deadlock ? "deadlock" : "ok";
  return d;
}

std::vector<nb::dict> measure_many(const std::vector<noc::Config>& configs, int64_t threads) {
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

  // Config(**fields): a Config with the given fields (by to_field), not validated.
  auto config = nb::class_<noc::Config>(mod, "Config")
      .def("__init__", [](noc::Config* c, nb::kwargs fields) {
        new (c) noc::Config();
        for (auto [name, value] : fields)
          to_field(*c, noc::config_field(nb::cast<std::string>(name)), value);
      });
  for (const noc::ConfigField& f : noc::config_fields())
    config.def_prop_rw(
        f.name, [&f](const noc::Config& c) { return from_field(c, f); },
        [&f](noc::Config& c, nb::handle value) { to_field(c, f, value); });

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
  mod.def(
      "measure_many",
      [](const std::vector<noc::Config>& configs, nb::handle threads) {
        return measure_many(configs, int_arg(threads, "threads"));
      },
      nb::arg("configs"), nb::arg("threads") = 0,
          "Independent measurements over `threads` threads (0: one per core), GIL released.");

  nb::class_<noc::Network>(mod, "Network")
      .def(nb::init<const noc::Config&>(), nb::arg("config"))
      .def(
          "run",
          [](noc::Network& net, nb::handle cycles) {
            return run_network(net, int_arg(cycles, "cycles"));
          },
          nb::arg("cycles"))
      .def(
          "set_injection_rate",
          [](noc::Network& net, nb::handle rate) {
            net.set_injection_rate(to_real(noc::config_field("injection_rate"), rate));
          },
          nb::arg("rate"))
      .def(
          "set_traffic",
          [](noc::Network& net, nb::handle pattern) {
            noc::Config c;
            to_field(c, noc::config_field("traffic"), pattern);
            net.set_traffic(c.traffic);
          },
          nb::arg("pattern"))
      .def("set_routing", &noc::Network::set_routing, nb::arg("routing"))
      .def(
          "set_routing_per_router",
          [](noc::Network& net, archgym::bindings::Vector<int64_t> idx) {
            net.set_routing_per_router(std::vector<int64_t>(idx.data(), idx.data() + idx.shape(0)));
          },
          nb::arg("index"))
      .def(
          "send",
          [](noc::Network& net, nb::handle src, nb::handle dst) {
            net.send(int_arg(src, "src"), int_arg(dst, "dst"));
          },
          nb::arg("src"), nb::arg("dst"))
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
             const size_t n = net.params().routers, V = net.params().V, P = net.params().ports;
             return owned_array(net.credits(), {n, P, V});
           })
      .def("occupancy",
           [](const noc::Network& net) {
             const size_t n = net.params().routers, P = net.params().ports;
             return owned_array(net.occupancy(), {n, P});
           })
      .def("destinations",
           [](const noc::Network& net) {
             auto v = net.destinations();
             return owned_array(v, {v.size()});
           })
      .def(
          "set_ugal_decisions",
          [](noc::Network& net, archgym::bindings::Vector<int64_t> idx) {
            net.set_ugal_decisions(std::vector<int64_t>(idx.data(), idx.data() + idx.shape(0)));
          },
          nb::arg("index"))
      .def("dragonfly_credits_in_use",
           [](const noc::Network& net) {
             const size_t n = net.params().routers;
             return owned_array(net.dragonfly_credits_in_use(), {n, 2});
           })
      .def("dragonfly_class_ports",
           [](const noc::Network& net) {
             const auto p = net.dragonfly_class_ports();
             return nb::make_tuple(p[0], p[1]);
           })
      .def("flatfly_credits_in_use",
           [](const noc::Network& net) {
             const size_t n = net.params().routers;
             return owned_array(net.flatfly_credits_in_use(), {n, 2});
           })
      .def("flatfly_class_ports",
           [](const noc::Network& net) {
             const auto p = net.flatfly_class_ports();
             return nb::make_tuple(p[0], p[1]);
           })
      .def("node_routers",
           [](const noc::Network& net) {
             const auto& v = net.node_routers();
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

  mod.def(
      "check_routing",
      [](const std::string& routing, const std::string& topology, int num_vcs,
         const std::string& field, int n, int k) {
        noc::check_routing(noc::parse_routing(routing, field.c_str()),
                           noc::parse_topology(topology), k, n, num_vcs, field.c_str());
      },
      nb::arg("routing"), nb::arg("topology"), nb::arg("num_vcs"),
      nb::arg("field") = "routing_function", nb::arg("n") = 2, nb::arg("k") = 8,
      "Raise ValueError unless the routing runs on the k-ary n-cube topology with num_vcs VCs.");
  mod.def(
      "check_traffic",
      [](const std::string& pattern, int k, int n, const std::string& topology, int c) {
        const noc::Topology t = noc::parse_topology(topology);
        noc::check_traffic(noc::parse_traffic(pattern), t, k, n,
                           t == noc::Topology::Cmesh ? noc::kCmeshConcentration : c);
      },
      nb::arg("pattern"), nb::arg("k"), nb::arg("n") = 2, nb::arg("topology") = "mesh",
      nb::arg("c") = 1,
      "Raise ValueError unless the pattern is known and defined for radix k, n dimensions and "
      "c nodes per router (a flatfly's; a cmesh has 4) on the topology.");

  mod.def(
      "routings_on",
      [](const std::string& topology, int num_vcs, int k, int n, bool per_router, int c) {
        // check_routing (and check_routing_concentration) decide, so this set is the one
        // Params and set_routing accept.
        const noc::Topology t = noc::parse_topology(topology);
        const auto& all = noc::routing_functions();
        std::vector<std::string> out;
        for (size_t id = 0; id < all.size(); ++id) {
          if (per_router && !all[id].per_router) continue;
          try {
            noc::check_routing(static_cast<int>(id), t, k, n, num_vcs, "routing", per_router);
            noc::check_routing_concentration(static_cast<int>(id), t, k, c, "routing");
            out.push_back(all[id].name);
          } catch (const std::invalid_argument&) {
          }
        }
        return tuple_of(out);
      },
      nb::arg("topology"), nb::arg("num_vcs"), nb::arg("k") = 8, nb::arg("n") = 2,
      nb::arg("per_router") = false, nb::arg("c") = 1,
      "The routings (in ROUTING_FUNCTIONS order) that run on this topology with k, n, c "
      "(nodes per router) and num_vcs VCs; per_router: those that may be mixed per router there.");
  mod.def(
      "shape_nodes",
      [](const std::string& topology, int k, int n, int c) {
        for (const auto& [name, v] : {std::pair{"k", k}, std::pair{"n", n}, std::pair{"c", c}}) {
          const noc::ConfigField& f = noc::config_field(name);
          if (v < f.lo || v > f.hi) noc::reject(f, std::to_string(v));
        }
        return noc::shape_nodes(noc::parse_topology(topology), k, n, c);
      },
      nb::arg("topology"), nb::arg("k"), nb::arg("n"), nb::arg("c") = 1,
      "The nodes of a network of this shape (an anynet's come from its graph: k^n here).");
  mod.def(
      "network_shape",
      [](const noc::Config& c) {
        const noc::Params p(c);
        nb::dict d;
        d["nodes"] = p.nodes;
        d["routers"] = p.routers;
        d["ports"] = p.ports;
        d["link_ports"] = p.link_ports;
        return d;
      },
      nb::arg("config"),
      "nodes, routers, ports (per router, the most any has) and link_ports (the columns of "
      "run()'s link_utilisation) of a valid configuration's network.");

  nb::exception<noc::Cancelled>(mod, "Cancelled");
  mod.def("set_cancelled", &noc::set_cancelled, nb::arg("on"),
          "Set (or clear) the cancellation flag: every running measure() raises Cancelled.");
  mod.def("cancelled", &noc::cancelled, "Whether the cancellation flag is set.");

  mod.attr("CONFIG_FIELDS") = config_fields_for_python();
  mod.attr("ROUTING_FUNCTIONS") = tuple_of(noc::routing_names());
  mod.attr("TRAFFIC_PATTERNS") = tuple_of(noc::traffic_names());
  mod.attr("TOPOLOGIES") = tuple_of(noc::topology_names());
  mod.attr("ALLOCATORS") = tuple_of(noc::allocator_names());
  mod.attr("INJECTION_PROCESSES") = tuple_of(noc::injection_names());
  mod.attr("ROUTINGS_PER_ROUTER") = tuple_of(noc::per_router_routing_names());
  mod.attr("UGAL_DECISIONS") = tuple_of(noc::ugal_decision_names());
  mod.attr("DRAGONFLY_PORT_CLASSES") = tuple_of(noc::dragonfly_port_class_names());
  mod.attr("FLATFLY_PORT_CLASSES") = tuple_of(noc::flatfly_port_class_names());
  mod.attr("UGAL_WEIGHT") = noc::kUgalWeight;
  mod.attr("UGAL_THRESHOLD") = noc::kUgalThreshold;
  mod.attr("MAX_DRAGONFLY_K") = noc::kMaxDragonflyK;
  mod.attr("ROUTING_MIN_VCS") = min_vcs_for_python(false);
  mod.attr("PER_ROUTER_MIN_VCS") = min_vcs_for_python(true);
  nb::dict classes;  // {routing: "node" | "k"}: ROUTING_MIN_VCS counts VCs per such class
  for (const noc::RoutingFunction& rf : noc::routing_functions())
    if (rf.vc_classes != noc::VcClasses::None)
      classes[rf.name] = rf.vc_classes == noc::VcClasses::PerNode ? "node" : "k";
  mod.attr("ROUTING_VC_CLASSES") = classes;
  mod.attr("MAX_K") = noc::kMaxK;
  mod.attr("MAX_NODES") = noc::kMaxNodes;
  mod.attr("MAX_VCS") = noc::kMaxVcs;
}

ARCHGYM_BINDER(noc, bind_noc)

}  // namespace
