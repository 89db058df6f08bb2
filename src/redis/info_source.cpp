#include "redis/info_source.h"

#include <charconv>

#include "redis/url.h"

namespace redisfleet::redis {
namespace {

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

void SetInt(std::string_view value, int64_t* out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec == std::errc() && end == value.data() + value.size()) *out = v;
}

const std::vector<std::string>& AllSections() {
  static const std::vector<std::string> kArgv = {"INFO", "memory", "clients", "stats"};
  return kArgv;
}
const std::vector<std::vector<std::string>>& OneSectionEach() {
  static const std::vector<std::vector<std::string>> kArgv = {
      {"INFO", "memory"}, {"INFO", "clients"}, {"INFO", "stats"}};
  return kArgv;
}

}  // namespace

std::string_view ScrapeErrorName(ScrapeError e) {
  switch (e) {
    case ScrapeError::kNone: return "none";
    case ScrapeError::kBackoff: return "backoff";
    case ScrapeError::kConnect: return "connect";
    case ScrapeError::kTls: return "tls";
    case ScrapeError::kAuth: return "auth";
    case ScrapeError::kTimeout: return "timeout";
    case ScrapeError::kIo: return "io";
    case ScrapeError::kReply: return "reply";
  }
  return "unknown";
}

void SampleFromInfo(std::string_view payload, RedisSample* s) {
  struct Field {
    std::string_view name;
    int64_t RedisSample::*member;
  };
  static constexpr Field kFields[] = {
      {"used_memory", &RedisSample::used_memory},
      {"maxmemory", &RedisSample::maxmemory},
      {"connected_clients", &RedisSample::connected_clients},
      {"maxclients", &RedisSample::maxclients},
      {"evicted_keys", &RedisSample::evicted_keys},
      {"rejected_connections", &RedisSample::rejected_connections},
      {"instantaneous_ops_per_sec", &RedisSample::instantaneous_ops_per_sec},
  };
  std::size_t pos = 0;
  while (pos < payload.size()) {
    std::size_t eol = payload.find('\n', pos);
    if (eol == std::string_view::npos) eol = payload.size();
    std::string_view line = payload.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.front() == '#') continue;
    std::string_view name = line.substr(0, colon);
    for (const Field& f : kFields) {
      if (name == f.name) {
        SetInt(line.substr(colon + 1), &(s->*f.member));
        break;
      }
    }
  }
}

InfoSource::InfoSource(InfoSourceOptions options, const Clock& clock, Connector connector)
    : options_(std::move(options)),
      clock_(clock),
      connector_(std::move(connector)),
      backoff_(options_.backoff_base, options_.backoff_cap) {
  if (!connector_) {
    connector_ = [](const InfoSourceOptions& o) { return Connect(o.connect, o.tls, o.tls_options, o.tls_contexts.get()); };
  }
}

Status InfoSource::Fail(Status s, ScrapeError why, TimePoint now) {
  client_.reset();
  next_attempt_ = now + backoff_.Delay(failures_);
  ++failures_;
  last_error_ = why;
  last_status_ = s;
  return s;
}

StatusOr<RedisSample> InfoSource::Scrape() {
  const TimePoint now = clock_.Now();
  if (client_ == nullptr) {
    if (failures_ > 0 && now < next_attempt_) {
      last_error_ = ScrapeError::kBackoff;
      return UnavailableError("redis " + options_.connect.host + ":" + std::to_string(options_.connect.port) +
                              ": backing off after: " + last_status_.message());
    }
    auto client = connector_(options_);
    if (!client.ok()) {
      const Status& s = client.status();
      ScrapeError why = ScrapeError::kConnect;
      if (s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied) {
        why = ScrapeError::kAuth;
      } else if (options_.tls && s.code() == StatusCode::kFailedPrecondition) {
        why = ScrapeError::kTls;
      } else if (Contains(s.message(), "timed out")) {
        why = ScrapeError::kTimeout;
      }
      return Fail(s, why, now);
    }
    client_ = std::move(*client);
    ++connects_;
    multi_section_.reset();
    config_maxmemory_.reset();
    config_maxclients_.reset();
  }
  return ScrapeConnected(now);
}

StatusOr<std::string> InfoSource::InfoPayload(const std::vector<std::string>& argv) {
  RF_ASSIGN_OR_RETURN(Reply reply, client_->Command(argv));
  if (reply.IsError()) return ErrorReplyToStatus(reply.str, "INFO on redis " + client_->peer());
  if (reply.type != Reply::Type::kString) {
    return InternalError("INFO on redis " + client_->peer() + ": unexpected reply type");
  }
  return std::move(reply.str);
}

int64_t InfoSource::ConfigValue(const char* name, std::optional<int64_t>* cache) {
  if (!cache->has_value()) {
    int64_t v = -1;
    auto value = client_->ConfigGet(name);  // refused (renamed, ACL): -1 until reconnect
    if (value.ok()) SetInt(*value, &v);
    *cache = v;
  }
  return **cache;
}

StatusOr<RedisSample> InfoSource::ScrapeConnected(TimePoint now) {
  RedisSample sample;
  sample.time = now;
  auto fail = [&](const Status& s) {
    ScrapeError why = ScrapeError::kReply;
    if (s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied) {
      why = ScrapeError::kAuth;
    } else if (s.code() == StatusCode::kUnavailable && Contains(s.message(), "timed out")) {
      why = ScrapeError::kTimeout;
    } else if (s.code() == StatusCode::kUnavailable) {
      why = ScrapeError::kIo;
    }
    return Fail(s, why, now);
  };

  if (multi_section_.value_or(true)) {
    auto payload = InfoPayload(AllSections());
    if (payload.ok()) {
      multi_section_ = true;
      SampleFromInfo(*payload, &sample);
    } else if (!multi_section_.has_value() && payload.status().code() == StatusCode::kInvalidArgument) {
      multi_section_ = false;  // 6.x: "ERR syntax error" for more than one section
    } else {
      return fail(payload.status());
    }
  }
  if (!*multi_section_) {
    for (const auto& argv : OneSectionEach()) {
      auto payload = InfoPayload(argv);
      if (!payload.ok()) return fail(payload.status());
      SampleFromInfo(*payload, &sample);
    }
  }
  if (sample.maxmemory < 0) sample.maxmemory = ConfigValue("maxmemory", &config_maxmemory_);
  if (sample.maxclients < 0) sample.maxclients = ConfigValue("maxclients", &config_maxclients_);
  sample.ok = true;
  failures_ = 0;
  last_error_ = ScrapeError::kNone;
  return sample;
}

}  // namespace redisfleet::redis
