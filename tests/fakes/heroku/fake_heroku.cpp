#include "fake_heroku.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <regex>

#include "common/clock.h"
#include "common/random.h"
#include "redis/client.h"
#include "fakes/common/listen_addr.h"

namespace redisfleet::fakes {
namespace {

using nlohmann::json;
constexpr std::string_view kAccept = "application/vnd.heroku+json; version=3";
constexpr const char* kErrorUrl =
    "https://devcenter.heroku.com/articles/platform-api-reference#error-responses";

std::string FakeUuid(uint64_t kind, uint64_t n) {
  return fmt::format("{:08x}-0000-4000-8000-{:012x}", kind, n);
}

std::string AppId(const std::string& app) {
  return FakeUuid(0xa, std::hash<std::string>{}(app) & 0xffffffffffffULL);
}

std::string PlanId(const std::string& service, std::size_t index) {
  return FakeUuid(std::hash<std::string>{}(service) & 0xffffffffULL, index + 1);
}

std::string ServiceId(const std::string& service) {
  return FakeUuid(0x5e, std::hash<std::string>{}(service) & 0xffffffffffffULL);
}

}  // namespace

FakeHeroku::FakeHeroku() : FakeHeroku(Options{}) {}

FakeHeroku::FakeHeroku(Options options) : options_(std::move(options)) {
  tokens_ = static_cast<double>(options_.rate_limit_pool);
  refill_per_second_ = options_.refill_per_second;
  last_refill_ = std::chrono::steady_clock::now();
  plans_["heroku-redis"] = DefaultRedisPlans();
}

FakeHeroku::~FakeHeroku() { Stop(); }

std::vector<FakeHerokuPlan> FakeHeroku::DefaultRedisPlans() {
  // Prices are illustrative (cents per month); capacities follow Heroku's plan table.
  return {
      {"mini", "Mini", 300, 25, 20},
      {"premium-0", "Premium 0", 1500, 50, 40},
      {"premium-1", "Premium 1", 3000, 100, 80},
      {"premium-2", "Premium 2", 6000, 250, 200},
      {"premium-3", "Premium 3", 12000, 500, 400},
      {"premium-4", "Premium 4", 20000, 750, 700},
      {"premium-5", "Premium 5", 35000, 1024, 1000},
      {"premium-7", "Premium 7", 75000, 7 * 1024, 10000},
  };
}

std::string FakeHeroku::url() const { return fmt::format("http://127.0.0.1:{}", port()); }

Status FakeHeroku::Start(const std::string& addr) {
  if (started_.exchange(true)) return FailedPreconditionError("already started");
  RF_ASSIGN_OR_RETURN(auto listen, ParseListenAddr(addr));
  const auto& [host, want] = listen;
  const std::size_t workers = options_.worker_threads;
  server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_.Get(R"(/.*)", handler);
  server_.Post(R"(/.*)", handler);
  server_.Put(R"(/.*)", handler);
  server_.Patch(R"(/.*)", handler);
  server_.Delete(R"(/.*)", handler);
  internal_port_ = server_.bind_to_any_port("127.0.0.1");
  if (internal_port_ <= 0) return UnavailableError("cannot bind an internal port");
  listener_ = std::thread([this] { server_.listen_after_bind(); });

  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(want));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t len = sizeof(sa);
  if (listen_fd_ < 0 || ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    return UnavailableError("cannot bind " + addr);
  }
  port_ = ntohs(sa.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void FakeHeroku::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  // Relays see stopping_ within one poll period (50 ms); wait until the last one has ended.
  {
    std::unique_lock<std::mutex> lock(relays_mu_);
    relays_cv_.wait(lock, [this] { return active_relays_ == 0; });
  }
  server_.stop();
  if (listener_.joinable()) listener_.join();
}

void FakeHeroku::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(relays_mu_);
      ++active_relays_;
    }
    std::thread([this, fd] {
      RelayConnection(fd);
      std::lock_guard<std::mutex> lock(relays_mu_);
      if (--active_relays_ == 0) relays_cv_.notify_all();
    }).detach();
  }
}

namespace {

bool SendAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Renames the Range request header (see the header comment) and reads Content-Length.
std::string RewriteHead(const std::string& head, std::size_t* content_length) {
  std::string out;
  *content_length = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    std::size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (!first && !line.empty()) {
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name == "range") line = "X-Heroku-Range" + line.substr(colon);
      if (name == "content-length") *content_length = std::stoul(line.substr(colon + 1));
    }
    first = false;
    out += line + "\r\n";
  }
  return out;
}

}  // namespace

