#include "pipeline/intake.hpp"

#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace ozghub::pipeline {
namespace {
constexpr std::size_t kWorkerBatch = 32;
}

Intake::Intake(const config::Limits& limits,
               std::shared_ptr<const validation::SchemaCatalog> catalog, RoutingState& routing,
               Committer& committer, const store::Store* committed,
               const crypto::KeyringState* keys, PipelineMetrics* metrics)
    : catalog_(std::move(catalog)),
      routing_(routing),
      committer_(committer),
      committed_(committed),
      keys_(keys),
      metrics_(metrics) {
  decode_limits_.max_xml_bytes = limits.max_xml_bytes;
  decode_limits_.max_attachments = limits.max_attachments;
  decode_limits_.max_total_bytes = limits.max_message_bytes;
  validation_limits_.max_document_bytes = limits.max_xml_bytes;
  validation_limits_.max_depth = limits.max_xml_depth;
}

Intake::~Intake() { stop(); }

void Intake::start(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      set_thread_name("intake-" + std::to_string(i));
      run();
    });
  }
}

void Intake::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Intake::submit(Submission s) {
  if (metrics_ != nullptr) metrics_->received();
  received_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(s));
    if (metrics_ != nullptr) metrics_->intake_backlog(queue_.size());
  }
  cv_.notify_one();
}

std::size_t Intake::backlog() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

OrRejection<PendingCase> Intake::process(Submission& s, validation::Validator& validator,
                                         StageTimings* timings) const {
  using Clock = std::chrono::steady_clock;
  const auto timed = [timings](Stage stage, auto&& step) {
    if (timings == nullptr) return step();
    const auto start = Clock::now();
    auto result = step();
    timings->observe(stage, Clock::now() - start);
    return result;
  };
  const std::string_view identity = s.grant ? std::string_view(s.grant->name()) : "";
  auto decoded = ingress::decode_application(s.message, decode_limits_, identity, s.received_at_ms);
  if (auto* r = std::get_if<Rejection>(&decoded)) return std::move(*r);
  if (const auto& app = std::get<Application>(decoded);
      s.grant && !s.grant->may_submit(app.service_id)) {
    return Rejection{Condition::kUnauthorized, "the sender '" + s.grant->name() +
                                                   "' may not submit applications for the "
                                                   "service " +
                                                   app.service_id};
  }
  auto c = std::make_shared<Case>();
  c->app = std::move(std::get<Application>(decoded));
  Application& app = c->app;
  if (!s.sender_scope.empty()) {
    app.sender = app.sender.empty() ? s.sender_scope : s.sender_scope + "/" + app.sender;
  }

  std::optional<std::string_view> schema;
  if (!app.schema.empty()) schema = app.schema;
  PendingCase p;
  p.origin = s.origin;
  p.id = s.id;
  // A redelivery of an application accepted before (its disposition was lost) is accepted again
  // even if the schemas or the routing changed since: the committer recognises it by its key
  // and answers with the original case number and office.
  const auto accepted_before = [&]() -> std::optional<PendingCase> {
    if (committed_ == nullptr || !committed_->is_committed(app.sender, app.message_id)) {
      return std::nullopt;
    }
    p.case_ = std::move(c);
    p.channels.clear();
    return std::move(p);
  };

  auto validated = timed(Stage::kValidation, [&] { return validator.validate(app.xml, schema); });
  if (auto* r = std::get_if<Rejection>(&validated)) {
    if (auto again = accepted_before()) return std::move(*again);
    return std::move(*r);
  }
  app.schema = std::get<validation::Validated>(validated).namespace_uri;

  auto snapshot = routing_.get();
  auto route = timed(Stage::kRouting,
                     [&] { return snapshot->directory->lookup(app.area_id, app.service_id); });
  if (auto* r = std::get_if<Rejection>(&route)) {
    if (auto again = accepted_before()) return std::move(*again);
    return std::move(*r);
  }
  const routing::Office& office = *std::get<routing::RouteMatch>(route).office;
  c->office_id = office.id;
  if (keys_ != nullptr) {
    auto prepared =
        timed(Stage::kEncryption, [&] { return store::prepare_case(*c, *keys_->get()); });
    if (!prepared) {
      log::error("case.key_failed", {{"error", prepared.status().message()}});
      return Rejection{Condition::kInternalError,
                       "the hub could not encrypt this application for storage; it was not "
                       "accepted, send it again later"};
    }
    p.prepared = std::move(*prepared);
  }

  p.case_ = std::move(c);
  if (auto bound = snapshot->channels.find(office.id); bound != snapshot->channels.end()) {
    p.channels.reserve(bound->second.size());
    for (const auto& ch : bound->second) p.channels.push_back({ch.slot->name, ch.key});
  }
  return p;
}

void Intake::run() {
  validation::Validator validator(catalog_, validation_limits_);
  std::vector<Submission> batch;
  StageTimings timings;
  StageTimings* timed = metrics_ != nullptr ? &timings : nullptr;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < kWorkerBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (metrics_ != nullptr) metrics_->intake_backlog(queue_.size());
    }
    std::vector<PendingCase> routed;
    VerdictBatch rejected;
    for (auto& s : batch) {
      OrRejection<PendingCase> outcome = Rejection{Condition::kInternalError, {}};
      try {
        outcome = process(s, validator, timed);
      } catch (const std::exception&) {
        // Whatever went wrong with this one application must not end the worker.
        outcome = Rejection{Condition::kInternalError,
                            "the hub could not process this application; it was not accepted"};
      }
      if (auto* p = std::get_if<PendingCase>(&outcome)) {
        routed.push_back(std::move(*p));
        continue;
      }
      auto& r = std::get<Rejection>(outcome);
      // The description may quote the sender's data: it goes to the sender only.
      log::info("application.rejected", {{"condition", condition_label(r.condition)}});
      if (metrics_ != nullptr) metrics_->rejected(r.condition);
      Verdict v;
      v.accepted = false;
      v.rejection = std::move(r);
      rejected.add(s.origin, s.id, std::move(v));
    }
    batch.clear();
    if (metrics_ != nullptr) metrics_->add(timings);
    if (!routed.empty()) committer_.submit(std::move(routed));
    rejected.flush();
  }
}

}  // namespace ozghub::pipeline
