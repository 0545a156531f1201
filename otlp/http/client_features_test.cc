// The client with its building blocks wired in, against the project's scripted server on
// loopback: cookies, content decoding, proxies, multipart, response metadata, streamed uploads
// and downloads (Client and AsyncClient), and TLS options with their distinct failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "otlp/core/internal/gzip.h"
#include "otlp/http/async_client.h"
#include "otlp/http/client.h"
#include "otlp/http/client_test_helpers.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace otlp::http {
namespace {

using testing::Gzip;
using testing::ReadFile;

using ::testing::HasSubstr;
using test::ScriptedHttpServer;
using test::ScriptedReply;

using testing::FastRetry;
using testing::MakeClient;

// A BodyStream over a string, read in pieces of at most 7 bytes; rewindable when asked.
struct StringSource {
  std::string data;
  size_t pos = 0;
  int reads = 0;
  int rewinds = 0;
  BodyStream Stream(bool rewindable, bool with_length = true) {
    BodyStream b{.read = [this](char* buffer, size_t capacity) -> Result<size_t> {
      ++reads;
      const size_t n = std::min({capacity, data.size() - pos, size_t{7}});
      std::copy_n(data.data() + pos, n, buffer);
      pos += n;
      return n;
    }};
    if (with_length) b.length = data.size();
    if (rewindable) {
      b.rewind = [this] {
        ++rewinds;
        pos = 0;
        return Status::Ok();
      };
    }
    return b;
  }
};

// ---- cookies ----

TEST(ClientCookiesTest, SetCookieFromRedirectHopIsSentOnTheNextHopAndLaterRequests) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->EnqueueAll({{.status = 302,
                       .headers = {{"Location", "/landing"}, {"Set-Cookie", "sid=abc; Path=/"}}},
                      {.status = 200, .headers = {{"Set-Cookie", "theme=dark"}}},
                      {.status = 200}});
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/login")));
  EXPECT_EQ(r.status, 200);
  ASSERT_OK(client->Get(server->Url("/other")));
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_FALSE(reqs[0].Header("Cookie").has_value());
  EXPECT_EQ(reqs[1].Header("Cookie"), "sid=abc");  // the redirect hop's cookie
  EXPECT_EQ(reqs[2].Header("Cookie"), "sid=abc; theme=dark");
  ASSERT_NE(client->cookie_jar(), nullptr);
  EXPECT_EQ(client->cookie_jar()->size(), 2u);
}

TEST(ClientCookiesTest, SharedJarAndOptOut) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto jar = std::make_shared<CookieJar>();
  auto first = MakeClient({.cookie_jar = jar});
  auto second = MakeClient({.cookie_jar = jar});
  auto none = MakeClient({.cookies = false});
  EXPECT_EQ(none->cookie_jar(), nullptr);
  server->Enqueue({.status = 200, .headers = {{"Set-Cookie", "k=v"}}});
  ASSERT_OK(first->Get(server->Url("/")));
  EXPECT_EQ(jar->size(), 1u);
  ASSERT_OK(second->Get(server->Url("/")));
  server->Enqueue({.status = 200, .headers = {{"Set-Cookie", "ignored=1"}}});
  ASSERT_OK(none->Get(server->Url("/")));
  // The request's own Cookie header wins over the jar.
  ASSERT_OK(second->Get(server->Url("/"), Header{"Cookie", "mine=1"}));
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].Header("Cookie"), "k=v");
  EXPECT_FALSE(reqs[2].Header("Cookie").has_value());
  EXPECT_EQ(reqs[3].Header("Cookie"), "mine=1");
  EXPECT_EQ(jar->size(), 1u);
}

// ---- content decoding ----

TEST(ClientDecodingTest, GzipBodyIsDecodedAndItsHeadersRemoved) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string text(10000, 'z');
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = Gzip(text)});
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/z")));
  EXPECT_EQ(r.body, text);
  EXPECT_FALSE(r.Header("Content-Encoding").has_value());
  EXPECT_FALSE(r.Header("Content-Length").has_value());
  EXPECT_EQ(server->requests()[0].Header("Accept-Encoding"), "gzip, deflate, br, zstd");
}

