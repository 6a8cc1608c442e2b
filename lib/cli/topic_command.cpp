// ktopic subcommands and the describe table.
#include "cli/topic_command.h"

#include <cstdio>
#include <iostream>
#include <memory>

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

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

void print_table(const std::vector<std::vector<std::string>>& rows, std::string& out) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size() + 2);
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 == r.size() ? r[i] : pad(r[i], widths[i]);
    out += line + "\n";
  }
}

}  // namespace

std::string describe_text(const proto::Json& d) {
  std::string out;
  const auto parts = d.value("partitions", proto::Json::array());
  out += "topic " + d.value("topic", std::string("?")) + "  partitions " + std::to_string(parts.size()) + "\n";
  std::vector<std::vector<std::string>> rows{
      {"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "LOG-END", "HW", "SIZE", "SEGMENTS"}};
  for (const auto& p : parts) {
    rows.push_back({scalar(p.value("partition", proto::Json())), scalar(p.value("leader", proto::Json())),
                    scalar(p.value("epoch", proto::Json())), node_list(p.value("replicas", proto::Json())),
                    node_list(p.value("isr", proto::Json())), scalar(p.value("log_start", proto::Json())),
                    scalar(p.value("log_end", proto::Json())), scalar(p.value("hw", proto::Json())),
                    scalar(p.value("size", proto::Json())), scalar(p.value("segments", proto::Json()))});
  }
  print_table(rows, out);
  for (const auto& p : parts) {
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
  auto* alter = app.add_subcommand("alter", "change config overrides (KEY= removes one)");
  alter->add_option("name", c.name, "topic name")->required()->type_name("NAME")->check(topic_name_check());
  alter->add_option("-c,--config", c.configs, "KEY=VALUE, or KEY= to remove (repeatable)")->required();
  alter->add_flag("--json", c.json, "print the effective config as JSON");
  auto* cluster = app.add_subcommand("cluster", "show the brokers, their state and the partitions each leads");
  cluster->add_flag("--json", c.json, "print the broker's describe_cluster JSON");
  for (auto* sub : {create, list, describe, del, alter, cluster}) {
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
  if (c.action == "delete") {
    KREEK_RETURN_IF_ERROR(client::delete_topic(cluster, c.name));
    info("deleted topic \"" + c.name + "\"");
    return Status::ok();
  }
  if (c.action == "alter") {
    KREEK_ASSIGN_OR_RETURN(auto r, client::alter_topic(cluster, c.name, changes));
    if (c.json) print(raw(r));
    return Status::ok();
  }
  return usage_error("unknown command \"" + c.action + "\"");
}

}  // namespace kreek::cli
