// otlp demo — a checkout traced end to end across four services (examples/demo/demo.h): starts
// the services as child processes, runs the flow as "demo-client", prints what ran and the
// trace id, and stops everything it started.
//
// Each service is a process of its own (the tracing SDK is per process, and service.name with
// it): this binary again, /proc/self/exe, run as `otlp demo --run-service NAME --endpoint URL
// --port 0 --ready-fd 3 [peer URLs]` (not in --help). A service listens on an ephemeral loopback
// port and writes it, one line, to the ready pipe (fd 3), so the parent knows the port without
// picking one first and knows the service is listening once it reads it. The children stay in
// the demo's process group (Ctrl-C at a terminal reaches them all); they end on SIGINT/SIGTERM,
// flushing their spans first, and on the death of the parent (PR_SET_PDEATHSIG).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "common.h"
#include "examples/demo/demo.h"
#include "final_flush.h"
#include "otlp/http/client.h"
#include "otlp/nats/connection.h"
#include "otlp/view/viewer.h"
#include "otlp/view/waterfall.h"
#include "stop_signals.h"

extern char** environ;

namespace otlp::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultEndpoint = "http://127.0.0.1:4318";
// Longest a service may take to start listening, and to exit once asked to (it flushes its
// spans first, bounded by the export timeout: 10 s by default). Then it is killed.
constexpr auto kStartLimit = 15s;
constexpr auto kStopLimit = 15s;
// How often waits look for a stop signal.
constexpr auto kTick = 10ms;
// The fd on which a service reports its port.
constexpr int kReadyFd = 3;

const Command& DemoCommand() {
  static const Command cmd{
      .name = "demo",
      .summary = "run a traced multi-service checkout and show its trace (otlp view built in)",
      .usage = "otlp demo [--endpoint URL] [--once]",
      .description =
          "Starts four services on 127.0.0.1, each a child process with its own service.name:\n"
          "frontend (HTTP/1.1), orders (HTTP/2, h2c), inventory (HTTP/1.1) and notifications\n"
          "(WebSocket). Then, as \"demo-client\", it places one order: the frontend calls\n"
          "orders and inventory at once; orders answers its first request 503, so the call\n"
          "is retried, and pushes a notification over WebSocket; inventory has one item out\n"
          "of stock (an error span). With a NATS server (started for the demo, JetStream in\n"
          "a temporary directory), orders publishes the order on orders.created; a\n"
          "fulfillment worker (a queue group) asks inventory over request-reply, appends it\n"
          "to a JetStream stream, records it in a KV bucket and stores a receipt in an\n"
          "Object Store. Every span of every service is one trace, sent with\n"
          "OTLP/HTTP to an `otlp view` running inside this process (OTLP on 4318, web UI on\n"
          "4320, or free ports when those are taken), or to --endpoint. The source is\n"
          "examples/demo/, written with the library's public API only.\n"
          "\n"
          "Prints the services, their ports and the trace id; with the built-in viewer also\n"
          "the trace as a waterfall and its address in the web UI. Without --once the\n"
          "services (and the viewer) keep running until Ctrl-C (SIGINT or SIGTERM); with\n"
          "--once the demo stops them after the flow. Either way every process it started\n"
          "is stopped before it exits, also on failure; a second Ctrl-C kills services still\n"
          "flushing.\n"
          "Exit status: 0 done, 1 failure (one line on stderr), 2 bad usage.",
      .flags =
          {
              {.name = "endpoint",
               .value = "URL",
               .help = "Send every service's spans to this OTLP/HTTP collector (base URL;\n"
                       "/v1/traces is appended) instead of the built-in viewer"},
              {.name = "once", .help = "Stop the services after the flow and exit"},
              {.name = "nats-server",
               .value = "PATH",
               .help = "The nats-server binary for the messaging hops (default:\n"
                       "$OTLP_NATS_SERVER, the one the build made, or nats-server on PATH)"},
              {.name = "no-nats", .help = "Leave out the messaging hops (no NATS server)"},
          },
      .examples =
          "  otlp demo\n"
          "  otlp demo --once\n"
          "  otlp demo --endpoint http://collector:4318\n"};
  return cmd;
}

