#include "detect/secret_closure.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "detect/exact_search.hpp"
#include "detect/number_layout.hpp"
#include "detect/runtime_numbers.hpp"

namespace dumpguard {

namespace {

constexpr std::size_t kMinSecretBytes = 8;
constexpr std::size_t kMinDistinctBytes = 4;

// How a copy's span grows to the value's whole extent.
enum class Extent {
  exact,
  digits_after,   // a number stored least significant digit first: zero digits may follow
  digits_before,  // most significant first: zero digits may precede
  base64_edges,   // the characters on either side share bits with the first and last bytes
};

struct Form {
  std::size_t secret = 0;
  std::string encoding;
  Extent extent = Extent::exact;
  const NumberLayout* layout = nullptr;  // numbers
  std::size_t width_digits = 0;          // numbers: the digits of the owner's width
  LaidOut zero_digit = {};               // numbers: one zero digit in the layout (its slot and mask)
  bool url = false;                      // base64 forms: which alphabet
  bool grow_left = false, grow_right = false;  // base64: edge characters share bits with the value
  bool wide = false;                     // text forms in UTF-16LE
};

std::size_t distinct(std::span<const std::uint8_t> v) {
  std::array<bool, 256> seen{};
  std::size_t n = 0;
  for (std::uint8_t b : v) {
    if (!seen[b]) ++n;
    seen[b] = true;
  }
  return n;
}

// The characters of base64(pad(k) ++ value) that depend on the value's bits alone.
std::string base64_core(std::span<const std::uint8_t> value, std::size_t k, bool url) {
  WipedBytes padded;
  padded.bytes.assign(k, 0);
  padded.bytes.insert(padded.bytes.end(), value.begin(), value.end());
  std::string all = base64_encode(padded.bytes, url);
  const std::size_t first = (8 * k + 5) / 6, last = 8 * (k + value.size()) / 6;
  std::string core = last > first ? all.substr(first, last - first) : std::string();
  OPENSSL_cleanse(all.data(), all.size());
  return core;
}

std::string hex_text(std::span<const std::uint8_t> value, bool upper) {
  static constexpr char kLower[] = "0123456789abcdef", kUpper[] = "0123456789ABCDEF";
  const char* digits = upper ? kUpper : kLower;
  std::string out;
  out.reserve(2 * value.size());
  for (std::uint8_t b : value) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

class FormBuilder {
 public:
  explicit FormBuilder(std::vector<const NumberLayout*> layouts) : layouts_(std::move(layouts)) {}

  ExactPatterns patterns;
  std::vector<Form> forms;

  void add(Form form, std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> mask = {}) {
    if (bytes.size() < kMinSecretBytes) return;
    // One pattern per secret and distinct (bytes, mask): base64 and base64url often agree.
    WipedBytes id;
    id.bytes.assign(bytes.begin(), bytes.end());
    id.bytes.insert(id.bytes.end(), mask.begin(), mask.end());
    for (unsigned i = 0; i < 8; ++i) id.bytes.push_back(static_cast<std::uint8_t>(form.secret >> (8 * i)));
    if (!seen_.insert(sha256(id.bytes)).second) return;
    patterns.add(bytes, mask, forms.size());
    forms.push_back(std::move(form));
  }

  // The text forms of `value`, in ASCII and UTF-16LE: the characters themselves when the value
  // is text, hex, and base64 at each alignment.
  // A number's hex starts at its first non-zero digit, as printf("%x") and int(…, 16) write it.
  void add_text_forms(std::size_t secret, std::span<const std::uint8_t> value, bool is_text, bool is_number = false) {
    const auto both = [&](Form form, std::string text) {
      add(form, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
      WipedBytes wide;
      for (char c : text) {
        wide.bytes.push_back(static_cast<std::uint8_t>(c));
        wide.bytes.push_back(0);
      }
      form.encoding = form.encoding == "ascii" ? "utf16le" : "utf16le-" + form.encoding;
      form.wide = true;
      add(std::move(form), wide.bytes);
      OPENSSL_cleanse(text.data(), text.size());
    };
    if (is_text) both({secret, "ascii"}, std::string(value.begin(), value.end()));
    for (bool upper : {false, true}) {
      std::string text = hex_text(value, upper);
      if (is_number && !text.empty() && text[0] == '0') text.erase(0, 1);
      both({secret, upper ? "hex-upper" : "hex"}, std::move(text));
    }
    for (bool url : {false, true}) {
      for (std::size_t k = 0; k < 3; ++k) {
        Form f{secret, url ? "base64url" : "base64", Extent::base64_edges};
        f.url = url;
        f.grow_left = (8 * k) % 6 != 0;
        f.grow_right = (8 * (k + value.size())) % 6 != 0;
        both(std::move(f), base64_core(value, k, url));
      }
    }
  }

  void add_number_forms(std::size_t secret, std::span<const std::uint8_t> big_endian, std::size_t width) {
    const Magnitude magnitude = magnitude_of(big_endian);
    if (magnitude.bytes.size() < kMinSecretBytes) return;
    const std::size_t width_bits = std::max(magnitude.bits, 8 * width);
    for (const NumberLayout* each : layouts_) {
      const NumberLayout& layout = *each;
      LaidOut laid = lay_out_magnitude(layout, magnitude);
      Form f{secret, std::string(layout.name),
             layout.most_significant_first ? Extent::digits_before : Extent::digits_after};
      f.layout = &layout;
      f.width_digits = digits_for(layout, width_bits);
      const std::uint8_t zero = 0;
      f.zero_digit = lay_out(layout, std::span<const std::uint8_t>(&zero, 1), 1);
      add(std::move(f), laid.bytes, laid.mask);
      OPENSSL_cleanse(laid.bytes.data(), laid.bytes.size());
    }
    add_text_forms(secret, magnitude.bytes, false, true);
  }

 private:
  std::vector<const NumberLayout*> layouts_;  // closure_layouts() of the dump
  std::set<std::array<std::uint8_t, 32>> seen_;
};

bool base64_char(std::uint8_t c, bool url) { return base64_digit(static_cast<char>(c), url) >= 0; }

// The span of a copy at [offset, offset + length) of `bytes`, grown to the value's extent.
std::pair<std::size_t, std::size_t> extent_of(const Form& form, std::span<const std::byte> area_bytes,
                                              std::size_t offset, std::size_t length) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(area_bytes.data());
  const std::size_t size = area_bytes.size();
  std::size_t begin = offset, end = offset + length;
  switch (form.extent) {
    case Extent::exact: break;
    case Extent::base64_edges: {
      const std::size_t step = form.wide ? 2 : 1;
      const auto is_char = [&](std::size_t at) {
        return base64_char(p[at], form.url) && (!form.wide || (at + 1 < size && p[at + 1] == 0));
      };
      if (form.grow_left && begin >= step && is_char(begin - step)) begin -= step;
      if (form.grow_right && end + step <= size && is_char(end)) end += step;
      break;
    }
    case Extent::digits_after:
    case Extent::digits_before: {
      const NumberLayout& l = *form.layout;
      const std::size_t slot = l.slot_bytes;
      const std::size_t have = length / slot;
      const LaidOut& z = form.zero_digit;
      const auto zero_at = [&](std::size_t at) {
        for (std::size_t i = 0; i < slot; ++i) {
          if ((p[at + i] & z.mask[i]) != z.bytes[i]) return false;
        }
        return true;
      };
      for (std::size_t n = have; n < form.width_digits; ++n) {
        if (form.extent == Extent::digits_after) {
          if (end + slot > size || !zero_at(end)) break;
          end += slot;
        } else {
          if (begin < slot || !zero_at(begin - slot)) break;
          begin -= slot;
        }
      }
      break;
    }
  }
  return {begin, end - begin};
}

// Of two registrations of one value, the one whose finding says more: verified, then more severe.
bool better(const KnownSecret& a, const KnownSecret& b) {
  return std::tie(a.verified, a.severity) > std::tie(b.verified, b.severity);
}

}  // namespace

void close_over_secrets(const ScanContext& context, std::vector<KnownSecret> secrets,
                        std::vector<PendingSecret> pending, FindingSink& sink) {
  // One entry per distinct value, shape and what the finding calls it (a value two detectors
  // know, such as a registered password that is also an HMAC key, gives each its findings and
  // the report's merge keeps one per span), in the order they were first known.
  std::vector<KnownSecret> unique;
  std::map<std::array<std::uint8_t, 32>, std::size_t> index;
  std::size_t dropped = 0;
  for (KnownSecret& s : secrets) {
    if (s.value.bytes.size() < kMinSecretBytes || distinct(s.value.bytes) < kMinDistinctBytes) continue;
    WipedBytes id;
    id.bytes = s.value.bytes;
    id.bytes.push_back(static_cast<std::uint8_t>(s.shape));
    for (const std::string* name : {&s.detector, &s.kind, &s.key}) {
      id.bytes.insert(id.bytes.end(), name->begin(), name->end());
      id.bytes.push_back(0);
    }
    const auto [it, inserted] = index.emplace(sha256(id.bytes), unique.size());
    if (!inserted) {
      KnownSecret& kept = unique[it->second];
      if (better(s, kept)) {
        const std::size_t width = std::max(kept.width, s.width);
        kept = std::move(s);
        kept.width = width;
      } else {
        kept.width = std::max(kept.width, s.width);
      }
      continue;
    }
    if (unique.size() >= kMaxClosureSecrets) {
      index.erase(it);
      ++dropped;
      continue;
    }
    unique.push_back(std::move(s));
  }
  secrets.clear();
  // A pending secret whose value is known already needs no proof of its own.
  std::set<std::array<std::uint8_t, 32>> known_values;
  for (const KnownSecret& s : unique) known_values.insert(sha256(s.value.bytes));
  std::erase_if(pending, [&](const PendingSecret& p) { return known_values.count(sha256(p.secret.value.bytes)) > 0; });
  if (dropped > 0) {
    sink.limit("closure", fmt::format("{} distinct secrets were known; the copies of the {} after the first {} were not "
                                      "searched for",
                                      unique.size() + dropped, dropped, kMaxClosureSecrets));
  }
  if (unique.empty() && pending.empty()) return;

  FormBuilder builder(closure_layouts(context.dump.model));
  const auto add_forms = [&](std::size_t i, const KnownSecret& s) {
    switch (s.shape) {
      case KnownSecret::Shape::bytes:
        builder.add({i, "raw"}, s.value.bytes);
        builder.add_text_forms(i, s.value.bytes, false);
        break;
      case KnownSecret::Shape::text:
        builder.add_text_forms(i, s.value.bytes, true);
        break;
      case KnownSecret::Shape::number:
        builder.add_number_forms(i, s.value.bytes, s.width);
        break;
    }
  };
  for (std::size_t i = 0; i < unique.size(); ++i) add_forms(i, unique[i]);
  // Pending secrets' own forms are searched in the same pass, one set per distinct value (form
  // index unique.size() + g for value group g); their copies count only once a witness proves
  // them, so a proof costs no second pass.
  std::vector<std::size_t> group_of(pending.size());
  {
    std::map<std::array<std::uint8_t, 32>, std::size_t> groups;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto [it, inserted] = groups.emplace(sha256(pending[i].secret.value.bytes), groups.size());
      group_of[i] = it->second;
      if (inserted) add_forms(unique.size() + it->second, pending[i].secret);
    }
  }
  const std::vector<Form>& forms = builder.forms;
  // The witnesses' patterns follow the forms': tag forms.size() + k is witnesses[k].
  struct WitnessOf {
    std::size_t pending;
    std::size_t witness;
  };
  std::vector<WitnessOf> witnesses;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    for (std::size_t w = 0; w < pending[i].witnesses.size(); ++w) {
      const PendingSecret::Witness& witness = pending[i].witnesses[w];
      builder.patterns.add(witness.bytes, witness.mask, forms.size() + witnesses.size());
      witnesses.push_back({i, w});
    }
  }
  std::vector<std::optional<std::string>> proven(pending.size());
  // Copies of pending values, reported once the pass is over and the proofs are known.
  struct Held {
    const ScanArea* area;
    std::size_t at, span;
    const Form* form;
  };
  std::vector<Held> held;
  const auto report = [&](const ScanArea& area, std::size_t at, std::size_t span, const Form& form,
                          const KnownSecret& s) {
    Finding f = finding_at(context, area, at, span, s.detector, s.kind, form.encoding);
    f.verified = s.verified;
    f.proof = s.proof;
    f.key = s.key;
    f.severity = s.severity;
    sink.finding(std::move(f));
  };
  builder.patterns.search_areas(context, [&](const ScanArea& area, std::size_t offset, std::size_t length,
                                             std::size_t tag) {
    if (tag >= forms.size()) {
      const WitnessOf& of = witnesses[tag - forms.size()];
      const PendingSecret& p = pending[of.pending];
      const std::uint64_t at = area.file_offset + offset;
      if (proven[of.pending] || (at < p.candidate_offset + p.candidate_length && p.candidate_offset < at + length)) {
        return;
      }
      proven[of.pending] = fmt::format("{} at file offset {:#x}", p.witnesses[of.witness].what, at);
      return;
    }
    const Form& form = forms[tag];
    const auto [at, span] = extent_of(form, area.bytes, offset, length);
    if (form.secret >= unique.size()) {
      held.push_back({&area, at, span, &form});
      return;
    }
    report(area, at, span, form, unique[form.secret]);
  });
  // The secrets this pass proved: their keys, then every copy of them it held back.
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!proven[i]) continue;
    PendingSecret& p = pending[i];
    if (p.key) {
      p.key->origin += *proven[i];
      sink.public_key(std::move(*p.key));
    }
    p.secret.proof += *proven[i];
    for (const Held& h : held) {
      if (h.form->secret == unique.size() + group_of[i]) report(*h.area, h.at, h.span, *h.form, p.secret);
    }
  }
}

}  // namespace dumpguard
