// Who may see the dashboard and its API: the admin token, or the read-only viewer token, given
// as "Authorization: Bearer <token>" (curl, Prometheus) or exchanged once at the login form for a
// session cookie (browsers). The cookie holds a random session id, never a token, so no page, URL
// or log carries a token.
#ifndef HATFLEET_SERVER_DASHBOARD_AUTH_H_
#define HATFLEET_SERVER_DASHBOARD_AUTH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace hat {

enum class DashboardRole { kNone, kViewer, kAdmin };

class DashboardAuth {
 public:
  static constexpr char kCookieName[] = "hat_session";
  static constexpr int64_t kSessionLifetimeMs = 12 * 3600 * 1000;
  static constexpr size_t kMaxSessions = 10000;  // the oldest go first beyond this

  // An empty token admits no one in its role. `now_ms`: the clock (tests pass their own).
  DashboardAuth(std::string admin_token, std::string viewer_token, std::function<int64_t()> now_ms);

  // The role of a token (compared in constant time).
  DashboardRole RoleOfToken(absl::string_view token) const;
  // The role of a request from its "Authorization" and "Cookie" header values (either may be
  // empty): a bearer token, else a live session cookie.
  DashboardRole Authenticate(absl::string_view authorization, absl::string_view cookie) const;
  // A new session in `role`; returns the cookie value (256 random bits, hex).
  std::string StartSession(DashboardRole role);
  // Ends the session the cookie header names, if any.
  void EndSession(absl::string_view cookie);

 private:
  struct Session {
    DashboardRole role = DashboardRole::kNone;
    int64_t expires_ms = 0;
  };
  // Sessions are kept by the SHA-256 of their id: looking one up times nothing secret.
  static std::string SessionKey(absl::string_view cookie);

  const std::string admin_token_;
  const std::string viewer_token_;
  const std::function<int64_t()> now_ms_;
  mutable absl::Mutex mu_;
  std::map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hat

#endif  // HATFLEET_SERVER_DASHBOARD_AUTH_H_
