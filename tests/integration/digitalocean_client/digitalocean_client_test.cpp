// digitalocean::Client against the in-process fake DigitalOcean on 127.0.0.1: CRUD, pagination,
// error mapping, the token never in a message, the API's 429 and the client's own budgets (with a
// FakeClock: nothing is sent while blocked), retries with backoff on idempotent calls only, the
// ambiguous create, droplets turning active with their backing address, and (with one real
// dockerd started by scripts/start-dockerd) a backed droplet's delete removing its containers.

#include "providers/digitalocean/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fake_digitalocean.h"
#include "providers/docker/docker_client.h"
#include "support/harness.h"

namespace redisfleet::digitalocean {
namespace {

using fakes::FakeBacking;
using fakes::FakeDigitalOcean;
using redisfleet::testing::RunCommand;
using redisfleet::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kToken[] = "dop_v1_test_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
constexpr char kTag[] = "redisfleet-pool:default:web";

// Every Status the tests see goes through here: the token must never be in a message.
#define EXPECT_NO_TOKEN(status)                                                  \
  EXPECT_EQ((status).message().find(kToken), std::string::npos) << (status).message()

class DigitalOceanClientTest : public ::testing::Test {
 protected:
  void StartFake(FakeDigitalOcean::Options o = {}) {
    o.token = kToken;
    fake_ = std::make_unique<FakeDigitalOcean>(o);
    ASSERT_TRUE(fake_->Start("127.0.0.1:0").ok());
  }
  void SetUp() override { StartFake(); }

  ClientOptions Options() const {
    ClientOptions o;
    o.api_url = fake_->url();
    o.token = kToken;
    o.timeout = milliseconds(10000);
    o.backoff_base = milliseconds(100);
    o.backoff_cap = milliseconds(1000);
    return o;
  }
  // A client on a FakeClock set to real time (the fake's ratelimit-reset is real epoch time);
  // its sleeps are recorded and advance the clock.
  std::unique_ptr<Client> MakeClient(ClientOptions o, ClientObserver obs = {}) {
    return std::make_unique<Client>(
        std::move(o), clock_,
        [this](milliseconds d) {
          std::lock_guard lk(mu_);
          sleeps_.push_back(d);
          clock_->Advance(d);
        },
        std::make_shared<SeededRandom>(42), std::move(obs));
  }
  std::unique_ptr<Client> MakeClient() { return MakeClient(Options()); }

  CreateDropletRequest Request(const std::string& name) const {
    CreateDropletRequest r;
    r.name = name;
    r.region = "nyc3";
    r.size = "s-1vcpu-1gb";
    r.image = "ubuntu-22-04-x64";
    r.ssh_keys = {"289794", "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45"};
    r.tags = {kTag, ManagedByTag("op-1")};
    r.user_data = "#cloud-config\nruncmd:\n  - touch /test.txt\n";
    return r;
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(std::chrono::system_clock::now());
  std::mutex mu_;
  std::vector<milliseconds> sleeps_;
  std::unique_ptr<FakeDigitalOcean> fake_;
};

TEST_F(DigitalOceanClientTest, TagsAreDigitalOceanSafe) {
  EXPECT_EQ(TagPart("my.pool-1_x"), "my_pool-1_x");
  EXPECT_EQ(ManagedByTag("op.a"), "redisfleet-managed-by:op_a");
  EXPECT_EQ(PoolTag("default", "web.eu"), "redisfleet-pool:default:web_eu");
}

TEST_F(DigitalOceanClientTest, CreateGetListDelete) {
  auto client = MakeClient();
  auto created = client->CreateDroplet(Request("rf-web-1"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->name, "rf-web-1");
  EXPECT_EQ(created->status, "new");
  EXPECT_EQ(created->public_ipv4, "");
  EXPECT_EQ(created->size_slug, "s-1vcpu-1gb");
  EXPECT_EQ(created->region, "nyc3");
  EXPECT_NE(std::find(created->tags.begin(), created->tags.end(), kTag), created->tags.end());
  EXPECT_GT(created->created_at.time_since_epoch().count(), 0);

  auto got = client->GetDroplet(created->id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "rf-web-1");

  ASSERT_TRUE(client->CreateDroplet(Request("rf-other")).ok());  // no pool tag below
  auto other = Request("rf-other-2");
  other.tags = {"something-else"};
  ASSERT_TRUE(client->CreateDroplet(other).ok());
  auto listed = client->ListDroplets("something-else");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "rf-other-2");
  listed = client->ListDroplets(kTag);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);

