#include "redis/info_source.h"

#include <gtest/gtest.h>

#include "fake_redis_server.h"

namespace redisfleet::redis {
namespace {

using testing::FakeConnector;
using testing::FakeRedisState;

class InfoSourceTest : public ::testing::Test {
 protected:
  InfoSource Make() {
    InfoSourceOptions o;
    o.connect.password = st_->password;
    o.backoff_base = std::chrono::seconds(1);
    o.backoff_cap = std::chrono::seconds(8);
    return InfoSource(o, clock_, FakeConnector(st_));
  }
  std::size_t Count(const std::string& first, std::size_t argc = 0) {
    std::lock_guard<std::mutex> lock(st_->mu);
    std::size_t n = 0;
    for (const auto& c : st_->commands) n += c[0] == first && (argc == 0 || c.size() == argc);
    return n;
  }
  std::shared_ptr<FakeRedisState> st_ = std::make_shared<FakeRedisState>();
  FakeClock clock_;
};

TEST_F(InfoSourceTest, OneConnectionOneInfoPerScrapeOn7) {
  InfoSource src = Make();
  for (int i = 0; i < 3; ++i) {
    auto s = src.Scrape();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE(s->ok);
    EXPECT_EQ(s->time, clock_.Now());
    EXPECT_EQ(s->used_memory, 1000);
    EXPECT_EQ(s->maxmemory, 4000);
    EXPECT_EQ(s->connected_clients, 5);
    EXPECT_EQ(s->maxclients, 100);
    EXPECT_EQ(s->instantaneous_ops_per_sec, 9);
    clock_.Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(st_->connects, 1);
  EXPECT_EQ(Count("INFO", 4), 3u);
  EXPECT_EQ(Count("CONFIG"), 0u);
  EXPECT_EQ(Count("AUTH"), 1u);
}

TEST_F(InfoSourceTest, Redis6FallsBackToOneInfoPerSectionDetectedOnce) {
  st_->six = true;
  InfoSource src = Make();
  for (int i = 0; i < 3; ++i) {
    auto s = src.Scrape();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->used_memory, 1000);
    EXPECT_EQ(s->maxclients, 100) << "from CONFIG GET";
    EXPECT_EQ(s->evicted_keys, 0);
  }
  EXPECT_EQ(Count("INFO", 4), 1u) << "the multi-section form is tried once";
  EXPECT_EQ(Count("INFO", 2), 9u);
  EXPECT_EQ(Count("CONFIG"), 1u) << "maxclients is cached";
}

TEST_F(InfoSourceTest, ConfigGetRefusedGivesMinusOneAndIsNotRetriedUntilReconnect) {
  st_->six = true;
  st_->config_allowed = false;
  InfoSource src = Make();
  for (int i = 0; i < 2; ++i) {
    auto s = src.Scrape();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->maxclients, -1);
  }
  EXPECT_EQ(Count("CONFIG"), 1u);
  st_->break_next = true;
  EXPECT_FALSE(src.Scrape().ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(src.Scrape().ok());
  EXPECT_EQ(Count("CONFIG"), 2u) << "re-read after reconnect";
}

TEST_F(InfoSourceTest, BackoffAfterFailuresWithoutTouchingTheNetwork) {
  InfoSource src = Make();
  ASSERT_TRUE(src.Scrape().ok());
  st_->break_next = true;
  st_->refuse_connect = true;
  auto s = src.Scrape();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(src.last_error(), ScrapeError::kIo);
  EXPECT_FALSE(src.connected());

  // Backing off: no connect attempt for 1 s.
  s = src.Scrape();
  EXPECT_EQ(src.last_error(), ScrapeError::kBackoff);
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(st_->connects, 1);
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_FALSE(src.Scrape().ok());
  EXPECT_EQ(src.last_error(), ScrapeError::kBackoff);

  // Each refused attempt doubles the wait: 1 s, 2 s, 4 s, capped at 8 s.
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(src.Scrape().ok());
  EXPECT_EQ(src.last_error(), ScrapeError::kConnect);
  EXPECT_EQ(src.next_attempt(), clock_.Now() + std::chrono::seconds(2));
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_FALSE(src.Scrape().ok());
  EXPECT_EQ(src.next_attempt(), clock_.Now() + std::chrono::seconds(4));

  st_->refuse_connect = false;
  clock_.Advance(std::chrono::seconds(4));
  auto ok = src.Scrape();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(st_->connects, 2);
  EXPECT_EQ(src.last_error(), ScrapeError::kNone);
  // Success resets the backoff: the next failure waits the base delay again.
  st_->break_next = true;
  EXPECT_FALSE(src.Scrape().ok());
  EXPECT_EQ(src.next_attempt(), clock_.Now() + std::chrono::seconds(1));
}

TEST_F(InfoSourceTest, WrongPasswordIsUnauthenticatedWithoutThePassword) {
  InfoSourceOptions o;
  o.connect.password = "not-the-Secret-42";
  InfoSource src(o, clock_, FakeConnector(st_));
  auto s = src.Scrape();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(src.last_error(), ScrapeError::kAuth);
  EXPECT_EQ(s.status().message().find("not-the-Secret-42"), std::string::npos);
  s = src.Scrape();  // backing off: the message still carries no password
  EXPECT_EQ(s.status().message().find("not-the-Secret-42"), std::string::npos);
}

}  // namespace
}  // namespace redisfleet::redis
