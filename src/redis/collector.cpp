#include "redis/collector.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "redis/url.h"

namespace redisfleet::redis {

struct Collector::Families {
  explicit Families(prometheus::Registry& r)
      : used_memory(prometheus::BuildGauge()
                        .Name("redisfleet_redis_used_memory_bytes")
                        .Help("Bytes allocated by Redis (INFO used_memory).")
                        .Register(r)),
        maxmemory(prometheus::BuildGauge()
                      .Name("redisfleet_redis_maxmemory_bytes")
                      .Help("Configured maxmemory in bytes; 0 = unlimited.")
                      .Register(r)),
        connected_clients(prometheus::BuildGauge()
                              .Name("redisfleet_redis_connected_clients")
                              .Help("Client connections (INFO connected_clients).")
                              .Register(r)),
        maxclients(prometheus::BuildGauge()
                       .Name("redisfleet_redis_maxclients")
                       .Help("Maximum client connections (INFO or CONFIG GET maxclients).")
                       .Register(r)),
        ops(prometheus::BuildGauge()
                .Name("redisfleet_redis_ops_per_second")
                .Help("Commands per second (INFO instantaneous_ops_per_sec).")
                .Register(r)),
        evicted(prometheus::BuildCounter()
                    .Name("redisfleet_redis_evicted_keys_total")
                    .Help("Keys evicted because of maxmemory (server counter, resets followed).")
                    .Register(r)),
        rejected(prometheus::BuildCounter()
                     .Name("redisfleet_redis_rejected_connections_total")
                     .Help("Connections refused because of maxclients (server counter, resets followed).")
                     .Register(r)),
        errors(prometheus::BuildCounter()
                   .Name("redisfleet_redis_scrape_errors_total")
                   .Help("Failed INFO scrapes by reason.")
                   .Register(r)) {}

  prometheus::Family<prometheus::Gauge>& used_memory;
  prometheus::Family<prometheus::Gauge>& maxmemory;
  prometheus::Family<prometheus::Gauge>& connected_clients;
  prometheus::Family<prometheus::Gauge>& maxclients;
  prometheus::Family<prometheus::Gauge>& ops;
  prometheus::Family<prometheus::Counter>& evicted;
  prometheus::Family<prometheus::Counter>& rejected;
  prometheus::Family<prometheus::Counter>& errors;
};

struct Collector::Target {
  std::string key;
  prometheus::Labels labels;

  std::mutex scrape_mu;  // one scrape at a time; guards source
  std::unique_ptr<InfoSource> source;

  // Guarded by Collector::mu_.
  Duration interval{};
  TimePoint next_due{};

  std::mutex mu;  // guards everything below
  InfoSourceOptions options;
  std::unique_ptr<InfoSource> pending;  // a new source from Update, swapped in at the next scrape
  std::vector<RedisSample> ring;
  std::size_t head = 0;  // next write position
  std::size_t count = 0;
  bool removed = false;
  int64_t last_evicted = -1;
  int64_t last_rejected = -1;
  prometheus::Gauge* used_memory = nullptr;
  prometheus::Gauge* maxmemory = nullptr;
  prometheus::Gauge* connected_clients = nullptr;
  prometheus::Gauge* maxclients = nullptr;
  prometheus::Gauge* ops = nullptr;
  prometheus::Counter* evicted = nullptr;
  prometheus::Counter* rejected = nullptr;
  std::map<std::string_view, prometheus::Counter*> errors;

  void Push(const RedisSample& s) {
    ring[head] = s;
    head = (head + 1) % ring.size();
    if (count < ring.size()) ++count;
  }
  std::vector<RedisSample> Samples() const {
    std::vector<RedisSample> out;
    out.reserve(count);
    std::size_t start = (head + ring.size() - count) % ring.size();
    for (std::size_t i = 0; i < count; ++i) out.push_back(ring[(start + i) % ring.size()]);
    return out;
  }
  void Resize(std::size_t capacity) {
    if (capacity == ring.size()) return;
    std::vector<RedisSample> kept = Samples();
    if (kept.size() > capacity) kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(capacity));
    ring.assign(capacity, RedisSample{});
    head = 0;
    count = 0;
    for (const RedisSample& s : kept) Push(s);
  }
};

