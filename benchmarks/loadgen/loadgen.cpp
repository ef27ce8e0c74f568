// ozg-hub-loadgen: sends N applications of a given size to an AMQP 1.0 address with a window of
// unsettled messages, and reports accepted/s and accept-latency percentiles. With
// --transfer-dir it also counts the case folders appearing there and reports delivered/s (end
// to end). The same binary drives ozg-hub and, for the side-by-side benchmark, RabbitMQ
// (--address /queue/NAME --durable 1: a durable queue and persistent messages).
//
//   ozg-hub-loadgen --url amqp://127.0.0.1:5672 --count 20000 --size 8192 --window 500
//       --template schemas/ozg-antrag/example-antrag.xml --transfer-dir DATA/transfer
//   ozg-hub-loadgen ... --attachment ../shared/corpus/attachments/pdfa/2u/test_pdf_a2-u.pdf
//       --attachment-size 1048576        (that PDF/A padded to 1 MiB, sent with every message)
//
// Output: one line of key=value pairs (numbers only) with what was sent, accepted and how fast;
// with --transfer-dir a second such line with what was delivered. Exit status 0 only when every
// message was accepted (and delivered).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <proton/binary.hpp>
#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/error_condition.hpp>
#include <proton/message.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/sender.hpp>
#include <proton/sender_options.hpp>
#include <proton/target_options.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/types.hpp>
#include <proton/work_queue.hpp>
#include <string>
#include <vector>

#include "payload.hpp"
#include "transfer_watch.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "amqp://127.0.0.1:5672";
  std::string address = "applications";
  long count = 10000;
  std::size_t size = 8192;
  int window = 500;
  std::string template_path = "schemas/ozg-antrag/example-antrag.xml";
  std::string attachment;           // optional file sent as an attachment with every message
  std::size_t attachment_size = 0;  // pad the attachment (a PDF) to this many bytes
  bool durable = false;             // durable target terminus and persistent messages (RabbitMQ)
  std::string area = "150860015015";
  std::string service = "99050012104000";
  std::string transfer_dir;  // wait for delivery into this root
  double rate = 0;           // messages per second, 0 = as fast as the window allows
  std::string latency_log;   // one line per settled message: sent_at_ms latency_ms
};

class Loadgen : public proton::messaging_handler {
 public:
  explicit Loadgen(const Options& o) : o_(o) {
    xml_ = loadgen::make_xml(loadgen::read_file(o.template_path), o.size);
    if (!o.attachment.empty()) {
      attachment_ = loadgen::pad_pdf(loadgen::read_file(o.attachment), o.attachment_size);
    }
    latencies_.reserve(static_cast<std::size_t>(o.count));
  }

  void on_container_start(proton::container& c) override {
    start_ = Clock::now();
    start_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    c.connect(o_.url);
  }

  void on_connection_open(proton::connection& c) override {
    proton::target_options target;
    target.address(o_.address);
    // RabbitMQ declares the queue of a /queue/NAME target durable when the terminus is.
    if (o_.durable) target.durability_mode(proton::terminus::UNSETTLED_STATE);
    sender_ = c.open_sender(o_.address, proton::sender_options().target(target));
  }

  void on_sendable(proton::sender& s) override { pump(s); }

  void pump(proton::sender& s) {
    while (s.credit() > 0 && sent_ < o_.count && sent_ - settled_ < o_.window) {
      if (o_.rate > 0) {
        // The schedule starts at the first send, not before the connection opened (no burst of
        // the sends due while connecting).
        if (sent_ == 0) first_send_ = Clock::now();
        auto due =
            first_send_ + std::chrono::duration<double>(static_cast<double>(sent_) / o_.rate);
        if (Clock::now() < due) {
          if (!timer_armed_) {
            timer_armed_ = true;
            // On the link's work queue, not the container's: work done in the connection's
            // context is written out after it; sends from a container timer stayed in the
            // transport until the connection's next I/O event (a hang with every message sent
            // and none settled).
            s.work_queue().schedule(proton::duration(1), [this] {
              timer_armed_ = false;
              pump(sender_);
            });
          }
          return;
        }
      }
      proton::message m;
      m.id("bench-" + std::to_string(getpid()) + "-" + std::to_string(sent_));
      if (o_.durable) m.durable(true);
      m.properties().put("area_id", o_.area);
      m.properties().put("service_id", o_.service);
      if (attachment_.empty()) {
        m.body(proton::binary(xml_));
      } else {
        std::map<std::string, proton::value> att;
        att["name"] = std::string("Anlage.pdf");
        att["content_type"] = std::string("application/pdf");
        att["data"] = proton::binary(attachment_);
        std::map<std::string, proton::value> body;
        body["xml"] = proton::binary(xml_);
        body["attachments"] = std::vector<proton::value>{proton::value(att)};
        m.body(body);
      }
      proton::tracker t = s.send(m);
      sent_at_[t] = Clock::now();
      ++sent_;
    }
  }

