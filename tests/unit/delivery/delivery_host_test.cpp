#include "delivery/delivery_host.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "crypto/file_kek.hpp"
#include "crypto/keyring.hpp"
#include "test_support.hpp"

namespace ozghub::delivery {
namespace {

using ozghub::testing::TempDir;
using namespace std::chrono_literals;

// A scripted adapter: answers from a function, can be held (a stalled peer).
struct Scripted final : Adapter {
  Result<std::shared_ptr<const ChannelBinding>> bind(const ChannelContext&) override {
    return std::shared_ptr<const ChannelBinding>();
  }
  DeliveryResult deliver(const DeliveryRequest& r) noexcept override {
    std::function<DeliveryResult(const DeliveryRequest&)> respond;
    {
      std::unique_lock lock(mutex);
      ++entered;
      cv.notify_all();
      cv.wait(lock, [&] { return !held; });
      last_budget_ms = r.remaining_ms();
      attempts.push_back(r.attempt);
      targets.push_back(r.params.get("to"));
      times.push_back(std::chrono::steady_clock::now());
      respond = answer;
    }
    auto result = respond ? respond(r) : DeliveryResult::delivered();
    if (result.outcome == Outcome::kDelivered) {
      ++delivered;
      std::lock_guard lock(mutex);
      delivered_cases.push_back(r.case_.case_number);
    }
    return result;
  }
  void release() {
    std::lock_guard lock(mutex);
    held = false;
    cv.notify_all();
  }
  // The test's thread reads and changes the fields below under the lock: delivery threads may
  // be running (the store orders them too, but inside RocksDB, where TSan cannot see it).
  template <typename T>
  T read(T Scripted::*field) {
    std::lock_guard lock(mutex);
    return this->*field;
  }
  void set_answer(std::function<DeliveryResult(const DeliveryRequest&)> f) {
    std::lock_guard lock(mutex);
    answer = std::move(f);
  }
  bool wait_entered(int n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return entered >= n; });
  }

  std::mutex mutex;
  std::condition_variable cv;
  bool held = false;
  int entered = 0;
  std::int64_t last_budget_ms = 0;
  std::vector<int> attempts;
  std::vector<std::string> targets;                          // the channel's `to` of each attempt
  std::vector<std::chrono::steady_clock::time_point> times;  // of each attempt
  std::vector<std::string> delivered_cases;
  std::atomic<int> delivered{0};
  std::function<DeliveryResult(const DeliveryRequest&)> answer;
};

// A KEK held in memory whose token can be made unreachable, like an HSM outage.
struct SwitchableKek final : crypto::Kek {
  explicit SwitchableKek(std::unique_ptr<crypto::Kek> inner) : inner_(std::move(inner)) {}
  const std::string& id() const override { return inner_->id(); }
  Result<std::string> wrap(const crypto::DataKey& dek) const override { return inner_->wrap(dek); }
  Result<crypto::DataKey> unwrap(std::string_view wrapped) const override {
    if (down) {
      ++refused;
      return Status::unavailable("token not present");
    }
    return inner_->unwrap(wrapped);
  }
  std::unique_ptr<crypto::Kek> inner_;
  mutable std::atomic<bool> down{false};
  mutable std::atomic<int> refused{0};
};

std::shared_ptr<SwitchableKek> switchable_kek() {
  auto key = crypto::DataKey::generate();
  EXPECT_TRUE(key.is_ok());
  return std::make_shared<SwitchableKek>(crypto::memory_kek("k1", *key));
}

class DeliveryHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = std::make_shared<crypto::KeyringState>(std::make_shared<const crypto::Keyring>(
        std::vector<std::shared_ptr<const crypto::Kek>>{kek_}, "k1"));
    auto s = store::Store::open(dir_.path().string(), {keys});
    ASSERT_OK(s);
    store_ = std::move(*s);
    type_.name = "scripted";
    type_.params = {{"to",
                     ParamSpec::Kind::kString,
                     ParamSpec::Scope::kChannel,
                     false,
                     "",
                     {},
                     0,
                     0,
                     "where to"}};
    for (const char* name : {"slow", "fast"}) {
      auto slot = std::make_unique<AdapterSlot>();
      slot->name = name;
      slot->type = &type_;
      slot->concurrency = 1;
      slot->timeout = 1500ms;
      auto adapter = std::make_unique<Scripted>();
      (std::string(name) == "slow" ? slow_ : fast_) = adapter.get();
      slot->adapter = std::move(adapter);
      adapters_.emplace(name, std::move(slot));
    }
    use_channels({{"slow", ""}, {"fast", ""}});
    retry_.max_attempts = 3;
    retry_.initial_backoff = 1ms;
    retry_.max_backoff = 5ms;
    host_ = std::make_unique<DeliveryHost>(*store_, routing_, adapters_, retry_, metrics_);
  }

  // A host with another retry policy or in-memory window, before start().
  void rebuild(std::size_t window) {
    host_ = std::make_unique<DeliveryHost>(*store_, routing_, adapters_, retry_, metrics_, window);
  }

  void TearDown() override {
    if (slow_) slow_->release();
    if (fast_) fast_->release();
    if (host_) host_->stop();
  }

  // Office amt gets these channels: (adapter, `to`). Like a routing reload.
  void use_channels(const std::vector<std::pair<std::string, std::string>>& channels) {
    routing::AreaDirectory areas;
    areas.add("15", "Sachsen-Anhalt");
    routing::Office office;
    office.id = "amt";
    office.name = "Amt";
    for (const auto& [adapter, to] : channels) {
      auto& ch = office.channels.emplace_back();
      ch.adapter = adapter;
      if (!to.empty()) ch.params["to"] = to;
    }
    auto directory = routing::RoutingDirectory::build(areas, {office}, {{"*", "15", "amt", 0}});
    ASSERT_OK(directory);
    auto snap = pipeline::RoutingSnapshot::make(*directory, adapters_);
    ASSERT_OK(snap);
    routing_.set(*snap);
  }

  // Commits `n` cases for office amt on its current channels and hands them to the host (or,
  // push false, leaves them in the store only, as before a restart).
  void commit(int n, bool push = true) {
    std::vector<store::ChannelRef> channels;
    for (const auto& b : routing_.get()->channels.at("amt"))
      channels.push_back({b.slot->name, b.key});
    for (int i = 0; i < n; ++i) {
      auto c = std::make_shared<Case>();
      c->office_id = "amt";
      c->app.sender = "portal";
      c->app.message_id = "m-" + std::to_string(next_++);
      std::vector<store::CommitItem> items(1);
      items[0].case_ = c.get();
      items[0].channels = channels;
      ASSERT_OK(store_->commit(items, 1795420800000));
      for (std::uint16_t ch = 0; push && ch < channels.size(); ++ch) {
        store::OutboxEntry e;
        e.case_number = c->case_number;
        e.channel = ch;
        e.office_id = "amt";
        e.adapter = channels[ch].adapter;
        e.channel_key = channels[ch].key;
        host_->push({std::move(e), c});
      }
    }
  }

  std::size_t count(bool dead) {
    std::size_t n = 0;
    auto fn = [&](store::OutboxEntry) {
      ++n;
      return Status::ok();
    };
    EXPECT_TRUE((dead ? store_->scan_dead_letters(fn) : store_->scan_outbox(fn)).is_ok());
    return n;
  }

  bool eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
    return done();
  }

  TempDir dir_;
  std::shared_ptr<SwitchableKek> kek_ = switchable_kek();
  std::unique_ptr<store::Store> store_;
  AdapterType type_;
  AdapterMap adapters_;
  Scripted* slow_ = nullptr;
  Scripted* fast_ = nullptr;
  pipeline::RoutingState routing_;
  config::RetryPolicy retry_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  DeliveryMetrics metrics_{*registry_};
  std::unique_ptr<DeliveryHost> host_;
  int next_ = 0;
};

