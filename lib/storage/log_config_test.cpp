// Topic config overrides: Kafka key names, -1 for "never", ranges and messages.
#include "storage/log_config.h"

#include <doctest/doctest.h>

using namespace kreek;
using namespace kreek::storage;

TEST_SUITE("storage") {
  TEST_CASE("overrides apply on top of the defaults") {
    auto c = apply_overrides(LogConfig(), {{"retention.ms", "60000"},
                                           {"segment.bytes", "1048576"},
                                           {"flush.messages", "1"},
                                           {"cleanup.policy", "delete,compact"},
                                           {"min.cleanable.dirty.ratio", "0.25"},
                                           {"min.insync.replicas", "2"}});
    REQUIRE(c);
    CHECK(c->retention_ms == 60000);
    CHECK(c->segment_bytes == 1048576);
    CHECK(c->flush_always());
    CHECK(c->cleanup_delete);
    CHECK(c->cleanup_compact);
    CHECK(c->min_cleanable_dirty_ratio == 0.25);
    CHECK(c->min_insync_replicas == 2);
    CHECK(c->max_message_bytes == LogConfig().max_message_bytes);
  }

  TEST_CASE("-1 means never for retention.ms and retention.bytes") {
    auto c = apply_overrides(LogConfig(), {{"retention.ms", "-1"}, {"retention.bytes", "-1"}});
    REQUIRE(c);
    CHECK(c->retention_ms == kNever);
    CHECK(c->retention_bytes == kNever);
    auto d = describe(*c);
    CHECK(d["retention.ms"] == "-1");
    CHECK(d["retention.bytes"] == "-1");
  }

  TEST_CASE("-1 means leave it to the OS for flush.messages and flush.ms, as kreek-format(5) says") {
    auto c = apply_overrides(LogConfig(), {{"flush.messages", "-1"}, {"flush.ms", "-1"}});
    REQUIRE(c);
    CHECK(c->flush_messages == kNever);
    CHECK(c->flush_ms == kNever);
    CHECK_FALSE(c->flush_always());
    auto d = describe(*c);
    CHECK(d["flush.messages"] == "9223372036854775807");  // as Kafka describes it
    CHECK(d["flush.ms"] == "9223372036854775807");
    auto plain = apply_overrides(LogConfig(), {{"min.cleanable.dirty.ratio", "5e-1"}});
    REQUIRE(plain);
    CHECK(plain->min_cleanable_dirty_ratio == 0.5);
  }

  TEST_CASE("bad values are rejected with a message naming the key") {
    auto msg = [](const std::string& k, const std::string& v) {
      auto c = apply_overrides(LogConfig(), {{k, v}});
      REQUIRE_FALSE(c);
      CHECK(c.status().code() == Code::kInvalidRequest);
      return c.status().message();
    };
    CHECK(msg("retention.ms", "abc") == "retention.ms: \"abc\" is not an integer");
    CHECK(msg("retention.msx", "1") == "unknown config key \"retention.msx\"");
    CHECK(msg("retention.ms", "-2").find("retention.ms: \"-2\" is not in") == 0);
    CHECK(msg("segment.bytes", "100").find("segment.bytes: \"100\" is not in [1024,") == 0);
    CHECK(msg("segment.bytes", "99999999999").find("is not in") != std::string::npos);
    CHECK(msg("flush.messages", "0").find("flush.messages") == 0);
    CHECK(msg("flush.ms", "-2").find("flush.ms: \"-2\" is not in [0, 9223372036854775807] or -1") == 0);
    CHECK(msg("cleanup.policy", "purge").find("cleanup.policy: \"purge\"") == 0);
    CHECK(msg("cleanup.policy", "delete,delete").find("cleanup.policy") == 0);
    CHECK(msg("cleanup.policy", "").find("cleanup.policy") == 0);
    CHECK(msg("min.cleanable.dirty.ratio", "1.5").find("is not in [0, 1]") != std::string::npos);
    CHECK(msg("min.cleanable.dirty.ratio", "x").find("is not a number") != std::string::npos);
    // strtod would take these; a plain decimal is asked for.
    for (const char* odd : {"0x1p-1", "0X.8", "+0.5", "inf", "nan", " 0.5x", "0.5 0"})
      CHECK(msg("min.cleanable.dirty.ratio", odd).find("is not a number") != std::string::npos);
    CHECK(msg("max.message.bytes", "12k") == "max.message.bytes: \"12k\" is not an integer");
    CHECK(msg("segment.ms", "99999999999999999999").find("out of range") != std::string::npos);
  }

  TEST_CASE("every key has a doc line and a described value that applies back") {
    auto docs = config_key_docs();
    auto d = describe(LogConfig());
    CHECK(docs.size() == 15);
    CHECK(d.size() == docs.size());
    for (const auto& [k, doc] : docs) {
      CHECK(!doc.empty());
      CHECK(d.count(std::string(k)));
    }
    CHECK(d["cleanup.policy"] == "delete");
    CHECK(d["min.cleanable.dirty.ratio"] == "0.5");
    std::map<std::string, std::string> all(d.begin(), d.end());
    auto round = apply_overrides(LogConfig(), all);
    REQUIRE(round);
    CHECK(describe(*round) == d);
  }
}
