// The sd_notify protocol by hand; see service_notify.h.
#include "net/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kreek::net {

Status notify_service_manager(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return Status::ok();
  std::string path = env;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // '@' stands for the leading NUL of a Linux abstract socket name.
  if (path[0] != '/' && path[0] != '@')
    return invalid_request("NOTIFY_SOCKET " + path + ": not an absolute path or an @abstract name");
  if (path.size() > sizeof addr.sun_path)
    return invalid_request("NOTIFY_SOCKET " + path + ": name too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  // An abstract name's length is exact (no terminating NUL); a path's may
  // include one, and does not need to.
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error(std::string("notify the service manager: socket: ") + std::strerror(errno));
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (n < 0) return io_error("notify the service manager at " + path + ": " + std::strerror(e));
  return Status::ok();
}

}  // namespace kreek::net
