#include "admin/throughput.hpp"

#include "pipeline/outbox.hpp"

namespace ozghub::admin {

double Window::per_second(const std::string& counter) const {
  return seconds > 0 ? static_cast<double>(count(counter)) / seconds : 0.0;
}

std::uint64_t Window::count(const std::string& counter) const {
  auto it = increase.find(counter);
  return it == increase.end() ? 0 : it->second;
}

Throughput::Throughput(std::function<Totals()> read, std::chrono::seconds window)
    : read_(std::move(read)),
      window_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(window).count()) {}

void Throughput::start() {
  sampler_.start("throughput", std::chrono::seconds(1), [this] {
    sample(pipeline::now_ms());
    return false;
  });
}

void Throughput::stop() { sampler_.stop(); }

void Throughput::sample(std::int64_t now_ms) {
  Sample s{now_ms, read_()};
  std::lock_guard lock(mutex_);
  samples_.push_back(std::move(s));
  // Keep one sample at or beyond the window's start, so a full window is always covered.
  while (samples_.size() > 2 && samples_[1].at_ms <= now_ms - window_ms_) samples_.pop_front();
}

Window Throughput::last(std::int64_t now_ms) const {
  Totals now = read_();
  Window w;
  std::lock_guard lock(mutex_);
  if (samples_.empty()) return w;
  const Sample& oldest = samples_.front();
  if (now_ms <= oldest.at_ms) return w;
  w.seconds = static_cast<double>(now_ms - oldest.at_ms) / 1000.0;
  for (const auto& [name, value] : now) {
    auto it = oldest.totals.find(name);
    const std::uint64_t before = it == oldest.totals.end() ? 0 : it->second;
    w.increase[name] = value >= before ? value - before : 0;
  }
  return w;
}

}  // namespace ozghub::admin