namespace {

bool SameConnection(const InfoSourceOptions& a, const InfoSourceOptions& b) {
  return a.connect.host == b.connect.host && a.connect.port == b.connect.port &&
         a.connect.username == b.connect.username && a.connect.password == b.connect.password &&
         a.connect.db == b.connect.db && a.connect.timeout == b.connect.timeout && a.tls == b.tls &&
         a.tls_options.ca_file == b.tls_options.ca_file && a.tls_options.verify == b.tls_options.verify &&
         a.tls_options.server_name == b.tls_options.server_name;
}

// Follows a server counter into a Prometheus counter: the delta, or the whole value after a reset.
void Follow(int64_t value, int64_t* last, prometheus::Counter* counter) {
  if (value < 0) return;
  int64_t delta = (*last < 0 || value < *last) ? value : value - *last;
  if (delta > 0) counter->Increment(static_cast<double>(delta));
  *last = value;
}

}  // namespace

Collector::Collector(Clock& clock, std::shared_ptr<prometheus::Registry> registry, Options options,
                     SourceFactory factory)
    : clock_(clock),
      registry_(std::move(registry)),
      options_(std::move(options)),
      factory_(std::move(factory)),
      families_(std::make_unique<Families>(*registry_)) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.default_window == 0) options_.default_window = 1;
  if (!factory_) {
    factory_ = [](const InfoSourceOptions& o, const Clock& c) { return std::make_unique<InfoSource>(o, c); };
  }
}

Collector::~Collector() {
  for (const std::string& key : Keys()) Remove(key);
}

StatusOr<std::shared_ptr<Collector::Target>> Collector::Build(CollectorTarget spec) const {
  const std::size_t slash = spec.key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == spec.key.size() ||
      spec.key.find('/', slash + 1) != std::string::npos) {
    return InvalidArgumentError("collector target key '" + spec.key + "' is not namespace/name");
  }
  auto t = std::make_shared<Target>();
  t->key = spec.key;
  t->labels = {{"namespace", spec.key.substr(0, slash)}, {"name", spec.key.substr(slash + 1)}};
  InfoSourceOptions& o = t->options;
  if (!spec.url.empty()) {
    auto parsed = ParseRedisUrl(spec.url);
    if (!parsed.ok()) return parsed.status().WithContext("collector target " + spec.key);
    o.connect = parsed->options;
    o.tls = parsed->tls;
    if (!spec.connect.password.empty()) {
      o.connect.username = spec.connect.username;
      o.connect.password = spec.connect.password;
    }
  } else {
    o.connect = spec.connect;
    o.tls = spec.tls;
  }
  o.connect.timeout = options_.timeout;
  o.tls_options = spec.tls_options;
  o.tls_contexts = tls_contexts_;
  o.backoff_base = options_.backoff_base;
  o.backoff_cap = options_.backoff_cap;
  t->interval = std::max<Duration>(spec.interval, std::chrono::seconds(1));
  std::size_t window = spec.window == 0 ? options_.default_window : spec.window;
  t->ring.assign(std::min(window, kMaxWindow), RedisSample{});
  return t;
}

