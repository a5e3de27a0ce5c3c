// Helpers shared by the binding files.  Each core has one binding file in this
// folder that registers itself with ARCHGYM_BINDER(name, function); module.cpp
// calls every registered binder, in name order, when Python imports _sim.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <memory>

namespace archgym::bindings {

namespace nb = nanobind;

template <typename T>
using Matrix = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <typename T>
using Vector = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// A NumPy array that owns a heap buffer.
template <typename T>
nb::ndarray<nb::numpy, T, nb::ndim<2>> owned_matrix(std::unique_ptr<T[]> data, size_t rows,
                                                    size_t cols) {
  T* raw = data.release();
  nb::capsule owner(raw, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::ndarray<nb::numpy, T, nb::ndim<2>>(raw, {rows, cols}, owner);
}

using Binder = void (*)(nb::module_&);

// Records a binder; returns a dummy so it can initialise a static.
int register_binder(const char* name, Binder binder);

}  // namespace archgym::bindings

#define ARCHGYM_BINDER(name, function) \
  [[maybe_unused]] const int archgym_binder_##name =  \
      ::archgym::bindings::register_binder(#name, function);