// The hidden form a service process runs.
const Command& ServiceCommand() {
  static const Command cmd{
      .name = "demo --run-service",
      .summary = "run one service of otlp demo (started by otlp demo itself)",
      .usage =
          "otlp demo --run-service NAME --endpoint URL [--port N] [--ready-fd FD] "
          "[--orders URL] [--inventory URL] [--notifications URL] [--nats URL]",
      .flags = {
          {.name = "run-service",
           .value = "NAME",
           .help = "frontend, orders, inventory, notifications or fulfillment"},
          {.name = "endpoint", .value = "URL", .help = "OTLP/HTTP traces URL"},
          {.name = "port", .value = "N", .help = "Port to listen on (default 0: any)"},
          {.name = "ready-fd", .value = "FD", .help = "Where to write the port once listening"},
          {.name = "orders", .value = "URL", .help = "The orders service (frontend)"},
          {.name = "inventory", .value = "URL", .help = "The inventory service (frontend)"},
          {.name = "notifications", .value = "URL", .help = "The notifications endpoint (orders)"},
          {.name = "nats",
           .value = "URL",
           .help = "The NATS server (orders, inventory, fulfillment)"},
      }};
  return cmd;
}

template <typename T>
bool ParseNumber(const std::string& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// ---- a service process ----

// A started service, whatever its type, and its port.
struct RunningService {
  std::shared_ptr<void> service;
  uint16_t port = 0;
};

template <typename T>
Result<RunningService> Keep(Result<std::unique_ptr<T>> started) {
  if (!started.ok()) return started.status();
  const uint16_t port = (*started)->port();
  return RunningService{std::shared_ptr<T>(std::move(*started)), port};
}

Result<RunningService> StartService(const std::string& name, uint16_t port,
                                    const ParsedFlags& flags) {
  if (name == demo::kFrontendService) {
    return Keep(demo::Frontend::Start({.port = port,
                                       .orders_url = flags.Get("orders").value_or(""),
                                       .inventory_url = flags.Get("inventory").value_or("")}));
  }
  const std::string nats_url = flags.Get("nats").value_or("");
  if (name == demo::kOrdersService) {
    return Keep(demo::Orders::Start({.port = port,
                                     .notifications_url = flags.Get("notifications").value_or(""),
                                     .nats_url = nats_url}));
  }
  if (name == demo::kInventoryService) {
    return Keep(demo::Inventory::Start({.port = port, .nats_url = nats_url}));
  }
  if (name == demo::kFulfillmentService) {
    return Keep(demo::Fulfillment::Start({.nats_url = nats_url}));
  }
  if (name == demo::kNotificationsService) {
    return Keep(demo::Notifications::Start({.port = port}));
  }
  return InvalidArgumentError("unknown service '" + name + "'");
}

int RunService(std::span<const std::string> args) {
  const Command& cmd = ServiceCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;
  const std::string name = flags.Get("run-service").value_or("");
  const std::string endpoint = flags.Get("endpoint").value_or("");
  if (endpoint.empty()) return UsageError(cmd, "missing --endpoint");
  uint64_t port = 0, fd = 0;
  std::string error;
  if (!UnsignedFlag(flags, "port", 0, 65535, port, error) ||
      !UnsignedFlag(flags, "ready-fd", 0, 1 << 20, fd, error)) {
    return UsageError(cmd, error);
  }
  const int ready_fd = flags.Has("ready-fd") ? static_cast<int>(fd) : -1;

  // End with the demo: SIGTERM when the parent dies, however it dies. (Should it have died
  // already, writing to the ready pipe below fails.)
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  auto stop = StopSignals::Install();  // before any thread
  if (!stop.ok()) {
    PrintError(cmd, name + ": " + stop.status().message());
    return 1;
  }
  auto sdk = demo::SetupTelemetry(name, endpoint);
  if (!sdk.ok()) {
    PrintError(cmd, name + ": " + sdk.status().ToString());
    return 1;
  }
  Result<RunningService> running = StartService(name, static_cast<uint16_t>(port), flags);
  if (!running.ok()) {
    PrintError(cmd, name + ": " + running.status().ToString());
    return 1;
  }
  if (ready_fd >= 0) {
    const std::string line = std::to_string(running->port) + "\n";
    const bool reported =
        write(ready_fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    close(ready_fd);
    if (!reported) return 1;  // nobody is waiting for this service
  }

  (*stop)->Wait(Clock::time_point::max());
  running->service.reset();  // stop serving: every span has ended
  // Not cut short by a second signal: the parent stops waiting (and kills) when it must.
  const FlushOutcome flush = FinalFlush(**sdk, nullptr);
  if (!flush.clean()) ExitNow(0);
  return 0;
}

// ---- the demo's process ----

// The service processes the demo started. Stop() (or the destructor) asks each to exit with
// SIGTERM, waits for them (they flush their spans on the way out) and kills those still there
// after kStopLimit or a further stop signal.
// Threading: one thread (the one that installed `stop`).
class DemoServices {
 public:
  struct Service {
    std::string name;
    pid_t pid = -1;
    uint16_t port = 0;
    std::string url;  // how the others reach it
  };

  DemoServices(std::string traces_url, StopSignals& stop)
      : traces_url_(std::move(traces_url)), stop_(stop) {}
  ~DemoServices() { Stop(); }
  DemoServices(const DemoServices&) = delete;
  DemoServices& operator=(const DemoServices&) = delete;

  // Starts service `name` with `extra_args` and waits until it listens. Its URL is its base
  // URL, or `ws_path` on it with the ws scheme when given. kCancelled on a stop signal.
  Result<Service> Start(const std::string& name, std::vector<std::string> extra_args,
                        const std::string& ws_path = {});
  // Starts nats-server (`binary`) on a free loopback port with JetStream stored under `dir`,
  // and returns its URL once it is ready. It is stopped after the services.
  Result<std::string> StartNatsServer(const std::string& binary, const std::string& dir);
  void Stop();

  const std::vector<Service>& services() const noexcept { return services_; }
  const Service* Find(std::string_view name) const {
    for (const Service& s : services_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  const std::string& traces_url() const noexcept { return traces_url_; }
  StopSignals& stop_signals() noexcept { return stop_; }
  const Service& nats_server() const noexcept { return nats_; }

 private:
  // The exit status of a child that exited (reaping it), or nullopt while it runs.
  std::optional<int> Reap(Service& s);

  std::string traces_url_;
  StopSignals& stop_;
  std::vector<Service> services_;
  Service nats_;  // the NATS server, when started
};

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) return "was killed by " + SignalName(WTERMSIG(status));
  return "exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

Result<DemoServices::Service> DemoServices::Start(const std::string& name,
                                                  std::vector<std::string> extra_args,
                                                  const std::string& ws_path) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return InternalError(std::string("pipe: ") + strerror(errno));
  std::vector<std::string> args = {"otlp", "demo", "--run-service", name};
  args.insert(args.end(), {"--endpoint", traces_url_, "--port", "0"});
  args.insert(args.end(), {"--ready-fd", std::to_string(kReadyFd)});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, ready[1], kReadyFd);  // clears O_CLOEXEC on fd 3
  // The stop signals are blocked in this thread (StopSignals); the service starts without.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &files, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  close(ready[1]);
  if (rc != 0) {
    close(ready[0]);
    return InternalError("cannot start the " + name + " service: " + strerror(rc));
  }
  services_.push_back({.name = name, .pid = pid});
  Service& s = services_.back();

  // Its port, one line on the ready pipe; EOF first means it failed (its error is on stderr).
  std::string line;
  Status failed;
  const auto deadline = Clock::now() + kStartLimit;
  while (line.find('\n') == std::string::npos && failed.ok()) {
    pollfd p{ready[0], POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      char buf[32];
      const ssize_t n = read(ready[0], buf, sizeof buf);
      if (n > 0) {
        line.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      int status = 0;
      waitpid(pid, &status, 0);
      s.pid = -1;
      failed = UnavailableError("the " + name + " service " + DescribeExit(status) +
                                " before it was listening");
    } else if (Clock::now() >= deadline) {
      failed = DeadlineExceededError("the " + name + " service was not listening after " +
                                     std::to_string(kStartLimit.count()) + " s");
    } else if (stop_.Wait(std::min(deadline, Clock::now() + kTick)) ==
               StopSignals::Event::kSignal) {
      failed = Status(StatusCode::kCancelled, "interrupted by " + SignalName(stop_.last_signal()));
    }
  }
  close(ready[0]);
  OTLP_RETURN_IF_ERROR(failed);
  const bool listens = name != demo::kFulfillmentService;  // the worker only subscribes
  if (!ParseNumber(line.substr(0, line.find('\n')), s.port) || (listens && s.port == 0)) {
    return InternalError("the " + name + " service reported a bad port: " + line);
  }
  s.url = !listens          ? "(NATS queue group fulfillment)"
          : ws_path.empty() ? "http://127.0.0.1:" + std::to_string(s.port)
                            : "ws://127.0.0.1:" + std::to_string(s.port) + ws_path;
  return s;
}

std::optional<int> DemoServices::Reap(Service& s) {
  int status = 0;
  const pid_t r = waitpid(s.pid, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  s.pid = -1;  // reaped (or, r < 0, not our child any more)
  return status;
}

void DemoServices::Stop() {
  size_t running = 0;
  for (Service& s : services_) {
    if (s.pid > 0 && !Reap(s)) {
      kill(s.pid, SIGTERM);
      ++running;
    }
  }
  const auto deadline = Clock::now() + kStopLimit;
  bool kill_now = false;
  while (running > 0) {
    if (!kill_now) {
      const auto event = stop_.Wait(std::min(deadline, Clock::now() + kTick));
      kill_now = event == StopSignals::Event::kSignal || Clock::now() >= deadline;
    }
    running = 0;
    for (Service& s : services_) {
      if (s.pid <= 0 || Reap(s)) continue;
      if (kill_now) {
        kill(s.pid, SIGKILL);
        waitpid(s.pid, nullptr, 0);
        s.pid = -1;
        continue;
      }
      ++running;
    }
  }
  if (nats_.pid > 0) {  // last: the services drain their NATS connections on the way out
    kill(nats_.pid, SIGTERM);
    const auto nats_deadline = Clock::now() + 5s;
    while (!Reap(nats_) && Clock::now() < nats_deadline) std::this_thread::sleep_for(kTick);
    if (nats_.pid > 0) {
      kill(nats_.pid, SIGKILL);
      waitpid(nats_.pid, nullptr, 0);
      nats_.pid = -1;
    }
  }
}

Result<std::string> DemoServices::StartNatsServer(const std::string& binary,
                                                  const std::string& dir) {
  const std::string conf = dir + "/nats.conf";
  const std::string log = dir + "/nats.log";
  {
    std::FILE* f = std::fopen(conf.c_str(), "w");
    if (f == nullptr) return InternalError("cannot write " + conf + ": " + strerror(errno));
    std::fprintf(f, "listen: 127.0.0.1:-1\nhttp: 0\njetstream { store_dir: \"%s/js\" }\n",
                 dir.c_str());
    std::fclose(f);
  }
  std::vector<std::string> args = {binary, "-c", conf, "-l", log};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  const pid_t pid = fork();
  if (pid < 0) return InternalError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the server ends with the demo however it ends,
    // starts without the demo's blocked signals, and writes only its log file.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  nats_ = {.name = "nats-server", .pid = pid};
  // Ready when its log says where it listens.
  const std::string needle = "Listening for client connections on ";
  const auto deadline = Clock::now() + kStartLimit;
  while (Clock::now() < deadline) {
    std::string text;
    if (std::FILE* f = std::fopen(log.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    const size_t at = text.find(needle);
    if (at != std::string::npos && text.find("Server is ready") != std::string::npos) {
      const size_t colon = text.find(':', at + needle.size());
      ParseNumber(text.substr(colon + 1, text.find_first_not_of("0123456789", colon + 1) -
                                             colon - 1),
                  nats_.port);
      nats_.url = "nats://127.0.0.1:" + std::to_string(nats_.port);
      return nats_.url;
    }
    if (Reap(nats_)) return UnavailableError("nats-server exited at start: " + text);
    if (stop_.Wait(Clock::now() + kTick) == StopSignals::Event::kSignal) {
      return Status(StatusCode::kCancelled, "interrupted by " + SignalName(stop_.last_signal()));
    }
  }
  return DeadlineExceededError("nats-server was not ready after " +
                               std::to_string(kStartLimit.count()) + " s");
}

// Starts the services, from the back (notifications) to the front (frontend), each given the
// URLs of those it calls; with a NATS server (`nats_url`), inventory, orders and the
// fulfillment worker use it too.
Status StartAll(DemoServices& services, const std::string& nats_url) {
  std::vector<std::string> nats;
  if (!nats_url.empty()) nats = {"--nats", nats_url};
  OTLP_ASSIGN_OR_RETURN(DemoServices::Service notifications,
                        services.Start(demo::kNotificationsService, {}, "/notifications"));
  OTLP_ASSIGN_OR_RETURN(DemoServices::Service inventory,
                        services.Start(demo::kInventoryService, nats));
  if (!nats_url.empty()) {
    OTLP_RETURN_IF_ERROR(services.Start(demo::kFulfillmentService, nats).status());
  }
  std::vector<std::string> orders_args = {"--notifications", notifications.url};
  orders_args.insert(orders_args.end(), nats.begin(), nats.end());
  OTLP_ASSIGN_OR_RETURN(DemoServices::Service orders,
                        services.Start(demo::kOrdersService, orders_args));
  return services
      .Start(demo::kFrontendService, {"--orders", orders.url, "--inventory", inventory.url})
      .status();
}

// Fails when nothing answers HTTP at `traces_url`. Any answer will do (an empty POST gets a 4xx
// from a collector): this only spares starting the services, and a page of export warnings,
// when no collector is listening. Connects directly, as the exporter does.
Status CheckCollector(const std::string& traces_url) {
  OTLP_ASSIGN_OR_RETURN(
      std::unique_ptr<http::Client> client,
      http::Client::Create({.retry = http::RetryPolicy::Disabled(), .proxy = http::ProxyConfig{}}));
  Result<http::Response> answer = client->Post(traces_url, http::Timeout{5s});
  if (!answer.ok()) {
    return UnavailableError("no OTLP collector answers at " + traces_url + " (" +
                            answer.status().message() + "); see --endpoint");
  }
  return Status::Ok();
}

// The whole flow against `traces_url` (a full OTLP/HTTP traces URL): starts the services as
// child processes into `services` (they keep running after this returns, until
// services.Stop()), places one order as "demo-client" with its spans flushed, and returns the
// trace id. Fails when no collector answers, a service does not start, the checkout does not
// answer 200, the collector did not take the client's spans, or (kCancelled) on a stop signal.
Result<std::string> RunDemoFlow(DemoServices& services, const std::string& nats_url) {
  StopSignals& stop = services.stop_signals();
  OTLP_RETURN_IF_ERROR(CheckCollector(services.traces_url()));
  OTLP_RETURN_IF_ERROR(StartAll(services, nats_url));
  auto sdk = demo::SetupTelemetry(demo::kClientService, services.traces_url());
  if (!sdk.ok()) return sdk.status();
  // The messaging half runs after the checkout has answered: listen for its end (untraced: the
  // demo's own bookkeeping is not part of the trace).
  std::shared_ptr<nats::Connection> watcher;
  std::shared_ptr<nats::Subscription> fulfilled;
  if (!nats_url.empty()) {
    nats::Options o{.servers = {nats_url}, .name = "otlp demo"};
    o.tracing = {.enabled = false, .propagate = false};
    OTLP_ASSIGN_OR_RETURN(watcher, nats::Connection::Connect(std::move(o)));
    OTLP_ASSIGN_OR_RETURN(fulfilled, watcher->SubscribeSync("orders.fulfilled"));
    OTLP_RETURN_IF_ERROR(watcher->Flush(5s));
  }

  // The checkout blocks; run it aside so that a stop signal is seen meanwhile.
  std::optional<Result<demo::CheckoutResult>> checkout;
  const std::string frontend = services.Find(demo::kFrontendService)->url;
  std::thread flow([&] {
    checkout = demo::PlaceOrder(frontend, {"apple", "pear"});
    stop.Notify();
  });
  if (stop.Wait(Clock::time_point::max()) == StopSignals::Event::kSignal) {
    services.Stop();  // the checkout fails at once without its services
    flow.join();
    (*sdk)->Shutdown(0ms);
    return Status(StatusCode::kCancelled, "interrupted by " + SignalName(stop.last_signal()));
  }
  flow.join();
  (*sdk)->Shutdown();  // flushes demo-client's spans (bounded by the export timeout)

  if (!checkout->ok()) {
    return Status(checkout->status().code(), "checkout failed: " + checkout->status().message());
  }
  const demo::CheckoutResult& result = **checkout;
  if (result.status != 200) {
    return InternalError("checkout answered " + std::to_string(result.status) + ": " + result.body);
  }
  if (fulfilled) {
    Result<nats::Message> done = fulfilled->NextMsg(15s);
    if (!done.ok()) {
      return UnavailableError("the fulfillment worker did not report the order: " +
                              done.status().message());
    }
    watcher->Close();
  }
  if (const exporter::OtlpHttpExporter* exporter = (*sdk)->otlp_exporter()) {
    if (const uint64_t failed = exporter->stats().spans_failed; failed > 0) {
      return UnavailableError("the collector at " + services.traces_url() + " did not take " +
                              std::to_string(failed) + " span(s) of " + demo::kClientService +
                              " (see the warnings above)");
    }
  }
  return result.trace_id;
}

void PrintAccount(const DemoServices& services, const std::string& trace_id,
                  const std::string& nats_url) {
  std::printf("otlp demo: services on 127.0.0.1, spans to %s\n", services.traces_url().c_str());
  for (const DemoServices::Service& s : services.services()) {
    std::printf("  %-14s %-40s pid %d\n", s.name.c_str(), s.url.c_str(), static_cast<int>(s.pid));
  }
  if (services.nats_server().pid > 0) {
    std::printf("  %-14s %-40s pid %d\n", "nats-server", services.nats_server().url.c_str(),
                static_cast<int>(services.nats_server().pid));
  }
  std::printf("  %-14s %-40s pid %d\n", demo::kClientService, "(this process)",
              static_cast<int>(getpid()));
  std::printf(
      "checkout of apple and pear: frontend -> orders (HTTP/2, retried after 503) -> "
      "notifications (WebSocket); frontend -> inventory (pear out of stock)\n");
  if (!nats_url.empty()) {
    std::printf(
        "messaging on %s: orders -> orders.created -> fulfillment (queue group) -> "
        "inventory.check (request-reply), stream ORDERS, KV orders, object store receipts\n",
        nats_url.c_str());
  }
  std::printf("trace %s\n", trace_id.c_str());
  std::fflush(stdout);
}

// The nats-server for the messaging hops: --nats-server, $OTLP_NATS_SERVER, the one
// scripts/build-nats-server.sh put in the build tree next to this binary
// (<build>/tools/otlp/otlp → <build>/nats-server/nats-server), or nats-server on PATH; empty
// when there is none.
std::string FindNatsServer(const ParsedFlags& flags) {
  if (auto path = flags.Get("nats-server")) return *path;
  if (const char* env = std::getenv("OTLP_NATS_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto built = self.parent_path().parent_path().parent_path() / "nats-server" /
                       "nats-server";
    if (access(built.c_str(), X_OK) == 0) return built.string();
  }
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (size_t start = 0; start <= dirs.size();) {
      size_t colon = dirs.find(':', start);
      if (colon == std::string::npos) colon = dirs.size();
      const std::string candidate = dirs.substr(start, colon - start) + "/nats-server";
      if (colon > start && access(candidate.c_str(), X_OK) == 0) return candidate;
      start = colon + 1;
    }
  }
  return {};
}

// The built-in `otlp view`: on its usual ports (OTLP/HTTP 4318, OTLP/gRPC 4317, UI 4320), or on
// free ones when something else has those.
Result<std::unique_ptr<view::Viewer>> StartViewer() {
  view::ViewerOptions options;  // 127.0.0.1, in memory
  auto viewer = view::Viewer::Start(options);
  if (viewer.ok() || viewer.status().code() != StatusCode::kUnavailable) return viewer;
  options.http_port = 0;
  options.grpc_port = 0;
  options.ui_port = 0;
  return view::Viewer::Start(options);
}

// Waits until the trace's spans stop arriving (the services export in batches, a fraction of a
// second apart): no new span for a second, or ten seconds in all. False on a stop signal.
bool WaitForTrace(view::Viewer& viewer, const std::string& trace_id, StopSignals& stop) {
  size_t seen = 0;
  auto changed = Clock::now();
  const auto give_up = Clock::now() + 10s;
  while (Clock::now() < give_up) {
    if (stop.Wait(Clock::now() + 100ms) == StopSignals::Event::kSignal) return false;
    viewer.store().Flush();
    const size_t n = viewer.store().TraceSpans(trace_id).size();
    if (n != seen) {
      seen = n;
      changed = Clock::now();
    } else if (n > 0 && Clock::now() - changed >= 1s) {
      break;
    }
  }
  return true;
}

}  // namespace

int RunDemo(std::span<const std::string> args) {
  if (!args.empty() && args[0] == "--run-service") return RunService(args);
  const Command& cmd = DemoCommand();
  ParsedFlags flags;
  if (auto exit_code = ParseOrExit(cmd, args, flags)) return *exit_code;

  // --endpoint as every exporting command reads it (a base URL gets /v1/traces).
  SetupOptions endpoint{.otlp = {.protocol = exporter::OtlpProtocol::kHttpProtobuf}};
  std::string error;
  if (!ApplyExportFlags(flags, endpoint, error)) return UsageError(cmd, error);

  signal(SIGCHLD, SIG_DFL);            // an inherited SIG_IGN would reap the services for us
  auto stop = StopSignals::Install();  // before any thread
  if (!stop.ok()) {
    PrintError(cmd, stop.status().message());
    return 1;
  }
  std::unique_ptr<view::Viewer> viewer;
  std::string traces_url;
  if (flags.Has("endpoint")) {
    traces_url = endpoint.otlp.endpoint.value_or(EndpointFromFlag(kDefaultEndpoint));
  } else {
    auto started = StartViewer();
    if (!started.ok()) {
      PrintError(cmd, "cannot start the built-in viewer: " + started.status().message());
      return 1;
    }
    viewer = std::move(*started);
    traces_url = viewer->otlp_http_url() + "/v1/traces";
  }
  DemoServices services(traces_url, **stop);
  std::string nats_url;
  std::string nats_dir;
  if (!flags.Has("no-nats")) {
    const std::string binary = FindNatsServer(flags);
    if (binary.empty()) {
      std::printf("otlp demo: no nats-server found (--nats-server PATH; scripts/demo.sh builds "
                  "one): running without the messaging hops\n");
    } else {
      // A directory of this run's own for the server's config, log and JetStream store.
      std::error_code ec;
      nats_dir = (std::filesystem::temp_directory_path(ec) /
                  ("otlp-demo-nats-" + std::to_string(getpid())))
                     .string();
      std::filesystem::remove_all(nats_dir, ec);  // left by an earlier run with this pid
      if (!std::filesystem::create_directory(nats_dir, ec) || ec) {
        PrintError(cmd, "cannot create " + nats_dir + ": " + ec.message());
        return 1;
      }
      Result<std::string> url = services.StartNatsServer(binary, nats_dir);
      if (!url.ok()) {
        services.Stop();
        std::filesystem::remove_all(nats_dir);
        PrintError(cmd, url.status().message());
        return 1;
      }
      nats_url = *url;
    }
  }
  // The NATS server's files go when the demo does.
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } remove_nats_dir{nats_dir};
  Result<std::string> trace_id = RunDemoFlow(services, nats_url);
  if (!trace_id.ok()) {
    services.Stop();
    PrintError(cmd, trace_id.status().message());
    return 1;
  }
  PrintAccount(services, *trace_id, nats_url);
  if (viewer) {
    if (!WaitForTrace(*viewer, *trace_id, **stop)) {
      services.Stop();
      return 0;
    }
    const bool color = isatty(STDOUT_FILENO) == 1;
    std::printf("\n%s\n", view::RenderWaterfall(*trace_id, viewer->store().TraceSpans(*trace_id),
                                                {.color = color, .width = 120})
                               .c_str());
    std::printf("otlp demo: the trace in the web UI: %s#/trace/%s\n", viewer->ui_url().c_str(),
                trace_id->c_str());
    std::printf("otlp demo: OTLP/HTTP on %s (point your own programs here too)\n",
                viewer->otlp_http_url().c_str());
    std::fflush(stdout);
  }
  if (!flags.Has("once")) {
    std::printf(viewer ? "The services and the viewer keep running; Ctrl-C stops them.\n"
                       : "The services keep running; Ctrl-C stops them.\n");
    std::fflush(stdout);
    (*stop)->Wait(Clock::time_point::max());
  }
  services.Stop();
  if (viewer) viewer->Stop();
  return 0;
}

}  // namespace otlp::cli
