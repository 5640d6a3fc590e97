#include "crypto/der.hpp"

namespace dumpguard::der {

std::optional<Tlv> read(std::span<const std::uint8_t> in) {
  if (in.size() < 2) return std::nullopt;
  Tlv t;
  t.tag = in[0];
  if ((t.tag & 0x1F) == 0x1F) return std::nullopt;  // high tag numbers: not in key formats
  std::size_t length = in[1];
  std::size_t header = 2;
  if (length & 0x80) {
    const std::size_t count = length & 0x7F;
    if (count == 0 || count > 4 || in.size() < 2 + count) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | in[2 + i];
    // DER: the shortest length form, so 0x81 only for lengths >= 128, no leading zero bytes.
    if (length < 0x80 || in[2] == 0) return std::nullopt;
    header += count;
  }
  if (length > in.size() - header) return std::nullopt;
  t.header = header;
  t.value = in.subspan(header, length);
  return t;
}

std::optional<Tlv> Cursor::next() {
  auto t = read(rest_);
  if (t) rest_ = rest_.subspan(t->size());
  return t;
}

std::optional<Tlv> Cursor::next(std::uint8_t tag) {
  auto t = read(rest_);
  if (!t || t->tag != tag) return std::nullopt;
  rest_ = rest_.subspan(t->size());
  return t;
}

std::optional<std::span<const std::uint8_t>> unsigned_integer(const Tlv& tlv) {
  if (tlv.tag != kInteger || tlv.value.empty()) return std::nullopt;
  auto v = tlv.value;
  if (v[0] & 0x80) return std::nullopt;  // negative
  if (v.size() > 1 && v[0] == 0) {
    if (!(v[1] & 0x80)) return std::nullopt;  // not minimal
    v = v.subspan(1);
  }
  return v;
}

std::optional<long> small_integer(const Tlv& tlv) {
  auto v = unsigned_integer(tlv);
  if (!v || v->size() > 4) return std::nullopt;
  long out = 0;
  for (std::uint8_t b : *v) out = (out << 8) | b;
  return out;
}

}  // namespace dumpguard::der
