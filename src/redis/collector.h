#pragma once
// Scrapes many Redis instances on their own intervals over persistent connections, keeps a
// bounded window of samples per instance and exports them as Prometheus gauges/counters.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "common/status.h"
#include "redis/info_source.h"

namespace redisfleet::redis {

struct CollectorTarget {
  std::string key;  // "namespace/name"
  // redis:// or rediss:// URL; when set it gives host, port, db, tls and (unless `connect`
  // has them) the credentials. When empty, `connect` and `tls` are used as they are.
  std::string url;
  ConnectOptions connect;  // timeout is ignored: Collector::Options::timeout applies
  bool tls = false;
  TlsOptions tls_options;
  std::chrono::milliseconds interval{std::chrono::seconds(10)};  // clamped to >= 1 s
  // Samples kept (failed scrapes included); 0: Collector::Options::default_window.
  // Capped at Collector::kMaxWindow. E.g. longest sustain window / interval + 1.
  std::size_t window = 0;
};

// Metric families (labels {namespace,name}; scrape errors also {reason}):
//   redisfleet_redis_used_memory_bytes, redisfleet_redis_maxmemory_bytes (0 = unlimited),
//   redisfleet_redis_connected_clients, redisfleet_redis_maxclients,
//   redisfleet_redis_ops_per_second                                       gauges
//   redisfleet_redis_evicted_keys_total, redisfleet_redis_rejected_connections_total,
//   redisfleet_redis_scrape_errors_total{reason}                          counters
// The two server counters are followed by deltas (a server restart counts as a reset), so
// rate() works across restarts. A target's series are removed with the target.
//
// Thread-safety: Add/Update/Remove/Window/Keys may be called from any thread, also while
// Tick or Run is scraping. Tick and Run must not run concurrently with each other.
class Collector {
 public:
  static constexpr std::size_t kMaxWindow = 4096;

  struct Options {
    std::size_t workers = 4;  // threads used by one Tick (scoped to the call); >= 1
    std::chrono::milliseconds timeout{2000};  // connect, handshake and every command
    std::chrono::milliseconds backoff_base{1000};
    std::chrono::milliseconds backoff_cap{60000};
    std::size_t default_window = 360;
    // Called after every scrape from the scraping thread (e.g. a latency histogram in a bench).
    std::function<void(std::string_view key, std::chrono::nanoseconds took, bool ok)> on_scrape;
  };
  // Builds the InfoSource of a target (the seam for tests). Default: a real InfoSource.
  using SourceFactory =
      std::function<std::unique_ptr<InfoSource>(const InfoSourceOptions&, const Clock&)>;

  Collector(Clock& clock, std::shared_ptr<prometheus::Registry> registry, Options options,
            SourceFactory factory = nullptr);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Adds a target, due at once. kInvalidArgument for a key that is not "ns/name" or a bad
  // URL (message without the password); kAlreadyExists when the key is present.
  Status Add(CollectorTarget target);
  // Replaces a target's settings, keeping its window (resized) and series; a new connection
  // is opened at its next scrape when the endpoint, credentials or TLS changed. kNotFound
  // when absent; kInvalidArgument as Add.
  Status Update(CollectorTarget target);
  // Removes a target, its window and its series; no-op when absent.
  void Remove(const std::string& key);

  // Scrapes every target that is due now (by the Clock) on up to `workers` threads and returns
  // when they are done. Returns the number of targets scraped.
  std::size_t Tick();
  // Calls Tick, then waits until the next target is due (or a target is added/updated), until
  // `stop` is requested. Runs on the caller's thread.
  void Run(std::stop_token stop);

  // The samples of `key`, oldest first; failed scrapes are ok=false entries. kNotFound.
  StatusOr<std::vector<RedisSample>> Window(const std::string& key) const;
  std::vector<std::string> Keys() const;
  // When the next target is due; nullopt without targets.
  std::optional<TimePoint> NextDue() const;

 private:
  struct Target;
  struct Families;

  StatusOr<std::shared_ptr<Target>> Build(CollectorTarget spec) const;
  void ScrapeOne(Target& t);

  Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  Options options_;
  SourceFactory factory_;
  std::unique_ptr<Families> families_;
  std::shared_ptr<TlsContextCache> tls_contexts_ = std::make_shared<TlsContextCache>();

  mutable std::mutex mu_;  // guards targets_ and wake_
  std::map<std::string, std::shared_ptr<Target>, std::less<>> targets_;
  std::condition_variable_any cv_;
  bool wake_ = false;
};

}  // namespace redisfleet::redis
