// The worker pool between the AMQP event loop and the committer: decodes each message,
// validates its XML against the catalog and routes it. Rejections go straight back to the
// origin; routed applications go on to the committer.
//
// Nothing here blocks the event loop: submit() only queues. The queue is bounded from outside:
// the ingress grants link credit only while the pipeline has room (limits.max_inflight).
//
// Thread-safety: submit() from any thread; `threads` internal workers, each with its own
// Validator.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <proton/message.hpp>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "ingress/message_decoder.hpp"
#include "ingress/sender_policy.hpp"
#include "pipeline/committer.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/routing_state.hpp"
#include "pipeline/verdict.hpp"
#include "validation/xml_validator.hpp"

namespace ozghub::pipeline {

struct Submission {
  std::shared_ptr<Origin> origin;
  std::uint64_t id = 0;
  proton::message message;
  // The connection's sender entry; null when it is anonymous (dev_mode). Its name is the
  // authenticated identity; it decides which services the message may be for.
  std::shared_ptr<const ingress::SenderGrant> grant;
  std::int64_t received_at_ms = 0;
  // From a broker connector (ingress/broker_connector.hpp): its name, which scopes the sender:
  // the application's sender becomes "<scope>/<sender property>" (or "<scope>" without one).
  std::string sender_scope;
};

class Intake {
 public:
  // `committed` (may be null in tests) answers whether a message was accepted before: a resent
  // application is accepted again even when today's schemas or routing would reject it.
  // `keys` (may be null: the committer then makes the data keys) gives each new case its data
  // key here, on the worker, so a KEK on a token never serialises the committer.
  // `metrics` (may be null) counts what is received and rejected and times the stages.
  Intake(const config::Limits& limits, std::shared_ptr<const validation::SchemaCatalog> catalog,
         RoutingState& routing, Committer& committer, const store::Store* committed = nullptr,
         const crypto::KeyringState* keys = nullptr, PipelineMetrics* metrics = nullptr);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  void start(int threads);
  void stop();  // finishes what is queued
  void submit(Submission s);

  // For `ozg-hubctl status`: submissions received since start, and how many wait for a worker.
  std::uint64_t received_total() const { return received_.load(std::memory_order_relaxed); }
  std::size_t backlog() const;

  // Decodes, validates and routes one submission (what each worker does). Exposed for tests
  // and benchmarks. `timings` (may be null) gets the stages' durations.
  OrRejection<PendingCase> process(Submission& s, validation::Validator& validator,
                                   StageTimings* timings = nullptr) const;

 private:
  void run();

  ingress::DecodeLimits decode_limits_;
  validation::Limits validation_limits_;
  std::shared_ptr<const validation::SchemaCatalog> catalog_;
  RoutingState& routing_;
  Committer& committer_;
  const store::Store* committed_;
  const crypto::KeyringState* keys_;
  PipelineMetrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Submission> queue_;
  std::atomic<std::uint64_t> received_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ozghub::pipeline
