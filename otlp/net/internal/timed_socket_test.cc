// TimedSocket's one lazily re-armed timer against a loopback peer: a pending read fails with
// timeout at the deadline, an operation after the deadline fails at once, a deadline moved later
// keeps a read alive past the earlier one (the re-arm on firing), a deadline moved earlier cuts a
// pending read short, expires_never lifts it, and close() ends pending operations as aborted.
// Driven on one io_context by this thread (run_one / run_for), so no handler races the checks.
#include "otlp/net/internal/timed_socket.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace otlp::net::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = TimedSocket::Clock;

class TimedSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    std::optional<error_code> connected;
    socket_.async_connect(std::array{acceptor_.local_endpoint()},
                          [&](const error_code& ec, const tcp::endpoint&) { connected = ec; });
    acceptor_.accept(peer_);
    RunUntil([&] { return connected.has_value(); });
    ASSERT_FALSE(*connected) << connected->message();
  }

  // Runs handlers until `done` (or nothing is left to run).
  template <typename Done>
  void RunUntil(Done done) {
    while (!done()) {
      ioc_.restart();
      if (ioc_.run_one() == 0) break;
    }
  }

  // Starts a read; its outcome lands in read_.
  void StartRead() {
    read_.reset();
    socket_.async_read_some(asio::buffer(buffer_), [this](const error_code& ec, size_t n) {
      read_ = ec ? ec : error_code();
      got_ = n;
    });
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  tcp::socket peer_{ioc_};
  TimedSocket socket_{ioc_.get_executor()};
  std::array<char, 64> buffer_{};
  std::optional<error_code> read_;
  size_t got_ = 0;
};

TEST_F(TimedSocketTest, PendingReadTimesOutAtTheDeadlineAndTheSocketCloses) {
  socket_.expires_at(Clock::now() + milliseconds(50));
  StartRead();
  RunUntil([&] { return read_.has_value(); });
  ASSERT_TRUE(read_.has_value());
  EXPECT_EQ(*read_, boost::beast::error::timeout) << read_->message();
  EXPECT_FALSE(socket_.socket().is_open());
}

TEST_F(TimedSocketTest, OperationStartedAfterTheDeadlineFailsAtOnce) {
  socket_.expires_at(Clock::now() - milliseconds(1));
  std::optional<error_code> wrote;
  socket_.async_write_some(asio::buffer("x", 1),
                           [&](const error_code& ec, size_t) { wrote = ec; });
  EXPECT_FALSE(wrote.has_value());  // never inside the initiating call
  RunUntil([&] { return wrote.has_value(); });
  ASSERT_TRUE(wrote.has_value());
  EXPECT_EQ(*wrote, boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, DeadlineMovedLaterKeepsThePendingReadPastTheFirstOne) {
  socket_.expires_at(Clock::now() + milliseconds(30));
  StartRead();
  // The timer stays armed for the first deadline; when it fires it must re-arm, not time out.
  socket_.expires_at(Clock::now() + std::chrono::seconds(60));
  ioc_.restart();
  ioc_.run_for(milliseconds(200));
  EXPECT_FALSE(read_.has_value()) << "the read ended at the first deadline: " << read_->message();
  asio::write(peer_, asio::buffer(std::string("hello")));
  RunUntil([&] { return read_.has_value(); });
  ASSERT_TRUE(read_.has_value());
  EXPECT_FALSE(*read_) << read_->message();
  EXPECT_EQ(std::string(buffer_.data(), got_), "hello");
}

TEST_F(TimedSocketTest, DeadlineMovedEarlierCutsThePendingReadShort) {
  socket_.expires_at(Clock::now() + std::chrono::seconds(60));
  StartRead();
  socket_.expires_at(Clock::now() + milliseconds(30));
  RunUntil([&] { return read_.has_value(); });
  ASSERT_TRUE(read_.has_value());
  EXPECT_EQ(*read_, boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, ExpiresNeverLiftsTheDeadline) {
  socket_.expires_at(Clock::now() + milliseconds(30));
  socket_.expires_never();
  StartRead();
  ioc_.restart();
  ioc_.run_for(milliseconds(150));
  EXPECT_FALSE(read_.has_value());
  asio::write(peer_, asio::buffer(std::string("ok")));
  RunUntil([&] { return read_.has_value(); });
  ASSERT_TRUE(read_.has_value());
  EXPECT_FALSE(*read_);
}

TEST_F(TimedSocketTest, ManyRequestsUnderAMovingDeadlineAllSucceed) {
  // The keep-alive pattern: each exchange sets "now + 1 s" and completes well within it.
  for (int i = 0; i < 200; ++i) {
    socket_.expires_at(Clock::now() + std::chrono::seconds(1));
    asio::write(peer_, asio::buffer(std::string("r")));
    StartRead();
    RunUntil([&] { return read_.has_value(); });
    ASSERT_TRUE(read_.has_value());
    ASSERT_FALSE(*read_) << "exchange " << i << ": " << read_->message();
  }
}

TEST_F(TimedSocketTest, CloseAbortsPendingOperations) {
  socket_.expires_at(Clock::now() + std::chrono::seconds(60));
  StartRead();
  socket_.close();
  RunUntil([&] { return read_.has_value(); });
  ASSERT_TRUE(read_.has_value());
  EXPECT_EQ(*read_, asio::error::operation_aborted);
}

// (A connect pending at its deadline is stream_test's ConnectDeadlineAgainstAFullAcceptQueue, through Stream.)
TEST_F(TimedSocketTest, ConnectAfterTheDeadlineFailsAtOnce) {
  TimedSocket other(ioc_.get_executor());
  other.expires_at(Clock::now() - milliseconds(1));
  std::optional<error_code> connected;
  other.async_connect(std::array{acceptor_.local_endpoint()},
                      [&](const error_code& ec, const tcp::endpoint&) { connected = ec; });
  RunUntil([&] { return connected.has_value(); });
  ASSERT_TRUE(connected.has_value());
  EXPECT_EQ(*connected, boost::beast::error::timeout);
}

}  // namespace
}  // namespace otlp::net::internal