void FakeHeroku::RelayConnection(int client_fd) {
  const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(internal_port_));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    if (up >= 0) ::close(up);
    ::close(client_fd);
    return;
  }
  std::string in;               // client bytes not yet forwarded
  std::size_t body_left = 0;    // request body bytes to pass through as they are
  bool in_body = false;
  char buf[16384];
  bool open = true;
  while (open && !stopping_) {
    pollfd p[2] = {{client_fd, POLLIN, 0}, {up, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) continue;
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(up, buf, sizeof(buf), 0);
      if (n <= 0 || !SendAll(client_fd, buf, static_cast<std::size_t>(n))) open = false;
    }
    if (open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::recv(client_fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        open = false;
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
      for (bool progress = true; progress && open;) {
        progress = false;
        if (in_body) {
          const std::size_t k = std::min(body_left, in.size());
          if (k > 0 && !SendAll(up, in.data(), k)) open = false;
          in.erase(0, k);
          body_left -= k;
          if (body_left == 0) {
            in_body = false;
            progress = !in.empty();
          }
        } else if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
          std::size_t cl = 0;
          const std::string head = RewriteHead(in.substr(0, end), &cl) + "\r\n";
          in.erase(0, end + 4);
          if (!SendAll(up, head.data(), head.size())) open = false;
          body_left = cl;
          in_body = cl > 0;
          progress = true;
        }
      }
    }
  }
  ::shutdown(up, SHUT_RDWR);
  ::shutdown(client_fd, SHUT_RDWR);
  ::close(up);
  ::close(client_fd);
}

void FakeHeroku::SetPlans(const std::string& service, std::vector<FakeHerokuPlan> plans) {
  std::lock_guard lk(mu_);
  plans_[service] = std::move(plans);
}

StatusOr<std::string> FakeHeroku::AddAddon(FakeAddonSetup setup) {
  std::lock_guard lk(mu_);
  const auto& plans = plans_[setup.service];
  if (std::none_of(plans.begin(), plans.end(),
                   [&](const FakeHerokuPlan& p) { return p.name == setup.plan; })) {
    return InvalidArgumentError("unknown plan " + setup.plan);
  }
  for (const auto& a : addons_) {
    if (a.setup.name == setup.name) return InvalidArgumentError("duplicate add-on " + setup.name);
  }
  Addon a;
  a.id = setup.id.empty() ? FakeUuid(0xadd0, next_id_++) : setup.id;
  a.plan = setup.plan;
  a.state = setup.state;
  a.created_at = FormatTime(std::chrono::system_clock::now());
  if (setup.backend) {
    const auto& b = *setup.backend;
    const std::string key = fmt::format("{}:{}", b.host, b.admin_port);
    backend_passwords_.emplace(key, b.password);
    config_vars_[setup.app][setup.config_var] =
        fmt::format("rediss://:{}@{}:{}", backend_passwords_[key], b.host, b.tls_port);
  } else {
    config_vars_[setup.app];
  }
  a.setup = std::move(setup);
  addons_.push_back(std::move(a));
  return addons_.back().id;
}

Status FakeHeroku::SetAddonState(const std::string& addon, const std::string& state) {
  std::lock_guard lk(mu_);
  Addon* a = FindLocked("", addon);
  if (!a) return NotFoundError("no add-on " + addon);
  a->state = state;
  a->pending_plan.clear();
  return Status::Ok();
}

void FakeHeroku::SetConfigVar(const std::string& app, const std::string& name,
                              const std::string& value) {
  std::lock_guard lk(mu_);
  config_vars_[app][name] = value;
}

std::optional<std::string> FakeHeroku::ConfigVar(const std::string& app,
                                                 const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = config_vars_.find(app);
  if (it == config_vars_.end()) return std::nullopt;
  auto v = it->second.find(name);
  if (v == it->second.end()) return std::nullopt;
  return v->second;
}

std::optional<std::string> FakeHeroku::BackendPassword(const std::string& addon) const {
  std::lock_guard lk(mu_);
  for (const auto& a : addons_) {
    if ((a.setup.name == addon || a.id == addon) && a.setup.backend) {
      auto it = backend_passwords_.find(
          fmt::format("{}:{}", a.setup.backend->host, a.setup.backend->admin_port));
      if (it != backend_passwords_.end()) return it->second;
    }
  }
  return std::nullopt;
}

std::optional<std::string> FakeHeroku::AddonPlan(const std::string& addon) const {
  std::lock_guard lk(mu_);
  for (const auto& a : addons_) {
    if (a.setup.name == addon || a.id == addon) return a.plan;
  }
  return std::nullopt;
}

