// tests/operators/net/free_port.h
//
// A TCP port of 127.0.0.1 that nothing listens on at the time of the call,
// for the servers the tests start (s3rver, PostgreSQL).
//
// Example:
//   const int port = FreeLoopbackPort();
#ifndef VIGIL_TESTS_OPERATORS_NET_FREE_PORT_H_
#define VIGIL_TESTS_OPERATORS_NET_FREE_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil {

inline int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  return bound ? ntohs(a.sin_port) : 0;  // 0: no port could be had
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_NET_FREE_PORT_H_
