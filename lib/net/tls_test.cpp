// TLS contexts, sessions and a TLS listener + link on one loop, with a CA and
// certificates made here with OpenSSL's API: lines and file ranges both ways,
// big writes (many records), a wrong CA, a wrong address, an expired
// certificate, a plain-text client, a handshake that never ends, and key
// files others may read.
#include "net/tls.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "net/net.h"

using namespace kreek::net;
using kreek::Code;
using kreek::Status;

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key new_key() { return Key(EVP_EC_gen("P-256")); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key (itself when
// null), valid from `from_s` to `to_s` seconds from now, with `san` if given.
Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, const char* san,
               long from_s = -60, long to_s = 3600) {
  static long serial = 1;
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), from_s);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), to_s);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(signer));
  if (issuer == nullptr) {
    add_ext(c.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(c.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
  }
  if (san != nullptr) add_ext(c.get(), signer, NID_subject_alt_name, san);
  REQUIRE(X509_sign(c.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0);
  return c;
}

// Files in a fresh temp dir: ca.pem (trusted), other-ca.pem (not), and
// server certificates for 127.0.0.1, for 127.0.0.2 only, and expired.
struct Pki {
  std::string dir;
  Pki() {
    char tmpl[] = "/tmp/kreek-tls-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    Key ca_key = new_key(), other_key = new_key(), key = new_key();
    Cert ca = make_cert(ca_key.get(), "kreek test ca", nullptr, nullptr, nullptr);
    Cert other = make_cert(other_key.get(), "someone else's ca", nullptr, nullptr, nullptr);
    write_cert("ca.pem", ca.get());
    write_cert("other-ca.pem", other.get());
    write_cert("server.pem", make_cert(key.get(), "broker", ca.get(), ca_key.get(), "IP:127.0.0.1").get());
    write_cert("elsewhere.pem", make_cert(key.get(), "broker", ca.get(), ca_key.get(), "IP:127.0.0.2").get());
    write_cert("expired.pem",
               make_cert(key.get(), "broker", ca.get(), ca_key.get(), "IP:127.0.0.1", -7200, -3600).get());
    FILE* f = std::fopen(path("server.key").c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    ::chmod(path("server.key").c_str(), 0600);
  }
  ~Pki() { std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  void write_cert(const std::string& name, X509* c) {
    FILE* f = std::fopen(path(name).c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_X509(f, c);
    std::fclose(f);
  }
  std::shared_ptr<const TlsContext> server(const std::string& cert = "server.pem") const {
    auto r = TlsContext::for_server(path(cert), path("server.key"));
    REQUIRE(r.is_ok());
    return *r;
  }
  std::shared_ptr<const TlsContext> client(const std::string& ca = "ca.pem") const {
    auto r = TlsContext::for_client(path(ca));
    REQUIRE(r.is_ok());
    return *r;
  }
};

// Two sessions over a nonblocking socketpair, driven by hand.
struct Pair {
  int fds[2];
  std::unique_ptr<TlsSession> server, client;
  Pair(const TlsContext& s, const TlsContext& c, const std::string& host = "127.0.0.1") {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    server = TlsSession::accept(s, fds[0]);
    client = TlsSession::connect(c, fds[1], host);
  }
  ~Pair() {
    server.reset();
    client.reset();
    ::close(fds[0]);
    ::close(fds[1]);
  }
  // Both handshakes to completion or the first failure: 1 done, -1 failed.
  int handshake() {
    for (int i = 0; i < 100; ++i) {
      int c = client->handshake();
      int s = server->handshake();
      if (c < 0 || s < 0) return -1;
      if (c == 1 && s == 1) return 1;
    }
    return 0;
  }
};

}  // namespace

TEST_SUITE("net") {
  TEST_CASE("tls sessions verify the peer and move big writes as many records") {
    Pki pki;
    auto s = pki.server();
    auto c = pki.client();
    Pair p(*s, *c);
    REQUIRE(p.handshake() == 1);
    CHECK(p.client->handshake_done());
    std::string big(300'000, 'x');
    for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
    std::string got;
    size_t sent = 0;
    std::vector<char> buf(64 << 10);
    while (got.size() < big.size()) {
      if (sent < big.size()) {
        ssize_t w = p.client->write(big.data() + sent, big.size() - sent);
        if (w > 0) sent += static_cast<size_t>(w);
        else REQUIRE(errno == EAGAIN);
      }
      ssize_t r = p.server->read(buf.data(), buf.size());
      if (r > 0) {
        got.append(buf.data(), static_cast<size_t>(r));
        // A short read means nothing is left, neither decrypted nor in the socket.
        if (static_cast<size_t>(r) < buf.size()) CHECK(!p.server->has_pending());
      } else {
        REQUIRE(r < 0);
        REQUIRE(errno == EAGAIN);
      }
    }
    CHECK(got == big);
  }

  TEST_CASE("a client refuses a certificate from another ca, for another address, or expired") {
    Pki pki;
    SUBCASE("another ca") {
      Pair p(*pki.server(), *pki.client("other-ca.pem"));
      CHECK(p.handshake() == -1);
      CHECK(p.client->verify_failed());
      CHECK(p.client->error().find("certificate verify failed") == 0);
    }
    SUBCASE("another address") {
      Pair p(*pki.server("elsewhere.pem"), *pki.client());
      CHECK(p.handshake() == -1);
      CHECK(p.client->verify_failed());
      CHECK(p.client->error() == "certificate verify failed: IP address mismatch");
    }
    SUBCASE("expired") {
      Pair p(*pki.server("expired.pem"), *pki.client());
      CHECK(p.handshake() == -1);
      CHECK(p.client->error() == "certificate verify failed: certificate has expired");
    }
    SUBCASE("a name, not an address, is checked against the DNS names") {
      Pair p(*pki.server(), *pki.client(), "broker.example");
      CHECK(p.handshake() == -1);
      CHECK(p.client->error() == "certificate verify failed: hostname mismatch");
    }
  }

  TEST_CASE("tls files are refused in one line naming the file") {
    Pki pki;
    auto missing = TlsContext::for_client(pki.path("nope.pem"));
    CHECK(missing.status().code() == Code::kNotFound);
    CHECK(missing.status().message() == "open tls ca file " + pki.path("nope.pem") + ": No such file or directory");
    ::chmod(pki.path("server.key").c_str(), 0640);
    auto open_key = TlsContext::for_server(pki.path("server.pem"), pki.path("server.key"));
    CHECK(open_key.status().code() == Code::kInvalidRequest);
    CHECK(open_key.status().message().find("readable or writable by group or others (mode 0640); chmod 600 it") !=
          std::string::npos);
    ::chmod(pki.path("server.key").c_str(), 0600);
    auto not_a_key = TlsContext::for_server(pki.path("server.pem"), pki.path("server.pem"));
    CHECK(not_a_key.status().code() == Code::kInvalidRequest);
    auto not_certs = TlsContext::for_client(pki.path("server.key"));
    CHECK(not_certs.status().code() == Code::kInvalidRequest);
  }

  TEST_CASE("a tls listener and a tls link carry lines and file ranges both ways") {
    Pki pki;
    // A file range bigger than a read chunk: it goes out through pread + TLS.
    std::string file_path = pki.path("range.bin");
    std::string content(200'000, '\0');
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('A' + i % 23);
    {
      FILE* f = std::fopen(file_path.c_str(), "w");
      std::fwrite(content.data(), 1, content.size(), f);
      std::fclose(f);
    }
    int file_fd = ::open(file_path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(file_fd >= 0);
    auto loop = EventLoop::create();
    ServerOptions so;
    so.tls = pki.server();
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view line, ResponseSlot slot) {
      if (line != "file") return slot.complete(std::string(line) + "\n");
      Response r;
      r.head = "F " + std::to_string(content.size()) + "\n";
      r.ranges.push_back(FileRange{file_fd, 0, static_cast<int64_t>(content.size()), nullptr});
      slot.complete(std::move(r));
    };
    auto server = loop->listen("127.0.0.1:0", so, std::move(h));
    REQUIRE(server.is_ok());
    std::vector<std::string> lines;
    std::string raw;
    Status closed_why(Code::kInternal, "not closed");
    std::unique_ptr<Link> link;
    LinkOptions lo;
    lo.tls = pki.client();
    LinkHandler lh;
    lh.on_connected = [&] { link->send("file\nlast\n"); };
    lh.on_line = [&](std::string_view line) {
      lines.emplace_back(line);
      if (line.substr(0, 2) == "F ") link->expect_raw(static_cast<int64_t>(content.size()));
      if (line == "last") link->close();
    };
    lh.on_raw = [&](std::string_view chunk, bool) { raw.append(chunk); };
    lh.on_closed = [&](Status why) {
      closed_why = why;
      loop->stop();
    };
    link = loop->connect((*server)->address(), lo, lh);
    CHECK(link->send("hello\n"));  // queued before either handshake finished
    CHECK(loop->run() == 0);
    ::close(file_fd);
    CHECK(closed_why.is_ok());
    CHECK(lines == std::vector<std::string>{"hello", "F 200000", "last"});
    CHECK(raw == content);
  }

  TEST_CASE("a tls link to a server of another ca, or to a plain-text port, fails in one line") {
    Pki pki;
    auto loop = EventLoop::create();
    ServerOptions so;
    so.tls = pki.server();
    auto tls_server = loop->listen("127.0.0.1:0", so, {});
    REQUIRE(tls_server.is_ok());
    ServerOptions plain;
    plain.plaintext_reply = "unused\n";
    auto plain_server = loop->listen("127.0.0.1:0", plain, {});
    REQUIRE(plain_server.is_ok());
    std::vector<Status> why;
    auto done = [&](Status s) {
      why.push_back(s);
      if (why.size() == 2) loop->stop();
    };
    LinkOptions wrong_ca;
    wrong_ca.tls = pki.client("other-ca.pem");
    LinkHandler h1;
    h1.on_closed = done;
    auto l1 = loop->connect((*tls_server)->address(), wrong_ca, h1);
    LinkOptions to_plain;
    to_plain.tls = pki.client();
    to_plain.connect_timeout_ms = 300;
    LinkHandler h2;
    h2.on_closed = done;
    auto l2 = loop->connect((*plain_server)->address(), to_plain, h2);
    CHECK(loop->run() == 0);
    REQUIRE(why.size() == 2);
    for (const Status& s : why) {
      if (s.message().find((*tls_server)->address()) != std::string::npos) {
        CHECK(s.code() == Code::kUnavailable);
        CHECK(s.message() == "tls handshake with " + (*tls_server)->address() +
                                 ": certificate verify failed: unable to get local issuer certificate");
      } else {
        // The plain server waits for a line the handshake never ends with.
        CHECK(s.code() == Code::kTimeout);
        CHECK(s.message() == "tls handshake with " + (*plain_server)->address() + ": timed out after 300 ms");
      }
    }
  }

  TEST_CASE("a handshake that never finishes is closed by the idle timeout") {
    Pki pki;
    auto loop = EventLoop::create();
    ServerOptions so;
    so.tls = pki.server();
    so.idle_timeout_ms = 100;
    auto server = loop->listen("127.0.0.1:0", so, {});
    REQUIRE(server.is_ok());
    Status closed_why;
    LinkHandler lh;
    lh.on_closed = [&](Status why) {
      closed_why = why;
      loop->stop();
    };
    // The first bytes of a handshake record, and then nothing.
    auto link = loop->connect((*server)->address(), {}, lh);
    link->send(std::string("\x16\x03\x01", 3));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(loop->run() == 0);
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(closed_why.code() == Code::kUnavailable);
    CHECK(closed_why.message().find("connection closed by peer") != std::string::npos);
    CHECK(waited >= std::chrono::milliseconds(100));
  }

  TEST_CASE("a plain-text client on a tls listener gets the plain reply and a close") {
    Pki pki;
    auto loop = EventLoop::create();
    ServerOptions so;
    so.tls = pki.server();
    so.plaintext_reply = "{\"error\":\"tls only\"}\n";
    int lines = 0;
    ConnectionHandler h;
    h.on_line = [&](Connection&, std::string_view, ResponseSlot slot) {
      ++lines;
      slot.complete_empty();
    };
    auto server = loop->listen("127.0.0.1:0", so, std::move(h));
    REQUIRE(server.is_ok());
    std::vector<std::string> got;
    Status closed_why;
    LinkHandler lh;
    std::unique_ptr<Link> link;
    lh.on_line = [&](std::string_view line) { got.emplace_back(line); };
    lh.on_closed = [&](Status why) {
      closed_why = why;
      loop->stop();
    };
    link = loop->connect((*server)->address(), {}, lh);
    link->send("{\"op\":\"metadata\"}\n");
    CHECK(loop->run() == 0);
    CHECK(lines == 0);
    CHECK(got == std::vector<std::string>{"{\"error\":\"tls only\"}"});
    CHECK(closed_why.code() == Code::kUnavailable);
  }
}
