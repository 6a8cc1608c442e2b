// ProgressMeter's status text.
#include "cli/progress_meter.h"

#include <doctest/doctest.h>

namespace kreek::cli {

TEST_SUITE("progress meter") {
  TEST_CASE("a known total shows share, rate and time left") {
    CHECK(format_progress("logs", 500000, 2000000, 2000) ==
          "logs: 500.0k of 2.00M records (25%), 250.0k/s, 0:06 left");
  }
  TEST_CASE("an unknown total shows the count and rate only") {
    CHECK(format_progress("logs", 1234, 0, 1000) == "logs: 1234 records, 1234/s");
  }
  TEST_CASE("more records than the total (new arrivals) stop at 100% with no time left") {
    CHECK(format_progress("t", 120, 100, 1000) == "t: 120 of 100 records (100%), 120/s");
  }
  TEST_CASE("long exports show hours") {
    CHECK(format_progress("t", 1000, 10000000, 1000) ==
          "t: 1000 of 10.00M records (0%), 1000/s, 2:46:39 left");
  }
}

}  // namespace kreek::cli
