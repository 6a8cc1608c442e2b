// DeliveryLedger: acknowledgements arrive in any order, records settle in
// input order, and a failure settles with its reason.
#include "cli/delivery_ledger.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace kreek;

namespace {

client::Delivery ack(int32_t p, int64_t base, const std::vector<uint64_t>& tags) {
  client::Delivery d;
  d.partition = p;
  d.base_offset = base;
  d.timestamp = 1000;
  d.tags = &tags;
  return d;
}

std::vector<std::string> settle(cli::DeliveryLedger& l) {
  std::vector<std::string> out;
  l.settle([&](const cli::SettledRecord& r) {
    out.push_back(std::to_string(r.line) + (r.marker ? "m" : "") + "=" +
                  (r.error ? std::string(code_name(r.error->code()))
                           : std::to_string(r.partition) + "/" + std::to_string(r.offset)));
  });
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("records settle in input order whatever order their batches are acknowledged in") {
    cli::DeliveryLedger l;
    std::vector<uint64_t> p0, p1;
    for (int i = 1; i <= 4; ++i) (i % 2 ? p0 : p1).push_back(l.add(0, i, i * 10));
    l.on_delivery(ack(1, 7, p1));
    CHECK(settle(l).empty());  // line 1 is not acknowledged yet
    CHECK(l.pending() == 4);
    l.on_delivery(ack(0, 40, p0));
    CHECK(settle(l) == V{"1=0/40", "2=1/7", "3=0/41", "4=1/8"});
    CHECK(l.pending() == 0);
  }

  TEST_CASE("a failed record settles in its place with its reason; markers settle at once") {
    cli::DeliveryLedger l;
    std::vector<uint64_t> bad{l.add(0, 1, 5)};
    l.add_marker(0, 0, 0);
    std::vector<uint64_t> good{l.add(0, 1, 2)};
    l.on_delivery(ack(0, 3, good));
    client::Delivery d;
    d.tags = &bad;
    d.status = Status(Code::kMessageTooLarge, "too big");
    l.on_delivery(d);
    CHECK(settle(l) == V{"1=MESSAGE_TOO_LARGE", "0m=-1/-1", "1=0/3"});
  }

  TEST_CASE("an acknowledgement for an unknown or already settled tag is ignored") {
    cli::DeliveryLedger l;
    std::vector<uint64_t> t{l.add(0, 1, 1)};
    l.on_delivery(ack(0, 0, t));
    CHECK(settle(l).size() == 1);
    std::vector<uint64_t> stale{0, 99};
    l.on_delivery(ack(0, 5, stale));
    CHECK(settle(l).empty());
  }
}