  // The request body as the reference describes it.
  const auto log = fake_->RequestLog();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].status, 202);

  EXPECT_TRUE(client->DeleteDroplet(created->id).ok());
  auto gone = client->GetDroplet(created->id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), StatusCode::kNotFound);
  EXPECT_NO_TOKEN(gone.error());
  // Already gone: OK (the fake answered 404).
  EXPECT_TRUE(client->DeleteDroplet(created->id).ok());
  EXPECT_EQ(fake_->RequestCount("DELETE", "/v2/droplets/{id}", 404), 1);
  EXPECT_EQ(fake_->RequestCount("DELETE", "/v2/droplets/{id}", 204), 1);
  EXPECT_EQ(fake_->deleted_total(), 1);
  EXPECT_EQ(client->requests_sent(), fake_->requests_total());
}

TEST_F(DigitalOceanClientTest, PaginatesEveryPage) {
  for (int i = 0; i < 450; ++i) fake_->AddDroplet("rf-bulk-" + std::to_string(i), {kTag});
  fake_->AddDroplet("rf-untagged", {"x"});
  {
    auto client = MakeClient();
    auto all = client->ListDroplets(kTag);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), 450u);
    std::set<int64_t> ids;
    for (const auto& d : *all) ids.insert(d.id);
    EXPECT_EQ(ids.size(), 450u);
    EXPECT_EQ((*all)[0].name, "rf-bulk-0");
    EXPECT_EQ((*all)[449].name, "rf-bulk-449");
    EXPECT_EQ(fake_->RequestCount("GET", "/v2/droplets"), 3);
  }
  fake_->ClearLog();
  {
    auto o = Options();
    o.per_page = 7;
    auto client = MakeClient(o);
    auto all = client->ListDroplets(kTag);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), 450u);
    const auto log = fake_->RequestLog();
    ASSERT_EQ(log.size(), 65u);  // ceil(450 / 7)
    EXPECT_NE(log[64].path.find("page=65"), std::string::npos) << log[64].path;
    EXPECT_NE(log[64].path.find("per_page=7"), std::string::npos) << log[64].path;
  }
  {
    // per_page is clamped to the API's 200.
    auto o = Options();
    o.per_page = 1000;
    auto all = MakeClient(o)->ListDroplets(kTag);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 450u);
  }
  // An empty result and a single page (links {}).
  auto none = MakeClient()->ListDroplets("no-such-tag");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(DigitalOceanClientTest, ListsSizesAcrossPages) {
  auto o = Options();
  o.per_page = 3;
  auto sizes = MakeClient(o)->ListSizes();
  ASSERT_TRUE(sizes.ok()) << sizes.status().ToString();
  EXPECT_EQ(sizes->size(), FakeDigitalOcean::DefaultSizes().size());
  EXPECT_EQ(fake_->RequestCount("GET", "/v2/sizes"), 3);
  auto it = std::find_if(sizes->begin(), sizes->end(), [](const Size& s) { return s.slug == "s-2vcpu-4gb"; });
  ASSERT_NE(it, sizes->end());
  EXPECT_EQ(it->memory_mb, 4096);
  EXPECT_EQ(it->vcpus, 2);
  EXPECT_DOUBLE_EQ(it->price_monthly, 24.0);
  EXPECT_GT(it->price_hourly, 0);
  EXPECT_TRUE(it->available);
  EXPECT_FALSE(it->regions.empty());
}

