// Notifications against real servers: a local SMTP server (Debian's python3-aiosmtpd, STARTTLS
// required or implicit TLS, AUTH LOGIN/PLAIN) and a cpp-httplib webhook receiver, both on
// 127.0.0.1 and started once for the binary.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "notify/email.h"
#include "notify/event_sink.h"
#include "notify/notifier.h"
#include "notify/webhook.h"
#include "support/harness.h"

namespace redisfleet::notify {
namespace {

using namespace std::chrono_literals;
using redisfleet::testing::Child;
using redisfleet::testing::FreePort;
using redisfleet::testing::TempDir;
using redisfleet::testing::WaitUntil;

constexpr char kUser[] = "alerts";
constexpr char kPassword[] = "s3cret-Smtp-pw";
constexpr char kHookSecret[] = "hook-t0ken-xyz";

bool TcpConnects(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::string> Mails(const std::string& dir) {
  std::vector<std::pair<int, std::string>> found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".eml")) found.emplace_back(std::stoi(name), redisfleet::testing::ReadText(e.path()));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [n, text] : found) out.push_back(std::move(text));
  return out;
}

struct Received {
  std::string path;
  std::string authorization;
  std::string body;
};

class NotifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string cert = *dir_ / "cert.pem";
    const std::string key = *dir_ / "key.pem";
    auto gen = redisfleet::testing::RunCommand(
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ca_file_ = cert;
    redisfleet::testing::WriteText(*dir_ / "password", kPassword);
    std::filesystem::create_directories(*dir_ / "mail-starttls");
    std::filesystem::create_directories(*dir_ / "mail-tls");
    starttls_port_ = FreePort();
    tls_port_ = FreePort();
    auto start = [&](int port, const std::string& maildir, bool implicit, const std::string& log) {
      std::vector<std::string> argv = {"/usr/bin/python3", REDISFLEET_NOTIFY_SMTP_SERVER, "--port",
                                       std::to_string(port), "--cert", cert, "--key", key, "--maildir", maildir,
                                       "--user", kUser, "--password-file", *dir_ / "password"};
      if (implicit) argv.push_back("--implicit-tls");
      return new Child(argv, log);
    };
    smtp_ = start(starttls_port_, *dir_ / "mail-starttls", false, *dir_ / "smtp-starttls.log");
    smtps_ = start(tls_port_, *dir_ / "mail-tls", true, *dir_ / "smtp-tls.log");
    ASSERT_TRUE(WaitUntil([] { return TcpConnects(starttls_port_); })) << smtp_->Log();
    ASSERT_TRUE(WaitUntil([] { return TcpConnects(tls_port_); })) << smtps_->Log();

    hook_ = new httplib::Server();
    auto record = [](const httplib::Request& req, httplib::Response& res, int status) {
      std::lock_guard lock(hook_mu_);
      hooks_.push_back({req.path, req.get_header_value("Authorization"), req.body});
      res.status = status;
      res.set_content("{}", "application/json");
    };
    hook_->Post("/hook", [record](const httplib::Request& req, httplib::Response& res) { record(req, res, 200); });
    hook_->Post("/fail", [record](const httplib::Request& req, httplib::Response& res) { record(req, res, 500); });
    hook_->Post("/flaky", [record](const httplib::Request& req, httplib::Response& res) {
      record(req, res, flaky_status_.load());
    });
    hook_port_ = hook_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(hook_port_, 0);
    hook_thread_ = new std::thread([] { hook_->listen_after_bind(); });
    ASSERT_TRUE(WaitUntil([] { return hook_->is_running(); }));
  }

  static void TearDownTestSuite() {
    if (hook_) hook_->stop();
    if (hook_thread_) hook_thread_->join();
    delete hook_thread_;
    delete hook_;
    delete smtp_;
    delete smtps_;
    delete dir_;
  }

  void SetUp() override {
    std::lock_guard lock(hook_mu_);
    hooks_.clear();
  }

  static std::vector<Received> Hooks() {
    std::lock_guard lock(hook_mu_);
    return hooks_;
  }
  static std::string HookUrl(const std::string& path) {
    return "http://" + std::string(kUser) + ":" + kHookSecret + "@127.0.0.1:" + std::to_string(hook_port_) + path;
  }

  static EmailOptions Email(int port, const std::string& scheme = "smtp") {
    EmailOptions o;
    o.smtp_url = scheme + "://localhost:" + std::to_string(port);
    o.starttls = true;
    o.username = kUser;
    o.password = kPassword;
    o.from = "redis-fleet <fleet@example.com>";
    o.to = {"ops@example.com", "Oncall <oncall@example.com>"};
    o.ca_file = ca_file_;
    o.connect_timeout = 3s;
    o.timeout = 10s;
    return o;
  }

  static Notification Breach(const std::string& instance = "default/cache") {
    Notification n;
    n.event = api::NotificationEvent::kThresholdBreach;
    n.policy = "default/cache-policy";
    n.instance = instance;
    n.from_plan = "premium-0";
    n.reason = "memory 91.0% above target 80% for 120s";
    n.memory_percent = 91.0;
    n.connections_percent = 12.5;
    n.time = TimePoint(std::chrono::seconds(1'800'000'000));
    return n;
  }

  static double Counter(prometheus::Registry& registry, const std::string& channel, const std::string& event,
                        const std::string& result) {
    for (const auto& family : registry.Collect()) {
      if (family.name != "redisfleet_notifications_total") continue;
      for (const auto& m : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& l : m.label) labels[l.name] = l.value;
        if (labels["channel"] == channel && labels["event"] == event && labels["result"] == result) {
          return m.counter.value;
        }
      }
    }
    return 0;
  }

  static inline TempDir* dir_ = nullptr;
  static inline Child* smtp_ = nullptr;
  static inline Child* smtps_ = nullptr;
  static inline std::string ca_file_;
  static inline int starttls_port_ = 0;
  static inline int tls_port_ = 0;
  static inline httplib::Server* hook_ = nullptr;
  static inline std::thread* hook_thread_ = nullptr;
  static inline int hook_port_ = 0;
  static inline std::mutex hook_mu_;
  static inline std::vector<Received> hooks_;
  static inline std::atomic<int> flaky_status_{500};
};

