#include "redis/tls_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "redis/hiredis_reply.h"

namespace redisfleet::redis {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// The first queued OpenSSL error as text, or `fallback`.
std::string SslErrorText(std::string_view fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(fallback);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

int MillisLeft(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline; false on timeout or poll failure.
bool WaitFd(int fd, short events, SteadyTime deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

StatusOr<Fd> ConnectSocket(const std::string& host, int port, const std::string& peer,
                           SteadyTime deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) return UnavailableError("cannot connect to redis " + peer + ": " + gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      why = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        why = std::strerror(errno);
        continue;
      }
      if (!WaitFd(fd.get(), POLLOUT, deadline)) {
        why = "connect timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        why = std::strerror(err);
        continue;
      }
    }
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return UnavailableError("cannot connect to redis " + peer + ": " + why);
}

class TlsTransport final : public RedisTransport {
 public:
  TlsTransport(Fd fd, std::shared_ptr<void> ctx, std::unique_ptr<SSL, SslDeleter> ssl,
               std::string peer, std::chrono::milliseconds timeout)
      : fd_(std::move(fd)), ctx_(std::move(ctx)), ssl_(std::move(ssl)), peer_(std::move(peer)),
        timeout_(timeout), reader_(redisReaderCreate()) {}

  StatusOr<Reply> RoundTrip(const std::vector<std::string>& argv) override {
    if (argv.empty()) return InvalidArgumentError("empty redis command");
    const std::string& name = argv[0];
    if (broken_) return UnavailableError("redis " + peer_ + ": " + name + ": connection is broken");
    if (reader_ == nullptr) return Fail(name, "out of memory");
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout_;

    out_.clear();
    out_ += '*';
    out_ += std::to_string(argv.size());
    out_ += "\r\n";
    for (const std::string& a : argv) {
      out_ += '$';
      out_ += std::to_string(a.size());
      out_ += "\r\n";
      out_ += a;
      out_ += "\r\n";
    }
    std::size_t sent = 0;
    while (sent < out_.size()) {
      ERR_clear_error();
      errno = 0;
      int n = SSL_write(ssl_.get(), out_.data() + sent, static_cast<int>(out_.size() - sent));
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      RF_RETURN_IF_ERROR(WaitIo(name, n, deadline));
    }
    if (name == "AUTH") OPENSSL_cleanse(out_.data(), out_.size());  // no password left in the buffer
    char in[16 * 1024];
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        return Fail(name, std::string("protocol error: ") + reader_->errstr);
      }
      if (raw != nullptr) {
        auto* reply = static_cast<redisReply*>(raw);
        Reply r = FromHiredis(reply);
        freeReplyObject(reply);
        return r;
      }
      // Wait for the socket first when OpenSSL holds nothing: saves a read that would say EAGAIN.
      if (!SSL_has_pending(ssl_.get()) && !WaitFd(fd_.get(), POLLIN, deadline)) return Fail(name, "timed out");
      ERR_clear_error();
      errno = 0;
      int n = SSL_read(ssl_.get(), in, sizeof(in));
      if (n > 0) {
        if (redisReaderFeed(reader_.get(), in, static_cast<std::size_t>(n)) != REDIS_OK) {
          return Fail(name, "protocol error");
        }
        continue;
      }
      RF_RETURN_IF_ERROR(WaitIo(name, n, deadline));
    }
  }

  std::string Peer() const override { return peer_; }

 private:
  // After an SSL_read/SSL_write result `n` <= 0: waits for the socket when OpenSSL asks to,
  // else marks the connection broken.
  Status WaitIo(const std::string& name, int n, SteadyTime deadline) {
    int err = SSL_get_error(ssl_.get(), n);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ) events = POLLIN;
    if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (events == 0) {
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
        return Fail(name, "connection closed by server");
      }
      if (err == SSL_ERROR_SYSCALL) return Fail(name, std::strerror(errno));
      return Fail(name, SslErrorText("TLS error"));
    }
    if (!WaitFd(fd_.get(), events, deadline)) return Fail(name, "timed out");
    return Status::Ok();
  }

  Status Fail(const std::string& name, const std::string& why) {
    broken_ = true;
    OPENSSL_cleanse(out_.data(), out_.size());
    return UnavailableError("redis " + peer_ + ": " + name + ": " + why);
  }

  Fd fd_;
  std::shared_ptr<void> ctx_;  // SSL_CTX, shared through TlsContextCache
  std::unique_ptr<SSL, SslDeleter> ssl_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
  bool broken_ = false;
  std::string out_;
};