TEST_F(DeliveryHostTest, AStalledAdapterDoesNotHoldUpTheOthers) {
  slow_->held = true;
  commit(20);
  host_->start();
  ASSERT_TRUE(slow_->wait_entered(1));
  ASSERT_TRUE(eventually([&] { return fast_->delivered == 20; }));
  EXPECT_EQ(slow_->read(&Scripted::entered), 1);  // its one thread is stuck; the rest waits
  EXPECT_EQ(host_->backlog("slow"), 19u);         // waiting, besides the one being attempted
  EXPECT_EQ(count(false), 20u);                   // the slow channel's deliveries are still owed
  slow_->release();
  ASSERT_TRUE(eventually([&] { return slow_->delivered == 20; }));
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
  EXPECT_EQ(count(true), 0u);
}

TEST_F(DeliveryHostTest, RetriesHonourRetryAfterThenDeadLetterAfterMaxAttempts) {
  fast_->answer = [](const DeliveryRequest&) {
    return DeliveryResult::retry_later("HTTP 503", 200ms);
  };
  slow_->answer = [](const DeliveryRequest&) { return DeliveryResult::rejected("HTTP 400"); };
  commit(1);
  const auto start = std::chrono::steady_clock::now();
  host_->start();
  ASSERT_TRUE(eventually([&] { return count(true) == 2; }));
  // Three attempts with two waits of 200 ms (Retry-After) between them, not the 1 ms backoff.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_EQ(fast_->read(&Scripted::attempts), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(slow_->read(&Scripted::attempts), (std::vector<int>{1}));  // rejected: no retry
  auto dead = host_->dead_letters();
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 400");
  EXPECT_EQ((*dead)[1].last_error, "HTTP 503");
  EXPECT_EQ((*dead)[1].attempts, 3);
  EXPECT_EQ(count(false), 0u);
}

TEST_F(DeliveryHostTest, TheAdapterGetsTheInstanceDeadlineAndReplayRunsAgain) {
  slow_->answer = [](const DeliveryRequest&) { return DeliveryResult::rejected("no"); };
  commit(1);
  host_->start();
  ASSERT_TRUE(eventually([&] { return count(true) == 1; }));
  EXPECT_GT(slow_->read(&Scripted::last_budget_ms), 1000);
  EXPECT_LE(slow_->read(&Scripted::last_budget_ms), 1500);
  auto dead = host_->dead_letters();
  ASSERT_OK(dead);
  slow_->set_answer(nullptr);
  auto n = host_->replay((*dead)[0].case_number, std::nullopt);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  ASSERT_TRUE(eventually([&] { return slow_->delivered == 1; }));
  EXPECT_EQ(slow_->read(&Scripted::attempts),
            (std::vector<int>{1, 1}));  // a replay starts counting afresh
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
  EXPECT_EQ(count(true), 0u);
}

TEST_F(DeliveryHostTest, RecoveryRoutesStoredDeliveriesToTheirLanesAndParksUnknownAdapters) {
  const std::vector<store::ChannelRef> adapters = {{"fast", "x"}, {"gone", "y"}};
  Case c;
  c.office_id = "amt";
  c.app.message_id = "m-x";
  std::vector<store::CommitItem> items(1);
  items[0].case_ = &c;
  items[0].channels = adapters;
  ASSERT_OK(store_->commit(items, 1795420800000));
  auto n = host_->recover();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2u);
  host_->start();
  ASSERT_TRUE(eventually([&] { return fast_->delivered == 1; }));
  auto dead = host_->dead_letters();
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].adapter, "gone");
  EXPECT_EQ((*dead)[0].last_error, "adapter instance 'gone' is not configured");
}

TEST_F(DeliveryHostTest, AReloadThatReordersAnOfficesChannelsDoesNotSwapTheirDeliveries) {
  // Two mailboxes of one office on the same adapter instance; committed in this order ...
  use_channels({{"fast", "a@amt"}, {"fast", "b@amt"}, {"slow", ""}});
  commit(3);
  // ... and delivered after a reload that swapped them.
  use_channels({{"fast", "b@amt"}, {"fast", "a@amt"}, {"slow", ""}});
  host_->start();
  ASSERT_TRUE(eventually([&] { return fast_->delivered == 6; }));
  std::vector<std::string> targets = fast_->read(&Scripted::targets);
  std::sort(targets.begin(), targets.end());
  EXPECT_EQ(targets,
            (std::vector<std::string>{"a@amt", "a@amt", "a@amt", "b@amt", "b@amt", "b@amt"}));
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
}

