// archgym._sim: the compiled extension.  The binding files of this folder (one
// per core) register themselves; this file calls them in name order.
#include <nanobind/nanobind.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.hpp"

namespace archgym::bindings {

namespace {
std::vector<std::pair<std::string, Binder>>& binders() {
  static std::vector<std::pair<std::string, Binder>> all;
  return all;
}
}  // namespace

int register_binder(const char* name, Binder binder) {
  binders().emplace_back(name, binder);
  return 0;
}

}  // namespace archgym::bindings

NB_MODULE(_sim, m) {
  m.doc() = "archgym's compiled simulator cores";
  auto all = archgym::bindings::binders();
  std::sort(all.begin(), all.end());
  for (const auto& [name, bind] : all) bind(m);
}