TEST(ClientDecodingTest, CorruptBodyIsADecodingError) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = "not gzip"});
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "compress"}}, .body = "x"});
  auto client = MakeClient();
  Result<Response> r = client->Get(server->Url("/bad"));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kDecoding);
  EXPECT_THAT(r.status().message(), HasSubstr("Content-Encoding: gzip"));
  Result<Response> unknown = client->Get(server->Url("/unknown"));
  EXPECT_EQ(ErrorKindOf(unknown.status()), ErrorKind::kDecoding);
  EXPECT_THAT(unknown.status().message(), HasSubstr("compress"));
}

TEST(ClientDecodingTest, OptOutAndCallersOwnAcceptEncoding) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string packed = Gzip("hello");
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = packed});
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = packed});
  auto raw = MakeClient({.decompress = false});
  ASSERT_OK_AND_ASSIGN(Response r, raw->Get(server->Url("/")));
  EXPECT_EQ(r.body, packed);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response own, client->Get(server->Url("/"), Header{"Accept-Encoding", "gzip"}));
  EXPECT_EQ(own.body, "hello");
  const auto reqs = server->requests();
  EXPECT_FALSE(reqs[0].Header("Accept-Encoding").has_value());
  EXPECT_EQ(reqs[1].Header("Accept-Encoding"), "gzip");
}

// ---- proxies ----

TEST(ClientProxyTest, ExplicitProxyGetsHttpRequestsInAbsoluteForm) {
  ASSERT_OK_AND_ASSIGN(auto proxy, ScriptedHttpServer::Start());
  proxy->Enqueue({.status = 200, .body = "via proxy"});
  ASSERT_OK_AND_ASSIGN(ProxyConfig config, ProxyConfig::Create(proxy->base_url(), "", ""));
  auto client = MakeClient({.proxy = config});
  ASSERT_OK_AND_ASSIGN(Response r, client->Get("http://origin.invalid/path?q=1"));
  EXPECT_EQ(r.body, "via proxy");
  ASSERT_EQ(proxy->request_count(), 1u);
  EXPECT_EQ(proxy->requests()[0].target, "http://origin.invalid/path?q=1");
}

TEST(ClientProxyTest, ProxyFromTheEnvironmentByDefaultAndNoProxyBypass) {
  ASSERT_OK_AND_ASSIGN(auto proxy, ScriptedHttpServer::Start());
  ASSERT_OK_AND_ASSIGN(auto direct, ScriptedHttpServer::Start());
  ::setenv("HTTP_PROXY", proxy->base_url().c_str(), 1);
  ::setenv("NO_PROXY", "127.0.0.1", 1);
  auto client = Client::Create();  // proxy unset: from the environment
  ::unsetenv("HTTP_PROXY");
  ::unsetenv("NO_PROXY");
  ASSERT_OK(client);
  ASSERT_OK((*client)->Get("http://origin.invalid/x"));
  ASSERT_OK((*client)->Get(direct->Url("/y")));  // bypassed
  ASSERT_EQ(proxy->request_count(), 1u);
  EXPECT_EQ(proxy->requests()[0].target, "http://origin.invalid/x");
  ASSERT_EQ(direct->request_count(), 1u);
  EXPECT_EQ(direct->requests()[0].target, "/y");
}

TEST(ClientProxyTest, MalformedProxyVariableFailsCreate) {
  ::setenv("HTTP_PROXY", "ftp://nope:1", 1);
  auto client = Client::Create();
  ::unsetenv("HTTP_PROXY");
  EXPECT_FALSE(client.ok());
}

// ---- multipart ----

