#include "store/file_secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "unit/store/test_util.h"

namespace redisfleet::store {
namespace {

namespace fs = std::filesystem;
using testing::ReadText;
using testing::WriteText;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class FileSecretStoreTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string dir_ = tmp_.path() + "/desired";
  std::string state_ = tmp_.path() + "/state";
  FileSecretStore store_{dir_, state_};
};

TEST_F(FileSecretStoreTest, ReadTrimsTrailingNewline) {
  struct Case {
    std::string content;
    std::string want;
  };
  const std::vector<Case> cases = {{"s3cr3t", "s3cr3t"},
                                   {"s3cr3t\n", "s3cr3t"},
                                   {"s3cr3t\r\n", "s3cr3t"},
                                   {"a b\nc\n", "a b\nc"}};
  fs::create_directories(dir_ + "/secrets/do-token");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content);
    WriteText(dir_ + "/secrets/do-token/token", c.content);
    auto got = store_.Read("default", {"do-token", "token"});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want);
  }
}

TEST_F(FileSecretStoreTest, ReadErrorsNamePathsNotValues) {
  auto missing = store_.Read("default", {"heroku", "apiKey"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_ + "/secrets/heroku/apiKey"), std::string::npos)
      << missing.status().message();

  const std::vector<api::SecretKeyRef> bad = {
      {"..", "x"}, {"a/b", "c"}, {"a", "../../etc"}, {"", "k"}};
  for (const auto& ref : bad) {
    SCOPED_TRACE(ref.name + "/" + ref.key);
    EXPECT_EQ(store_.Read("default", ref).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(FileSecretStoreTest, ConnectionSecretFilesAndModes) {
  const api::Key key{"default", "cache"};
  const std::map<std::string, std::string> data = {{"host", "127.0.0.1"},
                                                   {"port", "6380"},
                                                   {"url", "redis://127.0.0.1:6380"},
                                                   {"password", "pw-123"}};
  auto path = store_.WriteConnection(key, data);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  const std::string secret_dir = state_ + "/secrets/default.cache";
  EXPECT_EQ(*path, fs::absolute(secret_dir + "/password").lexically_normal().string());
  EXPECT_TRUE(fs::path(*path).is_absolute());

  EXPECT_EQ(ReadText(secret_dir + "/password"), "pw-123");
  EXPECT_EQ(ModeOf(secret_dir + "/password"), 0600u);
  EXPECT_EQ(ModeOf(secret_dir + "/connection.json"), 0600u);
  EXPECT_EQ(ModeOf(secret_dir), 0700u);
  EXPECT_EQ(ModeOf(state_ + "/secrets"), 0700u);

  auto json = nlohmann::json::parse(ReadText(secret_dir + "/connection.json"));
  EXPECT_EQ(json["host"], "127.0.0.1");
  EXPECT_EQ(json["port"], 6380);
  EXPECT_EQ(json["url"], "redis://127.0.0.1:6380");
  EXPECT_EQ(json["password"], "pw-123");

  auto read = store_.ReadConnection(key);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);

  // Replacing rewrites both files.
  auto replaced = data;
  replaced["password"] = "pw-456";
  ASSERT_TRUE(store_.WriteConnection(key, replaced).ok());
  EXPECT_EQ(ReadText(secret_dir + "/password"), "pw-456");
  EXPECT_EQ(store_.ReadConnection(key)->at("password"), "pw-456");

  ASSERT_TRUE(store_.DeleteConnection(key).ok());
  EXPECT_FALSE(fs::exists(secret_dir));
  auto gone = store_.ReadConnection(key);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message().find("pw-"), std::string::npos);
  EXPECT_TRUE(store_.DeleteConnection(key).ok());
}

TEST_F(FileSecretStoreTest, PasswordAloneIsSavedBeforeTheRest) {
  const api::Key key{"default", "cache"};
  const std::string secret_dir = state_ + "/secrets/default.cache";
  ASSERT_TRUE(store_.WriteConnection(key, {{"password", "pw-1"}}).ok());
  EXPECT_EQ(ReadText(secret_dir + "/password"), "pw-1");
  EXPECT_FALSE(fs::exists(secret_dir + "/connection.json"));
  EXPECT_EQ(*store_.ReadConnection(key), (std::map<std::string, std::string>{{"password", "pw-1"}}));

  ASSERT_TRUE(store_.WriteConnection(key, {{"password", "pw-1"}, {"port", "7000"}}).ok());
  EXPECT_EQ(store_.ReadConnection(key)->at("port"), "7000");
  // Back to the password alone (a new one): no stale connection.json is left to disagree.
  ASSERT_TRUE(store_.WriteConnection(key, {{"password", "pw-2"}}).ok());
  EXPECT_EQ(*store_.ReadConnection(key), (std::map<std::string, std::string>{{"password", "pw-2"}}));
}

uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// The store remembers what it wrote only as a cache of the disk: an unchanged write touches no
// file, and whatever happened to the files behind its back, the next write puts them right.
TEST_F(FileSecretStoreTest, UnchangedWritesTouchNothingButTamperingIsRepaired) {
  const api::Key key{"default", "cache"};
  const std::string secret_dir = state_ + "/secrets/default.cache";
  const std::string password = secret_dir + "/password", json = secret_dir + "/connection.json";
  const std::map<std::string, std::string> data = {
      {"host", "127.0.0.1"}, {"port", "6380"}, {"url", "redis://127.0.0.1:6380"}, {"password", "pw-1"}};
  auto first = store_.WriteConnection(key, data);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const uint64_t password_inode = InodeOf(password), json_inode = InodeOf(json);

  auto again = store_.WriteConnection(key, data);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(InodeOf(password), password_inode);  // atomic writes replace the inode: none happened
  EXPECT_EQ(InodeOf(json), json_inode);

  struct Case {
    std::string name;
    std::function<void()> tamper;
  };
  const std::vector<Case> cases = {
      {"password removed", [&] { fs::remove(password); }},
      {"connection.json removed", [&] { fs::remove(json); }},
      {"directory removed", [&] { fs::remove_all(secret_dir); }},
      {"password edited in place", [&] { WriteText(password, "pw-edited"); }},
      {"connection.json replaced",
       [&] {
         WriteText(json + ".new", "{}\n");
         fs::rename(json + ".new", json);
       }},
      {"mode changed", [&] { fs::permissions(password, fs::perms::owner_read | fs::perms::group_read); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.tamper();
    auto w = store_.WriteConnection(key, data);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(*w, *first);
    EXPECT_EQ(ReadText(password), "pw-1");
    EXPECT_EQ(*store_.ReadConnection(key), data);
    EXPECT_EQ(ModeOf(password), 0600u);
    EXPECT_EQ(ModeOf(json), 0600u);
    EXPECT_EQ(ModeOf(secret_dir), 0700u);
  }

  // A store that starts afresh (a restart, or kill -9) finds the files and rewrites nothing.
  const uint64_t kept = InodeOf(password);
  FileSecretStore restarted{dir_, state_};
  EXPECT_EQ(*restarted.ReadConnection(key), data);
  ASSERT_TRUE(restarted.WriteConnection(key, data).ok());
  EXPECT_EQ(InodeOf(password), kept);
  // Another instance's store deleting the secret is noticed by this one's next write.
  ASSERT_TRUE(restarted.DeleteConnection(key).ok());
  ASSERT_TRUE(store_.WriteConnection(key, data).ok());
  EXPECT_EQ(*store_.ReadConnection(key), data);

  // A new password is written even though only it changed.
  auto replaced = data;
  replaced["password"] = "pw-2";
  ASSERT_TRUE(store_.WriteConnection(key, replaced).ok());
  EXPECT_EQ(ReadText(password), "pw-2");
  EXPECT_EQ(*store_.ReadConnection(key), replaced);
  // Deleted and written again: everything is back.
  ASSERT_TRUE(store_.DeleteConnection(key).ok());
  ASSERT_TRUE(store_.WriteConnection(key, replaced).ok());
  EXPECT_EQ(*store_.ReadConnection(key), replaced);
}

TEST_F(FileSecretStoreTest, WriteConnectionNeedsAPassword) {
  auto s = store_.WriteConnection({"default", "cache"}, {{"host", "h"}});
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
}

TEST(MemorySecretStoreTest, PutReadAndConnections) {
  MemorySecretStore store;
  store.Put("default", {"heroku", "apiKey"}, "key-1");
  EXPECT_EQ(*store.Read("default", {"heroku", "apiKey"}), "key-1");
  auto other_ns = store.Read("prod", {"heroku", "apiKey"});
  EXPECT_EQ(other_ns.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(other_ns.status().message().find("key-1"), std::string::npos);

  const api::Key key{"default", "cache"};
  EXPECT_EQ(store.ReadConnection(key).status().code(), StatusCode::kNotFound);
  auto where = store.WriteConnection(key, {{"password", "pw"}});
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(*where, "memory:default.cache");
  EXPECT_EQ(store.ReadConnection(key)->at("password"), "pw");
  ASSERT_TRUE(store.DeleteConnection(key).ok());
  EXPECT_EQ(store.ReadConnection(key).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace redisfleet::store