void FakeHeroku::FailNext(int n, int status, std::string id, std::string message) {
  std::lock_guard lk(mu_);
  fail_n_ = n;
  fail_status_ = status;
  fail_id_ = std::move(id);
  fail_message_ = std::move(message);
}

void FakeHeroku::SlowNext(int n, std::chrono::milliseconds delay) {
  std::lock_guard lk(mu_);
  slow_n_ = n;
  slow_delay_ = delay;
}

void FakeHeroku::SetRateLimit(double remaining, double refill_per_second) {
  std::lock_guard lk(mu_);
  tokens_ = remaining;
  refill_per_second_ = refill_per_second;
  last_refill_ = std::chrono::steady_clock::now();
}

std::vector<FakeHeroku::LogEntry> FakeHeroku::RequestLog() const {
  std::lock_guard lk(mu_);
  return log_;
}

void FakeHeroku::ClearLog() {
  std::lock_guard lk(mu_);
  log_.clear();
}

void FakeHeroku::RefillLocked() {
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(static_cast<double>(options_.rate_limit_pool),
                     tokens_ + secs * refill_per_second_);
}

std::string FakeHeroku::NewPassword() {
  CryptoRandom random;
  return random.AlphaNumeric(32);
}

void FakeHeroku::Error(httplib::Response& res, int status, const std::string& id,
                       const std::string& message) {
  res.status = status;
  res.set_content(json{{"id", id}, {"message", message}, {"url", kErrorUrl}}.dump(),
                  "application/json");
}

FakeHeroku::Addon* FakeHeroku::FindLocked(const std::string& app, const std::string& addon) {
  for (auto& a : addons_) {
    if (a.setup.name != addon && a.id != addon) continue;
    if (!app.empty() && app != a.setup.app && app != AppId(a.setup.app)) continue;
    return &a;
  }
  return nullptr;
}

json FakeHeroku::AddonJson(const Addon& a) const {
  const auto& plans = plans_.at(a.setup.service);
  std::string plan_id;
  int64_t cents = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].name == a.plan) {
      plan_id = PlanId(a.setup.service, i);
      cents = plans[i].cents;
    }
  }
  const std::string now = FormatTime(std::chrono::system_clock::now());
  return json{
      {"actions", json::array()},
      {"addon_service", {{"id", ServiceId(a.setup.service)}, {"name", a.setup.service}}},
      {"billing_entity", {{"id", AppId(a.setup.app)}, {"name", a.setup.app}, {"type", "app"}}},
      {"app", {{"id", AppId(a.setup.app)}, {"name", a.setup.app}}},
      {"billed_price", {{"cents", cents}, {"contract", false}, {"unit", "month"}}},
      {"config_vars", json::array({a.setup.config_var})},
      {"created_at", a.created_at},
      {"id", a.id},
      {"name", a.setup.name},
      {"plan", {{"id", plan_id}, {"name", a.setup.service + ":" + a.plan}}},
      {"provider_id", "resource-" + a.id.substr(a.id.size() - 6)},
      {"provision_message", nullptr},
      {"state", a.state},
      {"updated_at", now},
      {"web_url", "https://data.heroku.com/redis/" + a.id},
  };
}

void FakeHeroku::Settle(Addon& a) {
  if (a.state != "provisioning" || a.pending_plan.empty() ||
      std::chrono::steady_clock::now() < a.ready_at) {
    return;
  }
  if (a.setup.backend) {
    const auto& plans = plans_.at(a.setup.service);
    auto plan = std::find_if(plans.begin(), plans.end(),
                             [&](const FakeHerokuPlan& p) { return p.name == a.pending_plan; });
    const auto& b = *a.setup.backend;
    const std::string key = fmt::format("{}:{}", b.host, b.admin_port);
    redis::ConnectOptions co;
    co.host = b.host;
    co.port = b.admin_port;
    co.password = backend_passwords_[key];
    auto client = redis::RedisClient::Connect(co);
    Status s = client.ok() ? Status::Ok() : client.error();
    if (s.ok() && plan != plans.end()) {
      s = (*client)->ConfigSet("maxmemory", fmt::format("{}mb", plan->memory_mib));
      if (s.ok()) s = (*client)->ConfigSet("maxclients", std::to_string(plan->max_clients));
    }
    if (s.ok() && a.setup.rotate_url_on_change) {
      const std::string pass = NewPassword();
      s = (*client)->ConfigSet("requirepass", pass);
      if (s.ok()) {
        backend_passwords_[key] = pass;
        // Every add-on on this server now has the new credentials (Heroku's rotation).
        for (const auto& other : addons_) {
          if (!other.setup.backend || other.setup.backend->host != b.host ||
              other.setup.backend->admin_port != b.admin_port) {
            continue;
          }
          config_vars_[other.setup.app][other.setup.config_var] = fmt::format(
              "rediss://:{}@{}:{}", pass, other.setup.backend->host, other.setup.backend->tls_port);
        }
      }
    }
    if (!s.ok()) {
      // Stay provisioning; the next read tries again.
      std::fprintf(stderr, "fake-heroku: applying plan %s to %s failed: %s\n",
                   a.pending_plan.c_str(), key.c_str(), s.ToString().c_str());
      return;
    }
  }
  a.plan = a.pending_plan;
  a.pending_plan.clear();
  a.state = "provisioned";
}

