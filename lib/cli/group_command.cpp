// ktopic group: list, describe (with lag), reset offsets, delete.
#include "cli/group_command.h"

#include <algorithm>
#include <cstdio>

#include "base/clock.h"
#include "base/topic_name.h"
#include "cli/common.h"
#include "cli/start_position.h"
#include "cli/text_table.h"

namespace kreek::cli {
namespace {

std::string opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
proto::Json opt_json(const std::optional<int64_t>& v) { return v ? proto::Json(*v) : proto::Json(); }

std::string scalar(const proto::Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

const CLI::Validator& group_name_check() {
  // The topic-name rule (groups.md); checked before any round trip.
  static const CLI::Validator check([](std::string& v) -> std::string {
    std::string p = topic_name_problem(v);
    if (p.empty()) return p;
    return "bad group name: " + p;
  }, "");
  return check;
}

}  // namespace

Result<client::ResetTarget> parse_reset_target(const std::string& text) {
  client::ResetTarget t;
  size_t colon = text.find(':');
  t.topic = text.substr(0, colon);
  if (std::string p = topic_name_problem(t.topic); !p.empty()) return usage_error("bad --topic \"" + text + "\": " + p);
  if (colon == std::string::npos) return t;
  std::string list = text.substr(colon + 1);
  size_t start = 0;
  for (;;) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty() || item.size() > 9 || item.find_first_not_of("0123456789") != std::string::npos)
      return usage_error("bad --topic \"" + text + "\": want TOPIC or TOPIC:P[,P...]");
    t.partitions.push_back(std::stoi(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return t;
}

std::string group_list_text(const proto::Json& groups) {
  std::vector<std::vector<std::string>> rows{{"GROUP", "STATE", "MEMBERS"}};
  for (const auto& g : groups)
    rows.push_back({scalar(g.value("group", proto::Json())), scalar(g.value("state", proto::Json())),
                    scalar(g.value("members", proto::Json()))});
  std::string out;
  if (rows.size() > 1) print_table(rows, out);
  return out;
}

std::string group_description_text(const client::GroupDescription& d) {
  const proto::Json& g = d.group;
  const auto members = g.value("members", proto::Json::array());
  std::string out = "group " + scalar(g.value("group", proto::Json())) + "  state " +
                    scalar(g.value("state", proto::Json())) + "  generation " +
                    scalar(g.value("generation", proto::Json())) + "  assignor " +
                    scalar(g.value("assignor", proto::Json())) + "  coordinator " +
                    scalar(g.value("coordinator", proto::Json())) + "  members " + std::to_string(members.size()) +
                    "\n";
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER", "HOST"}};
  int64_t total = 0;
  bool known = true;  // a total needs every partition's lag
  for (const auto& r : d.partitions) {
    std::string who = !r.instance_id.empty() ? r.instance_id : r.member_id;
    rows.push_back({r.tp.topic, std::to_string(r.tp.partition), opt(r.committed), opt(r.end), opt(r.lag),
                    who.empty() ? "-" : who, r.host.empty() ? "-" : r.host});
    if (r.lag) total += *r.lag;
    else known = false;
  }
  print_table(rows, out);
  if (!members.empty()) {
    std::vector<std::vector<std::string>> mrows{{"MEMBER", "INSTANCE", "CLIENT", "HOST", "TOPICS"}};
    for (const auto& m : members) {
      std::string topics;
      for (const auto& t : m.value("topics", proto::Json::array())) topics += (topics.empty() ? "" : ",") + scalar(t);
      mrows.push_back({scalar(m.value("member_id", proto::Json())), scalar(m.value("instance_id", proto::Json())),
                       scalar(m.value("client_id", proto::Json())), scalar(m.value("host", proto::Json())),
                       topics.empty() ? "-" : topics});
    }
    out += "\n";
    print_table(mrows, out);
  }
  out += "total lag " + (known ? std::to_string(total) : std::string("-")) + "\n";
  return out;
}

proto::Json group_description_json(const client::GroupDescription& d) {
  proto::Json out = d.group;
  proto::Json parts = proto::Json::array();
  int64_t total = 0;
  bool known = true;
  for (const auto& r : d.partitions) {
    proto::Json p = {{"topic", r.tp.topic},        {"partition", r.tp.partition}, {"committed", opt_json(r.committed)},
                     {"end", opt_json(r.end)},     {"lag", opt_json(r.lag)},
                     {"member_id", r.member_id.empty() ? proto::Json() : proto::Json(r.member_id)}};
    if (r.lag) total += *r.lag;
    else known = false;
    parts.push_back(std::move(p));
  }
  out["partitions"] = std::move(parts);
  out["lag"] = known ? proto::Json(total) : proto::Json();  // null: some partition's lag is unknown
  return out;
}

std::string reset_plan_text(const std::vector<client::ResetRow>& plan) {
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "CURRENT", "NEW", "LOG-START", "END"}};
  for (const auto& r : plan)
    rows.push_back({r.tp.topic, std::to_string(r.tp.partition), opt(r.current), std::to_string(r.target),
                    std::to_string(r.log_start), std::to_string(r.end)});
  std::string out;
  print_table(rows, out);
  return out;
}

proto::Json reset_plan_json(const std::vector<client::ResetRow>& plan) {
  proto::Json out = proto::Json::array();
  for (const auto& r : plan)
    out.push_back({{"topic", r.tp.topic},
                   {"partition", r.tp.partition},
                   {"current", opt_json(r.current)},
                   {"new", r.target},
                   {"log_start", r.log_start},
                   {"end", r.end}});
  return out;
}

CLI::App* add_group_command(CLI::App& ktopic, GroupConfig& c) {
  auto* group = ktopic.add_subcommand("group", "list, describe, reset and delete consumer groups");
  group->require_subcommand(1);
  auto* list = group->add_subcommand("list", "print the cluster's consumer groups, their state and member count");
  list->add_flag("--json", c.json, "print the groups as JSON");
  auto* describe = group->add_subcommand(
      "describe", "show a group's members and, per partition, committed offset, end offset and lag");
  describe->add_option("group", c.group, "group name")->required()->type_name("GROUP")->check(group_name_check());
  describe->add_flag("--json", c.json, "print the description as JSON");
  auto* reset = group->add_subcommand("reset", "plan (and with --execute commit) new offsets for a group");
  reset->add_option("group", c.group, "group name")->required()->type_name("GROUP")->check(group_name_check());
  reset->add_flag("--to-earliest", c.to_earliest, "each partition's log start");
  reset->add_flag("--to-latest", c.to_latest, "each partition's end (high watermark): skip what is there");
  reset->add_option("--to-offset", c.to_offset, "this offset (kept inside the log)")->type_name("N");
  reset->add_option("--to-time", c.to_time,
                    "the first offset at a time: @UNIX_MS, an ISO 8601 time or a duration ago (15m), as kconsume --from")
      ->type_name("T");
  reset->add_option("--shift-by", c.shift_by, "the committed offset plus N (N may be negative)")->type_name("N");
  reset->add_option("--topic", c.topics,
                    "reset this topic, or only the listed partitions (repeatable; default: the topics with "
                    "committed offsets)")
      ->type_name("T[:P,...]");
  reset->add_flag("--execute", c.execute, "commit the planned offsets (default: a dry run that changes nothing)");
  reset->add_flag("--json", c.json, "print the plan as JSON");
  auto* del = group->add_subcommand("delete", "delete a group that has no members, with its committed offsets");
  del->add_option("group", c.group, "group name")->required()->type_name("GROUP")->check(group_name_check());
  for (auto* sub : {list, describe, reset, del}) {
    sub->callback([&c, sub] { c.action = sub->get_name(); });
    sub->fallthrough();
    sub->footer("Common options (-b/--brokers, -v, -q) may also come after the command; see 'ktopic --help'.");
  }
  group->fallthrough();
  return group;
}

namespace {

Result<client::ResetSpec> reset_spec(const GroupConfig& c) {
  int chosen = int(c.to_earliest) + int(c.to_latest) + int(c.to_offset.has_value()) + int(c.to_time.has_value()) +
               int(c.shift_by.has_value());
  if (chosen != 1)
    return usage_error("reset needs exactly one of --to-earliest, --to-latest, --to-offset, --to-time, --shift-by");
  using Kind = client::ResetSpec::Kind;
  if (c.to_earliest) return client::ResetSpec{Kind::kEarliest, 0};
  if (c.to_latest) return client::ResetSpec{Kind::kLatest, 0};
  if (c.to_offset) {
    if (*c.to_offset < 0) return usage_error("--to-offset must be >= 0");
    return client::ResetSpec{Kind::kOffset, *c.to_offset};
  }
  if (c.shift_by) return client::ResetSpec{Kind::kShift, *c.shift_by};
  auto sp = parse_start_position(*c.to_time, clock::now_ms());
  if (!sp.is_ok()) return usage_error("bad --to-time \"" + *c.to_time + "\": want @unix-ms, an ISO 8601 time or a duration like 15m");
  switch (sp->kind) {
    case StartPosition::Kind::kBeginning: return client::ResetSpec{Kind::kEarliest, 0};
    case StartPosition::Kind::kEnd: return client::ResetSpec{Kind::kLatest, 0};
    case StartPosition::Kind::kOffset: return client::ResetSpec{Kind::kOffset, sp->value};
    case StartPosition::Kind::kTime: return client::ResetSpec{Kind::kTime, sp->value};
  }
  return usage_error("bad --to-time");
}

Status run_reset(client::Cluster& cluster, const GroupConfig& c) {
  KREEK_ASSIGN_OR_RETURN(client::ResetSpec spec, reset_spec(c));
  std::vector<client::ResetTarget> targets;
  for (const auto& t : c.topics) {
    KREEK_ASSIGN_OR_RETURN(client::ResetTarget target, parse_reset_target(t));
    targets.push_back(std::move(target));
  }
  KREEK_ASSIGN_OR_RETURN(auto plan, client::plan_reset(cluster, c.group, spec, targets));
  KREEK_ASSIGN_OR_RETURN(int members, client::group_member_count(cluster, c.group));
  if (c.execute) {
    if (members > 0)
      return Status(Code::kGroupNotEmpty, "group " + c.group + " has " + std::to_string(members) +
                                              " live member" + (members > 1 ? "s" : "") +
                                              "; stop them before resetting its offsets (nothing was changed)");
    KREEK_RETURN_IF_ERROR(client::apply_reset(cluster, c.group, plan));
  }
  if (c.json) {
    proto::Json out = {{"group", c.group}, {"executed", c.execute}, {"offsets", reset_plan_json(plan)}};
    print(out.dump() + "\n");
  } else {
    std::string text = reset_plan_text(plan);
    if (!c.execute) {
      text += "(dry run: nothing was changed; --execute commits these offsets)\n";
      if (members > 0)
        text += "(group " + c.group + " has " + std::to_string(members) + " live member" + (members > 1 ? "s" : "") +
                ": --execute is refused until they stop)\n";
    }
    print(text);
  }
  if (c.execute) info("reset offsets of group " + c.group + " for " + std::to_string(plan.size()) + " partition(s)");
  return Status::ok();
}

}  // namespace

Status check_group_config(const GroupConfig& c) {
  const bool reset_flags = c.to_earliest || c.to_latest || c.to_offset || c.to_time || c.shift_by ||
                           !c.topics.empty() || c.execute;
  if (c.action != "reset") {
    if (reset_flags) return usage_error("reset options go with 'ktopic group reset'");
    return Status::ok();
  }
  KREEK_RETURN_IF_ERROR(reset_spec(c).status());
  for (const auto& t : c.topics) KREEK_RETURN_IF_ERROR(parse_reset_target(t).status());
  return Status::ok();
}

Status run_group(client::Cluster& cluster, const GroupConfig& c) {
  KREEK_RETURN_IF_ERROR(check_group_config(c));
  if (c.action == "list") {
    std::vector<Status> missed;
    KREEK_ASSIGN_OR_RETURN(proto::Json groups, client::list_groups(cluster, &missed));
    for (const auto& m : missed) warn(m.message());
    print(c.json ? groups.dump() + "\n" : group_list_text(groups));
    return Status::ok();
  }
  if (c.action == "describe") {
    KREEK_ASSIGN_OR_RETURN(client::GroupDescription d, client::describe_group(cluster, c.group));
    for (const auto& m : d.missed) warn(m.message());
    print(c.json ? group_description_json(d).dump() + "\n" : group_description_text(d));
    return Status::ok();
  }
  if (c.action == "reset") return run_reset(cluster, c);
  if (c.action == "delete") {
    KREEK_RETURN_IF_ERROR(client::delete_group(cluster, c.group));
    info("deleted group " + c.group);
    return Status::ok();
  }
  return usage_error("unknown group command \"" + c.action + "\"");
}

}  // namespace kreek::cli
