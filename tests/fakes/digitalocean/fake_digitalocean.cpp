#include "fake_digitalocean.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "common/clock.h"
#include "fakes/common/listen_addr.h"
#include "http/http_client.h"
#include "providers/docker/docker_client.h"

namespace redisfleet::fakes {
namespace {

using nlohmann::json;
using SysTime = std::chrono::system_clock::time_point;

constexpr char kJson[] = "application/json; charset=utf-8";

struct RegionInfo {
  const char* slug;
  const char* name;
};
constexpr RegionInfo kRegions[] = {
    {"nyc1", "New York 1"}, {"nyc3", "New York 3"},      {"ams3", "Amsterdam 3"},
    {"fra1", "Frankfurt 1"}, {"lon1", "London 1"},       {"sfo3", "San Francisco 3"},
    {"sgp1", "Singapore 1"}, {"tor1", "Toronto 1"},      {"blr1", "Bangalore 1"},
    {"syd1", "Sydney 1"},
};

// A region slug or prefix ("nyc") -> its slug; "" when unknown.
std::string ResolveRegion(const std::string& r) {
  if (r.empty()) return "nyc3";
  for (const auto& k : kRegions) {
    if (r == k.slug) return k.slug;
  }
  for (const auto& k : kRegions) {
    if (std::string(k.slug).rfind(r, 0) == 0) return k.slug;
  }
  return "";
}

std::string RegionName(const std::string& slug) {
  for (const auto& k : kRegions) {
    if (slug == k.slug) return k.name;
  }
  return slug;
}

std::string RouteOf(const std::string& path) {
  static const std::regex kById(R"(^/v2/droplets/[0-9]+$)");
  if (path == "/v2/droplets") return "/v2/droplets";
  if (path == "/v2/sizes") return "/v2/sizes";
  if (std::regex_match(path, kById)) return "/v2/droplets/{id}";
  return "other";
}

std::string CanonicalId(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 422: return "unprocessable_entity";
    case 429: return "too_many_requests";
    case 503: return "service_unavailable";
    default: return status >= 500 ? "server_error" : "bad_request";
  }
}

std::string CanonicalMessage(int status) {
  switch (status) {
    case 401: return "Unable to authenticate you.";
    case 403: return "You do not have access for the attempted action.";
    case 404: return "The resource you requested could not be found.";
    case 422: return "request payload validation failed";
    case 429: return "API rate limit exceeded.";
    default: return status >= 500 ? "Unexpected server-side error" : "bad request";
  }
}


std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int IntParam(const httplib::Request& req, const char* name, int def) {
  if (!req.has_param(name)) return def;
  const std::string v = req.get_param_value(name);
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  return end == v.c_str() ? def : static_cast<int>(std::clamp<long>(n, -1000000, 1000000));
}

// Makes the connection end after the headers: the client sees a transport error.
void Drop(httplib::Response& res) {
  res.body.clear();
  res.set_content_provider(
      64, "application/json",
      [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
}

}  // namespace

FakeDigitalOcean::FakeDigitalOcean() : FakeDigitalOcean(Options{}) {}

FakeDigitalOcean::FakeDigitalOcean(Options options)
    : options_(std::move(options)), sizes_(DefaultSizes()), rng_(options_.seed) {}

FakeDigitalOcean::~FakeDigitalOcean() { Stop(); }

std::vector<FakeSize> FakeDigitalOcean::DefaultSizes() {
  // Slugs, capacities and prices as DigitalOcean lists them (Basic droplets, 2024 prices).
  return {
      {"s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0, "Basic"},
      {"s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0, "Basic"},
      {"s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0, "Basic"},
      {"s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0, "Basic"},
      {"s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0, "Basic"},
      {"s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0, "Basic"},
      {"s-8vcpu-16gb", 16384, 8, 320, 6.0, 96.0, "Basic"},
      {"g-2vcpu-8gb", 8192, 2, 25, 4.0, 63.0, "General Purpose"},
  };
}

std::string FakeDigitalOcean::url() const { return fmt::format("http://{}:{}", host_, port()); }

Status FakeDigitalOcean::Start(const std::string& addr) {
  if (started_.exchange(true)) return FailedPreconditionError("already started");
  RF_ASSIGN_OR_RETURN(auto listen, ParseListenAddr(addr));
  const auto& [host, want] = listen;
  host_ = host;
  const std::size_t workers = options_.worker_threads;
  server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_.Get(R"(/.*)", handler);
  server_.Post(R"(/.*)", handler);
  server_.Put(R"(/.*)", handler);
  server_.Patch(R"(/.*)", handler);
  server_.Delete(R"(/.*)", handler);
  const int port = want == 0 ? server_.bind_to_any_port(host)
                             : (server_.bind_to_port(host, want) ? want : -1);
  if (port <= 0) return UnavailableError("cannot bind " + addr);
  port_ = port;
  listener_ = std::thread([this] { server_.listen_after_bind(); });
  // Stop() is a no-op until the server runs: do not return before it does.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_.is_running()) return UnavailableError("the server did not start on " + addr);
  return Status::Ok();
}

void FakeDigitalOcean::Stop() {
  if (!started_ || stopped_.exchange(true)) return;
  server_.stop();
  if (listener_.joinable()) listener_.join();
}

void FakeDigitalOcean::SetActiveDelay(std::chrono::milliseconds d) {
  std::lock_guard lk(mu_);
  options_.active_delay = d;
}
void FakeDigitalOcean::SetRateLimits(int64_t per_minute, int64_t per_hour) {
  std::lock_guard lk(mu_);
  options_.per_minute = per_minute;
  options_.per_hour = per_hour;
}
void FakeDigitalOcean::ResetRateLimitWindows() {
  std::lock_guard lk(mu_);
  windows_.clear();
}
void FakeDigitalOcean::SetFailureRate(double r) {
  std::lock_guard lk(mu_);
  options_.failure_rate = r;
}
void FakeDigitalOcean::SetDropRate(double r) {
  std::lock_guard lk(mu_);
  options_.drop_rate = r;
}
void FakeDigitalOcean::SetSlow(double rate, std::chrono::milliseconds delay) {
  std::lock_guard lk(mu_);
  options_.slow_rate = rate;
  options_.slow_delay = delay;
}
void FakeDigitalOcean::DropAfterCommitNext(int count) {
  std::lock_guard lk(mu_);
  drop_after_commit_ = count;
}
void FakeDigitalOcean::InjectNext(int status, int count) {
  std::lock_guard lk(mu_);
  inject_status_ = status;
  inject_count_ = count;
}

int64_t FakeDigitalOcean::AddDroplet(const std::string& name, const std::vector<std::string>& tags,
                                     const std::string& size) {
  std::lock_guard lk(mu_);
  FakeDroplet d = NewDropletLocked(name, tags, size, "nyc3", "ubuntu-22-04-x64");
  const int64_t id = d.id;
  droplets_[id] = std::move(d);
  return id;
}

std::vector<FakeDroplet> FakeDigitalOcean::Droplets() const {
  std::lock_guard lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<FakeDroplet> out;
  for (const auto& [id, d] : droplets_) {
    out.push_back(d);
    out.back().status = now >= d.active_at ? "active" : "new";
  }
  return out;
}

int64_t FakeDigitalOcean::requests_total() const {
  std::lock_guard lk(mu_);
  return requests_total_;
}

int64_t FakeDigitalOcean::RequestCount(const std::string& method, const std::string& route,
                                       int status) const {
  std::lock_guard lk(mu_);
  int64_t n = 0;
  for (const auto& [key, count] : counts_) {
    const auto& [m, r, s] = key;
    if (m == method && r == route && (status == -1 || s == status)) n += count;
  }
  return n;
}

int64_t FakeDigitalOcean::created_total() const {
  std::lock_guard lk(mu_);
  return created_total_;
}
int64_t FakeDigitalOcean::deleted_total() const {
  std::lock_guard lk(mu_);
  return deleted_total_;
}
int64_t FakeDigitalOcean::rate_limited_total() const {
  std::lock_guard lk(mu_);
  return rate_limited_total_;
}
std::vector<FakeDigitalOcean::LogEntry> FakeDigitalOcean::RequestLog() const {
  std::lock_guard lk(mu_);
  return log_;
}
void FakeDigitalOcean::ClearLog() {
  std::lock_guard lk(mu_);
  log_.clear();
}

double FakeDigitalOcean::Roll() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

std::string FakeDigitalOcean::NewRequestId() {
  std::lock_guard lk(mu_);
  const uint64_t n = next_request_++;
  return fmt::format("4d9d8375-3c56-4925-a3e7-{:012x}", n);
}

void FakeDigitalOcean::Error(httplib::Response& res, int status, const std::string& id,
                             const std::string& message, bool with_request_id) {
  json body = {{"id", id}, {"message", message}};
  if (with_request_id) body["request_id"] = NewRequestId();
  res.status = status;
  res.set_content(body.dump(), kJson);
}

void FakeDigitalOcean::PruneLocked(const std::string& token, SysTime now) {
  auto& w = windows_[token];
  const auto cut = now - std::chrono::hours(1);
  w.erase(w.begin(), std::find_if(w.begin(), w.end(), [&](SysTime t) { return t > cut; }));
}

void FakeDigitalOcean::SetRateHeadersLocked(httplib::Response& res, const std::string& token,
                                            SysTime now) {
  PruneLocked(token, now);
  const auto& w = windows_[token];
  const int64_t used = static_cast<int64_t>(w.size());
  const int64_t remaining = std::max<int64_t>(0, options_.per_hour - used);
  const SysTime reset = w.empty() ? now : w.front() + std::chrono::hours(1);
  res.set_header("ratelimit-limit", std::to_string(options_.per_hour));
  res.set_header("ratelimit-remaining", std::to_string(remaining));
  res.set_header("ratelimit-reset",
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                    reset.time_since_epoch()).count()));
}

const FakeSize* FakeDigitalOcean::FindSize(const std::string& slug) const {
  for (const auto& s : sizes_) {
    if (s.slug == slug) return &s;
  }
  return nullptr;
}

FakeDroplet FakeDigitalOcean::NewDropletLocked(const std::string& name,
                                               const std::vector<std::string>& tags,
                                               const std::string& size, const std::string& region,
                                               const std::string& image) {
  FakeDroplet d;
  d.id = next_id_++;
  d.name = name;
  d.status = "new";
  d.tags = tags;
  d.region = region;
  d.size_slug = size;
  d.image = image;
  d.created_at = FormatTime(std::chrono::system_clock::now());
  d.active_at = std::chrono::steady_clock::now() + options_.active_delay;
  for (int i = 0; i < static_cast<int>(options_.backing.size()); ++i) {
    if (!busy_slots_.count(i)) {
      d.backing = i;
      busy_slots_.insert(i);
      d.public_ipv4 = options_.backing[static_cast<std::size_t>(i)].address;
      break;
    }
  }
  if (d.backing < 0) d.public_ipv4 = fmt::format("127.0.0.{}", 200 + (unbacked_n_++ % 55));
  d.private_ipv4 = fmt::format("10.110.{}.{}", (d.id / 250) % 250, 2 + d.id % 250);
  d.vpc_uuid = "760e09ef-dc84-11e8-981e-3cfdfeaae000";
  ++created_total_;
  return d;
}

json FakeDigitalOcean::SizeJson(const FakeSize& s) const {
  std::vector<std::string> regions;
  for (const auto& r : kRegions) regions.push_back(r.slug);
  return {{"slug", s.slug},
          {"memory", s.memory_mb},
          {"vcpus", s.vcpus},
          {"disk", s.disk_gb},
          {"transfer", s.transfer_tb},
          {"price_monthly", s.price_monthly},
          {"price_hourly", std::round(s.price_monthly / 672.0 * 1e5) / 1e5},
          {"regions", regions},
          {"available", true},
          {"description", s.description},
          {"disk_info", json::array({{{"type", "local"},
                                       {"size", {{"amount", s.disk_gb}, {"unit", "gib"}}}}})}};
}

json FakeDigitalOcean::DropletJson(const FakeDroplet& d) const {
  const bool active = std::chrono::steady_clock::now() >= d.active_at;
  const FakeSize* size = FindSize(d.size_slug);
  const FakeSize fallback{d.size_slug, 1024, 1, 25, 1.0, 6.0, "Basic"};
  const FakeSize& s = size ? *size : fallback;
  json v4 = json::array();
  if (active) {
    v4.push_back({{"ip_address", d.private_ipv4},
                  {"netmask", "255.255.0.0"},
                  {"gateway", "nil"},
                  {"type", "private"}});
    const auto dot = d.public_ipv4.rfind('.');
    v4.push_back({{"ip_address", d.public_ipv4},
                  {"netmask", "255.255.255.0"},
                  {"gateway", d.public_ipv4.substr(0, dot) + ".1"},
                  {"type", "public"}});
  }
  std::vector<std::string> size_slugs;
  for (const auto& z : sizes_) size_slugs.push_back(z.slug);
  json image = {{"id", 6918990},
                {"name", d.image},
                {"distribution", "Ubuntu"},
                {"slug", d.image},
                {"public", true},
                {"regions", {d.region}},
                {"created_at", "2024-04-23T12:00:00Z"},
                {"type", "base"},
                {"min_disk_size", 7},
                {"size_gigabytes", 2.36},
                {"description", ""},
                {"tags", json::array()},
                {"status", "available"}};
  return {{"id", d.id},
          {"name", d.name},
          {"memory", s.memory_mb},
          {"vcpus", s.vcpus},
          {"disk", s.disk_gb},
          {"disk_info", json::array({{{"type", "local"},
                                       {"size", {{"amount", s.disk_gb}, {"unit", "gib"}}}}})},
          {"locked", false},
          {"status", active ? "active" : "new"},
          {"kernel", nullptr},
          {"created_at", d.created_at},
          {"features", json::array({"droplet_agent", "private_networking"})},
          {"backup_ids", json::array()},
          {"next_backup_window", nullptr},
          {"snapshot_ids", json::array()},
          {"image", image},
          {"volume_ids", json::array()},
          {"size", SizeJson(s)},
          {"size_slug", d.size_slug},
          {"networks", {{"v4", v4}, {"v6", json::array()}}},
          {"region",
           {{"name", RegionName(d.region)},
            {"slug", d.region},
            {"features", {"backups", "ipv6", "metadata", "install_agent", "storage"}},
            {"available", true},
            {"sizes", size_slugs}}},
          {"tags", d.tags},
          {"vpc_uuid", d.vpc_uuid}};
}

json FakeDigitalOcean::PageLinks(const std::string& path, const std::string& extra_query, int page,
                                 int per_page, int64_t total) const {
  if (total <= per_page) return json::object();
  const int last = static_cast<int>((total + per_page - 1) / per_page);
  auto link = [&](int p) {
    return fmt::format("{}{}?page={}&per_page={}{}{}", url(), path, p, per_page,
                       extra_query.empty() ? "" : "&", extra_query);
  };
  json pages = json::object();
  if (page > 1) {
    pages["first"] = link(1);
    pages["prev"] = link(std::min(page - 1, last));
  }
  if (page < last) {
    pages["next"] = link(page + 1);
    pages["last"] = link(last);
  }
  return {{"pages", pages}};
}

Status FakeDigitalOcean::WipeBacking(int backing) const {
  std::string endpoint;
  {
    std::lock_guard lk(mu_);
    endpoint = options_.backing.at(static_cast<std::size_t>(backing)).docker_endpoint;
  }
  docker::DockerClientOptions o;
  o.endpoint = endpoint;
  RF_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Create(o));
  RF_ASSIGN_OR_RETURN(auto containers, client->ListContainers({}));
  for (const auto& c : containers) {
    Status s = client->RemoveContainer(c.id, true, true);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

void FakeDigitalOcean::Handle(const httplib::Request& req, httplib::Response& res) {
  const SysTime now = std::chrono::system_clock::now();
  const std::string route = RouteOf(req.path);
  std::string token;
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) token = auth.substr(7);
  bool admitted = false, drop = false, slow = false, drop_after_commit = false;
  std::chrono::milliseconds slow_delay{0};
  {
    std::lock_guard lk(mu_);
    ++requests_total_;
    if (token.empty() || token != options_.token) {
      res.status = 401;
      res.set_content(json{{"id", "unauthorized"}, {"message", CanonicalMessage(401)}}.dump(), kJson);
    } else {
      PruneLocked(token, now);
      auto& w = windows_[token];
      const auto minute_cut = now - std::chrono::minutes(1);
      const auto first_in_minute =
          std::find_if(w.begin(), w.end(), [&](SysTime t) { return t > minute_cut; });
      const int64_t in_minute = std::distance(first_in_minute, w.end());
      if (static_cast<int64_t>(w.size()) >= options_.per_hour) {
        ++rate_limited_total_;
        res.status = 429;
        res.set_content(json{{"id", "too_many_requests"}, {"message", CanonicalMessage(429)}}.dump(),
                        kJson);
      } else if (in_minute >= options_.per_minute) {
        ++rate_limited_total_;
        // Seconds until the oldest request of this minute leaves the window.
        const SysTime frees = *(first_in_minute + (in_minute - options_.per_minute)) +
                              std::chrono::minutes(1);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(frees - now).count();
        res.status = 429;
        res.set_header("retry-after", std::to_string(std::max<int64_t>(1, (ms + 999) / 1000)));
        res.set_content(json{{"id", "too_many_requests"}, {"message", CanonicalMessage(429)}}.dump(),
                        kJson);
      } else {
        w.push_back(now);
        admitted = true;
        if (inject_count_ > 0) {
          --inject_count_;
          admitted = false;
          if (inject_status_ == 0) {
            drop = true;
          } else {
            res.status = inject_status_;
            res.set_content(json{{"id", CanonicalId(inject_status_)},
                                 {"message", CanonicalMessage(inject_status_)},
                                 {"request_id", fmt::format("inj-{}", next_request_++)}}
                                .dump(),
                            kJson);
          }
        } else if (options_.drop_rate > 0 && Roll() < options_.drop_rate) {
          admitted = false;
          drop = true;
        } else if (options_.failure_rate > 0 && Roll() < options_.failure_rate) {
          admitted = false;
          res.status = 500;
          res.set_content(json{{"id", "server_error"}, {"message", CanonicalMessage(500)}}.dump(),
                          kJson);
        } else {
          if (options_.slow_rate > 0 && Roll() < options_.slow_rate) {
            slow = true;
            slow_delay = options_.slow_delay;
          }
          if (req.method == "POST" && route == "/v2/droplets" && drop_after_commit_ > 0) {
            --drop_after_commit_;
            drop_after_commit = true;
          }
        }
      }
    }
  }
  if (slow) std::this_thread::sleep_for(slow_delay);
  if (admitted) {
    std::vector<FakeDroplet> to_delete;
    Route(req, res, route, drop_after_commit, &to_delete);
    // Deletes of backed droplets: wipe the daemon first, then forget the droplet.
    for (const auto& d : to_delete) {
      Status wiped = d.backing >= 0 ? WipeBacking(d.backing) : Status::Ok();
      std::lock_guard lk(mu_);
      deleting_.erase(d.id);
      if (!wiped.ok()) {
        res.status = 500;
        res.set_content(json{{"id", "server_error"}, {"message", CanonicalMessage(500)}}.dump(),
                        kJson);
        continue;
      }
      if (droplets_.erase(d.id) > 0) ++deleted_total_;
      if (d.backing >= 0) busy_slots_.erase(d.backing);
    }
    if (drop_after_commit) drop = true;
  }
  if (drop) Drop(res);
  std::lock_guard lk(mu_);
  SetRateHeadersLocked(res, token, std::chrono::system_clock::now());
  res.set_header("x-request-id", fmt::format("fake-{}", next_request_++));
  const int status = drop ? 0 : res.status;
  std::string path = req.path;
  if (!req.params.empty()) {
    std::string q;
    for (const auto& [k, v] : req.params) q += (q.empty() ? "?" : "&") + k + "=" + http::PercentEncode(v);
    path += q;
  }
  ++counts_[{req.method, route, status}];
  log_.push_back({req.method, path, route, status, now});
}

void FakeDigitalOcean::Route(const httplib::Request& req, httplib::Response& res,
                             const std::string& route, bool drop_after_commit,
                             std::vector<FakeDroplet>* to_delete) {
  (void)drop_after_commit;
  auto not_found = [&] { Error(res, 404, "not_found", CanonicalMessage(404)); };
  if (route == "/v2/droplets" && req.method == "POST") {
    json body = json::parse(req.body, nullptr, false);
    auto invalid = [&](const std::string& why) {
      Error(res, 422, "unprocessable_entity", why, true);
    };
    if (body.is_discarded() || !body.is_object()) return invalid("request payload validation failed");
    if (body.contains("names")) return invalid("multi-create (names) is not supported by this fake");
    static const std::regex kName(R"(^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$)");
    static const std::regex kTag(R"(^[a-zA-Z0-9_\-:]+$)");
    if (!body.contains("name") || !body["name"].is_string()) return invalid("name is required");
    const std::string name = body["name"];
    if (name.size() > 255 || !std::regex_match(name, kName)) return invalid("name is invalid");
    if (!body.contains("size") || !body["size"].is_string()) return invalid("size is required");
    const std::string size = body["size"];
    if (!body.contains("image") || !(body["image"].is_string() || body["image"].is_number_integer())) {
      return invalid("image is required");
    }
    const std::string image =
        body["image"].is_string() ? body["image"].get<std::string>() : body["image"].dump();
    std::string region;
    if (body.contains("region")) {
      if (!body["region"].is_string()) return invalid("region must be a string");
      region = ResolveRegion(body["region"]);
      if (region.empty()) return invalid("region is not available");
    } else {
      region = ResolveRegion("");
    }
    std::vector<std::string> tags;
    if (body.contains("tags") && !body["tags"].is_null()) {
      if (!body["tags"].is_array()) return invalid("tags must be an array");
      for (const auto& t : body["tags"]) {
        if (!t.is_string()) return invalid("tags must be strings");
        const std::string tag = t;
        if (tag.size() > 255 || !std::regex_match(tag, kTag)) return invalid("tag is invalid: " + tag);
        tags.push_back(tag);
      }
    }
    if (body.contains("ssh_keys")) {
      if (!body["ssh_keys"].is_array()) return invalid("ssh_keys must be an array");
      for (const auto& k : body["ssh_keys"]) {
        if (!k.is_string() && !k.is_number_integer()) return invalid("ssh_keys must be ids or fingerprints");
      }
    }
    std::string user_data;
    if (body.contains("user_data")) {
      if (!body["user_data"].is_string()) return invalid("user_data must be a string");
      user_data = body["user_data"];
      if (user_data.size() > 64 * 1024) return invalid("user_data is larger than 64 KiB");
    }
    std::lock_guard lk(mu_);
    if (!FindSize(size)) {
      Error(res, 422, "unprocessable_entity", "size is not available", false);
      // request_id needs mu_: add it here.
      json b = json::parse(res.body);
      b["request_id"] = fmt::format("4d9d8375-3c56-4925-a3e7-{:012x}", next_request_++);
      res.set_content(b.dump(), kJson);
      return;
    }
    FakeDroplet d = NewDropletLocked(name, tags, size, region, image);
    d.user_data = user_data;
    if (body.contains("vpc_uuid") && body["vpc_uuid"].is_string()) d.vpc_uuid = body["vpc_uuid"];
    const int64_t id = d.id;
    droplets_[id] = d;
    const int64_t action = 7515 + id;
    res.status = 202;
    res.set_content(json{{"droplet", DropletJson(d)},
                         {"links",
                          {{"actions",
                            {{{"id", action},
                              {"rel", "create"},
                              {"href", fmt::format("{}/v2/actions/{}", url(), action)}}}}}}}
                        .dump(),
                    kJson);
    return;
  }
  if (route == "/v2/droplets" && req.method == "GET") {
    const int page = std::max(1, IntParam(req, "page", 1));
    const int per_page = std::clamp(IntParam(req, "per_page", 20), 1, 200);
    const std::string tag = req.get_param_value("tag_name");
    const std::string name = Lower(req.get_param_value("name"));
    if (!tag.empty() && !name.empty()) {
      Error(res, 422, "unprocessable_entity", "tag_name cannot be combined with name", true);
      return;
    }
    std::lock_guard lk(mu_);
    std::vector<const FakeDroplet*> match;
    for (const auto& [id, d] : droplets_) {
      if (!tag.empty() && std::find(d.tags.begin(), d.tags.end(), tag) == d.tags.end()) continue;
      if (!name.empty() && Lower(d.name) != name) continue;
      match.push_back(&d);
    }
    json items = json::array();
    const std::size_t from = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(per_page);
    for (std::size_t i = from; i < match.size() && i < from + static_cast<std::size_t>(per_page); ++i) {
      items.push_back(DropletJson(*match[i]));
    }
    std::string extra;
    if (!tag.empty()) extra = "tag_name=" + http::PercentEncode(tag);
    if (!name.empty()) extra = "name=" + http::PercentEncode(req.get_param_value("name"));
    const auto total = static_cast<int64_t>(match.size());
    res.status = 200;
    res.set_content(json{{"droplets", items},
                         {"links", PageLinks("/v2/droplets", extra, page, per_page, total)},
                         {"meta", {{"total", total}}}}
                        .dump(),
                    kJson);
    return;
  }
  if (route == "/v2/droplets" && req.method == "DELETE") {
    const std::string tag = req.get_param_value("tag_name");
    if (tag.empty()) {
      Error(res, 422, "unprocessable_entity", "tag_name is required", true);
      return;
    }
    std::lock_guard lk(mu_);
    for (const auto& [id, d] : droplets_) {
      if (deleting_.count(id)) continue;
      if (std::find(d.tags.begin(), d.tags.end(), tag) == d.tags.end()) continue;
      deleting_.insert(id);
      to_delete->push_back(d);
    }
    res.status = 204;
    res.set_content("", kJson);
    return;
  }
  if (route == "/v2/droplets/{id}") {
    const int64_t id = std::strtoll(req.path.substr(std::string("/v2/droplets/").size()).c_str(),
                                    nullptr, 10);
    std::lock_guard lk(mu_);
    auto it = droplets_.find(id);
    if (it == droplets_.end()) return not_found();
    if (req.method == "GET") {
      res.status = 200;
      res.set_content(json{{"droplet", DropletJson(it->second)}}.dump(), kJson);
      return;
    }
    if (req.method == "DELETE") {
      if (!deleting_.count(id)) {
        deleting_.insert(id);
        to_delete->push_back(it->second);
      }
      res.status = 204;
      res.set_content("", kJson);
      return;
    }
    Error(res, 405, "method_not_allowed", "method not allowed");
    return;
  }
  if (route == "/v2/sizes" && req.method == "GET") {
    const int page = std::max(1, IntParam(req, "page", 1));
    const int per_page = std::clamp(IntParam(req, "per_page", 20), 1, 200);
    std::lock_guard lk(mu_);
    json items = json::array();
    const std::size_t from = static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(per_page);
    for (std::size_t i = from; i < sizes_.size() && i < from + static_cast<std::size_t>(per_page); ++i) {
      items.push_back(SizeJson(sizes_[i]));
    }
    const auto total = static_cast<int64_t>(sizes_.size());
    res.status = 200;
    res.set_content(json{{"sizes", items},
                         {"links", PageLinks("/v2/sizes", "", page, per_page, total)},
                         {"meta", {{"total", total}}}}
                        .dump(),
                    kJson);
    return;
  }
  not_found();
}

}  // namespace redisfleet::fakes
