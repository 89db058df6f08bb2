#pragma once
// Email over SMTP with libcurl: smtp:// with STARTTLS (required when `starttls`), or smtps://
// (implicit TLS), AUTH (whatever of PLAIN/LOGIN/... the server offers) when a username is set.

#include <chrono>
#include <string>
#include <vector>

#include "notify/notification.h"

namespace redisfleet::notify {

struct EmailOptions {
  std::string smtp_url;   // "smtp://host:587" or "smtps://host:465"; no userinfo
  bool starttls = true;   // smtp://: require STARTTLS (CURLUSESSL_ALL); false = plain text
  std::string username;   // "" = no AUTH
  std::string password;   // the value (the caller reads passwordSecretRef); never printed
  std::string auth_mechanism{};  // "" = the best the server offers; or "PLAIN", "LOGIN", ...
  std::string from;       // "ops@example.com" or "Ops <ops@example.com>"
  std::vector<std::string> to;
  // TLS: verify the server against this CA bundle. "" = the system store (production).
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{20000};  // the whole SMTP exchange
};

// The RFC 5322 message EmailSink sends (CRLF line ends): Date (the notification's time), From,
// To, Subject (RFC 2047 encoded when not ASCII), Message-ID (<NotificationId@redis-fleet>),
// MIME-Version, Content-Type text/plain UTF-8, then the text body. Header values are stripped of
// CR/LF.
std::string BuildEmailMessage(const EmailOptions& options, const Notification& n);

// The bare address of "Name <addr>" or "addr" (for MAIL FROM / RCPT TO).
std::string MailboxAddress(const std::string& mailbox);

class EmailSink final : public Sink {
 public:
  explicit EmailSink(EmailOptions options);
  std::string_view channel() const override { return "email"; }
  // One SMTP session per call. Errors: kUnauthenticated (login refused), kDeadlineExceeded
  // (timeout), kUnavailable (connect/transport), kFailedPrecondition (no STARTTLS, TLS
  // verification failed, message or recipient refused), kInvalidArgument (bad options). The
  // message names the server (userinfo redacted), never the password.
  Status Send(const Notification& n) override;

 private:
  EmailOptions options_;
  std::string display_url_;
};

}  // namespace redisfleet::notify