// A client context for `options`: TLS >= 1.2, the CA store loaded when verifying.
StatusOr<std::shared_ptr<void>> NewContext(const TlsOptions& options) {
  ERR_clear_error();
  std::shared_ptr<void> ctx(SSL_CTX_new(TLS_client_method()), [](void* c) { SSL_CTX_free(static_cast<SSL_CTX*>(c)); });
  SSL_CTX* c = static_cast<SSL_CTX*>(ctx.get());
  if (c == nullptr) return InternalError(SslErrorText("cannot create TLS context"));
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  if (options.verify) {
    int ok = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(c)
                                     : SSL_CTX_load_verify_locations(c, options.ca_file.c_str(), nullptr);
    if (ok != 1) {
      return InvalidArgumentError("cannot load CA " +
                                  (options.ca_file.empty() ? std::string("system store") : options.ca_file) + ": " +
                                  SslErrorText("unknown error"));
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

// (mtime, size) of a CA file; zeros for the system store or a missing file.
std::pair<int64_t, int64_t> FileStamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {0, 0};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size)};
}

}  // namespace

struct TlsContextCache::Entry {
  std::weak_ptr<void> ctx;
  std::pair<int64_t, int64_t> stamp;
};

TlsContextCache::TlsContextCache() = default;
TlsContextCache::~TlsContextCache() = default;

StatusOr<std::shared_ptr<void>> TlsContextCache::Get(const TlsOptions& options) {
  const auto key = std::make_pair(options.verify ? options.ca_file : std::string(), options.verify);
  const auto stamp = options.verify ? FileStamp(options.ca_file) : std::pair<int64_t, int64_t>{0, 0};
  std::lock_guard<std::mutex> lock(mu_);
  auto& entry = entries_[key];
  if (entry == nullptr) entry = std::make_unique<Entry>();
  if (entry->stamp == stamp) {
    if (auto ctx = entry->ctx.lock()) return ctx;
  }
  RF_ASSIGN_OR_RETURN(std::shared_ptr<void> ctx, NewContext(options));
  entry->ctx = ctx;
  entry->stamp = stamp;
  return ctx;
}

namespace {

bool IsIpAddress(const std::string& name) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, name.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &a6) == 1;
}

}  // namespace

StatusOr<std::unique_ptr<RedisTransport>> ConnectTls(const std::string& host, int port,
                                                     const TlsOptions& options,
                                                     std::chrono::milliseconds timeout,
                                                     TlsContextCache* contexts) {
  if (timeout.count() <= 0) timeout = std::chrono::milliseconds(1);
  const std::string peer = host + ":" + std::to_string(port);
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;

  auto got = contexts != nullptr ? contexts->Get(options) : NewContext(options);
  if (!got.ok()) return got.status().WithContext("TLS to redis " + peer);
  std::shared_ptr<void> ctx_holder = std::move(*got);
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ctx_holder.get());

  RF_ASSIGN_OR_RETURN(Fd fd, ConnectSocket(host, port, peer, deadline));

  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx));
  if (ssl == nullptr || SSL_set_fd(ssl.get(), fd.get()) != 1) {
    return InternalError("TLS to redis " + peer + ": " + SslErrorText("cannot create session"));
  }
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  const bool ip = IsIpAddress(name);
  if (!ip) SSL_set_tlsext_host_name(ssl.get(), name.c_str());
  if (options.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) return InvalidArgumentError("TLS to redis " + peer + ": bad server name '" + name + "'");
  }

  for (;;) {
    ERR_clear_error();
    errno = 0;
    int n = SSL_connect(ssl.get());
    if (n == 1) break;
    int err = SSL_get_error(ssl.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!WaitFd(fd.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return UnavailableError("TLS to redis " + peer + ": handshake timed out");
      }
      continue;
    }
    long verify = SSL_get_verify_result(ssl.get());
    if (options.verify && verify != X509_V_OK) {
      ERR_clear_error();
      return FailedPreconditionError("TLS to redis " + peer + ": certificate verify failed: " +
                                     X509_verify_cert_error_string(verify));
    }
    if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
      std::string why = errno != 0 ? std::strerror(errno) : "connection closed by server";
      ERR_clear_error();
      return UnavailableError("TLS to redis " + peer + ": handshake failed: " + why);
    }
    return FailedPreconditionError("TLS to redis " + peer + ": handshake failed: " +
                                   SslErrorText("unknown error"));
  }
  return std::unique_ptr<RedisTransport>(
      std::make_unique<TlsTransport>(std::move(fd), std::move(ctx_holder), std::move(ssl), peer, timeout));
}

}  // namespace redisfleet::redis
