// ozg-hubctl's connection to the daemon's admin endpoint: one HTTP/1.1 request per call.
#pragma once

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.hpp"

namespace ozghub::ctl {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// How ozg-hubctl proves itself to a protected admin endpoint (broker/admin/admin_auth.hpp) and
// checks the endpoint's certificate.
struct ClientAuth {
  std::string token;  // sent as "Authorization: Bearer <token>" when not empty
  bool tls = false;   // HTTPS
  // PEM CAs that verify the server's certificate, whose name must match the host of the
  // address; empty: the system's CAs.
  std::string cacert;
  // Instead of cacert: the server's own certificate (admin.tls.certificate, read through
  // --config) is trusted as it is, whatever the address's host name.
  std::string pinned_certificate;
  std::string certificate;  // the client certificate (PEM) and its key, for mutual TLS
  std::string key;
};

class AdminClient {
 public:
  // `address` is HOST:PORT; `auth`: the credentials for a protected endpoint; `timeout` bounds
  // one request from connect to answer.
  explicit AdminClient(std::string address, ClientAuth auth = {},
                       std::chrono::seconds timeout = std::chrono::seconds(30))
      : address_(std::move(address)), auth_(std::move(auth)), timeout_(timeout) {}

  // The same client with another timeout (a backup may take long).
  AdminClient with_timeout(std::chrono::seconds timeout) const {
    AdminClient c = *this;
    c.timeout_ = timeout;
    return c;
  }

  // Sends the request. A daemon that cannot be reached is an unavailable Status whose message
  // says so in words an operator understands.
  Result<HttpAnswer> request(const std::string& method, const std::string& target) const;

  const std::string& address() const { return address_; }

 private:
  std::string address_;
  ClientAuth auth_;
  std::chrono::seconds timeout_;
};

// Sends a request and parses the JSON answer into `body`. On failure prints the daemon's error
// (or why it could not be reached) to `err` and returns the exit code: 1 failed or not found,
// 3 daemon unreachable.
std::optional<int> call_json(const AdminClient& client, const std::string& method,
                             const std::string& target, nlohmann::json& body, std::FILE* err);

// A member of a JSON object as text for a table: strings as they are, anything else as JSON,
// "" when absent.
std::string json_text(const nlohmann::json& j, const char* key);

}  // namespace ozghub::ctl