TEST_F(DigitalOceanClientTest, MapsErrorsWithoutTheToken) {
  // 401 with a wrong token (the client's own token is still never printed).
  auto o = Options();
  o.token = std::string(kToken) + "-wrong";
  auto bad = MakeClient(o)->GetDroplet(1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(bad.error().message().find("unauthorized"), std::string::npos) << bad.error().message();
  EXPECT_NO_TOKEN(bad.error());
  EXPECT_EQ(fake_->RequestCount("GET", "/v2/droplets/{id}", 401), 1);  // not retried

  auto client = MakeClient();
  // 422 with id and request_id.
  auto invalid = Request("-bad name-");
  auto r = client->CreateDroplet(invalid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("digitalocean: POST /v2/droplets: HTTP 422 unprocessable_entity"), std::string::npos) << m;
  EXPECT_NE(m.find("request_id"), std::string::npos) << m;
  EXPECT_NO_TOKEN(r.error());
  // Unknown size and oversized user_data are 422 too.
  invalid = Request("rf-ok");
  invalid.size = "s-99vcpu";
  EXPECT_EQ(client->CreateDroplet(invalid).error().code(), StatusCode::kInvalidArgument);
  invalid = Request("rf-ok");
  invalid.user_data = std::string(64 * 1024 + 1, 'x');
  auto big = client->CreateDroplet(invalid);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.error().message().find("xxxxxxxx"), std::string::npos);  // user data not echoed
  EXPECT_TRUE(fake_->Droplets().empty());

  // 404 on GET.
  auto missing = client->GetDroplet(999);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("not_found"), std::string::npos);
  EXPECT_NO_TOKEN(missing.error());

  // A transport failure (nothing listens) names the URL but not the token.
  o = Options();
  o.api_url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  o.max_attempts = 2;
  auto down = MakeClient(o)->ListDroplets(kTag);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), StatusCode::kUnavailable);
  EXPECT_NO_TOKEN(down.error());
}

TEST_F(DigitalOceanClientTest, ApiRateLimitBlocksWithoutSending) {
  fake_->SetRateLimits(/*per_minute=*/5, /*per_hour=*/5000);
  std::vector<RateLimit> seen;
  std::vector<long> statuses;
  ClientObserver obs;
  obs.on_rate_limit = [&](const RateLimit& rl) { seen.push_back(rl); };
  obs.on_response = [&](long s) { statuses.push_back(s); };
  auto o = Options();
  o.per_minute = 1000;
  o.per_hour = 100000;
  auto client = MakeClient(o, obs);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->ListDroplets(kTag).ok()) << i;
  EXPECT_EQ(client->rate_limit().limit, 5000);
  EXPECT_EQ(client->rate_limit().remaining, 4995);

  auto limited = client->ListDroplets(kTag);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(limited.error().message().find("too_many_requests"), std::string::npos);
  EXPECT_NO_TOKEN(limited.error());
  EXPECT_EQ(fake_->rate_limited_total(), 1);
  const int64_t sent = fake_->requests_total();
  EXPECT_EQ(sent, 6);
  // The fake said retry-after ~60 s: the client holds back that long.
  const TimePoint after = client->RetryAfter();
  EXPECT_GE(after, clock_->Now() + seconds(55));
  EXPECT_LE(after, clock_->Now() + seconds(61));

  // A burst of calls of every kind while blocked: none is sent.
  for (int i = 0; i < 20; ++i) {
    auto s = client->GetDroplet(1);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(s.error().message().find("rate limited by DigitalOcean until"), std::string::npos);
  }
  EXPECT_EQ(client->CreateDroplet(Request("rf-x")).error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(client->DeleteDroplet(1).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fake_->requests_total(), sent);
  clock_->Advance(seconds(30));
  EXPECT_EQ(client->ListSizes().error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fake_->requests_total(), sent);

  // Once retry-after has passed (and the fake's window with it), calls go out again.
  fake_->ResetRateLimitWindows();
  clock_->Set(after);
  EXPECT_TRUE(client->ListDroplets(kTag).ok());
  EXPECT_EQ(fake_->requests_total(), sent + 1);
  EXPECT_EQ(statuses.size(), 7u);
  EXPECT_EQ(statuses[5], 429);
  EXPECT_EQ(seen.size(), 7u);
}

TEST_F(DigitalOceanClientTest, HourBudgetExhaustedBlocksUntilReset) {
  fake_->SetRateLimits(/*per_minute=*/250, /*per_hour=*/3);
  auto client = MakeClient();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->GetDroplet(1).error().code() == StatusCode::kNotFound);
  // remaining 0 on the last answer: the client already waits for the reset, sending nothing.
  EXPECT_EQ(client->rate_limit().remaining, 0);
  EXPECT_GT(client->RetryAfter(), clock_->Now() + std::chrono::minutes(50));
  auto s = client->GetDroplet(1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fake_->requests_total(), 3);
}

