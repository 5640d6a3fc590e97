#include "user_files/config_file.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <initializer_list>
#include <tuple>

#include "io/toml.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kGateKeys = "actions, key, max-size, formats, drop";
constexpr std::string_view kCoreHandlerKeys =
    "store, inbox, exec, quarantine, quarantine-key, work, tmpdir, audit, audit-key, checkpoint, audit-syslog, "
    "memory-cap, max-size, deadline, on-deadline, on-failure, compress, drop, nats, nats-creds, nats-ca, shared-store, "
    "s3-endpoint, s3-region, s3-ca, s3-credentials";

// toml++ quotes what it saw in its messages (a character, or a whole bad value), and a value
// may be a token: every quoted span is elided but toml++'s own literals ("expected ']'",
// "'x' or 'X'", "'\\n' after '\\r'"). What it saw is always the last quoted span, and may
// hold quotes itself, so such a span runs to the last quote of the message. The line and
// column point at what was elided. Control characters become spaces: one line.
std::string without_quoted_input(std::string_view description) {
  std::string out;
  for (std::size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c != '\'') {
      out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
      continue;
    }
    const std::string_view before = description.substr(0, i);
    const bool literal = before.ends_with("expected ") || before.ends_with(" or ") || before.ends_with(" after ");
    const std::size_t next = description.find('\'', i + 1);
    const std::size_t close = literal ? next : description.rfind('\'');
    out += '\'';
    if (close == std::string_view::npos || close <= i) {
      out += "...";
      break;
    }
    const std::string_view inside = description.substr(i + 1, close - i - 1);
    const bool printable = std::all_of(inside.begin(), inside.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; });
    out += literal && printable && inside.size() <= 8 ? inside : "...";
    out += '\'';
    i = close;
  }
  return out;
}

// " \"NAME\"" for a key the file wrote, when it looks like a config key (lower case, digits,
// '-', '_'); else nothing. A quoted or dotted TOML key can hold anything, a pasted token
// included, and the line and column point at it anyway.
std::string key_name(std::string_view key) {
  const bool plain = !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  return plain ? fmt::format(" \"{}\"", key) : std::string();
}

// Reads the [scan] table, keeping the first problem in file order (toml++ tables iterate in
// key order, not in the order the file wrote them).
class ConfigReader {
 public:
  explicit ConfigReader(const std::string& path) : path_(path), base_(std::filesystem::path(path).parent_path()) {}

  void fail(const toml::source_region& where, std::string problem) {
    const auto position = std::make_tuple(where.begin.line, where.begin.column);
    if (error_ && position >= first_) return;
    first_ = position;
    error_ = where.begin.line == 0 ? Error{Errc::bad_value, 0, fmt::format("{}: {}", path_, problem)}
                                   : Error{Errc::bad_value, 0,
                                           fmt::format("{}:{}:{}: {}", path_, where.begin.line, where.begin.column,
                                                       problem)};
  }
  const std::optional<Error>& error() const { return error_; }

  void read_root(const toml::table& root, ConfigFile& out) {
    for (const auto& [key, value] : root) {
      if (key.str() == "scan") {
        if (const toml::table* scan = value.as_table()) {
          read_scan(*scan, out);
        } else {
          fail(value.source(), "\"scan\" must be a table ([scan])");
        }
      } else if (key.str() == "gate") {
        if (const toml::table* gate = value.as_table()) {
          read_gate(*gate, out.gate);
        } else {
          fail(value.source(), "\"gate\" must be a table ([gate])");
        }
      } else if (key.str() == "core-handler") {
        if (const toml::table* handler = value.as_table()) {
          read_core_handler(*handler, out.core_handler);
        } else {
          fail(value.source(), "\"core-handler\" must be a table ([core-handler])");
        }
      } else if (key.str() == "relay") {
        if (const toml::table* relay = value.as_table()) {
          read_relay(*relay, out.relay);
        } else {
          fail(value.source(), "\"relay\" must be a table ([relay])");
        }
      } else if (value.is_table()) {
        fail(key.source(), fmt::format("unknown table{}: this dumpguard reads [scan], [gate], [core-handler] and [relay]",
                                       key_name(key.str())));
      } else {
        fail(key.source(),
             fmt::format("unknown key{} outside [scan], [gate], [core-handler] and [relay]", key_name(key.str())));
      }
    }
  }

