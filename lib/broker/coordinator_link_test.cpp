// CoordinatorLink against a real Coordinator on the same loop over loopback:
// registration, unfencing by heartbeat, following the metadata log, admin
// calls answered only once applied locally, a duplicate node id refused, and
// riding out a coordinator that goes away and comes back.
#include "broker/coordinator_link.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <functional>

#include "base/clock.h"
#include "base/log.h"
#include "coord/coordinator.h"

namespace kreek::broker {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/kreek-link.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// The loop runs once per test (EventLoop::stop is final), so a test is a
// list of steps: each waits for its condition, then runs its action; the loop
// stops after the last step or at the deadline. Returns how many steps ran.
struct Step {
  std::function<bool()> ready;
  std::function<void()> then = [] {};
};
size_t run_steps(net::EventLoop& loop, std::vector<Step> steps, int64_t ms = 15'000) {
  auto timer = loop.make_timer();
  int64_t deadline = clock::monotonic_ms() + ms;
  size_t next = 0;
  timer->start(1, 5, [&] {
    while (next < steps.size() && steps[next].ready()) steps[next++].then();
    if (next == steps.size() || clock::monotonic_ms() > deadline) loop.stop();
  });
  (void)loop.run();
  return next;
}

struct Fixture {
  // Reconnect warnings and registration lines are expected here: keep test
  // output to failures.
  struct Quiet {
    log::Level saved = log::level();
    Quiet() { log::set_level(log::Level::kError); }
    ~Quiet() { log::set_level(saved); }
  } quiet;
  TempDir dir;
  std::unique_ptr<net::EventLoop> loop = net::EventLoop::create();
  std::unique_ptr<coord::Coordinator> coordinator;