TEST_F(DigitalOceanClientTest, OwnBudgetRefusesLocally) {
  auto o = Options();
  o.per_minute = 5;
  o.per_hour = 7;
  auto client = MakeClient(o);
  const TimePoint start = clock_->Now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->ListDroplets(kTag).ok()) << i;
    clock_->Advance(seconds(1));
  }
  auto sixth = client->ListDroplets(kTag);
  ASSERT_FALSE(sixth.ok());
  EXPECT_EQ(sixth.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(sixth.error().message().find("per minute"), std::string::npos);
  EXPECT_EQ(fake_->requests_total(), 5);
  // The first call leaves the minute window at start + 60 s.
  EXPECT_EQ(client->RetryAfter(), start + seconds(60));
  clock_->Set(start + seconds(60));
  ASSERT_TRUE(client->ListDroplets(kTag).ok());
  EXPECT_FALSE(client->ListDroplets(kTag).ok());  // the call at +1 s is still in the window
  clock_->Set(start + seconds(61));
  ASSERT_TRUE(client->ListDroplets(kTag).ok());
  EXPECT_EQ(fake_->requests_total(), 7);
  // 7 in the hour: refused until the first one is an hour old.
  clock_->Advance(std::chrono::minutes(5));
  auto hour = client->ListDroplets(kTag);
  ASSERT_FALSE(hour.ok());
  EXPECT_EQ(hour.error().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(client->RetryAfter(), start + std::chrono::hours(1));
  EXPECT_EQ(fake_->requests_total(), 7);
  clock_->Set(start + std::chrono::hours(1));
  EXPECT_TRUE(client->ListDroplets(kTag).ok());
}

TEST_F(DigitalOceanClientTest, RetriesIdempotentCallsWithJitteredBackoff) {
  const int64_t id = fake_->AddDroplet("rf-r", {kTag});
  auto client = MakeClient();
  fake_->InjectNext(500, 2);
  auto got = client->GetDroplet(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(fake_->RequestCount("GET", "/v2/droplets/{id}", 500), 2);
  ASSERT_EQ(sleeps_.size(), 2u);
  // Equal jitter: retry i waits in [d/2, d] with d = min(cap, base * 2^i).
  EXPECT_GE(sleeps_[0], milliseconds(50));
  EXPECT_LE(sleeps_[0], milliseconds(100));
  EXPECT_GE(sleeps_[1], milliseconds(100));
  EXPECT_LE(sleeps_[1], milliseconds(200));

  // Bounded by max_attempts.
  sleeps_.clear();
  fake_->ClearLog();
  fake_->InjectNext(503, 100);
  auto o = Options();
  o.max_attempts = 4;
  o.backoff_cap = milliseconds(300);
  auto c2 = MakeClient(o);
  auto failed = c2->ListDroplets(kTag);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_NO_TOKEN(failed.error());
  EXPECT_EQ(fake_->RequestLog().size(), 4u);
  ASSERT_EQ(sleeps_.size(), 3u);
  EXPECT_LE(sleeps_[2], milliseconds(300));  // capped
  EXPECT_GE(sleeps_[2], milliseconds(150));
  fake_->InjectNext(500, 0);

  // A dropped connection (transport error) on GET and DELETE is retried too.
  sleeps_.clear();
  fake_->InjectNext(0, 1);
  EXPECT_TRUE(client->GetDroplet(id).ok());
  EXPECT_EQ(sleeps_.size(), 1u);
  fake_->InjectNext(0, 1);
  EXPECT_TRUE(client->DeleteDroplet(id).ok());
  EXPECT_TRUE(fake_->Droplets().empty());
  EXPECT_EQ(fake_->RequestCount("DELETE", "/v2/droplets/{id}", 0), 1);
  EXPECT_EQ(fake_->RequestCount("DELETE", "/v2/droplets/{id}", 204), 1);
}

TEST_F(DigitalOceanClientTest, CreateIsNeverRetried) {
  auto client = MakeClient();
  fake_->InjectNext(500, 1);
  auto r = client->CreateDroplet(Request("rf-once"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.error().message().find("server_error"), std::string::npos);
  EXPECT_EQ(fake_->RequestCount("POST", "/v2/droplets"), 1);
  EXPECT_TRUE(fake_->Droplets().empty());
  EXPECT_TRUE(sleeps_.empty());

  // Committed, then the connection drops: the caller cannot know; one request only, and the
  // droplet is found by tag afterwards.
  fake_->DropAfterCommitNext(1);
  auto ambiguous = client->CreateDroplet(Request("rf-ambiguous"));
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().code(), StatusCode::kUnavailable) << ambiguous.error().ToString();
  EXPECT_NO_TOKEN(ambiguous.error());
  EXPECT_EQ(fake_->RequestCount("POST", "/v2/droplets"), 2);
  EXPECT_EQ(fake_->RequestCount("POST", "/v2/droplets", 0), 1);
  ASSERT_EQ(fake_->Droplets().size(), 1u);
  auto listed = client->ListDroplets(kTag);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "rf-ambiguous");
}

TEST_F(DigitalOceanClientTest, ActiveAfterDelayWithBackingAddress) {
  FakeDigitalOcean::Options o;
  o.active_delay = milliseconds(300);
  o.backing = {FakeBacking{"127.0.0.2", "unix:///nonexistent/docker.sock"}};
  StartFake(o);
  auto client = MakeClient();
  auto a = client->CreateDroplet(Request("rf-a"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->status, "new");
  EXPECT_EQ(a->public_ipv4, "");
  Droplet seen;
  ASSERT_TRUE(WaitUntil([&] {
    auto d = client->GetDroplet(a->id);
    if (d.ok()) seen = *d;
    return d.ok() && d->status == "active";
  }));
  EXPECT_EQ(seen.public_ipv4, "127.0.0.2");
  EXPECT_EQ(seen.private_ipv4.rfind("10.", 0), 0u) << seen.private_ipv4;
  // The only slot is taken: the next droplet is unbacked.
  auto b = client->CreateDroplet(Request("rf-b"));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto d = client->GetDroplet(b->id);
    if (d.ok()) seen = *d;
    return d.ok() && d->status == "active";
  }));
  EXPECT_EQ(seen.public_ipv4, "127.0.0.200");
}

