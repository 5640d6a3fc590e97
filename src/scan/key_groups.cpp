#include "scan/key_groups.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <tuple>

#include "crypto/private_key.hpp"

namespace dumpguard {

std::string key_type_name(const PublicKey& key) {
  switch (key.type) {
    case KeyType::rsa: return fmt::format("rsa-{}", key.bits);
    case KeyType::ec: return "ec-" + curve_name(key.curve_nid);
    case KeyType::ed25519: return "ed25519";
    case KeyType::x25519: return "x25519";
  }
  return "unknown";
}

namespace {

// A text rule's span inside a structured detector's span (a PEM body the pem detector decoded
// and checked, an HMAC key the hunt verified) is the same secret seen less well: the
// structured finding, with its proof, stands for it. `findings` is sorted by offset.
// Text findings: the text rules' and the environment's (a value named by its variable). Of two
// text findings on one span the merge below keeps the more severe.
bool text_finding(const Finding& f) { return f.detector == "text-rules" || f.detector == "environment"; }

void drop_text_inside_structures(std::vector<Finding>& findings) {
  std::vector<bool> drop(findings.size(), false);
  std::uint64_t reach = 0;  // furthest end of a structured span starting at or before here
  for (std::size_t i = 0; i < findings.size();) {
    std::size_t j = i;  // [i, j): the findings starting at this offset
    while (j < findings.size() && findings[j].file_offset == findings[i].file_offset) ++j;
    for (std::size_t k = i; k < j; ++k) {
      if (!text_finding(findings[k])) reach = std::max(reach, findings[k].file_offset + findings[k].length);
    }
    for (std::size_t k = i; k < j; ++k) {
      if (text_finding(findings[k]) && findings[k].file_offset + findings[k].length <= reach) drop[k] = true;
    }
    i = j;
  }
  std::size_t out = 0;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (drop[i]) continue;
    if (out != i) findings[out] = std::move(findings[i]);  // never self-move: it empties strings
    ++out;
  }
  findings.resize(out);
}

}  // namespace

void settle_findings(std::vector<Finding>& findings, const KeyRing& ring) {
  // An EC scalar or Ed25519 seed is verified only when its public key is in the dump (any 32
  // bytes derive some public key): seen there as a public key, not merely derived from the
  // scalar itself.
  for (Finding& f : findings) {
    if (f.verified || f.key.empty()) continue;
    if (f.kind != "ec-private-key" && f.kind != "ed25519-private-key" && f.kind != "x25519-private-key") continue;
    if (f.proof.find("no public") == std::string::npos) continue;  // a failed check stays failed
    const PublicKey* pub = ring.find(f.key);
    if (pub == nullptr || pub->derived) continue;
    f.verified = true;
    f.severity = Severity::critical;
    f.proof += fmt::format("; its public key is in the dump ({})", pub->origin);
  }

  // Severity breaks ties, so of two text rules capturing the same secret the specific one
  // (high) is kept over the generic one (medium) by the merge below.
  // Then a rule's finding comes before the environment's on the same span: it names the kind
  // of credential, the environment only the variable.
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    const bool a_env = a.detector == "environment", b_env = b.detector == "environment";
    return std::tie(a.file_offset, b.length, b.severity, a_env, a.kind, a.key) <
           std::tie(b.file_offset, a.length, a.severity, b_env, b.kind, b.key);
  });
  drop_text_inside_structures(findings);
  // Merge exact duplicates (overlapping regions) and spans inside a larger span of the same key.
  std::vector<Finding> kept;
  kept.reserve(findings.size());
  std::map<std::string, std::uint64_t> reach;  // per key: the end of the furthest span kept
  for (Finding& f : findings) {
    auto it = reach.find(f.key);
    const std::uint64_t end = f.file_offset + f.length;
    if (!f.key.empty() && it != reach.end() && end <= it->second) continue;
    if (!f.key.empty()) reach[f.key] = std::max(end, it == reach.end() ? 0 : it->second);
    kept.push_back(std::move(f));
  }
  findings = std::move(kept);
}

std::vector<KeyGroup> group_keys(const std::vector<Finding>& findings, const KeyRing& ring) {
  std::vector<KeyGroup> groups;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    const std::string id = f.key.empty() ? fmt::format("finding-{}", i) : f.key;
    auto [it, inserted] = index.emplace(id, groups.size());
    if (inserted) {
      KeyGroup g;
      g.fingerprint = f.key;
      const PublicKey* pub = f.key.empty() ? nullptr : ring.find(f.key);
      g.kind = pub ? key_type_name(*pub) : f.kind;
      // A symmetric key's kind comes from its encoding: "aes256-enc" names an AES-256 key.
      if (!pub && f.kind == "aes-key-schedule" && f.encoding.size() >= 6) g.kind = "aes-" + f.encoding.substr(3, 3);
      groups.push_back(std::move(g));
    }
    KeyGroup& g = groups[it->second];
    g.findings.push_back(i);
    if (f.verified && !g.verified) {
      g.verified = true;
      g.proof = f.proof;
    }
    if (g.proof.empty()) g.proof = f.proof;
    g.severity = std::max(g.severity, f.severity);
    if (g.findings.size() == 1) g.severity = f.severity;
  }
  return groups;
}

}  // namespace dumpguard
