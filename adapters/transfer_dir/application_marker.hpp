// Exactly one folder per application across hubs that share a transfer directory
// (`idempotency: application` on the transfer_dir adapter; docs/operations/scale-out.md).
//
// Why: hubs consuming one broker queue are competing consumers. When hub A commits an
// application and dies before settling the broker's delivery, the broker redelivers it to hub
// B, which commits it as a new case with its own case number; A, restarted on its own volume,
// still delivers its case too. The case number cannot recognise the pair, the application's
// idempotency key (sender, message id) can.
//
// How: before a case's folder is written, its delivery claims the application in the office
// folder: a symbolic link `.applications/<sha256(sender NUL message_id)>` pointing to the case
// number, made with symlinkat(2), which either creates it or fails because it exists, so of
// two cases of one application exactly one owns it. The claim is made after the case's
// temporary folder exists, so a claim whose case folder is missing tells its state by that
// temporary folder:
//   - the claim names this case: go on (a retry of the owner);
//   - it names another case whose folder exists: delivered by the other case (report delivered,
//     write nothing);
//   - it names another case whose temporary folder exists: that case is being written, or its
//     hub died while writing it and will write it again after its restart (retry later);
//   - neither exists: the owner's folder was delivered and picked up by the office, or its
//     writer failed and retries (it owns the claim and will write it): report delivered.
// A hub whose store is lost for good leaves its claims behind; an operator removes such a
// claim and replays the dead letter of the other case.
//
// Thread-safe: only *at() calls on descriptors the caller owns.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ozghub::adapters {

enum class ApplicationClaim {
  kOwned,             // this case claimed the application before (a retry)
  kNewlyOwned,        // this case claimed it now
  kDeliveredByOther,  // another case owns it and is (or was) delivered: write nothing
  kPendingByOther,    // another case owns it and is being written: retry later
};

// The marker's name for an application: hex SHA-256 of sender NUL message id.
std::string application_marker_name(std::string_view sender, std::string_view message_id);

// The markers' folder inside an office folder.
inline constexpr char kApplicationMarkers[] = ".applications";

// Claims `marker` (application_marker_name) for `case_number` in `markers_fd` (the office's
// markers folder), judging another owner's state by `office_fd`. The caller makes the markers
// folder durable before the case folder when it owns the claim. On failure: the errno and the
// operation that failed.
struct ClaimError {
  const char* operation;
  int err;
};
std::optional<ClaimError> claim_application(int office_fd, int markers_fd,
                                            const std::string& marker,
                                            const std::string& case_number,
                                            std::string_view temp_prefix, ApplicationClaim& out);

}  // namespace ozghub::adapters