void FakeHeroku::Handle(const httplib::Request& req, httplib::Response& res) {
  const bool plans_path = req.path.rfind("/addon-services/", 0) == 0;
  const bool rate_path = req.path == "/account/rate-limits";
  std::chrono::milliseconds delay{0};
  bool answered = false;
  res.status = 200;
  {
    std::lock_guard lk(mu_);
    RefillLocked();
    const std::string auth = req.get_header_value("Authorization");
    const bool auth_ok = auth == "Bearer " + options_.api_key;
    if (req.get_header_value("Accept") != kAccept) {
      Error(res, 406, "not_acceptable",
            "The requested API version is not available. Set Accept: "
            "application/vnd.heroku+json; version=3.");
      answered = true;
    } else if (!auth_ok && !(plans_path && auth.empty())) {
      Error(res, 401, "unauthorized", "Invalid credentials provided.");
      answered = true;
    } else if (!rate_path && tokens_ < 1.0) {
      Error(res, 429, "rate_limit", "Your account reached the API rate limit");
      if (options_.retry_after_seconds > 0) {
        res.set_header("Retry-After", std::to_string(options_.retry_after_seconds));
      }
      answered = true;
    } else {
      if (!rate_path) tokens_ -= 1.0;
      if (fail_n_ > 0) {
        --fail_n_;
        Error(res, fail_status_, fail_id_, fail_message_);
        answered = true;
      }
      if (slow_n_ > 0) {
        --slow_n_;
        delay = slow_delay_;
      }
    }
    res.set_header("RateLimit-Remaining",
                   std::to_string(static_cast<int64_t>(std::floor(std::max(0.0, tokens_)))));
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  if (!answered) Route(req, res);
  res.set_header("Request-Id", req.get_header_value("Request-Id"));
  std::lock_guard lk(mu_);
  log_.push_back(LogEntry{req.method, req.path, res.status, req.get_header_value("Request-Id"),
                          req.get_header_value("User-Agent")});
}

void FakeHeroku::Route(const httplib::Request& req, httplib::Response& res) {
  static const std::regex kAppAddon(R"(^/apps/([^/]+)/addons/([^/]+)$)");
  static const std::regex kAddon(R"(^/addons/([^/]+)$)");
  static const std::regex kAppAddons(R"(^/apps/([^/]+)/addons$)");
  static const std::regex kConfigVars(R"(^/apps/([^/]+)/config-vars$)");
  static const std::regex kPlans(R"(^/addon-services/([^/]+)/plans$)");
  static const std::regex kRange(
      R"(^\s*(id|name)\s*(\]?)([^.;\s]*)\s*\.\.\s*([^;\s]*)\s*(;\s*max=(\d+)\s*;?)?\s*$)");
  std::smatch m;
  std::lock_guard lk(mu_);
  const std::string& path = req.path;

  if (req.method == "GET" && path == "/account/rate-limits") {
    res.set_content(json{{"remaining", static_cast<int64_t>(std::max(0.0, tokens_))}}.dump(),
                    "application/json");
    return;
  }
  if (std::regex_match(path, m, kAppAddon) || std::regex_match(path, m, kAddon)) {
    const bool by_app = m.size() == 3;
    const std::string app = by_app ? m[1].str() : "";
    Addon* a = FindLocked(app, m[by_app ? 2 : 1].str());
    if (!a) return Error(res, 404, "not_found", "Couldn't find that add-on.");
    Settle(*a);
    if (req.method == "GET") {
      res.set_content(AddonJson(*a).dump(), "application/json");
      return;
    }
    if (req.method != "PATCH" || !by_app) return Error(res, 404, "not_found", "Not found.");
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("plan") || !body["plan"].is_string()) {
      return Error(res, 422, "invalid_params", "Missing required params: plan.");
    }
    const std::string want = body["plan"].get<std::string>();
    const auto& plans = plans_[a->setup.service];
    std::string target;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      if (want == a->setup.service + ":" + plans[i].name || want == PlanId(a->setup.service, i)) {
        target = plans[i].name;
      }
    }
    if (target.empty()) return Error(res, 422, "invalid_params", "Couldn't find that plan.");
    if (!a->setup.plan_change_supported) {
      return Error(res, 422, "invalid_params", "plan change not supported");
    }
    if (a->state == "deprovisioned") {
      return Error(res, 422, "invalid_params", "This add-on is deprovisioned.");
    }
    if (a->state == "provisioning") {
      return Error(res, 422, "invalid_params", "A plan change is already in progress.");
    }
    if (target != a->plan) {  // the same plan again: 200, nothing to do
      a->state = "provisioning";
      a->pending_plan = target;
      a->ready_at = std::chrono::steady_clock::now() + options_.provisioning_time;
    }
    json out = AddonJson(*a);
    out["plan"]["name"] = a->setup.service + ":" + target;
    res.set_content(out.dump(), "application/json");
    return;
  }
  if (req.method == "GET" && std::regex_match(path, m, kAppAddons)) {
    json out = json::array();
    for (auto& a : addons_) {
      if (a.setup.app == m[1].str() || AppId(a.setup.app) == m[1].str()) {
        Settle(a);
        out.push_back(AddonJson(a));
      }
    }
    res.set_content(out.dump(), "application/json");
    return;
  }
  if (req.method == "GET" && std::regex_match(path, m, kConfigVars)) {
    auto it = config_vars_.find(m[1].str());
    if (it == config_vars_.end()) return Error(res, 404, "not_found", "Couldn't find that app.");
    res.set_content(json(it->second).dump(), "application/json");
    return;
  }
  if (req.method == "GET" && std::regex_match(path, m, kPlans)) {
    const std::string service = m[1].str();
    auto it = plans_.find(service);
    if (it == plans_.end()) {
      return Error(res, 404, "not_found", "Couldn't find that add-on service.");
    }
    std::vector<json> items;
    for (std::size_t i = 0; i < it->second.size(); ++i) {
      const auto& p = it->second[i];
      items.push_back(json{
          {"addon_service", {{"id", ServiceId(service)}, {"name", service}}},
          {"compliance", nullptr},
          {"created_at", "2012-01-01T12:00:00Z"},
          {"default", i == 0},
          {"description", "Heroku Redis " + p.human_name},
          {"human_name", p.human_name},
          {"id", PlanId(service, i)},
          {"installable_inside_private_network", false},
          {"installable_outside_private_network", true},
          {"name", service + ":" + p.name},
          {"price", {{"cents", p.cents}, {"contract", false}, {"unit", "month"}}},
          {"space_default", false},
          {"state", "public"},
          {"updated_at", "2012-01-01T12:00:00Z"},
          {"visible", true},
      });
    }
    std::string field = "id";
    std::string start;
    bool exclusive = false;
    std::size_t max = 200;
    const std::string range = req.get_header_value("X-Heroku-Range");
    if (!range.empty()) {
      std::smatch r;
      if (!std::regex_match(range, r, kRange)) {
        return Error(res, 416, "requested_range_not_satisfiable", "Invalid Range header.");
      }
      field = r[1].str();
      exclusive = r[2].length() > 0;
      start = r[3].str();
      if (r[6].matched) max = std::clamp<std::size_t>(std::stoul(r[6].str()), 1, 1000);
    }
    std::sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      return a[field].get<std::string>() < b[field].get<std::string>();
    });
    json page = json::array();
    std::size_t i = 0;
    while (i < items.size() && !start.empty() &&
           (exclusive ? items[i][field].get<std::string>() <= start
                      : items[i][field].get<std::string>() < start)) {
      ++i;
    }
    const std::size_t first = i;
    for (; i < items.size() && page.size() < max; ++i) page.push_back(items[i]);
    res.set_header("Accept-Ranges", "id, name");
    if (!page.empty()) {
      res.set_header("Content-Range",
                     fmt::format("{} {}..{}", field, items[first][field].get<std::string>(),
                                 page.back()[field].get<std::string>()));
    }
    if (i < items.size()) {
      res.status = 206;
      res.set_header("Next-Range", fmt::format("{} ]{}..; max={};", field,
                                               page.back()[field].get<std::string>(), max));
    }
    res.set_content(page.dump(), "application/json");
    return;
  }
  Error(res, 404, "not_found", "The requested API endpoint was not found.");
}

}  // namespace redisfleet::fakes
