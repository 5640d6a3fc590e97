// Preloaded (LD_PRELOAD) into dumpguard by integration/test_scan_engine_failure.py, never
// linked into it: every hs_scan call is passed on to Vectorscan's own hs_scan, but with a
// scratch allocated for another, one-pattern database. Vectorscan then fails the scan itself
// (HS_INVALID) and reports no match, as it would for scratch mixed up between databases or a
// damaged one, so the test sees what dumpguard does with a real engine failure.
#include <dlfcn.h>
#include <hs.h>

#include <cstdlib>

namespace {

using HsScan = hs_error_t (*)(const hs_database_t*, const char*, unsigned, unsigned, hs_scratch_t*,
                              match_event_handler, void*);

// A one-pattern database and its scratch, one per thread (a scratch serves one scan at a
// time), freed when the thread ends so that a sanitizer build reports no leak.
struct Foreign {
  hs_database_t* database = nullptr;
  hs_scratch_t* scratch = nullptr;
  Foreign() {
    hs_compile_error_t* error = nullptr;
    if (hs_compile("a", 0, HS_MODE_BLOCK, nullptr, &database, &error) != HS_SUCCESS ||
        hs_alloc_scratch(database, &scratch) != HS_SUCCESS) {
      std::abort();  // the test then sees a crash, not a pass
    }
  }
  ~Foreign() {
    hs_free_scratch(scratch);
    hs_free_database(database);
  }
  Foreign(const Foreign&) = delete;
  Foreign& operator=(const Foreign&) = delete;
};

}  // namespace

extern "C" hs_error_t hs_scan(const hs_database_t* database, const char* data, unsigned length, unsigned flags,
                              hs_scratch_t* /*scratch*/, match_event_handler on_match, void* context) {
  static const auto real = reinterpret_cast<HsScan>(dlsym(RTLD_NEXT, "hs_scan"));
  if (real == nullptr) std::abort();
  thread_local Foreign foreign;
  return real(database, data, length, flags, foreign.scratch, on_match, context);
}
