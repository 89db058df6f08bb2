#include "common/fs.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace redisfleet {
namespace {

TEST(Fs, AtomicWriteCreatesParentsAndSetsMode) {
  char tmpl[] = "/tmp/redisfleet-fs-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  std::string path = root + "/a/b/secret";
  ASSERT_TRUE(WriteFileAtomic(path, "v1", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "v2", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "v2");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temp files left behind.
  std::size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(root + "/a/b")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(ReadFile(root + "/missing").error().code(), StatusCode::kNotFound);
  ASSERT_TRUE(RemoveAll(root).ok());
  EXPECT_FALSE(std::filesystem::exists(root));
  EXPECT_TRUE(RemoveAll(root).ok());
}

// Whatever the umask (read once per process), a written file gets exactly the mode asked for:
// modes the umask leaves whole skip fchmod(2), the others are set explicitly.
TEST(Fs, AtomicWriteGivesExactModeWhateverTheUmask) {
  char tmpl[] = "/tmp/redisfleet-fs-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  for (mode_t mode : {0600, 0640, 0644, 0664, 0666}) {
    std::string path = root + "/f" + std::to_string(mode);
    ASSERT_TRUE(WriteFileAtomic(path, "x", mode).ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, mode) << path;
  }
  ASSERT_TRUE(RemoveAll(root).ok());
}

}  // namespace
}  // namespace redisfleet
