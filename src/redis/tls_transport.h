#pragma once
// A RedisTransport over TLS (OpenSSL) on a plain socket, with hiredis's redisReader for RESP
// (Debian's hiredis 0.14 has no TLS). Verification is on by default.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/status.h"
#include "redis/client.h"

namespace redisfleet::redis {

struct TlsOptions {
  // PEM file of trusted CAs; empty: the system store.
  std::string ca_file;
  // Verify the chain and the server's name. false is the explicit per-instance opt-out for
  // providers with self-signed certificates (the connection is encrypted but not authenticated).
  bool verify = true;
  // Name for SNI and for the certificate check (DNS name or IP address); empty: the host.
  std::string server_name;
};

// Shares one OpenSSL context (with its parsed CA store: the system bundle is ~140 certificates)
// between the connections that use the same ca_file and verify setting, instead of one per
// connection. A CA file changed on disk (mtime or size) gets a new context for new connections.
// Thread-safe.
class TlsContextCache {
 public:
  TlsContextCache();
  ~TlsContextCache();
  TlsContextCache(const TlsContextCache&) = delete;
  TlsContextCache& operator=(const TlsContextCache&) = delete;

  struct Entry;
  // The context for `options` (an opaque SSL_CTX handle shared by its users). kInvalidArgument
  // when the CA file cannot be loaded.
  StatusOr<std::shared_ptr<void>> Get(const TlsOptions& options);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, bool>, std::unique_ptr<Entry>> entries_;
};

// Connects to host:port, then handshakes; `timeout` bounds connecting, the handshake and every
// later command (each on its own). kUnavailable when the server cannot be reached, the
// handshake times out or the connection breaks; kFailedPrecondition when the handshake fails
// ("certificate verify failed: self-signed certificate", "TLS handshake failed: ...");
// kInvalidArgument when ca_file cannot be loaded. The transport is not thread-safe; callers
// must ignore SIGPIPE (controller/main.cpp does), as for hiredis.
// `contexts` (may be null: a context of its own) shares OpenSSL contexts between connections.
StatusOr<std::unique_ptr<RedisTransport>> ConnectTls(const std::string& host, int port,
                                                     const TlsOptions& options,
                                                     std::chrono::milliseconds timeout,
                                                     TlsContextCache* contexts = nullptr);

}  // namespace redisfleet::redis
