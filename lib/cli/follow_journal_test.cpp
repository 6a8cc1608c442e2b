// The --state journal (FILE.inflight): round trip, acks and releases as the
// producer applied them, the damaged inputs, the writer's append and
// rewrite, and the restart plan that rebuilds journaled lines from a file.
#include "cli/follow_journal.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/atomic_file.h"
#include "cli/follow_replay.h"
#include "cli/inflight_journal.h"

using namespace kreek;

namespace {

cli::JournalBatch batch(uint64_t tag, int32_t p, int32_t seq, int32_t n) {
  cli::JournalBatch b;
  b.tag = tag;
  b.partition = p;
  b.first_seq = seq;
  b.count = n;
  b.check = 99;
  b.runs.push_back({2049, 131, 10, 100, 100 + 10 * n, n});
  return b;
}

Status decode(const std::string& text) { return cli::decode_journal(text, "j").status(); }

std::string temp_dir() {
  char tmpl[] = "/tmp/kreek_journal_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("a journal round trips: head, batches, acks, next sequences") {
    cli::Journal j;
    j.pid = 7;
    j.pepoch = 2;
    j.batches.push_back(batch(0, 1, 40, 3));
    j.batches.push_back(batch(3, 0, 5, 2));
    j.batches[1].acked = true;
    j.batches[1].base = 1000;
    j.batches[1].ts = 1700000000000;
    j.next = {{1, 43}, {0, 7}, {2, 11}};
    std::string text = cli::encode_journal(j);
    CHECK(text.substr(0, text.find('\n')) == "{\"pid\":7,\"pepoch\":2}");
    CHECK(text.find("{\"b\":[0,1,40,3,99],\"r\":[[2049,131,10,100,130,3]]}\n") != std::string::npos);
    auto back = cli::decode_journal(text, "j");
    REQUIRE(back.is_ok());
    CHECK(back->pid == 7);
    CHECK(back->pepoch == 2);
    REQUIRE(back->batches.size() == 2);
    CHECK(back->batches[0].first_seq == 40);
    CHECK(!back->batches[0].acked);
    CHECK(back->batches[1].acked);
    CHECK(back->batches[1].base == 1000);
    CHECK(back->batches[1].runs[0].to == 120);
    CHECK(back->next.size() == 3);
    CHECK(back->next[2] == std::make_pair(2, 11));
  }

