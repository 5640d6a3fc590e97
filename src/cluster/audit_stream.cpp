#include "cluster/audit_stream.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <fmt/format.h>
#include <random>
#include <thread>
#include <vector>

#include "audit/chain.hpp"
#include "audit/log.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

// How long an append keeps trying through conflicts and a server restart before it gives up
// (and the worker stops: nothing is released unaudited).
constexpr auto kAppendPatience = std::chrono::seconds(120);
constexpr std::uint64_t kFindWindow = 4096;

std::string text_of(natsMsg* msg) {
  return std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
}

}  // namespace

Result<std::unique_ptr<AuditStream>> AuditStream::open(NatsClient& client, const std::string& key_file,
                                                       std::string checkpoint) {
  std::vector<std::uint8_t> bytes(16u << 10);
  auto got = read_file_into(key_file, {reinterpret_cast<char*>(bytes.data()), bytes.size()});
  if (!got) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return Error{Errc::bad_value, 0, fmt::format("{}: cannot read the audit key", key_file)};
  }
  bytes.resize(*got);
  auto key = AuditKey::from_bytes(bytes, key_file);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!key) return key.error();
  if (!key->can_sign()) {
    return Error{Errc::bad_value, 0, fmt::format("{}: an Ed25519 public key cannot sign records; give the private key", key_file)};
  }
  std::unique_ptr<AuditStream> stream(new AuditStream(client, std::move(*key)));
  stream->checkpoint_ = std::move(checkpoint);
  stream->where_ = fmt::format("nats stream {} at {}", kAuditStream, client.url());
  DG_TRY(const Tail tail, stream->read_tail());
  stream->head_ = tail.head;
  stream->records_ = tail.record_seq;
  return stream;
}

// The last record, checked as AuditLog checks its file's last line before continuing it: in the
// log's form, signed by this key, its signature sound. Anything else stops the worker.
Result<AuditStream::Tail> AuditStream::read_tail() const {
  natsMsg* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetLastMsg(&raw, client_.js(), kAuditStream, kAuditSubject, nullptr, &jerr);
  NatsMsgPtr msg(raw);
  Tail tail;
  tail.head = std::string(kGenesisHash);
  if (s == NATS_NOT_FOUND) return tail;  // an empty stream: the chain starts here
  if (s != NATS_OK) return nats_error(fmt::format("cannot read the audit stream {}", kAuditStream), s, jerr);
  tail.line = text_of(msg.get());
  tail.stream_seq = natsMsg_GetSequence(msg.get());
  const auto parts = parse_audit_line(tail.line);
  const auto record = parts ? parse_audit_record(parts->record) : std::nullopt;
  if (!record) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the audit stream's message {} is not a record in the log's form: export it and run "
                             "`dumpguard audit verify`",
                             tail.stream_seq)};
  }
  if (parts->alg != key_.alg() || parts->key_id != key_.id() || !key_.verify(parts->record, parts->sig)) {
    return Error{Errc::bad_value, 0,
                 fmt::format("the audit stream's last record (message {}) is not signed by this worker's key {}: every "
                             "worker of a cluster signs with the same audit key",
                             tail.stream_seq, key_.id())};
  }
  tail.record_seq = (*record)["seq"].get<std::uint64_t>();
  tail.head = audit_line_hash(tail.line);
  return tail;
}

