// ktopic subcommands and the describe table.
#include "cli/topic_command.h"
#include "cli/topic_more.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "base/json_value.h"
#include "cli/rebalance_plan.h"
#include "cli/text_table.h"
#include "client/client.h"

namespace kreek::cli {
namespace {

Result<client::ConfigChanges> parse_configs(const std::vector<std::string>& items, bool allow_remove) {
  client::ConfigChanges out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_error("bad --config \"" + item + "\": want KEY=VALUE");
    std::string key = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    if (value.empty()) {
      if (!allow_remove) return usage_error("--config " + key + "= (removal) only works with alter");
      out.emplace_back(key, std::nullopt);
    } else {
      out.emplace_back(key, value);
    }
  }
  return out;
}

std::string scalar(const proto::Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

std::string node_list(const proto::Json& v) {
  if (!v.is_array()) return "-";
  std::string s;
  for (const auto& n : v) {
    if (!s.empty()) s += ',';
    s += scalar(n);
  }
  return s.empty() ? "-" : s;
}

}  // namespace

std::string describe_text(const proto::Json& d) {
  std::string out;
  // The broker's answer is input like any other: a member of an unexpected
  // type prints as what it is, never throws (value() with a typed default does).
  auto parts = d.value("partitions", proto::Json::array());
  if (!parts.is_array()) parts = proto::Json::array();
  out += "topic " + scalar(d.value("topic", proto::Json("?"))) + "  partitions " + std::to_string(parts.size()) + "\n";
  std::vector<std::vector<std::string>> rows{
      {"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "LOG-END", "HW", "SIZE", "SEGMENTS"}};
  for (const auto& p : parts) {
    if (!p.is_object()) continue;
    rows.push_back({scalar(p.value("partition", proto::Json())), scalar(p.value("leader", proto::Json())),
                    scalar(p.value("epoch", proto::Json())), node_list(p.value("replicas", proto::Json())),
                    node_list(p.value("isr", proto::Json())), scalar(p.value("log_start", proto::Json())),
                    scalar(p.value("log_end", proto::Json())), scalar(p.value("hw", proto::Json())),
                    scalar(p.value("size", proto::Json())), scalar(p.value("segments", proto::Json()))});
  }
  print_table(rows, out);
  for (const auto& p : parts) {
    if (!p.is_object()) continue;
    auto adding = p.value("adding", proto::Json());
    auto removing = p.value("removing", proto::Json());
    if (!adding.is_array() && !removing.is_array()) continue;
    out += "reassigning: partition " + scalar(p.value("partition", proto::Json())) + " adding " +
           node_list(adding) + ", removing " + node_list(removing) + "\n";
  }
  for (const auto& p : parts) {
    if (!p.is_object()) continue;
    auto c = p.value("cleaner", proto::Json());
    if (!c.is_object()) continue;
    out += "cleaner: partition " + scalar(p.value("partition", proto::Json())) + " cleaned to " +
           scalar(c.value("cleaned_to", proto::Json())) + ", dirty ratio " +
           scalar(c.value("dirty_ratio", proto::Json())) + ", " +
           scalar(c.value("compactions", proto::Json())) + " compaction(s) since start-up\n";
  }
  // Every effective value, as --json has it, with the topic's own overrides
  // marked; unset flush.* show Kafka's 9223372036854775807 (Long.MAX_VALUE,
  // "never"), as kafka-configs does.
  auto config = d.value("config", proto::Json::object());
  auto overrides = d.value("overrides", proto::Json::object());
  if (!config.is_object()) config = proto::Json::object();
  if (!overrides.is_object()) overrides = proto::Json::object();
  for (auto it = overrides.begin(); it != overrides.end(); ++it)
    if (!config.contains(it.key())) config[it.key()] = it.value();  // a broker that sends overrides only
  if (!config.empty()) {
    out += "config:\n";
    for (auto it = config.begin(); it != config.end(); ++it)
      out += "  " + it.key() + "=" + scalar(it.value()) + (overrides.contains(it.key()) ? "  (override)" : "") + "\n";
  }
  return out;
}

std::string cluster_text(const proto::Json& d) {
  std::string out = "cluster " + scalar(d.value("cluster_id", proto::Json())) + "  (as node " +
                    scalar(d.value("node", proto::Json())) + " sees it)\n";
  std::vector<std::vector<std::string>> rows{{"NODE", "ADDRESS", "RACK", "STATE", "LEADER-OF"}};
  for (const auto& b : d.value("brokers", proto::Json::array())) {
    if (!b.is_object()) continue;
    std::string rack = scalar(b.value("rack", proto::Json()));
    rows.push_back({scalar(b.value("node", proto::Json())), scalar(b.value("addr", proto::Json())),
                    rack.empty() ? "-" : rack, scalar(b.value("state", proto::Json())),
                    scalar(b.value("leader_of", proto::Json()))});
  }
  print_table(rows, out);
  auto leaderless = d.value("leaderless_partitions", proto::Json());
  if (leaderless.is_number_integer() && leaderless.get<int64_t>() > 0)
    out += "leaderless partitions: " + leaderless.dump() + "\n";
  return out;
}

Result<std::vector<int32_t>> parse_replica_list(const std::string& text) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool digits = !item.empty() && item.size() <= 9 &&
                  item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) return usage_error("bad --replicas \"" + text + "\": want node ids such as 2,3,1");
    out.push_back(std::stoi(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string reassignment_text(const std::string& topic, int32_t partition, const proto::Json& a) {
  std::string out = topic + "/" + std::to_string(partition) + ": replicas " +
                    node_list(a.value("replicas", proto::Json())) + "  isr " +
                    node_list(a.value("isr", proto::Json())) + "  leader " + scalar(a.value("leader", proto::Json()));
  if (a.contains("adding") || a.contains("removing"))
    out += "  adding " + node_list(a.value("adding", proto::Json())) + "  removing " +
           node_list(a.value("removing", proto::Json()));
  else
    out += "  (done)";
  return out + "\n";
}

namespace {

// The broker's response as it came, less the request id (a client artefact).
std::string raw(proto::Json r) {
  r.erase("id");
  return r.dump() + "\n";
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// The live brokers (describe_cluster) and every partition's replicas, or its
// running move's target (metadata), for the planner.
Result<RebalancePlan> make_plan(client::Cluster& cluster) {
  KREEK_ASSIGN_OR_RETURN(proto::Json described, client::describe_cluster(cluster));
  std::vector<PlanBroker> live;
  for (const auto& b : described.value("brokers", proto::Json::array()))
    if (std::optional<int64_t> node = json_member_int(b, "node", 0, INT32_MAX);
        node && json_string_or(b, "state") == "live")
      live.push_back(PlanBroker{NodeId(static_cast<int32_t>(*node)), json_string_or(b, "rack")});
  if (live.empty()) return Status(Code::kUnavailable, "no live broker to place replicas on");
  KREEK_ASSIGN_OR_RETURN(proto::Json meta, cluster.call({{"op", "metadata"}}));
  std::vector<PlanPartition> parts;
  for (const auto& t : meta.value("topics", proto::Json::array())) {
    if (!t.is_object() || !t.contains("partitions")) continue;
    for (const auto& p : t["partitions"]) {
      // Numbers that do not fit are skipped: wrapped, they would name
      // another partition or broker in the plan --execute carries out.
      std::optional<int64_t> partition = json_member_int(p, "partition", 0, INT32_MAX);
      if (!partition) continue;
      PlanPartition pp{json_string_or(t, "topic"), static_cast<int32_t>(*partition), {}};
      auto removing = p.value("removing", proto::Json::array());
      for (const auto& n : p.value("replicas", proto::Json::array())) {
        std::optional<int64_t> node = json_int_in(n, 0, INT32_MAX);
        if (!node || std::find(removing.begin(), removing.end(), n) != removing.end()) continue;
        pp.replicas.push_back(NodeId(static_cast<int32_t>(*node)));
      }
      if (!pp.replicas.empty()) parts.push_back(std::move(pp));
    }
  }
  return plan_rebalance(live, parts);
}

Status run_reassign(client::Cluster& cluster, const TopicConfig& c) {
  if (c.rebalance) {
    if (!c.name.empty() || c.partition || !c.replicas.empty() || c.cancel)
      return usage_error("--rebalance plans every topic: give no TOPIC, --partition, --replicas or --cancel");
    KREEK_ASSIGN_OR_RETURN(RebalancePlan plan, make_plan(cluster));
    std::string text = plan_text(plan);
    if (!c.execute && !plan.moves.empty()) text += "(dry run: nothing was changed; --execute starts these moves)\n";
    print(c.json ? plan_to_json(plan).dump() + "\n" : text);
    if (!c.execute) return Status::ok();
    Status first;
    for (const auto& m : plan.moves) {
      std::vector<int32_t> to;
      for (NodeId n : m.to) to.push_back(n.value());
      auto r = client::alter_reassignment(cluster, m.topic, m.partition, to);
      if (!r.is_ok()) {
        warn(r.status().with_context("reassign " + m.topic + "/" + std::to_string(m.partition)).message());
        if (first.is_ok()) first = r.status();
      }
    }
    if (first.is_ok())
      info("started " + std::to_string(plan.moves.size()) + " moves; 'ktopic describe TOPIC' shows those still running");
    return first;
  }
  if (c.execute) return usage_error("--execute goes with --rebalance");
  if (c.name.empty()) return usage_error("reassign needs a TOPIC (or --rebalance)");
  if (!c.partition) return usage_error("reassign needs --partition");
  if (*c.partition < 0) return usage_error("--partition must be >= 0");
  if (c.cancel == !c.replicas.empty()) return usage_error("reassign needs one of --replicas or --cancel");
  std::optional<std::vector<int32_t>> target;
  if (!c.cancel) {
    KREEK_ASSIGN_OR_RETURN(auto list, parse_replica_list(c.replicas));
    target = std::move(list);
  }
  KREEK_ASSIGN_OR_RETURN(auto r, client::alter_reassignment(cluster, c.name, *c.partition, target));
  print(c.json ? raw(r) : reassignment_text(c.name, *c.partition, r));
  return Status::ok();
}

}  // namespace

void add_topic_commands(CLI::App& app, TopicConfig& c) {
  app.require_subcommand(1);
  // "command", as ktopic(1) says; CLI11's own word is "subcommand".
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");
  app.footer("Run 'ktopic COMMAND --help' for a command's options. The options above may also\n"
             "follow the command: ktopic describe orders -b HOST:PORT.");
  auto* create = app.add_subcommand("create", "create a topic");
  create->add_option("name", c.name, "topic name")->required()->type_name("NAME")->check(topic_name_check());
  create->add_option("-p,--partitions", c.partitions, "partition count (default: the broker's)");
  create->add_option("-r,--replication-factor", c.replication_factor,
                     "copies of each partition (default: 1; more needs replication, not built yet)");
  create->add_option("-c,--config", c.configs, "KEY=VALUE topic config (repeatable)");
  create->add_flag("--json", c.json, "print the broker's JSON response");
  auto* list = app.add_subcommand("list", "print topic names, one per line");
  list->add_flag("--json", c.json, "print the broker's metadata JSON");
  auto* describe = app.add_subcommand("describe", "show partitions, offsets, sizes and config");
  describe->add_option("name", c.name, "topic name")->required()->type_name("NAME")->check(topic_name_check());
  describe->add_flag("--json", c.json, "print the broker's JSON response");
  auto* del = app.add_subcommand("delete", "delete a topic and its data");
  del->add_option("name", c.name, "topic name")->required()->type_name("NAME")->check(topic_name_check());
  auto* alter = app.add_subcommand("alter", "change config overrides (KEY= removes one), or raise the partition count");
  alter->add_option("name", c.name, "topic name")->required()->type_name("NAME")->check(topic_name_check());
  alter->add_option("-c,--config", c.configs, "KEY=VALUE, or KEY= to remove (repeatable)");
  alter->add_option("-p,--partitions", c.partitions,
                    "raise the partition count to N (never lowers it; keyed records then move)")
      ->type_name("N");
  alter->add_flag("--json", c.json, "print the effective config as JSON");
  auto* cluster = app.add_subcommand("cluster", "show the brokers, their state and the partitions each leads");
  cluster->add_flag("--json", c.json, "print the broker's describe_cluster JSON");
  auto* reassign = app.add_subcommand(
      "reassign", "move a partition's replicas to other brokers online, or plan an even spread (--rebalance)");
  reassign->add_option("name", c.name, "topic name")->type_name("TOPIC")->check(topic_name_check());
  reassign->add_option("-p,--partition", c.partition, "the partition to move");
  reassign->add_option("--replicas", c.replicas, "the new replicas, preferred leader first (e.g. 2,3,1)")
      ->type_name("LIST");
  reassign->add_flag("--cancel", c.cancel, "cancel the move running for the partition");
  reassign->add_flag("--rebalance", c.rebalance,
                     "plan replicas and preferred leaders evenly over the live brokers (dry run)");
  reassign->add_flag("--execute", c.execute, "with --rebalance: start the planned moves");
  reassign->add_flag("--json", c.json, "print the answer (or the plan) as JSON");
  auto* partition_for = app.add_subcommand("partition-for", "print the partition each key goes to (Kafka's partitioner)");
  partition_for->add_option("name", c.name, "topic name")->required()->type_name("TOPIC")->check(topic_name_check());
  partition_for->add_option("keys", c.keys, "record keys")->required()->type_name("KEY...");
  partition_for->add_flag("--json", c.json, "print the keys and partitions as JSON");
  auto* metrics = app.add_subcommand("metrics", "show a broker's metrics (requests, latency, traffic, replication)");
  metrics->add_option("--broker", c.broker, "the broker to ask: HOST:PORT or node id (default: the -b broker)")
      ->type_name("ADDR|ID");
  metrics->add_flag("--json", c.json, "print the broker's metrics JSON");
  auto* group = add_group_command(app, c.group);
  for (auto* sub : {create, list, describe, del, alter, cluster, reassign, partition_for, metrics, group}) {
    sub->callback([&c, sub] { c.action = sub->get_name(); });
    // The common flags belong to ktopic, but users of kafka-topics and kcat
    // put them anywhere: "ktopic describe orders -b HOST:PORT". Options the
    // subcommand does not know fall through to ktopic's.
    sub->fallthrough();
    sub->group("Commands");
    sub->footer("Common options (-b/--brokers, -v, -q) may also come after the command; see 'ktopic --help'.");
  }
}

Status run_topic(const TopicConfig& c) {
  set_verbosity(c.common.verbose, c.common.quiet);
  KREEK_ASSIGN_OR_RETURN(client::ConfigChanges changes, parse_configs(c.configs, c.action == "alter"));
  if (c.partitions && *c.partitions < 1) return usage_error("--partitions must be >= 1");
  if (c.replication_factor < 1) return usage_error("--replication-factor must be >= 1");
  if (c.action == "alter" && changes.empty() && !c.partitions) return usage_error("alter needs -c KEY=VALUE or -p N");
  if (c.action == "group") KREEK_RETURN_IF_ERROR(check_group_config(c.group));
  KREEK_ASSIGN_OR_RETURN(std::unique_ptr<client::Cluster> connected, connect(c.common));
  client::Cluster& cluster = *connected;

  if (c.action == "create") {
    KREEK_ASSIGN_OR_RETURN(auto r, client::create_topic(cluster, c.name, c.partitions, changes, c.replication_factor));
    if (c.json) print(raw(r));
    info("created topic \"" + c.name + "\"");
    return Status::ok();
  }
  if (c.action == "list") {
    if (c.json) {
      KREEK_ASSIGN_OR_RETURN(auto r, cluster.call({{"op", "metadata"}}));
      print(raw(r));
      return Status::ok();
    }
    KREEK_ASSIGN_OR_RETURN(auto names, client::list_topics(cluster));
    std::string out;
    for (const auto& n : names) out += n + "\n";
    print(out);
    return Status::ok();
  }
  if (c.action == "describe") {
    std::vector<Status> missed;
    KREEK_ASSIGN_OR_RETURN(auto r, client::describe_topic(cluster, c.name, &missed));
    // Partial answers still print: the unreachable leaders' rows show "-".
    for (const auto& m : missed) warn(m.message());
    print(c.json ? raw(r) : describe_text(r));
    return Status::ok();
  }
  if (c.action == "cluster") {
    KREEK_ASSIGN_OR_RETURN(auto r, client::describe_cluster(cluster));
    print(c.json ? raw(r) : cluster_text(r));
    return Status::ok();
  }
  if (c.action == "reassign") return run_reassign(cluster, c);
  if (c.action == "group") return run_group(cluster, c.group);
  if (c.action == "delete") {
    KREEK_RETURN_IF_ERROR(client::delete_topic(cluster, c.name));
    info("deleted topic \"" + c.name + "\"");
    return Status::ok();
  }
  if (c.action == "alter") {
    if (!changes.empty()) {
      KREEK_ASSIGN_OR_RETURN(auto r, client::alter_topic(cluster, c.name, changes));
      if (c.json) print(raw(r));
    }
    if (c.partitions) return run_add_partitions(cluster, c.name, *c.partitions, c.json && changes.empty());
    return Status::ok();
  }
  if (c.action == "partition-for") return run_partition_for(cluster, c.name, c.keys, c.json);
  if (c.action == "metrics") return run_metrics(cluster, c.broker, c.json);
  return usage_error("unknown command \"" + c.action + "\"");
}

}  // namespace kreek::cli
