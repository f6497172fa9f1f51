// DashboardAuth: tokens, and the sessions browsers get for them.
#include "server/dashboard_auth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
#include "common/token_compare.h"

namespace hat {

DashboardAuth::DashboardAuth(std::string admin_token, std::string viewer_token,
                             std::function<int64_t()> now_ms)
    : admin_token_(std::move(admin_token)),
      viewer_token_(std::move(viewer_token)),
      now_ms_(std::move(now_ms)) {}

DashboardRole DashboardAuth::RoleOfToken(absl::string_view token) const {
  // Both comparisons always run: which one matched does not show in the time taken.
  const bool admin = TokenMatches(token, admin_token_);
  const bool viewer = TokenMatches(token, viewer_token_);
  if (admin) return DashboardRole::kAdmin;
  if (viewer) return DashboardRole::kViewer;
  return DashboardRole::kNone;
}

std::string DashboardAuth::SessionKey(absl::string_view cookie) {
  // The value of kCookieName among "a=1; hat_session=...; b=2".
  for (absl::string_view part : absl::StrSplit(cookie, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, kCookieName) && absl::ConsumePrefix(&part, "=") &&
        !part.empty()) {
      Sha256 hash;
      hash.Update(part);
      return hash.HexDigest();
    }
  }
  return "";
}

DashboardRole DashboardAuth::Authenticate(absl::string_view authorization,
                                          absl::string_view cookie) const {
  if (absl::ConsumePrefix(&authorization, "Bearer ")) {
    return RoleOfToken(absl::StripAsciiWhitespace(authorization));
  }
  const std::string key = SessionKey(cookie);
  if (key.empty()) return DashboardRole::kNone;
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms_()) return DashboardRole::kNone;
  return it->second.role;
}

std::string DashboardAuth::StartSession(DashboardRole role) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "";  // no randomness: no session
  std::string id;
  for (unsigned char b : bytes) {
    id += "0123456789abcdef"[b >> 4];
    id += "0123456789abcdef"[b & 15];
  }
  const std::string key = SessionKey(std::string(kCookieName) + "=" + id);
  const int64_t now = now_ms_();
  absl::MutexLock lock(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires_ms <= now ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= kMaxSessions) {
    sessions_.erase(std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.expires_ms < b.second.expires_ms; }));
  }
  sessions_[key] = {role, now + kSessionLifetimeMs};
  return id;
}

void DashboardAuth::EndSession(absl::string_view cookie) {
  const std::string key = SessionKey(cookie);
  if (key.empty()) return;
  absl::MutexLock lock(&mu_);
  sessions_.erase(key);
}

}  // namespace hat
