// Status: message formatting and the errno helper.
#include "base/status.h"

#include <cstring>

namespace kreek {

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return rep_->message + " (" + std::string(code_name(rep_->code)) + ")";
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  return Status(rep_->code, std::string(context) + ": " + rep_->message);
}

Status errno_status(std::string_view op, std::string_view object, int errno_value) {
  std::string m(op);
  if (!object.empty()) {
    m += ' ';
    m += object;
  }
  m += ": ";
  m += std::strerror(errno_value);
  return Status(errno_value == ENOENT ? Code::kNotFound : Code::kIoError, std::move(m));
}

}  // namespace kreek
