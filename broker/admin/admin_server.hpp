// The admin HTTP endpoint (Boost.Beast): one thread with its own io_context, HTTP/1.1 with
// keep-alive, a 10 s limit per request, bodies up to 64 KiB. Bound to loopback by default (it
// can replay and purge dead letters). Optional protection for everything but /livez
// (admin_auth.hpp): a bearer token (admin.token_file) and HTTPS with client certificates
// (admin.tls, admin_tls.hpp).
//
// Thread-safety: start() and stop() from one thread; requests are served on the server's own
// thread and answered by AdminApi.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "admin/admin_api.hpp"
#include "common/status.hpp"
#include "config/config.hpp"

namespace ozghub::admin {

class AdminServer {
 public:
  // `api` must outlive the server.
  explicit AdminServer(const AdminApi& api);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Reads the token file and the TLS files that `admin` names, binds admin.listen (port 0: any
  // free port), logs `admin.listening` with the bound address and starts serving. Errors (a
  // token file others can read, a bad certificate, address in use) are startup errors.
  Status start(const config::Admin& admin);
  // Plain HTTP without access control on host:port.
  Status start(const std::string& host, std::uint16_t port);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ozghub::admin
