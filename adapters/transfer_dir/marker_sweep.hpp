// Removing old application markers (application_marker.hpp, `idempotency: application`).
//
// A marker keeps a second case of one application from being written after a redelivery across
// hubs. Once no case of that application can be delivered any more, it only takes an inode in
// the office's `.applications/` folder, one per application for ever. With `markers_days` set,
// the transfer-directory adapter removes the markers older than that, once an hour; the days
// must cover every way a case can still be delivered (docs/operations/scale-out.md): after
// that, a late duplicate is written as a folder of its own.
//
// Thread-safe (only *at() calls on descriptors it opens); several hubs may sweep one folder at
// once: a marker another hub removed first is skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ozghub::adapters {

struct MarkerSweep {
  std::size_t removed = 0;
  std::size_t kept = 0;  // markers younger than the cut-off
};

// Whether `name` is a marker's name: 64 lowercase hex digits (application_marker_name).
bool is_marker_name(std::string_view name);

// Removes from the markers folder `markers_dir` every marker (a symbolic link with a marker's
// name) whose own modification time, i.e. its creation, is before `cutoff_unix_s`. Anything
// else in the folder is left alone. A folder that does not exist holds no markers.
Result<MarkerSweep> remove_markers_older_than(const std::string& markers_dir,
                                              std::int64_t cutoff_unix_s);

}  // namespace ozghub::adapters
