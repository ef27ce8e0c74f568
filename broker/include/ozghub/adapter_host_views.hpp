// The C views a host hands to a plugin (adapter_abi.h): parameter values (ozghub_params) for
// create() and bind(), and the attachment array of a delivery view. Used by the ozg-hub daemon
// and by the vendor test kit, so both hosts build them the same way. C++17, header-only.
//
// Ownership: a ParamsView owns copies of the strings; an AttachmentsView only points into the
// attachments it was built from, which must outlive it. In both, the C arrays point into the
// object, which therefore cannot be copied or moved. Immutable after construction; thread-safe
// to read.
#ifndef OZGHUB_ADAPTER_HOST_VIEWS_HPP
#define OZGHUB_ADAPTER_HOST_VIEWS_HPP

#include <cstdint>
#include <string>
#include <string_view>
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

// Borrowed bytes of a string.
inline ozghub_bytes bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class AttachmentsView {
 public:
  // `attachments`: a range of objects with string members name, content_type and data.
  template <typename Range>
  explicit AttachmentsView(const Range& attachments) {
    for (const auto& a : attachments) {
      items_.push_back(
          {sizeof(ozghub_attachment_view), bytes(a.name), bytes(a.content_type), bytes(a.data)});
    }
    for (const auto& i : items_) ptrs_.push_back(&i);
  }
  AttachmentsView(const AttachmentsView&) = delete;
  AttachmentsView& operator=(const AttachmentsView&) = delete;

  const ozghub_attachment_view* const* data() const { return ptrs_.data(); }
  std::size_t size() const { return ptrs_.size(); }

 private:
  std::vector<ozghub_attachment_view> items_;
  std::vector<const ozghub_attachment_view*> ptrs_;
};

}  // namespace ozghub::abi

#endif  // OZGHUB_ADAPTER_HOST_VIEWS_HPP
