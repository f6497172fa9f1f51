// The dashboard's static files (server/dashboard/ and Debian's Chart.js), compiled into the
// binary by server/embed_assets.cmake so that hat-server needs nothing at run time.
#ifndef HATFLEET_SERVER_DASHBOARD_ASSETS_H_
#define HATFLEET_SERVER_DASHBOARD_ASSETS_H_

#include "absl/strings/string_view.h"

namespace hat {

struct DashboardAsset {
  absl::string_view name;          // "index.html", "chart.min.js", ...
  absl::string_view content_type;  // "text/html; charset=utf-8", ...
  absl::string_view body;
};

// The asset called `name`; nullptr when there is none.
const DashboardAsset* FindDashboardAsset(absl::string_view name);

}  // namespace hat

#endif  // HATFLEET_SERVER_DASHBOARD_ASSETS_H_
