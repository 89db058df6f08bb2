#include "redis/client.h"
#include "redis/hiredis_reply.h"

#include <cerrno>
#include <strings.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "common/redact.h"

namespace redisfleet::redis {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string Scrub(std::string text, std::string_view secret) {
  if (!secret.empty()) {
    for (std::size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + kRedacted.size())) {
      text.replace(pos, secret.size(), kRedacted);
    }
  }
  return text;
}


timeval ToTimeval(std::chrono::milliseconds ms) {
  if (ms.count() <= 0) ms = std::chrono::milliseconds(1);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

class HiredisTransport final : public RedisTransport {
 public:
  HiredisTransport(redisContext* ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}
  ~HiredisTransport() override { redisFree(ctx_); }
  HiredisTransport(const HiredisTransport&) = delete;
  HiredisTransport& operator=(const HiredisTransport&) = delete;

  StatusOr<Reply> RoundTrip(const std::vector<std::string>& argv) override {
    if (argv.empty()) return InvalidArgumentError("empty redis command");
    std::string name = argv[0];
    if (ctx_->err != 0) return Failure(name);
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    errno = 0;
    void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    if (raw == nullptr) return Failure(name);
    auto* reply = static_cast<redisReply*>(raw);
    Reply out = FromHiredis(reply);
    freeReplyObject(reply);
    return out;
  }

  std::string Peer() const override { return peer_; }

 private:
  Status Failure(const std::string& command) const {
    std::string why = ctx_->errstr[0] != '\0' ? ctx_->errstr : "connection failed";
    if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) why = "timed out";
    if (ctx_->err == REDIS_ERR_EOF) why = "connection closed by server";
    return UnavailableError("redis " + peer_ + ": " + command + ": " + why);
  }

  redisContext* ctx_;
  std::string peer_;
};

}  // namespace

Reply FromHiredis(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return Reply::String(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS:
      return Reply::StatusReply(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return Reply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER:
      return Reply::Integer(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) elements.push_back(FromHiredis(r->element[i]));
      return Reply::Array(std::move(elements));
    }
    default:
      return Reply::Nil();
  }
}

Status ErrorReplyToStatus(std::string_view error, std::string_view context) {
  std::string message = std::string(context) + ": " + RedactSecrets(error);
  if (StartsWith(error, "NOAUTH") || StartsWith(error, "WRONGPASS")) {
    return UnauthenticatedError(std::move(message));
  }
  if (StartsWith(error, "NOPERM")) return PermissionDeniedError(std::move(message));
  if (StartsWith(error, "LOADING") || StartsWith(error, "BUSY") ||
      StartsWith(error, "MASTERDOWN") || StartsWith(error, "TRYAGAIN") ||
      StartsWith(error, "CLUSTERDOWN")) {
    return UnavailableError(std::move(message));
  }
  if (StartsWith(error, "OOM") || StartsWith(error, "ERR max number of clients")) {
    return ResourceExhaustedError(std::move(message));
  }
  if (StartsWith(error, "ERR unknown command") || StartsWith(error, "ERR wrong number") ||
      StartsWith(error, "ERR syntax") || StartsWith(error, "ERR CONFIG SET failed") ||
      StartsWith(error, "ERR Unknown option") || StartsWith(error, "ERR Invalid argument")) {
    return InvalidArgumentError(std::move(message));
  }
  return FailedPreconditionError(std::move(message));
}

StatusOr<std::unique_ptr<RedisTransport>> ConnectTcp(const std::string& host, int port,
                                                     std::chrono::milliseconds timeout) {
  std::string peer = host + ":" + std::to_string(port);
  redisContext* ctx = redisConnectWithTimeout(host.c_str(), port, ToTimeval(timeout));
  if (ctx == nullptr) return UnavailableError("cannot connect to redis " + peer + ": out of memory");
  if (ctx->err != 0) {
    std::string why = ctx->errstr;
    redisFree(ctx);
    return UnavailableError("cannot connect to redis " + peer + ": " + why);
  }
  if (redisSetTimeout(ctx, ToTimeval(timeout)) != REDIS_OK) {
    redisFree(ctx);
    return UnavailableError("cannot set timeout on redis connection " + peer);
  }
  return std::unique_ptr<RedisTransport>(std::make_unique<HiredisTransport>(ctx, peer));
}