 private:
  void read_scan(const toml::table& scan, ConfigFile& out) {
    const auto settings = scan_settings();
    for (const auto& [key, value] : scan) {
      const std::string_view name = key.str();
      const auto setting = std::find_if(settings.begin(), settings.end(),
                                        [&](const ScanSetting& s) { return s.name == name; });
      if (setting == settings.end()) {
        fail(key.source(),
             fmt::format("unknown key{} in [scan]; the keys are {}", key_name(name), scan_setting_names()));
        continue;
      }
      const toml::node& node = value;  // clang 14 cannot capture a structured binding in a lambda
      std::visit([&](auto member) { read_setting(setting->kind, node, name, out.scan.*member); }, setting->field);
    }
  }

  // One [scan] value, read as its kind says into the field the table gives.
  void read_setting(SettingKind kind, const toml::node& value, std::string_view name, std::optional<std::string>& to) {
    to = kind == SettingKind::severity ? severity(value, name) : path(value, name);
  }
  void read_setting(SettingKind kind, const toml::node& value, std::string_view name, std::vector<std::string>& to) {
    to = kind == SettingKind::tokens ? tokens(value, name) : paths(value, name);
  }
  void read_setting(SettingKind /*kind*/, const toml::node& value, std::string_view name, std::optional<unsigned>& to) {
    to = tolerance(value, name);
  }
  void read_setting(SettingKind /*kind*/, const toml::node& value, std::string_view name, std::optional<bool>& to) {
    to = boolean(value, name);
  }
  void read_setting(SettingKind /*kind*/, const toml::node& value, std::string_view name, std::optional<double>& to) {
    to = seconds(value, name);
  }

  // The [gate] table: the gate's policy. Every value is checked here, so a policy with a typo
  // stops the gate before it takes a dump (fail closed).
  void read_gate(const toml::table& gate, GateConfig& out) {
    for (const auto& [key, value] : gate) {
      const std::string_view name = key.str();
      if (name == "actions") {
        if (const toml::table* actions = value.as_table()) {
          read_actions(*actions, out);
        } else {
          fail(value.source(), "gate.actions must be a table ([gate.actions])");
        }
      } else if (name == "key") {
        read_key_rules(value, out);
      } else if (name == "max-size") {
        out.max_size = byte_size(value, "gate.max-size");
      } else if (name == "formats") {
        out.formats = each(value, "formats", "format names (strings)", "gate",
                           [this](const toml::node& item, const std::string& s,
                                  const std::string& label) -> std::optional<std::string> {
                             if (s == "elf-core" || s == "minidump") return s;
                             fail(item.source(), fmt::format("{} must be \"elf-core\" or \"minidump\"", label));
                             return std::nullopt;
                           });
      } else if (name == "drop") {
        out.drop = drop_policies(value, "gate");
      } else {
        fail(key.source(), fmt::format("unknown key{} in [gate]; the keys are {}", key_name(name), kGateKeys));
      }
    }
  }

  void read_relay(const toml::table& table, RelayConfig& out) {
    for (const auto& [key, value] : table) {
      const std::string_view name = key.str();
      if (name == "rate-limit") {
        const auto* n = value.as_integer();
        if (n == nullptr || n->get() < 1 || n->get() > 1000000) {
          fail(value.source(), "relay.rate-limit must be a whole number of uploads a minute, from 1 to 1000000");
        } else {
          out.rate_limit = static_cast<unsigned>(n->get());
        }
      } else {
        fail(key.source(), fmt::format("unknown key{} in [relay]; the keys are rate-limit", key_name(name)));
      }
    }
  }

