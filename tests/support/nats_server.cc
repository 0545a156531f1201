#include "tests/support/nats_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace otlp::test {

std::string NatsServerPath() {
  if (const char* env = std::getenv("OTLP_NATS_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef OTLP_NATS_SERVER_PATH
  return OTLP_NATS_SERVER_PATH;
#else
  return "nats-server";
#endif
}

NatsServer::NatsServer(Options options) : options_(std::move(options)) {
  if (!dir_.ok()) {
    error_ = dir_.error();
    return;
  }
  port_ = options_.port;
  Start();
}

NatsServer::~NatsServer() { Stop(); }

void NatsServer::Stop(bool abrupt) {
  if (pid_ <= 0) return;
  ::kill(pid_, abrupt ? SIGKILL : SIGTERM);
  int status = 0;
  // Bounded: nats-server exits within a second of SIGTERM; SIGKILL after 10 s.
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string NatsServer::Log() const { return dir_.ReadFile("server.log"); }

void NatsServer::EnterLameDuckMode() {
  if (pid_ > 0) ::kill(pid_, SIGUSR2);
}

bool NatsServer::Start() {
  if (pid_ > 0) return true;
  error_.clear();
  std::ostringstream conf;
  conf << "listen: 127.0.0.1:" << (port_ > 0 ? port_ : -1) << "\n";
  conf << "http: 0\n";  // no monitoring port
  if (options_.jetstream) {
    conf << "jetstream {\n  store_dir: \"" << dir_.Join("js") << "\"\n  max_memory_store: 64MB\n"
         << "  max_file_store: 256MB\n}\n";
  }
  conf << options_.config << "\n";
  if (Status s = dir_.WriteFile("server.conf", conf.str()); !s.ok()) {
    error_ = s.message();
    return false;
  }
  // A fresh log per start, so the port read below is this run's.
  (void)dir_.WriteFile("server.log", "");
  const std::string path = NatsServerPath();
  const std::string conf_path = dir_.Join("server.conf");
  const std::string log_path = dir_.Join("server.log");
  if (::access(path.c_str(), X_OK) != 0) {
    error_ = "nats-server not found at " + path +
             " (scripts/build-nats-server.sh builds it; OTLP_NATS_SERVER overrides)";
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    error_ = "fork failed";
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // The server dies with the test, even when the test crashes; it writes only its log file.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    std::vector<char*> argv = {const_cast<char*>(path.c_str()), const_cast<char*>("-c"),
                               const_cast<char*>(conf_path.c_str()), const_cast<char*>("-l"),
                               const_cast<char*>(log_path.c_str()), nullptr};
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  // Ready when the log says where it listens (bounded against a hang, not a timing check).
  const std::string needle = "Listening for client connections on ";
  for (int i = 0; i < 3000; ++i) {
    const std::string log = Log();
    const size_t at = log.find(needle);
    if (at != std::string::npos && log.find("Server is ready") != std::string::npos) {
      const size_t colon = log.find(':', at + needle.size());
      port_ = std::atoi(log.c_str() + colon + 1);
      return port_ > 0;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "nats-server exited at start: " + Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error_ = "nats-server did not become ready: " + Log();
  Stop(true);
  return false;
}

}  // namespace otlp::test