TEST_F(DeliveryHostTest, AChangedChannelIsFoundWhenUniqueAndNeverGuessedWhenNot) {
  use_channels({{"fast", "a@amt"}, {"fast", "b@amt"}, {"slow", "old@amt"}});
  commit(1);
  // slow's only channel moved to another mailbox: that is where it goes now. fast's two
  // mailboxes both changed: no way to tell which is which, so those deliveries wait and, out
  // of attempts, become dead letters for an operator.
  use_channels({{"fast", "c@amt"}, {"fast", "d@amt"}, {"slow", "new@amt"}});
  host_->start();
  ASSERT_TRUE(eventually([&] { return count(true) == 2; }));
  EXPECT_EQ(slow_->read(&Scripted::targets), (std::vector<std::string>{"new@amt"}));
  EXPECT_TRUE(fast_->read(&Scripted::targets).empty());
  auto dead = host_->dead_letters();
  ASSERT_OK(dead);
  EXPECT_NE((*dead)[0].last_error.find("no longer unambiguous"), std::string::npos);
}

// Every case delivered on `adapter` exactly once.
void expect_each_once(Scripted& adapter, std::size_t cases) {
  std::vector<std::string> seen = adapter.read(&Scripted::delivered_cases);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), cases);
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a case delivered twice";
}

TEST_F(DeliveryHostTest, AStalledAdaptersBacklogWaitsInTheStoreNotInMemory) {
  constexpr std::size_t kWindow = 8;
  constexpr int kCases = 200;
  rebuild(kWindow);
  slow_->held = true;
  host_->start();
  ASSERT_TRUE(slow_->wait_entered(0));
  std::size_t most_in_memory = 0;
  for (int i = 0; i < kCases / 20; ++i) {
    commit(20);
    most_in_memory = std::max(most_in_memory, host_->backlog_in_memory("slow"));
  }
  ASSERT_TRUE(eventually([&] { return fast_->delivered == kCases; }));  // the other lane is served
  EXPECT_LE(most_in_memory, kWindow);
  EXPECT_LE(host_->backlog_in_memory("slow"), kWindow);
  EXPECT_EQ(host_->backlog("slow") + 1, static_cast<std::size_t>(kCases));  // 1 being attempted
  EXPECT_TRUE(eventually([&] { return count(false) == static_cast<std::size_t>(kCases); }));
  slow_->release();
  ASSERT_TRUE(eventually([&] { return slow_->delivered == kCases; }));
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
  EXPECT_EQ(host_->backlog("slow"), 0u);
  EXPECT_EQ(host_->backlog_in_memory("slow"), 0u);
  expect_each_once(*slow_, kCases);
  expect_each_once(*fast_, kCases);
}

TEST_F(DeliveryHostTest, RecoveryPagesABacklogInThroughTheWindowAndDeliversEachOnce) {
  constexpr std::size_t kWindow = 8;
  constexpr int kCases = 100;
  commit(kCases, /*push=*/false);
  rebuild(kWindow);
  auto n = host_->recover();
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2u * kCases);
  EXPECT_EQ(host_->backlog("slow"), static_cast<std::size_t>(kCases));
  EXPECT_EQ(host_->backlog_in_memory("slow"), 0u);  // nothing read before it is needed
  slow_->held = true;
  host_->start();
  ASSERT_TRUE(eventually([&] { return fast_->delivered == kCases; }));
  EXPECT_LE(host_->backlog_in_memory("slow"), kWindow);
  commit(10);  // new cases while the backlog still waits in the store
  slow_->release();
  ASSERT_TRUE(eventually([&] { return slow_->delivered == kCases + 10; }));
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
  expect_each_once(*slow_, kCases + 10);
  expect_each_once(*fast_, kCases + 10);
}

