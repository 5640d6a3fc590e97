#include "gate/instance.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gate/durable_files.hpp"
#include "gate/private_path.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

// The process's start time in clock ticks since boot (proc(5), /proc/PID/stat field 22): with
// the pid, it names one process, so a reused pid is not taken for the gate that died.
std::string start_time_of(long pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  const auto paren = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return "";
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool valid_id(const std::string& id) {
  return !id.empty() && id != "refused" && id.size() <= 128 && id.front() != '.' && id.find('/') == std::string::npos &&
         std::all_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

}  // namespace

std::string host_name_for_gate() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

Result<std::unique_ptr<Instance>> Instance::start(const std::string& work, const std::string& id, double lease_seconds) {
  if (!valid_id(id)) return Error{Errc::bad_value, 0, fmt::format("\"{}\" cannot be an instance id", id)};
  std::unique_ptr<Instance> instance(new Instance());
  instance->id_ = id;
  instance->dir_ = work + "/" + id;
  instance->lease_seconds_ = lease_seconds;
  // Each checked as the work directory is: the gate's own, 0700, no symbolic link on the way.
  for (const std::string& dir : {instance->dir_, instance->claims(), instance->out(), instance->dir_ + "/decided"}) {
    DG_TRY(const UniqueFd held, open_private_dir(dir));
  }
  const std::string lock = instance->dir_ + "/lock";
  instance->lock_ = UniqueFd(open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (instance->lock_.get() < 0) return os_error(fmt::format("cannot open {}", lock));
  // A process that reclaims this instance's stale claims holds the lock for a moment: wait for it.
  for (int attempt = 0; flock(instance->lock_.get(), LOCK_EX | LOCK_NB) != 0; ++attempt) {
    if (errno != EWOULDBLOCK || attempt >= 20) {
      return Error{Errc::io, 0,
                   fmt::format("instance {} is running already (its lock {} is held); give each gate its own "
                               "--instance",
                               id, lock)};
    }
    usleep(100 * 1000);
  }
  // Temporary files of lease writes that kill -9 interrupted (lease.XXXXXX).
  if (DIR* dir = opendir(instance->dir_.c_str())) {
    while (const dirent* e = readdir(dir)) {
      if (std::strncmp(e->d_name, "lease.", 6) == 0) unlinkat(dirfd(dir), e->d_name, 0);
    }
    closedir(dir);
  }
  DG_CHECK(instance->write_lease());
  // The renewer takes no signals: SIGTERM must interrupt the main thread's wait.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  instance->renewer_ = std::thread([raw = instance.get()] { raw->renew(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return instance;
}

Instance::~Instance() {
  {
    std::lock_guard<std::mutex> hold(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

Status Instance::write_lease() const {
  nlohmann::ordered_json lease = {{"instance", id_},
                                  {"host", host_name_for_gate()},
                                  {"pid", static_cast<long>(getpid())},
                                  {"start", start_time_of(getpid())},
                                  {"expires", now_seconds() + lease_seconds_}};
  return write_file_atomically(dir_ + "/lease", lease.dump() + "\n");
}

void Instance::renew() {
  const auto period = std::chrono::duration<double>(lease_seconds_ / 3);
  std::unique_lock<std::mutex> hold(mutex_);
  while (!stop_signal_.wait_for(hold, period, [this] { return stopping_; })) {
    // A lease that cannot be renewed only lets it expire: the lock, held while this process
    // lives, still keeps other gates off this instance's claims.
    (void)write_lease();
  }
}

std::vector<StaleInstance> find_stale_instances(const std::string& work, const std::string& own_id,
                                                double lease_seconds) {
  std::vector<StaleInstance> out;
  DIR* dir = opendir(work.c_str());
  if (dir == nullptr) return out;
  std::vector<std::string> ids;
  while (const dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name.front() != '.' && name != own_id && name != "refused") ids.push_back(name);
  }
  closedir(dir);
  const std::string host = host_name_for_gate();
  for (const std::string& id : ids) {
    StaleInstance stale{id, work + "/" + id, UniqueFd(open((work + "/" + id + "/lock").c_str(),
                                                            O_RDWR | O_NOFOLLOW | O_CLOEXEC))};
    if (stale.lock.get() < 0 || flock(stale.lock.get(), LOCK_EX | LOCK_NB) != 0) continue;  // alive, or not one
    std::string text(4096, '\0');
    auto got = read_file_into(stale.dir + "/lease", text);
    text.resize(got ? *got : 0);
    const auto lease = nlohmann::json::parse(text, nullptr, false);
    double expires = 0;
    if (lease.is_object() && lease.contains("host") && lease["host"].is_string() && lease.contains("pid") &&
        lease["pid"].is_number_integer() && lease.contains("expires") && lease["expires"].is_number()) {
      // Another host's instance on a shared file system: its pid means nothing here.
      if (lease["host"].get<std::string>() != host) continue;
      const long pid = lease["pid"].get<long>();
      const std::string start = lease.contains("start") && lease["start"].is_string() ? lease["start"].get<std::string>() : "";
      const bool alive = start.empty() ? (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)
                                       : start_time_of(pid) == start;
      if (alive) continue;
      expires = lease["expires"].get<double>();
    } else {
      // No readable lease (the process died before writing one): the lock file's age stands in.
      struct stat st {};
      if (fstat(stale.lock.get(), &st) != 0) continue;
      expires = static_cast<double>(st.st_mtim.tv_sec) + lease_seconds;
    }
    if (expires > now_seconds()) continue;
    out.push_back(std::move(stale));
  }
  return out;
}

}  // namespace dumpguard
