#pragma once
// A small synchronous Redis client (RESP2). The byte transport is separate from the client so a
// TLS transport can be added without touching command handling. Passwords never appear in the
// Status messages produced here.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "redis/info.h"

namespace redisfleet::redis {

// One reply, as a plain value.
struct Reply {
  enum class Type { kNil, kString, kInteger, kStatus, kError, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<Reply> elements;  // kArray

  static Reply Nil() { return Reply{}; }
  static Reply String(std::string s) { return Reply{Type::kString, std::move(s), 0, {}}; }
  static Reply Integer(int64_t i) { return Reply{Type::kInteger, {}, i, {}}; }
  static Reply StatusReply(std::string s) { return Reply{Type::kStatus, std::move(s), 0, {}}; }
  static Reply Error(std::string s) { return Reply{Type::kError, std::move(s), 0, {}}; }
  static Reply Array(std::vector<Reply> e) { return Reply{Type::kArray, {}, 0, std::move(e)}; }

  bool IsError() const { return type == Type::kError; }
  bool IsNil() const { return type == Type::kNil; }
  friend bool operator==(const Reply&, const Reply&) = default;
};

// Maps a Redis error reply ("WRONGPASS ...", "LOADING ...", "OOM ...") to a Status whose code
// says what to do next; `context` (e.g. "CONFIG SET maxmemory") is prepended to the message.
Status ErrorReplyToStatus(std::string_view error, std::string_view context);

// A connection that sends one command and reads its reply. Not thread-safe.
class RedisTransport {
 public:
  virtual ~RedisTransport() = default;
  // kUnavailable when the connection failed or timed out; the transport is then unusable.
  // A Redis error reply is a Reply of type kError, not a failed Status.
  virtual StatusOr<Reply> RoundTrip(const std::vector<std::string>& argv) = 0;
  // "host:port", for messages.
  virtual std::string Peer() const = 0;
};

// Plain TCP through hiredis, with `timeout` for connecting and for every command.
// kUnavailable when the server cannot be reached.
StatusOr<std::unique_ptr<RedisTransport>> ConnectTcp(const std::string& host, int port,
                                                     std::chrono::milliseconds timeout);

struct ConnectOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // empty: AUTH <password> (the default user)
  std::string password;  // empty: no AUTH
  std::chrono::milliseconds timeout{2000};
  int db = 0;  // SELECT db after AUTH when not 0
};

// A client for one Redis server. Not thread-safe: one per user.
class RedisClient {
 public:
  // Connects, authenticates and selects `db`. kUnavailable when unreachable, kUnauthenticated
  // when the credentials are refused (the message never contains the password),
  // kInvalidArgument when the server refuses the db index.
  static StatusOr<std::unique_ptr<RedisClient>> Connect(const ConnectOptions& options);
  // Authenticates over an open transport (the seam for TLS and for tests). Errors as Connect.
  static StatusOr<std::unique_ptr<RedisClient>> Open(std::unique_ptr<RedisTransport> transport,
                                                     const ConnectOptions& options);

  // Sends `argv` (argv[0] is the command). A Redis error is a Reply of type kError; a broken
  // connection is kUnavailable.
  StatusOr<Reply> Command(const std::vector<std::string>& argv);
  // INFO [section ...], parsed. No sections: the server's default sections.
  StatusOr<InfoMap> Info(std::vector<std::string> sections = {});
  // OK when the server answers PONG; NOAUTH is kUnauthenticated.
  Status Ping();
  // The value of one configuration parameter; NotFound for an unknown one.
  StatusOr<std::string> ConfigGet(const std::string& name);
  // CONFIG SET name value. The value is never echoed in the error (it may be a password).
  Status ConfigSet(const std::string& name, const std::string& value);

  const std::string& peer() const { return peer_; }

 private:
  RedisClient(std::unique_ptr<RedisTransport> transport, std::string password);
  // A Redis error reply as a Status, with the password and `secret` scrubbed from its text.
  Status ReplyError(const Reply& reply, std::string_view context, std::string_view secret = {}) const;

  std::unique_ptr<RedisTransport> transport_;
  std::string password_;
  std::string peer_;
};

}  // namespace redisfleet::redis
