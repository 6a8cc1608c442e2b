// notify_service_manager against a datagram socket standing in for systemd:
// abstract ("@name") and path sockets, nothing without $NOTIFY_SOCKET, and
// a clear error for a malformed one.
#include "net/service_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace kreek;

namespace {

// Binds a datagram socket at `name` ('@' = abstract); returns the fd.
int bind_dgram(const std::string& name) {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  if (name[0] == '@') a.sun_path[0] = '\0';
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  return fd;
}

std::string receive(int fd) {
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

TEST_SUITE("net") {
  TEST_CASE("READY=1 reaches an abstract notify socket and a path one") {
    std::string abstract = "@kreek-notify-test-" + std::to_string(::getpid());
    int fd = bind_dgram(abstract);
    ::setenv("NOTIFY_SOCKET", abstract.c_str(), 1);
    CHECK(net::notify_service_manager("READY=1\nSTATUS=listening").is_ok());
    CHECK(receive(fd) == "READY=1\nSTATUS=listening");
    ::close(fd);

    std::string path = "/tmp/kreek-notify-test-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    fd = bind_dgram(path);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    CHECK(net::notify_service_manager("STOPPING=1").is_ok());
    CHECK(receive(fd) == "STOPPING=1");
    ::close(fd);
    ::unlink(path.c_str());

    // Nobody listening any more: an I/O error naming the socket.
    Status gone = net::notify_service_manager("READY=1");
    CHECK(gone.code() == Code::kIoError);
    CHECK(gone.message().find(path) != std::string::npos);
    ::unsetenv("NOTIFY_SOCKET");
  }

  TEST_CASE("without NOTIFY_SOCKET nothing is sent; a malformed one is refused") {
    ::unsetenv("NOTIFY_SOCKET");
    CHECK(net::notify_service_manager("READY=1").is_ok());
    ::setenv("NOTIFY_SOCKET", "relative/path", 1);
    CHECK(net::notify_service_manager("READY=1").code() == Code::kInvalidRequest);
    ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
    CHECK(net::notify_service_manager("READY=1").code() == Code::kInvalidRequest);
    ::unsetenv("NOTIFY_SOCKET");
  }
}
