// LineFramer: splitting, '\r\n', partial lines across reads, and the bound on
// oversize lines (reported once, skipped without buffering).
#include "net/line_framer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using kreek::net::LineFramer;

namespace {
void feed(LineFramer& f, std::string_view bytes) {
  char* p = f.prepare(bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  f.commit(bytes.size());
}

// Drains events as "L:<line>" and "O:<bytes_seen>".
std::vector<std::string> drain(LineFramer& f) {
  std::vector<std::string> out;
  for (;;) {
    auto e = f.next();
    if (e.kind == LineFramer::Kind::kNone) return out;
    if (e.kind == LineFramer::Kind::kLine) out.push_back("L:" + std::string(e.line));
    else out.push_back("O:" + std::to_string(e.bytes_seen));
  }
}
}  // namespace

TEST_SUITE("net") {
  TEST_CASE("lines are split at newline and a carriage return before it is dropped") {
    LineFramer f(100);
    feed(f, "a\nbb\r\n\nc\rd\n");
    CHECK(drain(f) == std::vector<std::string>{"L:a", "L:bb", "L:", "L:c\rd"});
    CHECK(f.buffered() == 0);
  }

  TEST_CASE("a line split across reads is handed out whole once its newline arrives") {
    LineFramer f(100);
    feed(f, "hel");
    CHECK(drain(f).empty());
    feed(f, "lo\nwor");
    CHECK(drain(f) == std::vector<std::string>{"L:hello"});
    feed(f, "ld\n");
    CHECK(drain(f) == std::vector<std::string>{"L:world"});
  }

  TEST_CASE("a line of exactly the limit passes and one byte more is oversize") {
    LineFramer f(4);
    feed(f, "abcd\nabcde\nok\n");
    CHECK(drain(f) == std::vector<std::string>{"L:abcd", "O:5", "L:ok"});
    SUBCASE("the limit counts content, not the \\r\\n") {
      LineFramer g(4);
      feed(g, "abcd\r");
      CHECK(drain(g).empty());
      feed(g, "\n");
      CHECK(drain(g) == std::vector<std::string>{"L:abcd"});
    }
  }

  TEST_CASE("an oversize line is reported once and skipped to its newline without buffering") {
    const int64_t limit = 1 << 20;
    LineFramer f(limit);
    std::string chunk(64 << 10, 'x');
    int oversize = 0;
    size_t max_capacity = 0;
    for (int i = 0; i < 1600; ++i) {  // 100 MiB without a newline
      feed(f, chunk);
      for (auto& e : drain(f)) {
        CHECK(e.rfind("O:", 0) == 0);
        ++oversize;
      }
      max_capacity = std::max(max_capacity, f.capacity());
    }
    CHECK(oversize == 1);
    CHECK(max_capacity <= static_cast<size_t>(2 * limit + (64 << 10)));
    feed(f, "tail of the long line\nnext\n");
    CHECK(drain(f) == std::vector<std::string>{"L:next"});
  }

  TEST_CASE("the unterminated last line is available at end of stream") {
    LineFramer f(100);
    feed(f, "a\nlast\r");
    CHECK(drain(f) == std::vector<std::string>{"L:a"});
    auto tail = f.take_tail();
    REQUIRE(tail);
    CHECK(*tail == "last");
    CHECK(!f.take_tail());
    SUBCASE("but not the rest of an oversize line") {
      LineFramer g(3);
      feed(g, "abcdef");
      CHECK(drain(g) == std::vector<std::string>{"O:6"});
      CHECK(!g.take_tail());
    }
  }

  TEST_CASE("the buffer shrinks back after a large line drains") {
    LineFramer f(8 << 20);
    feed(f, std::string(4 << 20, 'y') + "\n");
    CHECK(drain(f).size() == 1);
    f.prepare(64 << 10);
    CHECK(f.capacity() <= (256u << 10));
  }

  TEST_CASE("raw bytes taken between lines are not split, and lines resume after them") {
    LineFramer f(100);
    feed(f, "head\nab\ncd");
    CHECK(f.next().line == "head");
    CHECK(f.take_raw(3) == "ab\n");  // a newline inside the raw bytes ends no line
    CHECK(f.take_raw(10) == "cd");     // only what is buffered
    CHECK(f.take_raw(10).empty());
    feed(f, "ef\nnext\n");
    CHECK(f.take_raw(2) == "ef");
    CHECK(drain(f) == std::vector<std::string>{"L:", "L:next"});
  }
}
