// The C view of a set of parameter values (ozghub_params, adapter_abi.h), as a host hands them to
// a plugin's create() and bind(). Used by the ozg-hub daemon and by the vendor test kit, so both
// build the view the same way. C++17, header-only.
//
// Ownership: a ParamsView owns copies of the strings; the view's arrays point into the object,
// which therefore cannot be copied or moved. Immutable after construction; thread-safe to read.
#ifndef OZGHUB_ADAPTER_PARAMS_VIEW_HPP
#define OZGHUB_ADAPTER_PARAMS_VIEW_HPP

#include <string>
#include <utility>
#include <vector>

#include "ozghub/adapter_abi.h"

namespace ozghub::abi {

class ParamsView {
 public:
  // `values`: any range of (key, value) pairs of strings, e.g. a std::map.
  template <typename Map>
  explicit ParamsView(const Map& values) {
    for (const auto& kv : values) values_.emplace_back(kv.first, kv.second);
    items_.reserve(values_.size());
    for (const auto& [k, v] : values_)
      items_.push_back({sizeof(ozghub_param), k.c_str(), v.c_str()});
    for (const auto& i : items_) ptrs_.push_back(&i);
    view_ = {sizeof(ozghub_params), ptrs_.data(), ptrs_.size()};
  }
  ParamsView(const ParamsView&) = delete;
  ParamsView& operator=(const ParamsView&) = delete;

  const ozghub_params* view() const { return &view_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<ozghub_param> items_;
  std::vector<const ozghub_param*> ptrs_;
  ozghub_params view_{};
};

}  // namespace ozghub::abi

#endif  // OZGHUB_ADAPTER_PARAMS_VIEW_HPP
