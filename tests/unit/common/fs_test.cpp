#include "common/fs.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

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

// A pid that no process has now: a child that already exited and was reaped.
pid_t ExitedPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// Temp files a crash left between create and rename go; a running writer's stay, and so does
// anything not named like TempPathFor's files.
TEST(Fs, StaleTempFilesOfExitedProcessesAndThisPidAreRemoved) {
  char tmpl[] = "/tmp/redisfleet-fs-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  const std::string log = root + "/objects.jsonl";
  const std::string exited = std::to_string(ExitedPid());
  const std::string running = std::to_string(::getppid());
  const std::string self = std::to_string(::getpid());
  // TempPathFor names temps PATH.tmp.PID.N.
  const std::string made = TempPathFor(log);
  EXPECT_EQ(made.rfind(log + ".tmp." + self + ".", 0), 0u) << made;
  const std::set<std::string> stale = {"objects.jsonl.tmp." + exited + ".1",
                                       "objects.jsonl.tmp." + self + ".7"};
  const std::set<std::string> kept = {"objects.jsonl",
                                      "objects.jsonl.tmp." + running + ".2",
                                      "objects.jsonl.tmp." + exited + ".1.x",
                                      "objects.jsonl.tmp.x.1",
                                      "objects.jsonl.tmp." + exited + ".",
                                      "objects.jsonl.corrupt",
                                      "other.tmp." + exited + ".1"};
  for (const auto& names : {stale, kept}) {
    for (const std::string& name : names) ASSERT_TRUE(WriteFileAtomic(root + "/" + name, "x").ok());
  }
  EXPECT_EQ(RemoveStaleTempFiles(log), stale.size());
  std::set<std::string> left;
  for (auto& e : std::filesystem::directory_iterator(root)) left.insert(e.path().filename().string());
  EXPECT_EQ(left, kept);
  ASSERT_TRUE(RemoveAll(root).ok());
}

}  // namespace
}  // namespace redisfleet