  // The [core-handler] table. Paths resolve against the file's directory like every other.
  void read_core_handler(const toml::table& table, CoreHandlerConfig& out) {
    const auto a_path = [&](const toml::node& value, std::string_view name) -> std::optional<std::string> {
      const auto* text = value.as_string();
      if (!text) {
        fail(value.source(), fmt::format("core-handler.{} must be a string (a path)", name));
        return std::nullopt;
      }
      return resolve(value, text->get(), fmt::format("core-handler.{}", name));
    };
    const auto one_of = [&](const toml::node& value, std::string_view name,
                            std::initializer_list<std::string_view> allowed) -> std::optional<std::string> {
      const auto* text = value.as_string();
      for (const std::string_view a : allowed) {
        if (text && text->get() == a) return text->get();
      }
      fail(value.source(), fmt::format("core-handler.{} must be one of \"{}\"", name, fmt::join(allowed, "\", \"")));
      return std::nullopt;
    };
    for (const auto& [key, value] : table) {
      const std::string_view name = key.str();
      if (name == "store") {
        out.store = a_path(value, name);
      } else if (name == "inbox") {
        out.inbox = a_path(value, name);
      } else if (name == "quarantine") {
        out.quarantine = a_path(value, name);
      } else if (name == "quarantine-key") {
        out.quarantine_key = a_path(value, name);
      } else if (name == "work") {
        out.work = a_path(value, name);
      } else if (name == "tmpdir") {
        out.tmpdir = a_path(value, name);
      } else if (name == "audit") {
        out.audit = a_path(value, name);
      } else if (name == "audit-key") {
        out.audit_key = a_path(value, name);
      } else if (name == "checkpoint") {
        out.checkpoint = a_path(value, name);
      } else if (name == "pause-after-spool") {
        out.pause_after_spool = a_path(value, name);
      } else if (name == "nats-creds") {
        out.nats_creds = a_path(value, name);
      } else if (name == "nats-ca") {
        out.nats_ca = a_path(value, name);
      } else if (name == "shared-store") {
        // A directory, resolved like every path, or an object store's s3:// location as it is.
        const auto* text = value.as_string();
        out.shared_store = text && text->get().rfind("s3://", 0) == 0 ? std::optional(text->get()) : a_path(value, name);
      } else if (name == "s3-ca") {
        out.s3_ca = a_path(value, name);
      } else if (name == "s3-credentials") {
        out.s3_credentials = a_path(value, name);
      } else if (name == "s3-endpoint" || name == "s3-region") {
        const auto* text = value.as_string();
        if (text && !text->get().empty() && text->get().find_first_of(std::string_view("\0\n", 2)) == std::string::npos) {
          (name == "s3-endpoint" ? out.s3_endpoint : out.s3_region) = text->get();
        } else {
          fail(value.source(), fmt::format("core-handler.{} must be a string ({})", name,
                                           name == "s3-endpoint" ? "https://HOST[:PORT]" : "a region such as us-east-1"));
        }
      } else if (name == "nats") {
        // A URL, not a path. Never quoted back: it may hold a password.
        const auto* text = value.as_string();
        if (text && !text->get().empty() && text->get().find_first_of(std::string_view("\0\n", 2)) == std::string::npos) {
          out.nats = text->get();
        } else {
          fail(value.source(), "core-handler.nats must be the NATS server's URL (nats://HOST:PORT or tls://HOST:PORT)");
        }
      } else if (name == "audit-syslog") {
        const auto* text = value.as_string();
        if (text && !text->get().empty() && text->get().find('\0') == std::string::npos) {
          out.audit_syslog = text->get();
        } else {
          fail(value.source(), "core-handler.audit-syslog must be \"auto\", \"off\" or a socket path");
        }
      } else if (name == "exec") {
        // The program is a path; its arguments are words (the kernel's specifiers among them).
        auto words = each(value, name, "words (strings)", "core-handler",
                          [this](const toml::node& item, const std::string& word,
                                 const std::string& label) -> std::optional<std::string> {
                            if (!word.empty() && word.find('\0') == std::string::npos) return word;
                            fail(item.source(), fmt::format("{} must be a non-empty string without NUL", label));
                            return std::nullopt;
                          });
        if (words.empty() || words.front().front() != '/') {
          fail(value.source(), "core-handler.exec must start with the next handler's absolute path");
        } else {
          out.exec = std::move(words);
        }
      } else if (name == "memory-cap") {
        out.memory_cap = byte_size(value, "core-handler.memory-cap");
      } else if (name == "max-size") {
        out.max_size = byte_size(value, "core-handler.max-size");
      } else if (name == "deadline") {
        const double seconds = value.is_integer()          ? static_cast<double>(value.as_integer()->get())
                               : value.is_floating_point() ? value.as_floating_point()->get()
                                                           : -1.0;
        if (!(seconds > 0) || seconds > 86400) {
          fail(value.source(), "core-handler.deadline must be a positive number of seconds (at most a day)");
        } else {
          out.deadline = seconds;
        }
      } else if (name == "on-deadline") {
        out.on_deadline = one_of(value, name, {"quarantine", "drop"});
      } else if (name == "on-failure") {
        out.on_failure = one_of(value, name, {"quarantine", "drop"});
      } else if (name == "compress") {
        if (const auto* flag = value.as_boolean()) {
          out.compress = flag->get();
        } else {
          fail(value.source(), "core-handler.compress must be true or false");
        }
      } else if (name == "drop") {
        out.drop = drop_policies(value, "core-handler");
      } else {
        fail(key.source(),
             fmt::format("unknown key{} in [core-handler]; the keys are {}", key_name(name), kCoreHandlerKeys));
      }
    }
  }

