// Detector: the EC scalar hunt. For every EC public key the scan knows (harvested from the
// dump, or derived from a private key found in it), it looks for the private scalar d with
// d·G = Q among heap windows that allocator and BIGNUM structure point at, then at islands of
// random bytes (at most island_budget of them per curve, else it reports a limit), then
// searches every copy of each found scalar exactly, big- and little-endian. With a blind budget,
// scalars of keys the scan does not know are proven from memory: the limbs of BIGNUMs of a
// scalar's size (and, with --exhaustive, the limbs after glibc chunk headers) are multiplied
// once per curve and byte order, and a coordinate of d·G found elsewhere in the dump, in any
// number layout, is the proof; the closure looks for the coordinates in its own pass
// (detect/secret_closure.hpp), so the default scan pays no pass. A JVM's whole int[] arrays
// (and the scalars in the DER its EC key objects keep) and V8's digit arrays are tested apart,
// against the points the runtime holds (its other arrays, and the keys the scan knows), so that
// a heap full of big numbers does not spend that budget.
#pragma once
#include <memory>
#include "detect/detector.hpp"
#include "detect/limb_candidates.hpp"
namespace dumpguard {
// Candidate scalars tested against public points in memory (each costs up to four scalar
// multiplications and adds 42 witness patterns per point to the closure's search): past this
// many, a limit says so. The default scan takes fewer than --exhaustive.
inline constexpr std::size_t kBlindScalarBudget = 512;
inline constexpr std::size_t kDefaultBlindScalarBudget = 128;
// Whole JVM int[] arrays of a scalar's size tested against the points the JVM holds (one
// multiplication per curve of the length each, no witness): past this many, a limit says so.
inline constexpr std::size_t kJvmArrayBudget = 20000;
// V8 digit arrays of a scalar's size tested against the points V8 holds (a multiplication on
// P-256 and one on secp256k1 each, about 0.12 ms, no witness): past this many, a limit says so.
// A Node.js process that signed 5,000 times with elliptic holds 22,092 (every signature leaves
// its nonce, r, s and intermediates until a collection): 2.8 s of CPU.
inline constexpr std::size_t kV8ArrayBudget = 100000;
struct EcScalarSettings {
  std::size_t island_budget = kIslandBudget;  // per curve of the keys known
  std::size_t blind_budget = kDefaultBlindScalarBudget;  // 0: no scalar without a known key is hunted
  // scan --exhaustive: the limbs after glibc chunk headers are blind candidates too (a walk of
  // the hunt's own).
  bool exhaustive = false;
};
std::unique_ptr<HuntDetector> make_ec_scalar_hunt_detector(const EcScalarSettings& settings = {});
}
