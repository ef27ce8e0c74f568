// libcurl plumbing shared by the adapters that use it (http, smtp): one place for the global
// initialisation, the per-thread easy handle and the classification of TLS failures.
//
// Thread-safety: global_init() may be called from any thread (the first call initialises); each
// delivery thread owns its handle (thread_local), which keeps that thread's connection cache
// (HTTP keep-alive, an SMTP session, TLS sessions) from one delivery to the next.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "common/status.hpp"

namespace ozghub::adapters::curl {

// curl_global_init, once per process (it is not thread-safe itself). Call before creating
// handles, e.g. when an adapter instance is created.
Status global_init();

// This thread's easy handle, reset to defaults (its connection cache survives the reset), or
// nullptr when curl cannot allocate one. Valid until the thread ends or discard_thread_handle().
CURL* thread_handle();

// Closes this thread's handle and its connections, e.g. after a failed session whose state the
// next delivery should not inherit. The next thread_handle() makes a new one.
void discard_thread_handle();

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
// Owns a header or recipient list.
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Whether `rc` is a TLS failure (handshake, verification, certificates): retried, and reported
// as such.
bool is_tls_error(CURLcode rc);

}  // namespace ozghub::adapters::curl