TEST_F(DeliveryHostTest, APoisonCaseBacksOffPerPolicyThenIsParkedWhileTheRestFlows) {
  retry_.max_attempts = 4;
  retry_.initial_backoff = 40ms;
  retry_.max_backoff = 1000ms;
  retry_.multiplier = 2.0;
  retry_.jitter = 0.0;
  rebuild(4);
  // Shared with the adapter's delivery threads, which may still run when the test body ends.
  auto poison = std::make_shared<std::string>();
  slow_->answer = [poison](const DeliveryRequest& r) {
    if (r.case_.case_number == *poison) return DeliveryResult::retry_later("HTTP 503 from peer");
    return DeliveryResult::delivered();
  };
  commit(1);
  {
    auto first = store_->scheduled("slow", std::nullopt, 1);
    ASSERT_OK(first);
    ASSERT_EQ(first->size(), 1u);
    *poison = (*first)[0].case_number;
  }
  host_->start();
  commit(30);  // the lane and the other adapter keep delivering meanwhile
  ASSERT_TRUE(eventually([&] { return count(true) == 1; }));
  ASSERT_TRUE(eventually([&] { return slow_->delivered == 30 && fast_->delivered == 31; }));
  // Attempts of the poison case: the lane's first (it was scheduled first), then every one after a
  // first; spaced by the backoff (40, 80, 160 ms), no tight loop.
  const auto times = slow_->read(&Scripted::times);
  const auto attempts = slow_->read(&Scripted::attempts);
  std::vector<std::chrono::steady_clock::time_point> poison_times = {times.at(0)};
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    if (attempts[i] > 1) poison_times.push_back(times[i]);
  }
  // (Due times are whole milliseconds of the wall clock: allow 2 ms of rounding.)
  ASSERT_EQ(poison_times.size(), 4u);
  EXPECT_GE(poison_times[1] - poison_times[0], 40ms - 2ms);
  EXPECT_GE(poison_times[2] - poison_times[1], 80ms - 2ms);
  EXPECT_GE(poison_times[3] - poison_times[2], 160ms - 2ms);
  auto dead = host_->dead_letters();
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].case_number, *poison);
  EXPECT_EQ((*dead)[0].attempts, 4);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 503 from peer");
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
}

TEST_F(DeliveryHostTest, AnUnreachableKekIsRetriedNotDeadLettered) {
  retry_.max_attempts = 1000;  // the outage must not be what ends the deliveries
  rebuild(16);
  commit(5, /*push=*/false);  // as after a restart: the cases are read back from the store
  kek_->down = true;
  ASSERT_OK(host_->recover());
  host_->start();
  ASSERT_TRUE(eventually([&] { return kek_->refused >= 20; }));
  EXPECT_EQ(count(true), 0u);
  EXPECT_EQ(slow_->delivered + fast_->delivered, 0);
  kek_->down = false;
  ASSERT_TRUE(eventually([&] { return slow_->delivered == 5 && fast_->delivered == 5; }));
  ASSERT_TRUE(eventually([&] { return count(false) == 0; }));
  EXPECT_EQ(count(true), 0u);
}

TEST_F(DeliveryHostTest, ACaseRecordThatDoesNotOpenIsADeadLetterAtOnce) {
  commit(1, /*push=*/false);
  auto scheduled = store_->scheduled("slow", std::nullopt, 1);
  ASSERT_OK(scheduled);
  ASSERT_EQ(scheduled->size(), 1u);
  const std::string number = (*scheduled)[0].case_number;
  // Another KEK takes over and the old one is gone: the data key no longer opens.
  auto other = switchable_kek();
  kek_->inner_ = std::move(other->inner_);
  ASSERT_OK(host_->recover());
  host_->start();
  ASSERT_TRUE(eventually([&] { return count(true) == 2; }));
  auto dead = host_->dead_letters_of(number);
  ASSERT_OK(dead);
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].attempts, 1);
  EXPECT_NE((*dead)[0].last_error.find("case record unreadable"), std::string::npos);
}

}  // namespace
}  // namespace ozghub::delivery
