// Detector: the EC scalar hunt. For every EC public key the scan knows (harvested from the
// dump, or derived from a private key found in it), it looks for the private scalar d with
// d·G = Q among heap windows that allocator and BIGNUM structure point at, then at islands of
// random bytes (at most island_budget of them per curve, else it reports a limit), then
// searches every copy of each found scalar exactly, big- and little-endian. With a blind budget
// (--exhaustive), scalars of keys the scan does not know are proven from memory: malloc-chunk
// and BIGNUM windows are multiplied once per curve and byte order, and a coordinate of d·G
// found elsewhere in the dump, in any number layout or SEC1 encoding, is the proof.
#pragma once
#include <memory>
#include "detect/detector.hpp"
#include "detect/limb_candidates.hpp"
namespace dumpguard {
// Candidate scalars tested against public points in memory (each costs up to four scalar
// multiplications and adds 44 patterns per point to the search): past this many, a limit says so.
inline constexpr std::size_t kBlindScalarBudget = 512;
std::unique_ptr<Detector> make_ec_scalar_hunt_detector(std::size_t island_budget = kIslandBudget,
                                                       std::size_t blind_budget = kBlindScalarBudget);
}