  void settled(const proton::tracker& t, bool ok) {
    auto it = sent_at_.find(t);
    if (it != sent_at_.end()) {
      latencies_.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - it->second).count());
      if (!o_.latency_log.empty()) {
        sent_offsets_.push_back(
            std::chrono::duration<double, std::milli>(it->second - start_).count());
      }
      sent_at_.erase(it);
    }
    ++settled_;
    ok ? ++accepted_ : ++rejected_;
    if (settled_ == o_.count) {
      end_ = Clock::now();
      sender_.connection().close();
    } else {
      pump(sender_);
    }
  }

  void on_tracker_accept(proton::tracker& t) override { settled(t, true); }
  void on_tracker_reject(proton::tracker& t) override { settled(t, false); }
  void on_tracker_release(proton::tracker& t) override { settled(t, false); }
  void on_transport_error(proton::transport& t) override {
    std::cerr << "transport error: " << t.error().what() << "\n";
    if (end_ == Clock::time_point{}) end_ = Clock::now();
  }
  void on_error(const proton::error_condition& e) override {
    std::cerr << "error: " << e.what() << "\n";
  }

  void report() {
    if (!o_.latency_log.empty()) write_latency_log();
    double secs = std::chrono::duration<double>(end_ - start_).count();
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double p) {
      if (latencies_.empty()) return 0.0;
      return latencies_[std::min(
          latencies_.size() - 1,
          static_cast<std::size_t>(p * static_cast<double>(latencies_.size())))];
    };
    std::printf(
        "sent=%ld accepted=%ld rejected=%ld xml_bytes=%zu attachment_bytes=%zu seconds=%.3f "
        "accepted_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f start_unix_ms=%lld\n",
        sent_, accepted_, rejected_, xml_.size(), attachment_.size(), secs,
        static_cast<double>(accepted_) / secs, pct(0.5), pct(0.9), pct(0.99),
        latencies_.empty() ? 0.0 : latencies_.back(), start_unix_ms_);
  }

  // Before report() sorts latencies_: both vectors are still in settlement order.
  void write_latency_log() const {
    std::FILE* f = std::fopen(o_.latency_log.c_str(), "w");
    if (f == nullptr) {
      std::cerr << "cannot write " << o_.latency_log << "\n";
      return;
    }
    for (std::size_t i = 0; i < sent_offsets_.size() && i < latencies_.size(); ++i) {
      std::fprintf(f, "%.3f %.3f\n", sent_offsets_[i], latencies_[i]);
    }
    std::fclose(f);
  }

  long accepted() const { return accepted_; }
  bool complete() const { return accepted_ == o_.count; }
  Clock::time_point start() const { return start_; }

 private:
  Options o_;
  std::string xml_;
  std::string attachment_;
  proton::sender sender_;
  std::map<proton::tracker, Clock::time_point> sent_at_;
  std::vector<double> latencies_;
  std::vector<double> sent_offsets_;  // with --latency-log: each latency's send time
  long sent_ = 0, settled_ = 0, accepted_ = 0, rejected_ = 0;
  bool timer_armed_ = false;
  Clock::time_point start_, end_;
  Clock::time_point first_send_;  // with --rate: the open-loop schedule's start
  long long start_unix_ms_ = 0;   // wall clock at start_: --latency-log offsets are from here
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      o.url = v;
    else if (k == "--address")
      o.address = v;
    else if (k == "--count")
      o.count = std::stol(v);
    else if (k == "--size")
      o.size = std::stoul(v);
    else if (k == "--window")
      o.window = std::stoi(v);
    else if (k == "--template")
      o.template_path = v;
    else if (k == "--attachment")
      o.attachment = v;
    else if (k == "--attachment-size")
      o.attachment_size = std::stoul(v);
    else if (k == "--durable")
      o.durable = v == "1" || v == "true";
    else if (k == "--area")
      o.area = v;
    else if (k == "--service")
      o.service = v;
    else if (k == "--transfer-dir")
      o.transfer_dir = v;
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--latency-log")
      o.latency_log = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  std::unique_ptr<loadgen::TransferWatch> watch;
  if (!o.transfer_dir.empty()) watch = std::make_unique<loadgen::TransferWatch>(o.transfer_dir);
  Loadgen lg(o);
  proton::container(lg).run();
  lg.report();
  if (!watch) return lg.complete() ? 0 : 1;
  // Bounded wait: at most 10 minutes for the deliveries to land.
  long delivered = watch->wait_for(lg.accepted(), Clock::now() + std::chrono::minutes(10));
  double secs = std::chrono::duration<double>(Clock::now() - lg.start()).count();
  std::printf("delivered=%ld end_to_end_seconds=%.3f delivered_per_s=%.0f\n", delivered, secs,
              static_cast<double>(delivered) / secs);
  return lg.complete() && delivered >= lg.accepted() ? 0 : 1;
}