TEST(ClientMultipartTest, InMemoryAndStreamedParts) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  Multipart form("b0undary");
  form.AddField("title", "report").AddFile("f", "a.txt", "file body", "text/plain");
  ASSERT_OK(client->Post(server->Url("/m"), std::move(form)));

  StringSource source{.data = std::string(5000, 's')};
  Multipart streamed("b1");
  streamed.AddField("k", "v").AddStream("big", "big.bin", "application/octet-stream",
                                        source.Stream(false).read, source.data.size());
  ASSERT_OK(client->Post(server->Url("/s"), std::move(streamed)));
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("Content-Type"), "multipart/form-data; boundary=b0undary");
  EXPECT_THAT(reqs[0].body, HasSubstr("name=\"title\"\r\n\r\nreport\r\n"));
  EXPECT_THAT(reqs[0].body, HasSubstr("filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                                      "file body\r\n--b0undary--\r\n"));
  EXPECT_EQ(reqs[1].Header("Content-Type"), "multipart/form-data; boundary=b1");
  EXPECT_THAT(reqs[1].body, HasSubstr(source.data + "\r\n--b1--\r\n"));
  EXPECT_EQ(reqs[1].Header("Content-Length"), std::to_string(reqs[1].body.size()));
}

TEST(ClientMultipartTest, InvalidPartFailsTheRequestWithoutSending) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  Multipart form;
  form.AddFile("f", "a", "x", "text/plain\r\nX-Injected: 1");
  Result<Response> r = client->Post(server->Url("/m"), std::move(form));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kInvalidRequest);
  EXPECT_EQ(server->request_count(), 0u);
}

// ---- response metadata ----

TEST(ClientMetadataTest, ProtocolTimingsAndConnectionReuse) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(Response first, client->Get(server->Url("/1")));
  ASSERT_OK_AND_ASSIGN(Response second, client->Get(server->Url("/2")));
  EXPECT_EQ(first.protocol_version, "1.1");
  EXPECT_FALSE(first.connection_reused);
  EXPECT_TRUE(first.timings.connect.has_value());
  EXPECT_FALSE(first.timings.dns.has_value());  // an IP literal
  EXPECT_FALSE(first.timings.tls.has_value());  // plain http
  ASSERT_TRUE(first.timings.first_byte.has_value());
  EXPECT_TRUE(second.connection_reused);
  EXPECT_FALSE(second.timings.connect.has_value());
  EXPECT_TRUE(second.timings.first_byte.has_value());
}

// ---- streamed uploads ----

TEST(ClientUploadTest, StreamWithAndWithoutLength) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  StringSource sized{.data = "hello streamed world"};
  StringSource chunked{.data = std::string(3000, 'c')};
  std::vector<Progress> progress;
  ASSERT_OK(client->Post(server->Url("/a"), sized.Stream(false),
                         OnProgress{[&](const Progress& p) { progress.push_back(p); }}));
  ASSERT_OK(client->Put(server->Url("/b"), chunked.Stream(false, /*with_length=*/false)));
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, sized.data);
  EXPECT_EQ(reqs[0].Header("Content-Length"), std::to_string(sized.data.size()));
  EXPECT_EQ(reqs[1].body, chunked.data);
  EXPECT_EQ(reqs[1].Header("Transfer-Encoding"), "chunked");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().sent, sized.data.size());
}

TEST(ClientUploadTest, RetryRewindsAStreamThatCanAndNotOneThatCannot) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient({.retry = FastRetry()});
  server->EnqueueAll({{.status = 503}, {.status = 200}});
  StringSource rewindable{.data = "payload"};
  ASSERT_OK_AND_ASSIGN(Response r, client->Put(server->Url("/r"), rewindable.Stream(true)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(rewindable.rewinds, 1);
  server->EnqueueAll({{.status = 503}, {.status = 200}});
  StringSource once{.data = "payload"};
  ASSERT_OK_AND_ASSIGN(Response n, client->Put(server->Url("/n"), once.Stream(false)));
  EXPECT_EQ(n.status, 503);  // not resent: the answer as it is
  EXPECT_EQ(n.attempts, 1);
  const auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body, "payload");
  EXPECT_EQ(reqs[1].body, "payload");
  EXPECT_EQ(reqs[2].body, "payload");
}

TEST(ClientUploadTest, RedirectThatKeepsTheBodyNeedsRewind) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  auto client = MakeClient();
  server->Enqueue({.status = 307, .headers = {{"Location", "/there"}}});
  StringSource once{.data = "payload"};
  Result<Response> r = client->Post(server->Url("/here"), once.Stream(false));
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kBodyNotReplayable);
  EXPECT_THAT(r.status().message(), HasSubstr("no rewind"));
  EXPECT_EQ(server->request_count(), 1u);
  // 303 turns the request into a GET without a body: followed.
  server->Enqueue({.status = 303, .headers = {{"Location", "/seen"}}});
  StringSource again{.data = "payload"};
  ASSERT_OK_AND_ASSIGN(Response seen, client->Post(server->Url("/form"), again.Stream(false)));
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(server->requests().back().method, "GET");
  EXPECT_EQ(server->requests().back().body, "");
}

