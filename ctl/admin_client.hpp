// ozg-hubctl's connection to the daemon's admin endpoint: one HTTP/1.1 request per call.
#pragma once

#include <string>

#include "common/status.hpp"

namespace ozghub::ctl {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class AdminClient {
 public:
  // `address` is HOST:PORT.
  explicit AdminClient(std::string address) : address_(std::move(address)) {}

  // Sends the request. A daemon that cannot be reached is an unavailable Status whose message
  // says so in words an operator understands.
  Result<HttpAnswer> request(const std::string& method, const std::string& target) const;

  const std::string& address() const { return address_; }

 private:
  std::string address_;
};

}  // namespace ozghub::ctl