  // drop = ["env", "heap", KIND]: the policies of `redact --drop`, in [gate] and [core-handler].
  std::vector<std::string> drop_policies(const toml::node& value, std::string_view table) {
    return each(value, "drop", "policies (strings)", table,
                [this](const toml::node& item, const std::string& s, const std::string& label) -> std::optional<std::string> {
                  if (kind_like(s)) return s;
                  fail(item.source(), fmt::format("{} must be heap, env or a region kind", label));
                  return std::nullopt;
                });
  }

  static bool kind_like(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
  }

  std::optional<std::string> action(const toml::node& value, const std::string& label) {
    const auto* text = value.as_string();
    if (text && (text->get() == "redact" || text->get() == "quarantine")) return text->get();
    fail(value.source(), fmt::format("{} must be \"redact\" or \"quarantine\"", label));
    return std::nullopt;
  }

  // [gate.actions]: finding kind = action. A kind no finding has is harmless but useless, so
  // a policy that must fail closed says default = "quarantine" and lists what may be redacted.
  void read_actions(const toml::table& actions, GateConfig& out) {
    for (const auto& [key, value] : actions) {
      const std::string kind(key.str());
      if (!kind_like(kind)) {
        fail(key.source(), "a finding kind in [gate.actions] is lower case letters, digits, '-', '_' and '.'");
        continue;
      }
      auto a = action(value, "gate.actions." + kind);
      if (!a) continue;
      if (kind == "default") {
        out.default_action = *a;
      } else {
        out.actions[kind] = *a;
      }
    }
  }

  // [[gate.key]]: { pubkey = "PATH" | fingerprint = "sha256:HEX", action = "quarantine" | "redact" }.
  void read_key_rules(const toml::node& value, GateConfig& out) {
    const toml::array* list = value.as_array();
    if (!list) {
      fail(value.source(), "gate.key must be an array of tables ([[gate.key]])");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::node& item = (*list)[i];
      const std::string label = fmt::format("gate.key[{}]", i);
      const toml::table* entry = item.as_table();
      if (!entry) {
        fail(item.source(), fmt::format("{} must be a table", label));
        continue;
      }
      GateKeyRule rule;
      int named = 0;  // pubkey and fingerprint keys given, valid or not
      bool has_action = false;
      for (const auto& [key, v] : *entry) {
        const std::string_view name = key.str();
        if (name == "pubkey" || name == "fingerprint") ++named;
        if (name == "action") has_action = true;
        if (name == "pubkey") {
          const auto* text = v.as_string();
          auto resolved = text ? resolve(v, text->get(), label + ".pubkey") : std::nullopt;
          if (!text) fail(v.source(), fmt::format("{}.pubkey must be a string (a path)", label));
          if (resolved) rule.pubkey = *resolved;
        } else if (name == "fingerprint") {
          const auto* text = v.as_string();
          if (text && is_fingerprint(text->get())) {
            rule.fingerprint = text->get();
          } else {
            fail(v.source(), fmt::format("{}.fingerprint must be a key fingerprint as scan reports it "
                                         "(\"sha256:\" or \"hmac-sha256:\" and 64 hex digits)",
                                         label));
          }
        } else if (name == "action") {
          if (auto a = action(v, label + ".action")) rule.action = *a;
        } else {
          fail(key.source(), fmt::format("unknown key{} in {}; the keys are pubkey, fingerprint, action",
                                         key_name(name), label));
        }
      }
      if (named != 1) {
        fail(item.source(), fmt::format("{} needs either pubkey or fingerprint (one of them)", label));
      } else if (!has_action) {
        fail(item.source(), fmt::format("{} needs an action (\"quarantine\" or \"redact\")", label));
      }
      out.keys.push_back(std::move(rule));
    }
  }