  void start_coordinator(std::string listen = "127.0.0.1:0") {
    coord::CoordinatorConfig cfg;
    cfg.listen = listen;
    cfg.data_dir = dir.path + "/meta";
    cfg.heartbeat_interval_ms = 20;
    cfg.session_timeout_ms = 2000;
    cfg.election_interval_ms = 20;
    auto c = coord::Coordinator::open(cfg, *loop);
    REQUIRE(c.is_ok());
    coordinator = std::move(*c);
    REQUIRE(coordinator->start().is_ok());
  }
  CoordinatorLinkConfig link_config(int node, std::string data_dir_id) {
    return CoordinatorLinkConfig{{coordinator->address()}, NodeId(node), "127.0.0.1:1909" + std::to_string(node),
                                 "", std::move(data_dir_id), "inc", 200};
  }
};

TEST_SUITE("broker cluster") {
  TEST_CASE("a broker registers, is unfenced and follows the metadata log") {
    Fixture f;
    f.start_coordinator();
    bool registered = false, answered = false;
    Status error;
    CoordinatorLink link(*f.loop, f.link_config(1, "dir-1"),
                         {.on_registered = [&](const std::string&) { registered = true; }});
    link.start();
    auto live = [&] {
      const coord::BrokerInfo* b = link.image().broker(NodeId(1));
      return registered && b != nullptr && b->state == coord::BrokerState::kLive;
    };
    std::vector<Step> steps{
        {live,
         [&] {
           // An admin call is answered once this broker's own image has the change.
           link.call({{"op", "create_topic"}, {"topic", "orders"}, {"partitions", 2}}, [&](Result<proto::Json> r) {
             CHECK_MESSAGE(r.is_ok(), r.status().to_string());
             CHECK(link.image().topic("orders") != nullptr);
             answered = true;
           });
         }},
        {[&] { return answered; },
         [&] {
           CHECK(link.image().to_json() == f.coordinator->committed_image().to_json());
           // Errors come back as the coordinator's.
           link.call({{"op", "create_topic"}, {"topic", "orders"}}, [&](Result<proto::Json> r) { error = r.status(); });
         }},
        {[&] { return !error.is_ok(); }, [&] { CHECK(error.code() == Code::kTopicExists); }},
    };
    CHECK(run_steps(*f.loop, std::move(steps)) == 3);
    link.stop();
  }

  TEST_CASE("a second broker with a node id in use is refused") {
    Fixture f;
    f.start_coordinator();
    Status refused;
    CoordinatorLink first(*f.loop, f.link_config(1, "dir-1"), {});
    CoordinatorLink second(*f.loop, f.link_config(1, "dir-other"), {.on_refused = [&](Status s) { refused = s; }});
    first.start();
    std::vector<Step> steps{
        {[&] { return first.is_registered(); }, [&] { second.start(); }},
        {[&] { return !refused.is_ok(); }, [&] { CHECK(refused.code() == Code::kDuplicateBroker); }},
    };
    CHECK(run_steps(*f.loop, std::move(steps)) == 2);
    first.stop();
    second.stop();
  }

  TEST_CASE("answers the link cannot use are asked again, never thrown on or wrapped") {
    // A scripted coordinator: registration answers without a usable broker
    // epoch (a string, 2^64 - 1 that would wrap to -1, a float), then one
    // that is fine but for its float interval and numeric cluster id; every
    // metadata_fetch answer is malformed.
    Fixture f;
    const std::vector<std::string> register_answers = {
        R"({"ok":true,"broker_epoch":"seven","heartbeat_interval_ms":20})",
        R"({"ok":true,"broker_epoch":18446744073709551615,"heartbeat_interval_ms":20})",
        R"({"ok":true,"broker_epoch":1e300})",
        R"({"ok":true,"broker_epoch":3,"heartbeat_interval_ms":1e300,"cluster_id":5})"};
    const std::vector<std::string> poll_answers = {R"({"ok":"yes","records":[]})",
                                                   R"({"ok":true,"records":[{"offset":1.5,"record":{}}]})",
                                                   R"({"ok":true,"records":[{"offset":18446744073709551615,"record":{}}]})",
                                                   R"([1,2,3])"};
    size_t registers = 0, polls = 0;
    net::ConnectionHandler h;
    h.on_line = [&](net::Connection&, std::string_view line, net::ResponseSlot slot) {
      std::string op = nlohmann::json::parse(line).value("op", "");
      if (op == "register_broker") return slot.complete(register_answers[std::min(registers++, size_t{3})] + "\n");
      if (op == "metadata_fetch") return slot.complete(poll_answers[polls++ % poll_answers.size()] + "\n");
      slot.complete(R"({"ok":true,"shutdown_ready":"yes"})" "\n");  // heartbeats
    };
    auto server = f.loop->listen("127.0.0.1:0", {}, h);
    REQUIRE(server.is_ok());
    std::string cluster_id = "unset";
    CoordinatorLink link(*f.loop,
                         CoordinatorLinkConfig{{(*server)->address()}, NodeId(1), "127.0.0.1:19091", "", "dir-1", "inc", 200},
                         {.on_registered = [&](const std::string& id) { cluster_id = id; }});
    link.start();
    std::vector<Step> steps{
        {[&] { return link.is_registered() && polls >= 2 * poll_answers.size(); },
         [&] {
           CHECK(registers == 4);  // each unusable answer asked again
           CHECK(cluster_id.empty());
           CHECK(link.image().next_offset() == 0);  // nothing applied from the malformed polls
         }},
    };
    CHECK(run_steps(*f.loop, std::move(steps), 30'000) == 1);
    link.stop();
  }

  TEST_CASE("the link rides out a coordinator restart and catches up") {
    Fixture f;
    f.start_coordinator();
    std::string addr = f.coordinator->address();
    CoordinatorLink link(*f.loop, f.link_config(1, "dir-1"), {});
    link.start();
    bool stopped = false, answered = false;
    Status away;
    int64_t seen = 0;
    std::vector<Step> steps{
        {[&] { return link.is_registered() && link.coordinator_reachable(); },
         [&] { f.coordinator->stop([&] { stopped = true; }); }},
        {[&] { return stopped; }, [&] { f.coordinator.reset(); }},
        // Away: admin calls fail with UNAVAILABLE, the image stays.
        {[&] { return !link.coordinator_reachable(); },
         [&] { link.call({{"op", "create_topic"}, {"topic", "t"}}, [&](Result<proto::Json> r) { away = r.status(); }); }},
        {[&] { return !away.is_ok(); },
         [&] {
           CHECK(away.code() == Code::kUnavailable);
           seen = link.image().next_offset();
           f.start_coordinator(addr);  // back on the same port with the same log
         }},
        {[&] { return link.coordinator_reachable(); },
         [&] { link.call({{"op", "create_topic"}, {"topic", "t"}}, [&](Result<proto::Json> r) { answered = r.is_ok(); }); }},
        {[&] { return answered; },
         [&] {
           CHECK(link.image().next_offset() > seen);
           CHECK(link.image().broker(NodeId(1))->state == coord::BrokerState::kLive);
         }},
    };
    CHECK(run_steps(*f.loop, std::move(steps)) == 6);
    link.stop();
  }
}

}  // namespace
}  // namespace kreek::broker
