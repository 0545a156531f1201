#include "tests/support/h2_test_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <future>
#include <utility>

#include "otlp/net/internal/runtime_impl.h"
#include "otlp/net/internal/stream.h"
#include "otlp/net/internal/tls.h"

namespace otlp::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using net::internal::H2ServerSession;
using net::internal::Stream;

struct H2TestServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(std::shared_ptr<net::Runtime> rt, Options opts, H2ServerSession::Handler h)
      : runtime(std::move(rt)),
        options(std::move(opts)),
        handler(std::move(h)),
        strand(asio::make_strand(net::internal::IoContext(*runtime))),
        acceptor(strand) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(net::internal::IoContext(*runtime)),
                          [self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
                            if (ec) return;  // closed by Stop()
                            self->connections.fetch_add(1);
                            self->Serve(std::move(s));
                            self->Accept();
                          });
  }

  void Serve(tcp::socket socket) {
    auto stream = std::make_shared<std::unique_ptr<Stream>>(
        std::make_unique<Stream>(std::move(socket), tls));
    (*stream)->AsyncAccept(
        std::chrono::steady_clock::now() + std::chrono::seconds(10),
        [self = shared_from_this(), stream](const boost::system::error_code& ec) {
          if (ec) {
            (*stream)->Close();
            return;
          }
          H2ServerSession::Options session_options = self->options.session;
          // Weak: the sessions (and their options) belong to this Impl.
          session_options.on_closed = [weak = std::weak_ptr<Impl>(self),
                                       user = self->options.session.on_closed](
                                          const Status& status) {
            if (auto impl = weak.lock()) {
              {
                otlp::internal::MutexLock lock(impl->mu);
                impl->last_status = status;
              }
              impl->closed.fetch_add(1);
            }
            if (user) user(status);
          };
          auto session = H2ServerSession::Start(std::move(*stream), std::move(session_options),
                                                self->handler);
          otlp::internal::MutexLock lock(self->mu);
          self->sessions.push_back(std::move(session));
        });
  }

  std::shared_ptr<net::Runtime> runtime;
  Options options;
  H2ServerSession::Handler handler;
  std::shared_ptr<const net::internal::TlsContext> tls;
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> closed{0};
  mutable otlp::internal::Mutex mu;
  std::vector<std::shared_ptr<H2ServerSession>> sessions OTLP_GUARDED_BY(mu);
  Status last_status OTLP_GUARDED_BY(mu);
};

Result<std::unique_ptr<H2TestServer>> H2TestServer::Start(std::shared_ptr<net::Runtime> runtime,
                                                          Options options,
                                                          H2ServerSession::Handler handler) {
  auto impl = std::make_shared<Impl>(std::move(runtime), std::move(options), std::move(handler));
  if (impl->options.tls) {
    net::ServerTlsOptions tls_options = impl->options.tls_options;
    if (tls_options.alpn_protocols.empty()) tls_options.alpn_protocols = {"h2"};
    OTLP_ASSIGN_OR_RETURN(auto ctx, net::internal::TlsContext::Server(std::move(tls_options)));
    impl->tls = std::move(ctx);
  }
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on 127.0.0.1: " + ec.message());
  const uint16_t port = impl->acceptor.local_endpoint().port();
  asio::post(impl->strand, [impl] { impl->Accept(); });
  auto server = std::unique_ptr<H2TestServer>(new H2TestServer(std::move(impl)));
  server->port_ = port;
  return server;
}

H2TestServer::H2TestServer(std::shared_ptr<Impl> impl)
    : impl_(std::move(impl)), connections_(impl_->connections), closed_(impl_->closed) {}

H2TestServer::~H2TestServer() { Stop(); }

Status H2TestServer::last_close_status() const {
  otlp::internal::MutexLock lock(impl_->mu);
  return impl_->last_status;
}

std::vector<std::shared_ptr<H2ServerSession>> H2TestServer::sessions() const {
  otlp::internal::MutexLock lock(impl_->mu);
  return impl_->sessions;
}

void H2TestServer::Stop() {
  auto done = std::make_shared<std::promise<void>>();
  asio::post(impl_->strand, [impl = impl_, done] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    done->set_value();
  });
  done->get_future().wait_for(std::chrono::seconds(10));
  for (auto& session : sessions()) session->Close();
}

}  // namespace otlp::test
