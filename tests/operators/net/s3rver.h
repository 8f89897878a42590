// tests/operators/net/s3rver.h
//
// s3rver (the npm S3 API server pinned in tests/servers, installed by
// scripts/test-servers.sh) on a free 127.0.0.1 port, its buckets under a
// directory, for the tests of the S3 client and the S3 archive. It checks
// SigV4 signatures against the access key S3RVER and the secret S3RVER.
// Stop and Start keep the directory and the port.
//
// Example:
//   std::unique_ptr<S3rver> s3 = S3rver::Start(dir, {"archive"});
//   ASSERT_TRUE(s3);
//   S3Location at = *ParseS3Url("s3://archive/events?endpoint=" + s3->endpoint());
#ifndef VIGIL_TESTS_OPERATORS_NET_S3RVER_H_
#define VIGIL_TESTS_OPERATORS_NET_S3RVER_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "operators/net/sigv4.h"
#include "tests/operators/net/free_port.h"

namespace vigil {

class S3rver {
 public:
  static AwsCredentials Credentials() { return {"S3RVER", "S3RVER", ""}; }

  // Null when it does not answer within 20 s.
  static std::unique_ptr<S3rver> Start(const std::string& dir, std::vector<std::string> buckets) {
    std::unique_ptr<S3rver> s(new S3rver(dir, std::move(buckets)));
    std::filesystem::create_directories(dir + "/data");
    s->port_ = FreeLoopbackPort();
    return s->Run() ? std::move(s) : nullptr;
  }
  ~S3rver() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool Restart() { return Run(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return dir_ + "/s3rver.log"; }

 private:
  S3rver(std::string dir, std::vector<std::string> buckets)
      : dir_(std::move(dir)), buckets_(std::move(buckets)) {}
  bool Run() {
    std::vector<std::string> argv = {
        std::string(VIGIL_SOURCE_DIR) + "/tests/servers/node_modules/.bin/s3rver",
        "--directory",
        dir_ + "/data",
        "--address",
        "127.0.0.1",
        "--port",
        std::to_string(port_),
        "--silent"};
    for (const std::string& b : buckets_) {
      argv.push_back("--configure-bucket");
      argv.push_back(b);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    for (int i = 0; i < 400; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port_));
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (up) return true;
      ::usleep(50000);
    }
    return false;
  }

  std::string dir_;
  std::vector<std::string> buckets_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_NET_S3RVER_H_