  static bool is_fingerprint(std::string_view s) {
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || (s.substr(0, colon) != "sha256" && s.substr(0, colon) != "hmac-sha256")) {
      return false;
    }
    const std::string_view digits = s.substr(colon + 1);
    return digits.size() == 64 && std::all_of(digits.begin(), digits.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
  }

  // A size in bytes: an integer, or a string of digits with a K, M, G or T suffix (powers of
  // 1024), as --max-decompressed takes it.
  std::optional<std::uint64_t> byte_size(const toml::node& value, std::string_view label) {
    if (const auto* number = value.as_integer()) {
      if (number->get() > 0) return static_cast<std::uint64_t>(number->get());
    } else if (const auto* text = value.as_string()) {
      const std::string& s = text->get();
      std::uint64_t n = 0;
      std::size_t i = 0;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9' && n < (std::uint64_t{1} << 50); ++i) n = n * 10 + (s[i] - '0');
      unsigned shift = 0;
      if (i + 1 == s.size()) {
        const char unit = s[i];
        shift = unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : unit == 'T' ? 40 : 64;
      } else if (i != s.size()) {
        shift = 64;
      }
      if (i > 0 && n > 0 && shift < 64 && n < (std::uint64_t{1} << (63 - shift))) return n << shift;
    }
    fail(value.source(), fmt::format("{} must be a positive number of bytes (an integer, or \"64M\", \"8G\", ...)", label));
    return std::nullopt;
  }

  // A path as written, resolved against the config file's directory: a gate's config and the
  // keys beside it can move together.
  std::optional<std::string> path(const toml::node& value, std::string_view name) {
    const auto* text = value.as_string();
    if (!text) {
      fail(value.source(), fmt::format("scan.{} must be a string (a path)", name));
      return std::nullopt;
    }
    return resolve(value, text->get(), fmt::format("scan.{}", name));
  }

  std::optional<std::string> resolve(const toml::node& where, const std::string& written, const std::string& what) {
    if (written.empty()) {
      fail(where.source(), fmt::format("{} is an empty path", what));
      return std::nullopt;
    }
    // open(2) would stop at a NUL (TOML allows "\u0000") and read another file than the one named.
    if (written.find('\0') != std::string::npos) {
      fail(where.source(), fmt::format("{} holds a NUL character", what));
      return std::nullopt;
    }
    const std::filesystem::path p(written);
    if (p.is_absolute() || base_.empty()) return written;
    return (base_ / p).string();
  }

  // An array of strings; each element is checked and reported at its own position.
  template <class Element>
  std::vector<std::string> each(const toml::node& value, std::string_view name, std::string_view what,
                                std::string_view table, Element element) {
    std::vector<std::string> out;
    const toml::array* list = value.as_array();
    if (!list) {
      fail(value.source(), fmt::format("{}.{} must be an array of {}", table, name, what));
      return out;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::node& item = (*list)[i];
      const std::string label = fmt::format("{}.{}[{}]", table, name, i);
      const auto* text = item.as_string();
      if (!text) {
        fail(item.source(), fmt::format("{} must be a string", label));
        continue;
      }
      if (auto v = element(item, text->get(), label)) out.push_back(std::move(*v));
    }
    return out;
  }

