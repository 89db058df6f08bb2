#include "notify/email.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "common/redact.h"

namespace redisfleet::notify {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::string OneLine(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string Base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

// RFC 2047 encoded-words (B encoding), split so no word exceeds 75 characters and no UTF-8
// sequence is cut.
std::string EncodeHeaderText(const std::string& text) {
  if (IsAscii(text)) return text;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + 45);
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(text).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

// RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 09:29:43 +0000".
std::string RfcDate(TimePoint t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Body lines end in CRLF and stay under the 998-character limit.
std::string CrlfBody(std::string_view text) {
  std::string out;
  std::size_t col = 0;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
      col = 0;
      continue;
    }
    if (col == 990) {
      out += "\r\n";
      col = 0;
    }
    out += c;
    ++col;
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

struct Upload {
  std::string_view data;
  std::size_t pos = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t nitems, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * nitems, up->data.size() - up->pos);
  std::copy_n(up->data.data() + up->pos, n, buffer);
  up->pos += n;
  return n;
}

size_t Discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

// Replaces every occurrence of `secret` (when non-empty) in `text`.
std::string Scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + kRedacted.size())) {
    text.replace(pos, secret.size(), kRedacted);
  }
  return text;
}

}  // namespace

std::string MailboxAddress(const std::string& mailbox) {
  const std::size_t lt = mailbox.rfind('<');
  const std::size_t gt = mailbox.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) return mailbox.substr(lt + 1, gt - lt - 1);
  std::string s = mailbox;
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

std::string BuildEmailMessage(const EmailOptions& options, const Notification& n) {
  std::string to;
  for (const auto& rcpt : options.to) {
    if (!to.empty()) to += ", ";
    to += OneLine(rcpt);
  }
  std::string domain = "redis-fleet";
  const std::string from_addr = MailboxAddress(options.from);
  if (std::size_t at = from_addr.rfind('@'); at != std::string::npos && at + 1 < from_addr.size()) {
    domain = OneLine(from_addr.substr(at + 1));
  }
  std::string msg;
  msg += "Date: " + RfcDate(n.time) + "\r\n";
  msg += "From: " + OneLine(options.from) + "\r\n";
  msg += "To: " + to + "\r\n";
  msg += "Subject: " + EncodeHeaderText(OneLine(Subject(n))) + "\r\n";
  msg += "Message-ID: <" + NotificationId(n) + "." + std::string(EventName(n.event)) + "@" + domain + ">\r\n";
  msg += "MIME-Version: 1.0\r\n";
  msg += "Content-Type: text/plain; charset=utf-8\r\n";
  msg += "Content-Transfer-Encoding: 8bit\r\n";
  msg += "Auto-Submitted: auto-generated\r\n";
  msg += "X-Redis-Fleet-Event: " + std::string(EventName(n.event)) + "\r\n";
  msg += "\r\n";
  msg += CrlfBody(TextBody(n));
  return msg;
}

EmailSink::EmailSink(EmailOptions options)
    : options_(std::move(options)), display_url_(DisplayUrl(options_.smtp_url)) {}

Status EmailSink::Send(const Notification& n) {
  const std::string where = fmt::format("email via {}", display_url_);
  if (!options_.smtp_url.starts_with("smtp://") && !options_.smtp_url.starts_with("smtps://")) {
    return InvalidArgumentError(where + ": smtpURL must start with smtp:// or smtps://");
  }
  if (options_.to.empty()) return InvalidArgumentError(where + ": no recipients");
  if (MailboxAddress(options_.from).empty()) return InvalidArgumentError(where + ": no from address");

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return InternalError(where + ": curl_easy_init failed");
  CURL* c = curl.get();
  const std::string message = BuildEmailMessage(options_, n);
  Upload upload{message, 0};
  std::unique_ptr<curl_slist, SlistDeleter> rcpts;
  for (const auto& rcpt : options_.to) {
    curl_slist* next = curl_slist_append(rcpts.get(), ("<" + MailboxAddress(rcpt) + ">").c_str());
    if (next == nullptr) return InternalError(where + ": out of memory");
    rcpts.release();
    rcpts.reset(next);
  }
  const std::string mail_from = "<" + MailboxAddress(options_.from) + ">";
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, options_.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadMessage);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  if (options_.smtp_url.starts_with("smtp://")) {
    curl_easy_setopt(c, CURLOPT_USE_SSL, options_.starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                           : static_cast<long>(CURLUSESSL_NONE));
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const std::string login_options = "AUTH=" + options_.auth_mechanism;
  if (!options_.auth_mechanism.empty()) curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, login_options.c_str());

  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return Status::Ok();
  long smtp_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  detail = Scrub(Scrub(std::move(detail), options_.password), options_.smtp_url);
  if (smtp_code != 0) detail += fmt::format(" (SMTP {})", smtp_code);
  const std::string msg = fmt::format("{}: {}", where, detail);
  switch (rc) {
    case CURLE_LOGIN_DENIED:
      return UnauthenticatedError(fmt::format("{}: login refused for user \"{}\"{}", where, options_.username,
                                              smtp_code != 0 ? fmt::format(" (SMTP {})", smtp_code) : ""));
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return InvalidArgumentError(msg);
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(msg);
    default:
      break;
  }
  // The server answered but refused MAIL FROM / RCPT TO / DATA permanently.
  if (smtp_code >= 500 && smtp_code < 600) return FailedPreconditionError(msg);
  return UnavailableError(msg);
}

}  // namespace redisfleet::notify