// One real Docker daemon, started once for this suite (the only test that needs it).
class DigitalOceanBackedTest : public DigitalOceanClientTest {
 protected:
  static void SetUpTestSuite() {
    name_ = new std::string("rf-do-" + std::to_string(::getpid()));
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {testing::SourceDir() + "/scripts/start-dockerd", *name_},
             {testing::SourceDir() + "/scripts/build-redis-image", Socket(), kImage}}) {
      auto r = RunCommand(argv);
      if (r.exit_code != 0) {
        setup_error_ = new std::string(argv[0] + " failed:\n" + r.out + r.err);
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    (void)RunCommand({testing::SourceDir() + "/scripts/stop-dockerd", *name_, "--purge"});
  }
  static std::string Socket() { return "/tmp/redisfleet-docker/" + *name_ + "/docker.sock"; }
  static constexpr char kImage[] = "redis-fleet/redis:7";
  static inline std::string* name_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(DigitalOceanBackedTest, DeletingABackedDropletRemovesItsContainers) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  FakeDigitalOcean::Options o;
  o.active_delay = milliseconds(0);
  o.backing = {FakeBacking{"127.0.0.2", "unix://" + Socket()}};
  StartFake(o);
  docker::DockerClientOptions dopt;
  dopt.endpoint = "unix://" + Socket();
  auto docker = docker::DockerClient::Create(dopt);
  ASSERT_TRUE(docker.ok()) << docker.status().ToString();

  auto client = MakeClient();
  auto d = client->CreateDroplet(Request("rf-backed"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto active = client->GetDroplet(d->id);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->public_ipv4, "127.0.0.2");
  // "On the machine": two containers (one running is not needed: created is enough).
  for (const char* n : {"rf-do-redis-1", "rf-do-redis-2"}) {
    docker::ContainerCreateSpec spec;
    spec.name = n;
    spec.image = kImage;
    spec.cmd = {"redis-server", "--port", "0"};
    spec.network_mode = "host";
    auto id = (*docker)->CreateContainer(spec);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  auto before = (*docker)->ListContainers({});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 2u);

  ASSERT_TRUE(client->DeleteDroplet(d->id).ok());
  auto after = (*docker)->ListContainers({});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty());
  EXPECT_TRUE(fake_->Droplets().empty());
  // The slot is free again: the next droplet gets the same machine.
  auto again = client->CreateDroplet(Request("rf-backed-2"));
  ASSERT_TRUE(again.ok());
  auto got = client->GetDroplet(again->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->public_ipv4, "127.0.0.2");
}

}  // namespace
}  // namespace redisfleet::digitalocean