Status Collector::Add(CollectorTarget spec) {
  RF_ASSIGN_OR_RETURN(std::shared_ptr<Target> t, Build(std::move(spec)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (targets_.count(t->key) != 0) return AlreadyExistsError("collector target " + t->key + " exists");
    t->source = factory_(t->options, clock_);
    t->next_due = clock_.Now();
    t->used_memory = &families_->used_memory.Add(t->labels);
    t->maxmemory = &families_->maxmemory.Add(t->labels);
    t->connected_clients = &families_->connected_clients.Add(t->labels);
    t->maxclients = &families_->maxclients.Add(t->labels);
    t->ops = &families_->ops.Add(t->labels);
    t->evicted = &families_->evicted.Add(t->labels);
    t->rejected = &families_->rejected.Add(t->labels);
    targets_.emplace(t->key, t);
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

Status Collector::Update(CollectorTarget spec) {
  RF_ASSIGN_OR_RETURN(std::shared_ptr<Target> fresh, Build(std::move(spec)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = targets_.find(fresh->key);
    if (it == targets_.end()) return NotFoundError("collector target " + fresh->key + " not found");
    Target& t = *it->second;
    t.interval = fresh->interval;
    t.next_due = std::min(t.next_due, clock_.Now() + t.interval);
    std::lock_guard<std::mutex> tlock(t.mu);
    if (!SameConnection(t.options, fresh->options)) {
      t.pending = factory_(fresh->options, clock_);
    }
    t.options = fresh->options;
    t.Resize(fresh->ring.size());
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

void Collector::Remove(const std::string& key) {
  std::shared_ptr<Target> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = targets_.find(key);
    if (it == targets_.end()) return;
    t = std::move(it->second);
    targets_.erase(it);
  }
  std::lock_guard<std::mutex> tlock(t->mu);
  t->removed = true;
  families_->used_memory.Remove(t->used_memory);
  families_->maxmemory.Remove(t->maxmemory);
  families_->connected_clients.Remove(t->connected_clients);
  families_->maxclients.Remove(t->maxclients);
  families_->ops.Remove(t->ops);
  families_->evicted.Remove(t->evicted);
  families_->rejected.Remove(t->rejected);
  for (auto& [reason, counter] : t->errors) families_->errors.Remove(counter);
  t->errors.clear();
}

void Collector::ScrapeOne(Target& t) {
  std::lock_guard<std::mutex> slock(t.scrape_mu);
  {
    std::lock_guard<std::mutex> tlock(t.mu);
    if (t.removed) return;
    if (t.pending) t.source = std::move(t.pending);
  }
  const auto start = std::chrono::steady_clock::now();
  StatusOr<RedisSample> sample = t.source->Scrape();
  const auto took = std::chrono::steady_clock::now() - start;
  const ScrapeError why = t.source->last_error();
  {
    std::lock_guard<std::mutex> tlock(t.mu);
    if (t.removed) return;
    if (sample.ok()) {
      const RedisSample& s = *sample;
      t.Push(s);
      if (s.used_memory >= 0) t.used_memory->Set(static_cast<double>(s.used_memory));
      if (s.maxmemory >= 0) t.maxmemory->Set(static_cast<double>(s.maxmemory));
      if (s.connected_clients >= 0) t.connected_clients->Set(static_cast<double>(s.connected_clients));
      if (s.maxclients >= 0) t.maxclients->Set(static_cast<double>(s.maxclients));
      if (s.instantaneous_ops_per_sec >= 0) t.ops->Set(static_cast<double>(s.instantaneous_ops_per_sec));
      Follow(s.evicted_keys, &t.last_evicted, t.evicted);
      Follow(s.rejected_connections, &t.last_rejected, t.rejected);
    } else {
      RedisSample gap;
      gap.time = clock_.Now();
      t.Push(gap);
      const std::string_view reason = ScrapeErrorName(why);
      auto it = t.errors.find(reason);
      if (it == t.errors.end()) {
        prometheus::Labels labels = t.labels;
        labels["reason"] = std::string(reason);
        it = t.errors.emplace(reason, &families_->errors.Add(labels)).first;
      }
      it->second->Increment();
    }
  }
  if (options_.on_scrape) {
    options_.on_scrape(t.key, std::chrono::duration_cast<std::chrono::nanoseconds>(took), sample.ok());
  }
}

std::size_t Collector::Tick() {
  std::vector<std::shared_ptr<Target>> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const TimePoint now = clock_.Now();
    for (auto& [key, t] : targets_) {
      if (t->next_due > now) continue;
      due.push_back(t);
      t->next_due += t->interval;
      if (t->next_due <= now) t->next_due = now + t->interval;  // fell behind: no burst
    }
  }
  if (due.empty()) return 0;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < due.size(); i = next.fetch_add(1)) ScrapeOne(*due[i]);
  };
  const std::size_t helpers = std::min(options_.workers, due.size()) - 1;
  {
    std::vector<std::jthread> threads;
    threads.reserve(helpers);
    for (std::size_t i = 0; i < helpers; ++i) threads.emplace_back(work);
    work();
  }
  return due.size();
}

std::optional<TimePoint> Collector::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> next;
  for (const auto& [key, t] : targets_) {
    if (!next || t->next_due < *next) next = t->next_due;
  }
  return next;
}

void Collector::Run(std::stop_token stop) {
  const std::size_t sub = clock_.Subscribe([this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  });
  while (!stop.stop_requested()) {
    Tick();
    std::optional<TimePoint> next = NextDue();
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_) {
      wake_ = false;
      continue;
    }
    Duration wait = next ? *next - clock_.Now() : Duration(std::chrono::seconds(1));
    if (wait <= Duration::zero()) continue;
    // Bounded so a wall-clock jump cannot stall scraping; a FakeClock wakes us by Subscribe.
    wait = std::min<Duration>(wait, std::chrono::seconds(1));
    cv_.wait_for(lock, stop, wait, [this] { return wake_; });
    wake_ = false;
  }
  clock_.Unsubscribe(sub);
}

StatusOr<std::vector<RedisSample>> Collector::Window(const std::string& key) const {
  std::shared_ptr<Target> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = targets_.find(key);
    if (it == targets_.end()) return NotFoundError("collector target " + key + " not found");
    t = it->second;
  }
  std::lock_guard<std::mutex> tlock(t->mu);
  return t->Samples();
}

std::vector<std::string> Collector::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(targets_.size());
  for (const auto& [key, t] : targets_) keys.push_back(key);
  return keys;
}

}  // namespace redisfleet::redis
