// A minimal W3C WebDriver client for Debian's chromedriver and headless Chromium: the commands
// the dashboard's browser test and benchmark need (open a page, find, type, click, run a script,
// read the source, take a screenshot), over cpp-httplib.
#ifndef HATFLEET_TESTS_SUPPORT_WEBDRIVER_H_
#define HATFLEET_TESTS_SUPPORT_WEBDRIVER_H_

#include <httplib.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "tests/support/polling.h"
#include "tests/support/subprocess.h"

namespace hat::testing {

inline constexpr char kChromium[] = "/usr/bin/chromium";
inline constexpr char kChromedriver[] = "/usr/bin/chromedriver";

// A WebDriver session on chromedriver: the few commands the test needs.
class Browser {
 public:
  // Starts chromedriver on `port`, its output to `log`.
  Browser(int port, const std::string& log) : http_("127.0.0.1", port) {
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kChromedriver, "--port=" + std::to_string(port)}, log);
    http_.set_read_timeout(120);
  }
  ~Browser() {
    if (!session_.empty()) http_.Delete(("/session/" + session_).c_str());
  }

  // Starts headless Chromium; false (with the reason in `error`) when it cannot.
  bool Start(std::string* error) {
    if (!WaitFor([&] { return static_cast<bool>(http_.Get("/status")); }, 30)) {
      *error = "chromedriver did not answer";
      return false;
    }
    const nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", kChromium},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,2400"}}}}}}}}};
    const nlohmann::json r = Call("POST", "/session", caps);
    session_ = r["value"].value("sessionId", "");
    if (session_.empty()) *error = r.dump();
    return !session_.empty();
  }

  void Go(const std::string& url) { Command("POST", "/url", {{"url", url}}); }
  // The element id of the first match of `css` ("" when none).
  std::string Find(const std::string& css) {
    const nlohmann::json r =
        Command("POST", "/element", {{"using", "css selector"}, {"value", css}});
    if (!r["value"].is_object() || r["value"].empty()) return "";
    return r["value"].begin()->is_string() ? r["value"].begin()->get<std::string>() : "";
  }
  void Type(const std::string& element, const std::string& text) {
    Command("POST", "/element/" + element + "/value", {{"text", text}});
  }
  void Click(const std::string& element) {
    Command("POST", "/element/" + element + "/click", nlohmann::json::object());
  }
  // Runs `script` in the page and returns what it returned.
  nlohmann::json Eval(const std::string& script) {
    return Command("POST", "/execute/sync",
                   {{"script", script}, {"args", nlohmann::json::array()}})["value"];
  }
  std::string Source() {
    const nlohmann::json v = Command("GET", "/source", nullptr)["value"];
    return v.is_string() ? v.get<std::string>() : "";
  }
  void Screenshot(const std::string& path) {
    const nlohmann::json v = Command("GET", "/screenshot", nullptr)["value"];
    std::string png;
    if (v.is_string() && absl::Base64Unescape(v.get<std::string>(), &png)) {
      std::ofstream(path, std::ios::binary) << png;
    }
  }

 private:
  nlohmann::json Command(const std::string& method, const std::string& path,
                         const nlohmann::json& body) {
    return Call(method, "/session/" + session_ + path, body);
  }
  nlohmann::json Call(const std::string& method, const std::string& path,
                      const nlohmann::json& body) {
    httplib::Result r = method == "GET" ? http_.Get(path.c_str())
                                        : http_.Post(path.c_str(), body.dump(), "application/json");
    if (!r) return {{"value", nullptr}};
    nlohmann::json parsed = nlohmann::json::parse(r->body, nullptr, false);
    return parsed.is_object() && parsed.contains("value") ? parsed
                                                          : nlohmann::json{{"value", nullptr}};
  }

  httplib::Client http_;
  std::unique_ptr<Subprocess> process_;
  std::string session_;
};

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_WEBDRIVER_H_