RedisClient::RedisClient(std::unique_ptr<RedisTransport> transport, std::string password)
    : transport_(std::move(transport)), password_(std::move(password)), peer_(transport_->Peer()) {}

StatusOr<std::unique_ptr<RedisClient>> RedisClient::Connect(const ConnectOptions& options) {
  RF_ASSIGN_OR_RETURN(auto transport, ConnectTcp(options.host, options.port, options.timeout));
  return Open(std::move(transport), options);
}

StatusOr<std::unique_ptr<RedisClient>> RedisClient::Open(std::unique_ptr<RedisTransport> transport,
                                                         const ConnectOptions& options) {
  if (transport == nullptr) return InvalidArgumentError("redis client needs a transport");
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(transport), options.password));
  if (!options.password.empty()) {
    std::vector<std::string> argv = {"AUTH"};
    if (!options.username.empty()) argv.push_back(options.username);
    argv.push_back(options.password);
    auto reply = client->transport_->RoundTrip(argv);
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      Status s = client->ReplyError(*reply, "AUTH to redis " + client->peer_);
      if (s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kUnavailable) return s;
      return UnauthenticatedError(s.message());
    }
  }
  if (options.db != 0) {
    const std::string context = "SELECT " + std::to_string(options.db) + " on redis " + client->peer_;
    auto reply = client->transport_->RoundTrip({"SELECT", std::to_string(options.db)});
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      Status s = client->ReplyError(*reply, context);
      // "ERR DB index is out of range": the caller's configuration is wrong.
      if (s.code() == StatusCode::kFailedPrecondition) return InvalidArgumentError(s.message());
      return s;
    }
  }
  return client;
}

Status RedisClient::ReplyError(const Reply& reply, std::string_view context,
                               std::string_view secret) const {
  return ErrorReplyToStatus(Scrub(Scrub(reply.str, password_), secret), context);
}

StatusOr<Reply> RedisClient::Command(const std::vector<std::string>& argv) {
  return transport_->RoundTrip(argv);
}

StatusOr<InfoMap> RedisClient::Info(std::vector<std::string> sections) {
  sections.insert(sections.begin(), "INFO");
  RF_ASSIGN_OR_RETURN(Reply reply, transport_->RoundTrip(sections));
  if (reply.IsError()) return ReplyError(reply, "INFO on redis " + peer_);
  if (reply.type != Reply::Type::kString) {
    return InternalError("INFO on redis " + peer_ + ": unexpected reply type");
  }
  return ParseInfo(reply.str);
}

Status RedisClient::Ping() {
  RF_ASSIGN_OR_RETURN(Reply reply, transport_->RoundTrip({"PING"}));
  if (reply.IsError()) return ReplyError(reply, "PING redis " + peer_);
  if ((reply.type == Reply::Type::kStatus || reply.type == Reply::Type::kString) &&
      reply.str == "PONG") {
    return Status::Ok();
  }
  return InternalError("PING redis " + peer_ + ": unexpected reply");
}

StatusOr<std::string> RedisClient::ConfigGet(const std::string& name) {
  RF_ASSIGN_OR_RETURN(Reply reply, transport_->RoundTrip({"CONFIG", "GET", name}));
  if (reply.IsError()) return ReplyError(reply, "CONFIG GET " + name + " on redis " + peer_);
  if (reply.type != Reply::Type::kArray) {
    return InternalError("CONFIG GET " + name + " on redis " + peer_ + ": unexpected reply type");
  }
  const auto& e = reply.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (strcasecmp(e[i].str.c_str(), name.c_str()) == 0) return e[i + 1].str;
  }
  if (e.size() == 2) return e[1].str;
  return NotFoundError("CONFIG GET " + name + " on redis " + peer_ + ": no such parameter");
}

Status RedisClient::ConfigSet(const std::string& name, const std::string& value) {
  RF_ASSIGN_OR_RETURN(Reply reply, transport_->RoundTrip({"CONFIG", "SET", name, value}));
  if (reply.IsError()) return ReplyError(reply, "CONFIG SET " + name + " on redis " + peer_, value);
  return Status::Ok();
}

}  // namespace redisfleet::redis