// ---- streamed downloads ----

TEST(ClientDownloadTest, BodyGoesToTheSinkNotTheResponseAndRedirectBodiesDoNot) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  std::string big(3 * Request::kHeldBodyLimit + 123, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  server->EnqueueAll({{.status = 302, .headers = {{"Location", "/big"}}, .body = "moved"},
                      {.status = 200, .body = big}});
  auto client = MakeClient();
  std::string got;
  int chunks = 0;
  uint64_t last_received = 0;
  ASSERT_OK_AND_ASSIGN(
      Response r,
      client->Get(server->Url("/start"), OnBody{[&](std::string_view chunk) {
                    got.append(chunk);
                    ++chunks;
                    return Status::Ok();
                  }},
                  OnProgress{[&](const Progress& p) { last_received = p.received; }}));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(got, big);  // without "moved"
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(last_received, big.size());
  // A streamed download asks for encoded bodies too: it decodes them on the way to the sink.
  EXPECT_TRUE(server->requests()[0].Header("Accept-Encoding").has_value());
}

TEST(ClientDownloadTest, SaveToFileAndSinkErrors) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  test::TempDir dir;
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string body(100000, 'f');
  server->EnqueueAll({{.status = 200, .body = body}, {.status = 200, .body = ""}});
  auto client = MakeClient();
  const std::string path = dir.Join("out.bin");
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/f"), SaveTo{path}));
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(ReadFile(path), body);
  const std::string empty = dir.Join("empty.bin");
  ASSERT_OK(client->Get(server->Url("/e"), SaveTo{empty}));
  EXPECT_TRUE(std::ifstream(empty).good());  // created even for an empty body

  Result<Response> unwritable = client->Get(server->Url("/x"), SaveTo{dir.Join("no/such/dir")});
  EXPECT_EQ(ErrorKindOf(unwritable.status()), ErrorKind::kBodySink);
  EXPECT_THAT(unwritable.status().message(), HasSubstr("cannot open"));

  server->Enqueue({.status = 200, .body = body});
  Result<Response> refused = client->Get(server->Url("/y"), OnBody{[](std::string_view) {
    return Status(StatusCode::kAborted, "disk full");
  }});
  EXPECT_EQ(ErrorKindOf(refused.status()), ErrorKind::kBodySink);
  EXPECT_THAT(refused.status().message(), HasSubstr("disk full"));
}

TEST(ClientDownloadTest, LargeBodyOfARetriedStatusIsTheAnswer) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string big(2 * Request::kHeldBodyLimit, 'e');
  server->EnqueueAll({{.status = 503, .body = big}, {.status = 200, .body = "never"}});
  auto client = MakeClient({.retry = FastRetry()});
  std::string got;
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/busy"), OnBody{[&](std::string_view c) {
                                                 got.append(c);
                                                 return Status::Ok();
                                               }}));
  EXPECT_EQ(r.status, 503);  // its body reached the sink: not retried
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(got, big);
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(AsyncClientStreamingTest, UploadAndDownloadOnTheAsyncClient) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string big(Request::kHeldBodyLimit + 1000, 'q');
  server->Enqueue({.status = 200, .body = big});
  auto client = AsyncClient::Create({.threads = 2, .proxy = ProxyConfig()});
  ASSERT_OK(client);
  StringSource source{.data = "async upload"};
  std::atomic<size_t> received{0};
  auto future = (*client)->Send(Request::Post(server->Url("/async"))
                                    .With(source.Stream(false), OnBody{[&](std::string_view c) {
                                            received += c.size();
                                            return Status::Ok();
                                          }}));
  Result<Response> r = future.get();
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(received.load(), big.size());
  EXPECT_EQ(server->requests()[0].body, "async upload");
}

