#pragma once
// One persistent INFO connection to one Redis instance, reconnecting with backoff.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/status.h"
#include "redis/client.h"
#include "redis/tls_transport.h"

namespace redisfleet::redis {

// One scrape. -1 marks a value the server did not report (maxmemory 0 = unlimited, as Redis).
// `ok` is false for a failed scrape (a gap in a window); the other fields are then -1.
struct RedisSample {
  TimePoint time{};
  bool ok = false;
  int64_t used_memory = -1;  // bytes
  int64_t maxmemory = -1;    // bytes
  int64_t connected_clients = -1;
  int64_t maxclients = -1;
  int64_t evicted_keys = -1;          // server counter since its start
  int64_t rejected_connections = -1;  // server counter since its start
  int64_t instantaneous_ops_per_sec = -1;
};

// Fills the fields of `sample` found in an INFO payload (any sections, "\r\n" or "\n" lines)
// without building a map; fields not present are left as they are. Pure.
void SampleFromInfo(std::string_view payload, RedisSample* sample);

struct InfoSourceOptions {
  ConnectOptions connect;  // host, port, credentials, db, timeout (connect and every command)
  bool tls = false;
  TlsOptions tls_options;
  // Shared TLS contexts (one CA store per CA file instead of one per connection); may be null.
  std::shared_ptr<TlsContextCache> tls_contexts;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};
};

// Why the last Scrape failed (a low-cardinality metric label).
enum class ScrapeError { kNone, kBackoff, kConnect, kTls, kAuth, kTimeout, kIo, kReply };
std::string_view ScrapeErrorName(ScrapeError e);  // "backoff", "connect", "tls", "auth", ...

// Not thread-safe: one caller at a time (the Collector serialises scrapes per target).
class InfoSource {
 public:
  // Opens a client (connect + AUTH); the seam for tests. Default: redis::Connect(options).
  using Connector = std::function<StatusOr<std::unique_ptr<RedisClient>>(const InfoSourceOptions&)>;

  InfoSource(InfoSourceOptions options, const Clock& clock, Connector connector = nullptr);

  // Connects when needed, then asks INFO memory clients stats (one INFO per section on servers
  // that refuse several sections, detected once per connection) and, when INFO lacks
  // maxmemory/maxclients, CONFIG GET once per connection (-1 when that is refused too).
  // After a failure the connection is dropped and the next attempt waits for the backoff;
  // until then Scrape returns kUnavailable at once without touching the network.
  // Errors: kUnavailable (unreachable, broken, backing off), kUnauthenticated (credentials
  // refused, no password in the message), kFailedPrecondition (TLS verify/handshake) and the
  // codes of ErrorReplyToStatus for error replies.
  StatusOr<RedisSample> Scrape();

  ScrapeError last_error() const { return last_error_; }
  bool connected() const { return client_ != nullptr; }
  // Connections opened successfully so far.
  int connects() const { return connects_; }
  // When the next connection attempt is allowed (meaningful while not connected).
  TimePoint next_attempt() const { return next_attempt_; }
  const InfoSourceOptions& options() const { return options_; }

 private:
  StatusOr<RedisSample> ScrapeConnected(TimePoint now);
  Status Fail(Status s, ScrapeError why, TimePoint now);
  StatusOr<std::string> InfoPayload(const std::vector<std::string>& argv);
  int64_t ConfigValue(const char* name, std::optional<int64_t>* cache);

  InfoSourceOptions options_;
  const Clock& clock_;
  Connector connector_;
  Backoff backoff_;
  std::unique_ptr<RedisClient> client_;
  int failures_ = 0;  // consecutive failed attempts, for the backoff
  TimePoint next_attempt_{};
  Status last_status_;
  ScrapeError last_error_ = ScrapeError::kNone;
  int connects_ = 0;
  std::optional<bool> multi_section_;  // does the server accept INFO with several sections?
  std::optional<int64_t> config_maxmemory_;
  std::optional<int64_t> config_maxclients_;
  std::string payload_;  // reused across scrapes
};

}  // namespace redisfleet::redis
