// ozg-hub-loadgen: sends N applications of a given size to an AMQP 1.0 address with a window of
// unsettled messages, and reports accepted/s and accept-latency percentiles. With
// --transfer-dir it also waits until every accepted case has a folder there and reports
// delivered/s (end to end).
//
//   ozg-hub-loadgen --url amqp://127.0.0.1:5672 --count 20000 --size 8192 --window 500
//       --template schemas/ozg-antrag/example-antrag.xml --transfer-dir DATA/transfer
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <proton/binary.hpp>
#include <proton/connection.hpp>
#include <proton/container.hpp>
#include <proton/error_condition.hpp>
#include <proton/message.hpp>
#include <proton/messaging_handler.hpp>
#include <proton/sender.hpp>
#include <proton/sender_options.hpp>
#include <proton/tracker.hpp>
#include <proton/transport.hpp>
#include <proton/types.hpp>
#include <proton/work_queue.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "amqp://127.0.0.1:5672";
  std::string address = "applications";
  long count = 10000;
  std::size_t size = 8192;
  int window = 500;
  std::string template_path = "schemas/ozg-antrag/example-antrag.xml";
  std::string attachment;  // optional file sent as an attachment with every message
  std::string area = "150860015015";
  std::string service = "99050012104000";
  std::string transfer_dir;  // wait for delivery into this root
  double rate = 0;           // messages per second, 0 = as fast as the window allows
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Pads the template's <Anliegen> text so the document has about `size` bytes.
std::string make_xml(const std::string& tmpl, std::size_t size) {
  std::string xml = tmpl;
  auto pos = xml.find("</Anliegen>");
  if (pos == std::string::npos) pos = xml.find(":Anliegen>", xml.find("<") + 1);
  if (xml.size() < size && pos != std::string::npos) {
    std::string pad;
    const std::string words = "Bitte um Bearbeitung meines Antrags. ";
    while (pad.size() + xml.size() < size) pad += words;
    pad.resize(size - xml.size());
    xml.insert(pos, pad);
  }
  return xml;
}

class Loadgen : public proton::messaging_handler {
 public:
  explicit Loadgen(const Options& o) : o_(o) {
    xml_ = make_xml(read_file(o.template_path), o.size);
    if (!o.attachment.empty()) attachment_ = read_file(o.attachment);
    latencies_.reserve(static_cast<std::size_t>(o.count));
  }

  void on_container_start(proton::container& c) override {
    start_ = Clock::now();
    sender_ = c.open_sender(o_.url + "/" + o_.address);
  }

  void on_sendable(proton::sender& s) override { pump(s); }

  void pump(proton::sender& s) {
    while (s.credit() > 0 && sent_ < o_.count && sent_ - settled_ < o_.window) {
      if (o_.rate > 0) {
        auto due = start_ + std::chrono::duration<double>(static_cast<double>(sent_) / o_.rate);
        if (Clock::now() < due) {
          if (!timer_armed_) {
            timer_armed_ = true;
            s.container().schedule(proton::duration(1), [this] {
              timer_armed_ = false;
              pump(sender_);
            });
          }
          return;
        }
      }
      proton::message m;
      m.id("bench-" + std::to_string(getpid()) + "-" + std::to_string(sent_));
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
  }
  void on_error(const proton::error_condition& e) override {
    std::cerr << "error: " << e.what() << "\n";
  }

  void report() {
    double secs = std::chrono::duration<double>(end_ - start_).count();
    std::sort(latencies_.begin(), latencies_.end());
    auto pct = [&](double p) {
      if (latencies_.empty()) return 0.0;
      return latencies_[std::min(
          latencies_.size() - 1,
          static_cast<std::size_t>(p * static_cast<double>(latencies_.size())))];
    };
    std::printf(
        "sent=%ld accepted=%ld rejected=%ld xml_bytes=%zu seconds=%.3f accepted_per_s=%.0f "
        "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
        sent_, accepted_, rejected_, xml_.size(), secs, static_cast<double>(accepted_) / secs,
        pct(0.5), pct(0.9), pct(0.99), latencies_.empty() ? 0.0 : latencies_.back());
  }

  long accepted() const { return accepted_; }
  Clock::time_point start() const { return start_; }

 private:
  Options o_;
  std::string xml_;
  std::string attachment_;
  proton::sender sender_;
  std::map<proton::tracker, Clock::time_point> sent_at_;
  std::vector<double> latencies_;
  long sent_ = 0, settled_ = 0, accepted_ = 0, rejected_ = 0;
  bool timer_armed_ = false;
  Clock::time_point start_, end_;
};

long count_cases(const std::filesystem::path& root) {
  long n = 0;
  std::error_code ec;
  for (const auto& office : std::filesystem::directory_iterator(root, ec)) {
    if (!office.is_directory()) continue;
    for (const auto& c : std::filesystem::directory_iterator(office.path(), ec)) {
      if (c.path().filename().string()[0] != '.') ++n;
    }
  }
  return n;
}

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
    else if (k == "--area")
      o.area = v;
    else if (k == "--service")
      o.service = v;
    else if (k == "--transfer-dir")
      o.transfer_dir = v;
    else if (k == "--rate")
      o.rate = std::stod(v);
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  long before = o.transfer_dir.empty() ? 0 : count_cases(o.transfer_dir);
  Loadgen lg(o);
  proton::container(lg).run();
  lg.report();
  if (!o.transfer_dir.empty()) {
    // Bounded wait: at most 10 minutes for the deliveries to land.
    auto deadline = Clock::now() + std::chrono::minutes(10);
    long delivered = 0;
    while (Clock::now() < deadline) {
      delivered = count_cases(o.transfer_dir) - before;
      if (delivered >= lg.accepted()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double secs = std::chrono::duration<double>(Clock::now() - lg.start()).count();
    std::printf("delivered=%ld end_to_end_seconds=%.3f delivered_per_s=%.0f\n", delivered, secs,
                static_cast<double>(delivered) / secs);
  }
  return 0;
}