// ---- TLS ----

class ClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok()) << dir_.error();
    ASSERT_OK_AND_ASSIGN(pki_, test::GenerateTestPki(dir_.path()));
  }
  std::unique_ptr<ScriptedHttpServer> TlsServer(std::string client_ca = {}) {
    auto server = ScriptedHttpServer::Start(
        {.tls = net::ServerTlsOptions{.certificate_file = pki_.server_cert_file,
                                      .key_file = pki_.server_key_file,
                                      .client_ca_file = std::move(client_ca)}});
    EXPECT_OK(server);
    return server.ok() ? std::move(*server) : nullptr;
  }
  std::unique_ptr<Client> TlsClient(net::TlsOptions tls) {
    ClientOptions options{.retry = RetryPolicy::Disabled()};
    options.transport.tls = std::move(tls);
    return MakeClient(std::move(options));
  }
  test::TempDir dir_;
  test::TestPki pki_;
};

TEST_F(ClientTlsTest, CaFileVerifiesAndAWrongCaIsACertificateError) {
  auto server = TlsServer();
  ASSERT_NE(server, nullptr);
  ASSERT_OK_AND_ASSIGN(Response ok, TlsClient({.ca_file = pki_.ca_cert_file})->Get(server->Url("/")));
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.timings.tls.has_value());
  Result<Response> wrong = TlsClient({.ca_file = pki_.other_ca_cert_file})->Get(server->Url("/"));
  EXPECT_THAT(wrong, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorKindOf(wrong.status()), ErrorKind::kCertificate);
  // verify_peer off accepts it.
  ASSERT_OK(TlsClient({.verify_peer = false, .ca_file = pki_.other_ca_cert_file})
                ->Get(server->Url("/")));
}

TEST_F(ClientTlsTest, ServerNameReachesVerification) {
  auto server = TlsServer();
  ASSERT_NE(server, nullptr);
  ASSERT_OK(TlsClient({.ca_file = pki_.ca_cert_file, .server_name = "localhost"})
                ->Get(server->Url("/")));
  Result<Response> other =
      TlsClient({.ca_file = pki_.ca_cert_file, .server_name = "not-this-host.example"})
          ->Get(server->Url("/"));
  EXPECT_EQ(ErrorKindOf(other.status()), ErrorKind::kCertificate);
}

TEST_F(ClientTlsTest, ClientCertificateForMutualTls) {
  auto server = TlsServer(pki_.ca_cert_file);
  ASSERT_NE(server, nullptr);
  ASSERT_OK(TlsClient({.ca_file = pki_.ca_cert_file,
                       .client_certificate_file = pki_.client_cert_file,
                       .client_key_file = pki_.client_key_file})
                ->Get(server->Url("/")));
  EXPECT_EQ(server->request_count(), 1u);
  Result<Response> without = TlsClient({.ca_file = pki_.ca_cert_file})->Get(server->Url("/"));
  // The server refuses the handshake (TLS 1.3: "certificate required" alert).
  EXPECT_EQ(ErrorKindOf(without.status()), ErrorKind::kTlsHandshake) << without.status().ToString();
  EXPECT_EQ(server->request_count(), 1u);
}

TEST_F(ClientTlsTest, HandshakeWithAPlainServerIsATlsHandshakeError) {
  ASSERT_OK_AND_ASSIGN(auto plain, ScriptedHttpServer::Start());
  const std::string url = "https://127.0.0.1:" + std::to_string(plain->port()) + "/";
  Result<Response> r = TlsClient({.ca_file = pki_.ca_cert_file})->Get(url);
  EXPECT_EQ(ErrorKindOf(r.status()), ErrorKind::kTlsHandshake) << r.status().ToString();
  EXPECT_EQ(ErrorKindName(ErrorKindOf(r.status())), "tls_handshake");
}

TEST_F(ClientTlsTest, UnreadableCaFileFailsCreate) {
  ClientOptions options;
  options.transport.tls.ca_file = dir_.Join("missing.pem");
  options.proxy = ProxyConfig();
  EXPECT_FALSE(Client::Create(std::move(options)).ok());
}

}  // namespace
}  // namespace otlp::http