TEST_F(NotifyTest, EmailOverStartTlsArrivesWithHeadersAndBody) {
  const std::string maildir = *dir_ / "mail-starttls";
  const std::size_t before = Mails(maildir).size();
  EmailSink sink(Email(starttls_port_));
  Notification n = Breach();
  ASSERT_TRUE(sink.Send(n).ok()) << sink.Send(n).ToString();
  ASSERT_TRUE(WaitUntil([&] { return Mails(maildir).size() >= before + 1; }));
  const std::string mail = Mails(maildir)[before];
  SCOPED_TRACE(mail);
  EXPECT_NE(mail.find("X-Envelope-From: fleet@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("X-Envelope-To: ops@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("X-Envelope-To: oncall@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("X-Auth-Login: alerts "), std::string::npos);
  EXPECT_NE(mail.find("\r\nX-TLS: yes\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\nFrom: redis-fleet <fleet@example.com>\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\nTo: ops@example.com, Oncall <oncall@example.com>\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\nSubject: [redis-fleet] ThresholdBreach: default/cache on premium-0 (memory 91.0%, "
                      "connections 12.5%)\r\n"),
            std::string::npos);
  EXPECT_NE(mail.find("\r\nDate: Fri, 15 Jan 2027 08:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\nMessage-ID: <" + NotificationId(n) + ".ThresholdBreach@example.com>\r\n"),
            std::string::npos);
  EXPECT_NE(mail.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(mail.find("Policy:       default/cache-policy\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Reason:       memory 91.0% above target 80% for 120s\r\n"), std::string::npos);
  EXPECT_EQ(mail.find(kPassword), std::string::npos);
}

TEST_F(NotifyTest, EmailOverImplicitTls) {
  const std::string maildir = *dir_ / "mail-tls";
  const std::size_t before = Mails(maildir).size();
  EmailSink sink(Email(tls_port_, "smtps"));
  Notification n = Breach();
  n.event = api::NotificationEvent::kScaleSucceeded;
  n.to_plan = "premium-2";
  n.reason = "memory above target; jumped two plans";
  const Status s = sink.Send(n);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(WaitUntil([&] { return Mails(maildir).size() >= before + 1; }));
  EXPECT_NE(Mails(maildir)[before].find("X-Auth-Login: alerts "), std::string::npos);
  EXPECT_NE(Mails(maildir)[before].find("Subject: [redis-fleet] ScaleSucceeded: default/cache premium-0 -> "
                                        "premium-2\r\n"),
            std::string::npos);
}

TEST_F(NotifyTest, AuthLoginAndPlainBothWork) {
  const std::string maildir = *dir_ / "mail-starttls";
  for (const std::string mechanism : {"LOGIN", "PLAIN"}) {
    SCOPED_TRACE(mechanism);
    const std::size_t before = Mails(maildir).size();
    EmailOptions o = Email(starttls_port_);
    o.auth_mechanism = mechanism;
    const Status s = EmailSink(o).Send(Breach());
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(WaitUntil([&] { return Mails(maildir).size() >= before + 1; }));
    EXPECT_NE(Mails(maildir)[before].find("X-Auth-Login: alerts " + mechanism + "\r\n"), std::string::npos);
  }
}

TEST_F(NotifyTest, WrongPasswordIsUnauthenticatedWithoutThePassword) {
  for (const std::string mechanism : {"", "LOGIN", "PLAIN"}) {
    SCOPED_TRACE(mechanism);
    EmailOptions o = Email(starttls_port_);
    o.password = "wrong-Pa55word-value";
    o.auth_mechanism = mechanism;
    EmailSink sink(o);
    const Status s = sink.Send(Breach());
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_EQ(s.message().find("wrong-Pa55word-value"), std::string::npos) << s.ToString();
    EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("smtp://localhost:"), std::string::npos) << s.ToString();
  }
}

TEST_F(NotifyTest, UntrustedCertificateFailsVerification) {
  EmailOptions o = Email(starttls_port_);
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system store does not know the test CA
  EmailSink sink(o);
  const Status s = sink.Send(Breach());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().find(kPassword), std::string::npos) << s.ToString();
}

TEST_F(NotifyTest, UnreachableSmtpFailsFast) {
  EmailOptions o = Email(FreePort());
  EmailSink sink(o);
  const auto start = std::chrono::steady_clock::now();
  const Status s = sink.Send(Breach());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(NotifyTest, SilentSmtpServerTimesOutWithinTheBound) {
  // Accepts TCP connections (kernel backlog) and never says a word.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  EmailOptions o = Email(ntohs(addr.sin_port));
  o.timeout = 1500ms;
  EmailSink sink(o);
  const auto start = std::chrono::steady_clock::now();
  const Status s = sink.Send(Breach());
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_GE(took, 1400ms);
  EXPECT_LT(took, 4s);
}

TEST_F(NotifyTest, WebhookPostsJsonWithBasicAuthFromUserinfo) {
  WebhookSink sink({.url = HookUrl("/hook?tenant=abc")});
  Notification n = Breach();
  n.event = api::NotificationEvent::kScaleFailed;
  n.to_plan = "premium-1";
  n.reason = "heroku: HTTP 422";
  ASSERT_TRUE(sink.Send(n).ok());
  auto got = Hooks();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/hook");
  EXPECT_TRUE(got[0].authorization.starts_with("Basic "));
  const auto j = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(j["event"], "ScaleFailed");
  EXPECT_EQ(j["policy"], "default/cache-policy");
  EXPECT_EQ(j["instance"], "default/cache");
  EXPECT_EQ(j["from"], "premium-0");
  EXPECT_EQ(j["to"], "premium-1");
  EXPECT_EQ(j["reason"], "heroku: HTTP 422");
  EXPECT_DOUBLE_EQ(j["memoryPercent"].get<double>(), 91.0);
  EXPECT_DOUBLE_EQ(j["connectionsPercent"].get<double>(), 12.5);
  EXPECT_EQ(j["time"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(j["id"], NotificationId(n));
}

TEST_F(NotifyTest, Webhook500IsAFailureNamingTheUrlWithoutSecretsAndIsCounted) {
  WebhookSink sink({.url = HookUrl("/fail")});
  const Status s = sink.Send(Breach());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("http://[REDACTED]@127.0.0.1:" + std::to_string(hook_port_) + "/fail"),
            std::string::npos)
      << s.ToString();
  EXPECT_EQ(s.message().find(kHookSecret), std::string::npos) << s.ToString();

  auto registry = std::make_shared<prometheus::Registry>();
  auto clock = std::make_shared<FakeClock>();
  Notifier notifier(clock, registry, nullptr, NotifierOptions{.max_attempts = 2});
  notifier.SetChannels("default/cache-policy",
                       BuildChannels({.on = {}, .email = {}, .webhook = api::WebhookSpec{HookUrl("/fail")}}, "",
                                     nullptr));
  notifier.ObserveBreach(Breach(), true);
  EXPECT_EQ(Counter(*registry, "webhook", "ThresholdBreach", "failed"), 1);
  EXPECT_EQ(notifier.pending(), 1u);
  notifier.RetryPending();  // backing off: nothing is attempted
  EXPECT_EQ(Counter(*registry, "webhook", "ThresholdBreach", "failed"), 1);
  clock->Advance(std::chrono::minutes(1));
  notifier.RetryPending();  // second and last attempt
  EXPECT_EQ(Counter(*registry, "webhook", "ThresholdBreach", "failed"), 2);
  EXPECT_EQ(Counter(*registry, "webhook", "ThresholdBreach", "dropped"), 1);
  EXPECT_EQ(notifier.pending(), 0u);
  EXPECT_EQ(Hooks().size(), 3u);
}

TEST_F(NotifyTest, FailedDeliveryIsRetriedWithBackoffOnLaterCalls) {
  flaky_status_ = 503;
  auto registry = std::make_shared<prometheus::Registry>();
  auto clock = std::make_shared<FakeClock>();
  Notifier notifier(clock, registry, nullptr);
  notifier.SetChannels("default/cache-policy",
                       BuildChannels({.on = {}, .email = {}, .webhook = api::WebhookSpec{HookUrl("/flaky")}}, "",
                                     nullptr));
  Notification n = Breach();
  n.event = api::NotificationEvent::kScaleSucceeded;
  n.to_plan = "premium-1";
  notifier.ReportScale(n);
  EXPECT_EQ(Counter(*registry, "webhook", "ScaleSucceeded", "failed"), 1);
  flaky_status_ = 200;
  notifier.ReportScale(n);  // the same decision again (a retried reconcile): no new message
  EXPECT_EQ(Hooks().size(), 1u);
  clock->Advance(std::chrono::seconds(16));
  notifier.RetryPending();
  EXPECT_EQ(Counter(*registry, "webhook", "ScaleSucceeded", "sent"), 1);
  EXPECT_EQ(Hooks().size(), 2u);
  EXPECT_EQ(notifier.pending(), 0u);
  notifier.ReportScale(n);
  EXPECT_EQ(Hooks().size(), 2u);
}

TEST_F(NotifyTest, OneThresholdBreachMessagePerEpisode) {
  const std::string maildir = *dir_ / "mail-starttls";
  const std::size_t mails_before = Mails(maildir).size();
  auto registry = std::make_shared<prometheus::Registry>();
  auto clock = std::make_shared<FakeClock>();
  Notifier notifier(clock, registry, nullptr);
  api::Notifications spec;
  spec.email = api::EmailSpec{.smtp_url = "smtp://localhost:" + std::to_string(starttls_port_),
                              .starttls = true,
                              .username = kUser,
                              .password_secret_ref = std::nullopt,
                              .from = "fleet@example.com",
                              .to = {"ops@example.com"}};
  spec.webhook = api::WebhookSpec{HookUrl("/hook")};
  notifier.SetChannels("default/cache-policy", BuildChannels(spec, kPassword, nullptr, {.ca_file = ca_file_}));

  for (int i = 0; i < 5; ++i) {
    clock->Advance(10s);
    Notification n = Breach();
    n.time = clock->Now();
    notifier.ObserveBreach(n, true);
  }
  EXPECT_EQ(Hooks().size(), 1u);
  notifier.ObserveBreach(Breach("default/other"), false);  // another instance resting: nothing
  notifier.ObserveBreach(Breach(), false);
  notifier.ObserveBreach(Breach(), false);
  EXPECT_EQ(Hooks().size(), 1u);
  notifier.ObserveBreach(Breach(), true);
  notifier.ObserveBreach(Breach(), true);
  EXPECT_EQ(Hooks().size(), 2u);
  ASSERT_TRUE(WaitUntil([&] { return Mails(maildir).size() == mails_before + 2; }));
  EXPECT_EQ(Counter(*registry, "email", "ThresholdBreach", "sent"), 2);
  EXPECT_EQ(Counter(*registry, "webhook", "ThresholdBreach", "sent"), 2);
  EXPECT_EQ(Counter(*registry, "email", "ThresholdBreach", "failed"), 0);
}

TEST_F(NotifyTest, EventsNotListedInOnAreNotSent) {
  auto clock = std::make_shared<FakeClock>();
  Notifier notifier(clock, std::make_shared<prometheus::Registry>(), nullptr);
  notifier.SetChannels("default/cache-policy",
                       BuildChannels({.on = {api::NotificationEvent::kScaleFailed},
                                      .email = {},
                                      .webhook = api::WebhookSpec{HookUrl("/hook")}},
                                     "", nullptr));
  notifier.ObserveBreach(Breach(), true);
  Notification ok = Breach();
  ok.event = api::NotificationEvent::kScaleSucceeded;
  ok.to_plan = "premium-1";
  notifier.ReportScale(ok);
  EXPECT_EQ(Hooks().size(), 0u);
  Notification failed = ok;
  failed.event = api::NotificationEvent::kScaleFailed;
  notifier.ReportScale(failed);
  ASSERT_EQ(Hooks().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(Hooks()[0].body)["event"], "ScaleFailed");
}

class RecordingEvents final : public store::EventRecorder {
 public:
  struct Event {
    api::ObjectMeta meta;
    api::Kind kind;
    store::Severity type;
    std::string reason;
    std::string message;
  };
  void Record(const api::ObjectMeta& regarding, api::Kind kind, store::Severity type, const std::string& reason,
              const std::string& message) override {
    events.push_back({regarding, kind, type, reason, message});
  }
  std::vector<Event> events;
};

TEST_F(NotifyTest, EventsAreWarningForBreachAndFailureNormalForSuccess) {
  auto recorder = std::make_shared<RecordingEvents>();
  Notifier notifier(std::make_shared<FakeClock>(), nullptr, nullptr);
  notifier.SetChannels("default/cache-policy", BuildChannels({}, "", recorder));
  Notification n = Breach();
  n.policy_uid = "uid-1";
  notifier.ObserveBreach(n, true);
  n.event = api::NotificationEvent::kScaleSucceeded;
  n.to_plan = "premium-1";
  notifier.ReportScale(n);
  n.event = api::NotificationEvent::kScaleFailed;
  notifier.ReportScale(n);
  ASSERT_EQ(recorder->events.size(), 3u);
  EXPECT_EQ(recorder->events[0].type, store::Severity::kWarning);
  EXPECT_EQ(recorder->events[0].reason, "ThresholdBreach");
  EXPECT_EQ(recorder->events[0].meta.name, "cache-policy");
  EXPECT_EQ(recorder->events[0].meta.namespace_, "default");
  EXPECT_EQ(recorder->events[0].meta.uid, "uid-1");
  EXPECT_EQ(recorder->events[0].kind, api::Kind::kScalingPolicy);
  EXPECT_EQ(recorder->events[1].type, store::Severity::kNormal);
  EXPECT_EQ(recorder->events[1].reason, "ScaleSucceeded");
  EXPECT_EQ(recorder->events[2].type, store::Severity::kWarning);
  EXPECT_EQ(recorder->events[2].reason, "ScaleFailed");
}

TEST(NotificationText, DisplayUrlRedactsUserinfoAndQuery) {
  EXPECT_EQ(DisplayUrl("https://u:p@hooks.example.com:8443/a/b?token=x#f"),
            "https://[REDACTED]@hooks.example.com:8443/a/b?[REDACTED]#f");
  EXPECT_EQ(DisplayUrl("smtp://mail.example.com:587"), "smtp://mail.example.com:587");
}

TEST(NotificationText, NonAsciiSubjectIsEncoded) {
  EmailOptions o;
  o.from = "fleet@example.com";
  o.to = {"ops@example.com"};
  Notification n;
  n.instance = "default/caché";
  n.from_plan = "p0";
  const std::string msg = BuildEmailMessage(o, n);
  EXPECT_NE(msg.find("Subject: =?UTF-8?B?"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("\n\n"), std::string::npos);
}

}  // namespace
}  // namespace redisfleet::notify
