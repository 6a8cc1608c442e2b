// run_main, diagnostics and signal setup for the command-line tools.
#include "cli/common.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "base/topic_name.h"
#include "client/interrupt.h"
#include "net/tls.h"
#include "proto/auth_token.h"

namespace kreek::cli {
namespace {

const char* g_tool = "kreek";
bool g_verbose = false;
bool g_quiet = false;
bool g_usage = false;  // the failing Status came from usage_error()
bool g_cant_create = false;  // the failing Status came from cant_create_error()
volatile sig_atomic_t g_signals = 0;  // the first stop signal's number, 0 before one

void line(std::string_view level, std::string_view message) {
  std::string s = g_tool;
  s += ": ";
  if (!level.empty()) {
    s += level;
    s += ": ";
  }
  s += message;
  s += '\n';
  // One write(2) per line, so lines from concurrent tools do not interleave.
  ssize_t unused = ::write(STDERR_FILENO, s.data(), s.size());
  (void)unused;
}

std::atomic<int64_t> g_first_signal_ms{0};  // lock-free, so a handler may use it
static_assert(std::atomic<int64_t>::is_always_lock_free);

int64_t monotonic_ms_signal_safe() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe, unlike most clocks
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void on_signal(int signum) {
  int64_t now = monotonic_ms_signal_safe();
  if (g_signals == 0) {
    g_signals = signum;
    g_first_signal_ms.store(now, std::memory_order_relaxed);
    client::request_stop();
    return;
  }
  // A second SIGINT means "stop now" (exit 130). timeout(1) delivers one
  // SIGINT twice (to the child, then to its process group), so a repeat
  // within half a second is taken as the same request.
  if (signum == SIGINT && now - g_first_signal_ms.load(std::memory_order_relaxed) >= 500) ::_exit(130);
}

// CLI11 messages start with a capital ("The following argument..."); house
// diagnostics are lower case.
std::string lower_first(std::string m) {
  if (m.size() > 1 && std::isupper(static_cast<unsigned char>(m[0])) &&
      !std::isupper(static_cast<unsigned char>(m[1])))
    m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

// CLI11 checks required options before it complains about unknown ones, so
// "kconsume --tpoic logs" would say "--topic is required". Name what the user
// typed wrong instead: an unknown option, or an unknown ktopic command.
std::string first_usage_problem(const CLI::App& app, const CLI::ParseError& e) {
  const auto commands = app.get_subcommands([](const CLI::App*) { return true; });
  const bool chose_command = !app.get_subcommands().empty();
  std::vector<std::string> extra = app.remaining(/*recurse=*/true);
  if (extra.empty()) {
    if (commands.empty() || chose_command) return lower_first(e.what());
    std::string m = "a command is required:";
    for (const CLI::App* c : commands) m += " " + c->get_name();
    return m;
  }
  const std::string& word = extra.front();
  if (!commands.empty() && !chose_command && !word.empty() && word[0] != '-')
    return "unknown command \"" + word + "\"";
  std::string m = "the following argument";
  m += extra.size() > 1 ? "s were" : " was";
  m += " not expected:";
  for (const auto& w : extra) m += " " + w;
  return m;
}

// "ktopic describe" once a subcommand was chosen, so the hint points at the
// help that lists the options the user was typing.
std::string g_help_for;

void note_command(const CLI::App& app) {
  g_help_for = g_tool;
  // Down to the innermost command chosen ("ktopic group reset").
  for (const CLI::App* at = &app; at != nullptr;) {
    const auto subs = at->get_subcommands();
    at = subs.empty() ? nullptr : subs.front();
    if (at != nullptr) g_help_for += " " + at->get_name();
  }
}

void usage_lines(std::string_view message) {
  line("error", message);
  std::string t = "try '";
  t += g_help_for.empty() ? std::string(g_tool) : g_help_for;
  t += " --help'\n";
  ssize_t unused = ::write(STDERR_FILENO, t.data(), t.size());
  (void)unused;
}

}  // namespace

const char* tool_name() { return g_tool; }

void set_verbosity(bool verbose, bool quiet) {
  g_verbose = verbose;
  g_quiet = quiet;
}
void info(std::string_view m) {
  if (g_verbose) line("info", m);
}
void warn(std::string_view m) {
  if (!g_quiet) line("warning", m);
}
void notice(std::string_view m) {
  if (!g_quiet) line("", m);
}
void error(std::string_view m) { line("error", m); }

void report(const Status& s) {
  if (s.is_ok()) return;
  switch (s.code()) {
    case Code::kUnavailable:
    case Code::kNotFound:
    case Code::kIoError:
      error(s.message());
      return;
    default:
      error(s.to_string());
  }
}

Status cant_create_error(std::string message) {
  g_cant_create = true;
  return Status(Code::kIoError, std::move(message));
}

Status usage_error(std::string message) {
  g_usage = true;
  return Status(Code::kInvalidRequest, std::move(message));
}

void install_signal_handlers() {
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll() returns EINTR and sees the flag
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void add_common_flags(CLI::App& app, CommonOptions& o) {
  app.add_option("-b,--brokers", o.brokers,
                 "brokers to bootstrap from (default $KREEK_BROKERS, else 127.0.0.1:9092)")
      ->envname("KREEK_BROKERS")
      ->type_name("HOST:PORT[,...]");
  // The secret itself never goes on the command line, where ps(1) shows it.
  app.add_option("--auth-token-file", o.auth_token_file,
                 "send the token in FILE (mode 0600) to brokers started with --auth-token-file "
                 "(default $KREEK_AUTH_TOKEN_FILE)")
      ->type_name("FILE");
  app.add_option("--tls-ca", o.tls_ca_file,
                 "connect with TLS, trusting the CA certificates in FILE (PEM) to sign the brokers' "
                 "(default $KREEK_TLS_CA_FILE)")
      ->type_name("FILE");
  app.add_flag("-v,--verbose", o.verbose, "say more on stderr");
  app.add_flag("-q,--quiet", o.quiet, "print errors only");
}

Result<client::ClientOptions> client_options(const CommonOptions& o) {
  client::ClientOptions c;
  auto token = proto::load_auth_token_from(o.auth_token_file);
  if (!token.is_ok()) return token.status();
  client::set_auth_token(*token);
  std::string ca = o.tls_ca_file;
  const char* env = std::getenv(net::kTlsCaFileEnv);
  if (ca.empty() && env != nullptr) ca = env;
  if (!ca.empty()) {
    auto tls = net::TlsContext::for_client(ca);
    if (!tls.is_ok())
      return o.tls_ca_file.empty() ? tls.status().with_context(std::string("$") + net::kTlsCaFileEnv)
                                   : tls.status();
    client::set_tls_context(std::move(tls).value());
  }
  if (!o.brokers.empty()) {
    auto list = client::parse_broker_list(o.brokers);
    if (!list.is_ok()) return usage_error(list.status().message());
    c.brokers = std::move(list).value();
  }
  return c;
}

Result<std::unique_ptr<client::Cluster>> connect(const CommonOptions& o) {
  KREEK_ASSIGN_OR_RETURN(client::ClientOptions copts, client_options(o));
  auto cluster = std::make_unique<client::Cluster>(std::move(copts));
  KREEK_RETURN_IF_ERROR(cluster->bootstrap());
  return cluster;
}

const CLI::Validator& topic_name_check() {
  // Kafka's rule, checked here too so a typo is a usage error even with no
  // broker up, and costs no round trip. The description stays empty so help
  // shows TOPIC, not the rule.
  static const CLI::Validator check(
      [](std::string& v) { return topic_name_problem(v); },
      "");
  return check;
}

void add_topic_flag(CLI::App& app, std::string& topic, const std::string& help) {
  app.add_option("-t,--topic", topic, help)->required()->type_name("TOPIC")->check(topic_name_check());
}

void add_partition_flag(CLI::App& app, std::optional<int32_t>& partition, const std::string& help) {
  // Not CLI::Range: its description would turn "N" into "N:INT in [0 - 2147483647]".
  const CLI::Validator non_negative(
      [](std::string& v) -> std::string {
        const bool negative = v.size() > 1 && v[0] == '-' &&
                              v.find_first_not_of("0123456789", 1) == std::string::npos &&
                              v.find_first_not_of('0', 1) != std::string::npos;
        return negative ? "must be 0 or more"
                   : "";  // anything else is left to the integer conversion's own error
      },
      "");
  app.add_option("-p,--partition", partition, help)->type_name("N")->check(non_negative);
}

std::optional<int> parse_command_line(const char* tool, CLI::App& app, int argc, char** argv) {
  g_tool = tool;
  // CLI11 would name the program after argv[0] ("./ktopic", "/usr/bin/ktopic");
  // usage lines name the tool, as coreutils' do.
  app.name(tool);
  app.set_version_flag("--version", std::string(tool) + " (kreek) " KREEK_VERSION,
                       "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help / --version: stdout, 0
    note_command(app);
    usage_lines(first_usage_problem(app, e));
    return 64;  // EX_USAGE
  }
  note_command(app);
  return std::nullopt;
}

int run_main(const char* tool, CLI::App& app, int argc, char** argv,
             const std::function<Status()>& body) {
  g_tool = tool;
  install_signal_handlers();
  if (auto rc = parse_command_line(tool, app, argc, argv)) return *rc;
  Status s = body();
  if (s.is_ok()) return 0;
  // A request cut short by Ctrl-C or SIGTERM (ktopic waiting on a broker) did
  // not fail: the user stopped it. Exit as a shell expects of a process the
  // signal ended, 128 + its number, without an error line.
  if (g_signals != 0 && s.message() == "interrupted") return 128 + g_signals;
  if (g_usage && s.code() == Code::kInvalidRequest) {
    usage_lines(s.message());
    return 64;
  }
  report(s);
  if (g_cant_create && s.code() == Code::kIoError) return 73;  // EX_CANTCREAT
  return exit_code(s.code());
}

}  // namespace kreek::cli
