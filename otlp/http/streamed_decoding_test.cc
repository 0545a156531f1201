// Streamed downloads (OnBody, SaveTo) are decoded by their Content-Encoding chunk by chunk, over
// HTTP/1.1 and HTTP/2 (h2c): gzip and br bodies to a callback and to a file, raw bytes on
// request (Decompress{false}), and corrupt or truncated bodies failing with kDecoding.
#include <brotli/encode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "otlp/core/internal/gzip.h"
#include "otlp/http/client.h"
#include "otlp/http/client_test_helpers.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace otlp::http {
namespace {

using testing::Gzip;
using testing::ReadFile;

using test::ScriptedHttpServer;
using ::testing::HasSubstr;

enum class Protocol { kHttp1, kHttp2 };

std::string Brotli(std::string_view in) {
  size_t size = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(size, '\0');
  EXPECT_TRUE(BrotliEncoderCompress(
      BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_DEFAULT_MODE, in.size(),
      reinterpret_cast<const uint8_t*>(in.data()), &size, reinterpret_cast<uint8_t*>(out.data())));
  out.resize(size);
  return out;
}

// Text that compresses but not to nothing, several times the held-body limit once decoded.
std::string Text(size_t lines) {
  std::string out;
  for (size_t i = 0; i < lines; ++i) {
    out += "line " + std::to_string(i) + ": " + std::to_string(i * 2654435761u % 1000003) + "\n";
  }
  return out;
}

class StreamedDecodingTest : public ::testing::TestWithParam<Protocol> {
 protected:
  std::unique_ptr<Client> MakeClient() {
    ClientOptions options;
    options.transport.http_version = GetParam() == Protocol::kHttp2
                                         ? net::HttpVersionPolicy::kHttp2PriorKnowledge
                                         : net::HttpVersionPolicy::kHttp1Only;
    options.transport.default_timeout = std::chrono::seconds(30);
    return testing::MakeClient(std::move(options));
  }
};

TEST_P(StreamedDecodingTest, GzipToACallbackChunkByChunk) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string text = Text(40000);  // ~700 KB decoded
  ASSERT_GT(text.size(), 4 * Request::kHeldBodyLimit);
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = Gzip(text)});
  auto client = MakeClient();
  std::string got;
  int chunks = 0;
  ASSERT_OK_AND_ASSIGN(Response r,
                       client->Get(server->Url("/text"), OnBody{[&](std::string_view c) {
                                     got.append(c);
                                     ++chunks;
                                     return Status::Ok();
                                   }}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.protocol_version, GetParam() == Protocol::kHttp2 ? "2" : "1.1");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(got.size(), text.size());
  EXPECT_TRUE(got == text);
  EXPECT_GT(chunks, 2);  // passed on as it decoded, not at the end
  EXPECT_FALSE(r.Header("Content-Encoding").has_value());
  EXPECT_FALSE(r.Header("Content-Length").has_value());
  EXPECT_TRUE(server->requests()[0].Header("Accept-Encoding").has_value());
}

TEST_P(StreamedDecodingTest, BrotliAndGzipToAFile) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  test::TempDir dir;
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string text = Text(30000);
  const std::string small = "a short body, held until the status is known\n";
  server->EnqueueAll(
      {{.status = 200, .headers = {{"Content-Encoding", "br"}}, .body = Brotli(text)},
       {.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = Gzip(small)}});
  auto client = MakeClient();
  const std::string big_path = dir.Join("big.txt");
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/big"), SaveTo{big_path}));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(ReadFile(big_path) == text);
  EXPECT_FALSE(r.Header("Content-Encoding").has_value());
  const std::string small_path = dir.Join("small.txt");
  ASSERT_OK(client->Get(server->Url("/small"), SaveTo{small_path}));
  EXPECT_EQ(ReadFile(small_path), small);
}

TEST_P(StreamedDecodingTest, RawBytesWhenAskedFor) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string encoded = Gzip(Text(1000));
  server->Enqueue({.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = encoded});
  auto client = MakeClient();
  std::string got;
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(server->Url("/raw"), Decompress{false},
                                               OnBody{[&](std::string_view c) {
                                                 got.append(c);
                                                 return Status::Ok();
                                               }}));
  EXPECT_TRUE(got == encoded);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_FALSE(server->requests()[0].Header("Accept-Encoding").has_value());
}

TEST_P(StreamedDecodingTest, CorruptTruncatedAndUnknownCodingsAreDecodingErrors) {
  ASSERT_OK_AND_ASSIGN(auto server, ScriptedHttpServer::Start());
  const std::string encoded = Gzip(Text(20000));
  std::string corrupt = encoded;
  for (size_t i = 100; i < 200; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  server->EnqueueAll(
      {{.status = 200, .headers = {{"Content-Encoding", "gzip"}}, .body = corrupt},
       {.status = 200,
        .headers = {{"Content-Encoding", "gzip"}},
        .body = encoded.substr(0, encoded.size() / 2)},
       {.status = 200, .headers = {{"Content-Encoding", "snappy"}}, .body = "whatever"}});
  auto client = MakeClient();
  auto sink = OnBody{[](std::string_view) { return Status::Ok(); }};
  Result<Response> bad = client->Get(server->Url("/corrupt"), sink);
  EXPECT_THAT(bad, StatusIs(StatusCode::kDataLoss, HasSubstr("decoding the streamed response")));
  EXPECT_EQ(ErrorKindOf(bad.status()), ErrorKind::kDecoding);
  Result<Response> cut = client->Get(server->Url("/cut"), sink);
  EXPECT_THAT(cut, StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_EQ(ErrorKindOf(cut.status()), ErrorKind::kDecoding);
  Result<Response> unknown = client->Get(server->Url("/unknown"), sink);
  EXPECT_THAT(unknown, StatusIs(StatusCode::kUnimplemented, HasSubstr("snappy")));
  EXPECT_EQ(ErrorKindOf(unknown.status()), ErrorKind::kDecoding);
  EXPECT_EQ(server->request_count(), 3u);  // none retried
}

INSTANTIATE_TEST_SUITE_P(Protocols, StreamedDecodingTest,
                         ::testing::Values(Protocol::kHttp1, Protocol::kHttp2),
                         [](const ::testing::TestParamInfo<Protocol>& param) {
                           return param.param == Protocol::kHttp1 ? "Http1" : "Http2";
                         });

}  // namespace
}  // namespace otlp::http