  std::vector<std::string> paths(const toml::node& value, std::string_view name) {
    return each(value, name, "paths (strings)", "scan", [this](const toml::node& item, const std::string& s,
                                                      const std::string& label) { return resolve(item, s, label); });
  }

  // The same syntax as --token: the token itself, or @FILE with one token a line (FILE resolved
  // like any other path). A token is never quoted in an error.
  std::vector<std::string> tokens(const toml::node& value, std::string_view name) {
    return each(value, name, "tokens (strings)", "scan",
                [this](const toml::node& item, const std::string& s, const std::string& label)
                    -> std::optional<std::string> {
                  if (s.empty()) {
                    fail(item.source(), fmt::format("{} is empty", label));
                    return std::nullopt;
                  }
                  if (s[0] != '@') return s;
                  auto file = resolve(item, s.substr(1), label + " (@FILE)");
                  if (!file) return std::nullopt;
                  return "@" + *file;
                });
  }

  std::optional<std::string> severity(const toml::node& value, std::string_view name) {
    const auto* text = value.as_string();
    for (const char* level : {"low", "medium", "high", "critical"}) {
      if (text && text->get() == level) return text->get();
    }
    fail(value.source(), fmt::format("scan.{} must be one of \"low\", \"medium\", \"high\", \"critical\"", name));
    return std::nullopt;
  }

  std::optional<unsigned> tolerance(const toml::node& value, std::string_view name) {
    const auto* number = value.as_integer();
    if (!number || number->get() < 0 || number->get() > 64) {
      fail(value.source(), fmt::format("scan.{} must be an integer from 0 to 64", name));
      return std::nullopt;
    }
    return static_cast<unsigned>(number->get());
  }

  // A positive number of seconds, integer or not (time-budget = 30 or 2.5).
  std::optional<double> seconds(const toml::node& value, std::string_view name) {
    const double s = value.is_integer()        ? static_cast<double>(value.as_integer()->get())
                     : value.is_floating_point() ? value.as_floating_point()->get()
                                                 : -1.0;
    if (!(s > 0) || s > 1e9) {
      fail(value.source(), fmt::format("scan.{} must be a positive number of seconds", name));
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const toml::node& value, std::string_view name) {
    const auto* flag = value.as_boolean();
    if (!flag) {
      fail(value.source(), fmt::format("scan.{} must be true or false", name));
      return std::nullopt;
    }
    return flag->get();
  }

  const std::string& path_;
  std::filesystem::path base_;
  std::optional<Error> error_;
  std::tuple<toml::source_index, toml::source_index> first_{};
};

}  // namespace

Result<ConfigFile> parse_config(std::string_view text, const std::string& path) {
  if (text.size() > kMaxConfigFile) {
    return Error{Errc::limit, 0, fmt::format("{}: larger than {} KiB; a config file is smaller", path,
                                             kMaxConfigFile >> 10)};
  }
  if (toml_nesting_depth(text) > kMaxConfigNesting) {
    return Error{Errc::limit, 0,
                 fmt::format("{}: nested more than {} levels deep ('.', '[' and '{{' outside strings); a config "
                             "nests 3 deep",
                             path, kMaxConfigNesting)};
  }
  toml::parse_result parsed = toml::parse(text, std::string_view(path));
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return Error{Errc::bad_value, 0,
                 fmt::format("{}:{}:{}: not valid TOML: {}", path, e.source().begin.line, e.source().begin.column,
                             without_quoted_input(e.description()))};
  }
  ConfigReader reader(path);
  ConfigFile config;
  reader.read_root(parsed.table(), config);
  if (reader.error()) return *reader.error();
  return config;
}

Result<ConfigFile> read_config_file(const std::string& path) {
  // One read buffer of fixed size, whatever the file claims: a bigger file is refused.
  std::string text(kMaxConfigFile + 1, '\0');
  const auto got = read_file_into(path, text);
  if (!got) return Error{Errc::io, 0, fmt::format("{}: cannot read the config file", path)};
  text.resize(*got);
  return parse_config(text, path);
}

}  // namespace dumpguard
