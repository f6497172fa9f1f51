// The edge between LibTorch (which throws c10::Error) and hatfleet (absl::Status everywhere).
#ifndef HATFLEET_ENGINE_TORCH_STATUS_H_
#define HATFLEET_ENGINE_TORCH_STATUS_H_

#include <c10/util/Exception.h>

#include <exception>
#include <new>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace hat {

// Runs `fn` and turns any exception into a status prefixed by `what`: c10::Error becomes
// INTERNAL (LibTorch refused an operation we believed valid), std::bad_alloc RESOURCE_EXHAUSTED.
// `fn` returns absl::Status or absl::StatusOr<T>.
template <typename Fn>
auto CallTorch(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(what, ": LibTorch: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace hat

#endif  // HATFLEET_ENGINE_TORCH_STATUS_H_
