// Typed errors and Result<T>: how every fallible function in dumpguard reports failure.
// Parsers never throw; they return an Error that names the file offset and the problem,
// so the CLI can print one actionable line (file, offset, what was expected, what was found).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dumpguard {

// A closed set of error kinds, in the manner of rust-minidump's typed errors.
enum class Errc {
  truncated,       // a structure runs past the end of the bytes that hold it
  out_of_range,    // an offset or range points outside the file
  bad_magic,       // a signature or magic number is not what the format requires
  bad_value,       // a field has a value the format does not allow
  overflow,        // offset + size, or count * size, overflows 64 bits
  too_many,        // a count exceeds what the remaining bytes can hold
  unsupported,     // a valid variant of the format that dumpguard does not read
  unknown_format,  // the content matches no format dumpguard knows
  io,              // the operating system refused a read, write or map
  limit,           // a user-set limit (--max-decompressed, free space) was reached
};

std::string_view to_string(Errc code);

struct Error {
  Errc code;
  std::uint64_t offset = 0;  // file offset where the problem was found
  std::string message;       // what was expected and what was found
};

// "offset 0x1a2b: <message>": the caller prefixes the file name.
std::string describe(const Error& error);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result of a function that returns nothing on success.
using Status = Result<std::monostate>;
inline Status ok_status() { return std::monostate{}; }

}  // namespace dumpguard

#define DG_CONCAT_INNER(a, b) a##b
#define DG_CONCAT(a, b) DG_CONCAT_INNER(a, b)

// DG_TRY(auto x, expr): evaluate expr (a Result); return its error, or bind its value to x.
#define DG_TRY(decl, expr)                                        \
  auto DG_CONCAT(dg_try_, __LINE__) = (expr);                     \
  if (!DG_CONCAT(dg_try_, __LINE__)) return DG_CONCAT(dg_try_, __LINE__).error(); \
  decl = std::move(DG_CONCAT(dg_try_, __LINE__)).value()

// DG_CHECK(expr): evaluate a Status or Result and return its error if it failed.
#define DG_CHECK(expr)                                            \
  do {                                                            \
    auto dg_check_ = (expr);                                      \
    if (!dg_check_) return dg_check_.error();                     \
  } while (0)
