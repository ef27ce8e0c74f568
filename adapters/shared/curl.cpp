#include "shared/curl.hpp"

#include <mutex>
#include <string>

namespace ozghub::adapters::curl {
namespace {

struct HandleDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

std::unique_ptr<CURL, HandleDeleter>& this_threads_handle() {
  thread_local std::unique_ptr<CURL, HandleDeleter> handle;
  return handle;
}

}  // namespace

Status global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return Status::internal(std::string("curl_global_init failed: ") + curl_easy_strerror(result));
  }
  return Status::ok();
}

CURL* thread_handle() {
  auto& handle = this_threads_handle();
  if (handle) {
    curl_easy_reset(handle.get());
  } else {
    handle.reset(curl_easy_init());
  }
  return handle.get();
}

void discard_thread_handle() { this_threads_handle().reset(); }

bool is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

}  // namespace ozghub::adapters::curl