Status AuditStream::append(const std::string& event, nlohmann::ordered_json data) {
  const auto deadline = std::chrono::steady_clock::now() + kAppendPatience;
  std::mt19937_64 jitter(std::random_device{}());
  // The line made for a sequence number is kept while that number is the one to take, so that a
  // publish whose acknowledgement was lost (a server restart) is recognised as ours when it is
  // found at the end of the stream, rather than appended a second time.
  std::uint64_t made_for = 0;
  std::string line;
  std::string last_problem;
  for (int attempt = 0; std::chrono::steady_clock::now() < deadline; ++attempt) {
    if (attempt > 0) {
      const auto pause = std::chrono::milliseconds(std::min(1000, 5 << std::min(attempt, 7)) + static_cast<int>(jitter() % 20));
      std::this_thread::sleep_for(pause);
    }
    auto tail = read_tail();
    if (!tail) {
      if (tail.error().code != Errc::io) return tail.error();
      last_problem = tail.error().message;
      continue;  // the server is away: wait for it
    }
    if (made_for != 0 && tail->line == line) {
      // Our own line, appended by a publish whose acknowledgement was lost.
      head_ = tail->head;
      records_ = tail->record_seq;
      break;
    }
    const std::uint64_t seq = tail->record_seq + 1;
    if (seq != made_for) {
      DG_TRY(line, make_audit_line(key_, seq, tail->head, event, data));
      made_for = seq;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    // Nats-Expected-Last-Sequence: the stream must still end where we read it. With an empty
    // stream there is no sequence to expect (0 means "no check" to the client and the server);
    // the message id, unique per record number, makes the first record one record too: a second
    // publish of record 1 within the duplicate window is dropped as a duplicate.
    po.ExpectLastSeq = tail->stream_seq;
    const std::string msg_id = fmt::format("audit-{}", seq);
    po.MsgId = msg_id.c_str();
    po.MaxWait = 10000;
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&ack, client_.js(), kAuditSubject, line.data(), static_cast<int>(line.size()), &po, &jerr);
    const bool duplicate = ack != nullptr && ack->Duplicate;
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (s == NATS_OK && !duplicate) {
      head_ = audit_line_hash(line);
      records_ = seq;
      break;
    }
    // Another worker appended first (wrong last sequence, or record `seq` already there), or the
    // server is restarting: read the end again and try again.
    last_problem = s == NATS_OK ? "another worker appended that record first" : nats_error("publish", s, jerr).message;
  }
  if (records_ == 0 || made_for != records_) {
    return Error{Errc::io, 0,
                 fmt::format("cannot append to the audit stream {} within {} s ({})", kAuditStream,
                             kAppendPatience.count(), last_problem)};
  }
  if (!checkpoint_.empty()) {
    const nlohmann::ordered_json cp = {{"head", head_}, {"records", records_}};
    DG_CHECK(write_file_atomically(checkpoint_, cp.dump() + "\n"));
  }
  return ok_status();
}

Result<std::string> read_audit_stream(NatsClient& client, std::uint64_t first, std::uint64_t last) {
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, client.js(), kAuditStream, nullptr, &jerr);
  if (s != NATS_OK) return nats_error(fmt::format("cannot read the audit stream {}", kAuditStream), s, jerr);
  const std::uint64_t stream_first = info->State.FirstSeq;
  const std::uint64_t stream_last = info->State.LastSeq;
  const std::uint64_t msgs = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  if (msgs == 0) return std::string();
  if (first == 0 || first < stream_first) first = stream_first;
  if (last == 0 || last > stream_last) last = stream_last;
  std::string out;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    natsMsg* raw = nullptr;
    s = js_GetMsg(&raw, client.js(), kAuditStream, seq, nullptr, &jerr);
    NatsMsgPtr msg(raw);
    if (s == NATS_NOT_FOUND) {
      return Error{Errc::bad_value, seq, fmt::format("the audit stream has no message {}: it was deleted", seq)};
    }
    if (s != NATS_OK) return nats_error(fmt::format("cannot read message {} of the audit stream", seq), s, jerr);
    std::string line = text_of(msg.get());
    if (line.find('\n') != std::string::npos) {
      return Error{Errc::bad_value, seq, fmt::format("the audit stream's message {} is not one line", seq)};
    }
    if (out.size() + line.size() > (std::size_t{1} << 30)) {
      return Error{Errc::limit, seq, "the audit stream is larger than 1 GiB: export it in parts"};
    }
    out += line;
    out += '\n';
  }
  return out;
}

Result<std::optional<nlohmann::json>> AuditStream::find_sound(
    const std::string& event, const std::function<bool(const nlohmann::json&)>& match) const {
  DG_TRY(const Tail tail, read_tail());
  if (tail.stream_seq == 0) return std::optional<nlohmann::json>();
  const std::uint64_t from = tail.stream_seq > kFindWindow ? tail.stream_seq - kFindWindow + 1 : 0;
  DG_TRY(std::string text, read_audit_stream(client_, from, tail.stream_seq));
  std::vector<AuditFile> files{AuditFile{where_, std::move(text)}};
  return find_sound_record(files, key_, event, match);
}

}  // namespace dumpguard