  TEST_CASE("appended batches carry the next sequence; a release moves later batches down") {
    std::string text = cli::encode_journal_head(7, 0);
    text += cli::encode_journal_batch(batch(0, 0, 10, 3));
    text += cli::encode_journal_batch(batch(3, 1, 0, 2));
    text += cli::encode_journal_batch(batch(5, 0, 13, 4));
    auto j = cli::decode_journal(text, "j");
    REQUIRE(j.is_ok());
    CHECK(j->next == std::vector<std::pair<int32_t, int32_t>>{{0, 17}, {1, 2}});
    text += cli::encode_journal_release(0);
    j = cli::decode_journal(text, "j");
    REQUIRE(j.is_ok());
    CHECK(j->batches[0].released);
    CHECK(j->batches[1].first_seq == 0);   // another partition: unchanged
    CHECK(j->batches[2].first_seq == 10);  // took the refused batch's numbers
    CHECK(j->next == std::vector<std::pair<int32_t, int32_t>>{{0, 14}, {1, 2}});
    // A rewrite leaves the released batch out and keeps the numbers.
    auto again = cli::decode_journal(cli::encode_journal(*j), "j");
    REQUIRE(again.is_ok());
    CHECK(again->batches.size() == 2);
    auto sorted = [](std::vector<std::pair<int32_t, int32_t>> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    CHECK(sorted(again->next) == sorted(j->next));
  }

  TEST_CASE("a journal torn in its last line loses only that line") {
    std::string text = cli::encode_journal_head(7, 0) + cli::encode_journal_batch(batch(0, 0, 0, 1));
    std::string torn = text + cli::encode_journal_ack(0, 5, 6);
    torn.pop_back();
    auto j = cli::decode_journal(torn, "j");
    REQUIRE(j.is_ok());
    CHECK(!j->batches[0].acked);
  }

  TEST_CASE("a damaged journal is refused") {
    std::string head = cli::encode_journal_head(7, 0);
    CHECK(decode("") .code() == Code::kCorrupt);
    CHECK(decode("{\"b\":[0,0,0,1,0],\"r\":[]}\n").code() == Code::kCorrupt);          // no head
    CHECK(decode(head + "{\"b\":[0,0,0,2,0],\"r\":[[1,2,1,0,5,1]]}\n").code() == Code::kCorrupt);  // 1 line, not 2
    CHECK(decode(head + "{\"a\":[4,0,0]}\n").code() == Code::kCorrupt);                // ack of no batch
    CHECK(decode(head + "{\"x\":[4]}\n").code() == Code::kCorrupt);
    CHECK(decode(head + "{\"q\":1}\n").code() == Code::kCorrupt);
    CHECK(decode(head + "{\"b\":[0,0,0,1,0],\"r\":[[1,2,1,5,5,1]]}\n").code() == Code::kCorrupt);  // empty run
    // Numbers that do not fit an int64 would wrap negative: 2^63 as a run's start.
    CHECK(decode(head + "{\"b\":[0,0,0,1,0],\"r\":[[1,2,1,9223372036854775808,5,1]]}\n").code() == Code::kCorrupt);
    CHECK(decode("{\"pid\":18446744073709551615,\"pepoch\":0}\n").code() == Code::kCorrupt);
    CHECK(decode(head + "{\"b\":[0,0,0,1,0],\"r\":[[1,2,1,0,5,1.0]]}\n").code() == Code::kCorrupt);
    // Runs holding more lines than their batch, however large each count.
    CHECK(decode(head + "{\"b\":[0,0,0,1,0],\"r\":[[1,2,1,0,5,9223372036854775807]]}\n").code() == Code::kCorrupt);
    // Tags, devices and inodes are uint64 and may use all of it.
    CHECK(decode(head + "{\"b\":[18446744073709551615,0,0,1,0],\"r\":[[18446744073709551615,"
                        "18446744073709551615,1,0,5,1]]}\n").is_ok());
    std::string b = cli::encode_journal_batch(batch(0, 0, 0, 1));
    CHECK(decode(head + b + b).code() == Code::kCorrupt);  // the same batch twice
    std::string flipped = head + b;
    flipped[flipped.size() - 5] = 'x';
    CHECK(decode(flipped).code() == Code::kCorrupt);
  }

  TEST_CASE("the journal writer appends and rewrites whole files") {
    std::string dir = temp_dir();
    cli::JournalWriter w(dir + "/s.inflight");
    CHECK(w.append("x\n").code() == Code::kInternal);  // not started
    REQUIRE(w.rewrite(cli::encode_journal_head(3, 0)).is_ok());
    REQUIRE(w.append(cli::encode_journal_batch(batch(0, 0, 0, 1))).is_ok());
    auto j = cli::decode_journal(*read_small_file(dir + "/s.inflight"), "j");
    REQUIRE(j.is_ok());
    CHECK(j->batches.size() == 1);
    REQUIRE(w.rewrite(cli::encode_journal_head(3, 0)).is_ok());
    j = cli::decode_journal(*read_small_file(dir + "/s.inflight"), "j");
    REQUIRE(j.is_ok());
    CHECK(j->batches.empty());
    CHECK(!std::filesystem::exists(dir + "/s.inflight.tmp"));
    REQUIRE(w.remove().is_ok());
    CHECK(!std::filesystem::exists(dir + "/s.inflight"));
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("the in-flight journal makes runs of consecutive lines and drops what the state settles") {
    std::string dir = temp_dir();
    cli::InflightJournal ij(dir + "/s.inflight");
    cli::Journal head;
    head.pid = 9;
    REQUIRE(ij.start(head).is_ok());
    // Lines a, bb, c of one file (tags 0-2), then a partial line (tag 3).
    ij.note(1, 2, 1, 0, 2, cli::line_check("a"), true);
    ij.note(1, 2, 2, 2, 5, cli::line_check("bb"), true);
    ij.note(1, 2, 3, 5, 7, cli::line_check("c"), true);
    ij.note(1, 2, 4, 7, 9, cli::line_check("dd"), false);
    ij.on_batch(0, 0, {0, 2});  // keyed: line 2 went elsewhere
    ij.on_batch(1, 0, {1});
    ij.on_batch(0, 2, {3});
    REQUIRE(ij.error().is_ok());
    auto j = cli::decode_journal(*read_small_file(dir + "/s.inflight"), "j");
    REQUIRE(j.is_ok());
    REQUIRE(j->batches.size() == 3);
    CHECK(j->batches[0].runs.size() == 2);  // lines 1 and 3 are not consecutive
    CHECK(j->batches[0].check == cli::chain_check(cli::chain_check(0, cli::line_check("a")), cli::line_check("c")));
    CHECK(j->next == std::vector<std::pair<int32_t, int32_t>>{{0, 3}, {1, 1}});
    std::vector<uint64_t> t1{1};
    client::Delivery d;
    d.partition = 1;
    d.base_offset = 50;
    d.tags = &t1;
    ij.on_delivery(d);
    // The state settled bytes up to 5 (lines 1 and 2): the second batch goes.
    cli::FollowState st;
    st.files.push_back({1, 2, "f", 5, 2});
    REQUIRE(ij.compact(st, {3, 1}).is_ok());
    j = cli::decode_journal(*read_small_file(dir + "/s.inflight"), "j");
    REQUIRE(j.is_ok());
    REQUIRE(j->batches.size() == 2);
    CHECK(j->batches[0].tag == 0);
    CHECK(j->batches[1].tag == 3);
    CHECK(j->next == std::vector<std::pair<int32_t, int32_t>>{{0, 3}, {1, 1}});
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("a restart plan rebuilds journaled lines from the file and finds the lines between them") {
    std::string dir = temp_dir();
    std::string log = dir + "/app.log";
    { std::ofstream(log) << "l1\nl2\nl3\nl4\nl5\n"; }
    struct stat sb {};
    REQUIRE(::stat(log.c_str(), &sb) == 0);
    uint64_t dev = sb.st_dev, ino = sb.st_ino;
    cli::FollowState st;
    st.topic = "t";
    st.pid = 4;
    st.files.push_back({dev, ino, log, 3, 1});  // l1 settled
    // Batch A (p0): l2, l4 not acknowledged; batch B (p1): l1 acknowledged
    // (settled already). l3 was in no sent batch. l5 was never read.
    cli::Journal j;
    j.pid = 4;
    cli::JournalBatch a;
    a.tag = 1;
    a.partition = 0;
    a.first_seq = 8;
    a.count = 2;
    a.check = cli::chain_check(cli::chain_check(0, cli::line_check("l2")), cli::line_check("l4"));
    a.runs = {{dev, ino, 2, 3, 6, 1}, {dev, ino, 4, 9, 12, 1}};
    cli::JournalBatch b;
    b.tag = 0;
    b.partition = 1;
    b.count = 1;
    b.runs = {{dev, ino, 1, 0, 3, 1}};
    b.acked = true;
    j.batches = {b, a};
    j.next = {{0, 10}, {1, 1}};
    REQUIRE(write_file_atomically(dir + "/s.inflight", cli::encode_journal(j)).is_ok());

    std::string why;
    auto plan = cli::plan_resume(dir + "/s", st, &why);
    REQUIRE_MESSAGE(plan.has_value(), why);
    CHECK(plan->producer.producer_id == 4);
    CHECK(plan->resend_records == 2);
    REQUIRE(plan->batches.size() == 1);  // B is settled
    CHECK(plan->batches[0].first_seq == 8);
    REQUIRE(plan->lines.size() == 3);
    CHECK(plan->lines[0].text == "l2");
    CHECK(plan->lines[0].batch == 0);
    CHECK(plan->lines[1].text == "l3");
    CHECK(plan->lines[1].batch == -1);
    CHECK(plan->lines[1].line == 3);
    CHECK(plan->lines[2].text == "l4");
    REQUIRE(plan->files.size() == 1);
    CHECK(plan->files[0].acked_pos == 3);
    CHECK(plan->files[0].read_pos == 12);
    CHECK(plan->files[0].read_line == 4);

    SUBCASE("renamed by rotation: found by inode beside its old name") {
      std::filesystem::rename(log, log + ".1");
      auto p = cli::plan_resume(dir + "/s", st, &why);
      CHECK(p.has_value());
    }
    SUBCASE("a changed line is not resent as something else") {
      { std::ofstream(log) << "l1\nX2\nl3\nl4\nl5\n"; }
      CHECK(!cli::plan_resume(dir + "/s", st, &why).has_value());
      CHECK(why.find("changed") != std::string::npos);
    }
    SUBCASE("a state of another producer id or none does not take the journal") {
      st.pid = -1;
      CHECK(!cli::plan_resume(dir + "/s", st, &why).has_value());
      CHECK(why.find("producer id") != std::string::npos);
    }
    SUBCASE("a journal naming bytes far past the file's end: the file is too short, nothing is allocated") {
      a.runs = {{dev, ino, 2, 3, 6, 1}, {dev, ino, 4, 9, int64_t{1} << 50, 1}};
      j.batches = {b, a};
      REQUIRE(write_file_atomically(dir + "/s.inflight", cli::encode_journal(j)).is_ok());
      CHECK(!cli::plan_resume(dir + "/s", st, &why).has_value());
      CHECK_MESSAGE(why.find("shorter than its journaled lines") != std::string::npos, why);
    }
    SUBCASE("no journal: no plan") {
      std::filesystem::remove(dir + "/s.inflight");
      CHECK(!cli::plan_resume(dir + "/s", st, &why).has_value());
    }
    std::filesystem::remove_all(dir);
  }
}
