// The Pareto front as CSV and SVG; see pareto_plot.h.
#include "cli/pareto_plot.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hat::cli {
namespace {

// CSV field: quoted when it holds a comma or a quote (canonical keys hold commas).
std::string Field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

void AppendRows(const v1::ParetoPoint& p, const char* kind, std::string& csv) {
  for (const v1::ConstraintLatency& l : p.latencies()) {
    absl::StrAppend(&csv, kind, ",", Field(p.name()), ",", absl::StrFormat("%.6f", p.valid_loss()),
                    ",", absl::StrFormat("%.0f", p.params()), ",", Field(l.device_class()), ",",
                    l.limit_ms() > 0 ? absl::StrFormat("%.4g", l.limit_ms()) : "", ",",
                    absl::StrFormat("%.4f", l.predicted_ms()), ",",
                    l.measured_ms() > 0 ? absl::StrFormat("%.4f", l.measured_ms()) : "", ",",
                    p.on_front() ? "true" : "false", ",", p.breaks_limit() ? "true" : "false", ",",
                    Field(p.config().canonical_key()), "\n");
  }
}

// A "nice" tick step for a range: 1, 2 or 5 times a power of ten, about five ticks.
double TickStep(double range) {
  const double raw = range / 5;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

}  // namespace

std::string ParetoCsv(const v1::JobResult& result) {
  std::string csv =
      "kind,name,valid_loss,params,device_class,limit_ms,predicted_ms,measured_ms,on_front,"
      "breaks_limit,canonical_key\n";
  for (const v1::ParetoPoint& p : result.pareto()) AppendRows(p, "winner", csv);
  for (const v1::ParetoPoint& p : result.references()) AppendRows(p, "reference", csv);
  return csv;
}

std::string ParetoSvg(const v1::JobResult& result, const std::string& title) {
  constexpr double kWidth = 820, kHeight = 420, kLeft = 70, kRight = 200, kTop = 40, kBottom = 50;
  // The data range over every latency shown (predicted and measured) and every loss.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  auto include = [&](const v1::ParetoPoint& p) {
    for (double x : {p.predicted_latency_ms(), p.measured_latency_ms()}) {
      if (x <= 0) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
    }
    y_lo = std::min(y_lo, p.valid_loss());
    y_hi = std::max(y_hi, p.valid_loss());
  };
  for (const v1::ParetoPoint& p : result.pareto()) include(p);
  for (const v1::ParetoPoint& p : result.references()) include(p);
  std::string device;
  if (result.pareto_size() > 0 && result.pareto(0).latencies_size() > 0) {
    device = result.pareto(0).latencies(0).device_class();
  }
  // The limits on that device class, drawn as vertical lines.
  std::vector<double> limits;
  for (const v1::ParetoPoint& p : result.pareto()) {
    for (const v1::ConstraintLatency& l : p.latencies()) {
      if (l.device_class() == device && l.limit_ms() > 0 &&
          std::find(limits.begin(), limits.end(), l.limit_ms()) == limits.end()) {
        limits.push_back(l.limit_ms());
        x_lo = std::min(x_lo, l.limit_ms());
        x_hi = std::max(x_hi, l.limit_ms());
      }
    }
  }
  if (!(x_lo <= x_hi)) x_lo = 0, x_hi = 1;
  if (!(y_lo <= y_hi)) y_lo = 0, y_hi = 1;
  // Margins so that no point sits on an axis, and a non-empty range for a single point.
  const double x_pad = std::max((x_hi - x_lo) * 0.08, 0.05 * std::max(1.0, x_hi));
  const double y_pad = std::max((y_hi - y_lo) * 0.08, 0.01 * std::max(1.0, y_hi));
  x_lo = std::max(0.0, x_lo - x_pad), x_hi += x_pad, y_lo -= y_pad, y_hi += y_pad;
  auto sx = [&](double x) {
    return kLeft + (x - x_lo) / (x_hi - x_lo) * (kWidth - kLeft - kRight);
  };
  auto sy = [&](double y) {
    return kTop + (y_hi - y) / (y_hi - y_lo) * (kHeight - kTop - kBottom);
  };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">%s</text>\n",
      kWidth, kHeight, kWidth / 2, Escape(title));
  // Axes, ticks and labels.
  absl::StrAppendFormat(&svg,
                        "<g stroke=\"#333\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
                        kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom, kLeft, kTop,
                        kLeft, kHeight - kBottom);
  const double xs = TickStep(x_hi - x_lo), ys = TickStep(y_hi - y_lo);
  for (double x = std::ceil(x_lo / xs) * xs; x <= x_hi; x += xs) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                          sx(x), kHeight - kBottom, sx(x), kHeight - kBottom + 5, sx(x),
                          kHeight - kBottom + 18, std::round(x / xs) * xs);
  }
  for (double y = std::ceil(y_lo / ys) * ys; y <= y_hi; y += ys) {
    absl::StrAppendFormat(&svg,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                          kLeft - 5, sy(y), kLeft, sy(y), kLeft - 8, sy(y) + 4,
                          std::round(y / ys) * ys);
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">latency on %s (ms)"
                        "</text>\n<text transform=\"translate(16 %.1f) rotate(-90)\" "
                        "text-anchor=\"middle\">validation loss (inherited weights)</text>\n",
                        (kLeft + kWidth - kRight) / 2, kHeight - 12, Escape(device),
                        (kTop + kHeight - kBottom) / 2);
  for (double limit : limits) {
    absl::StrAppendFormat(&svg,
                          "<line class=\"limit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"#999\" stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\" "
                          "fill=\"#666\" font-size=\"11\">limit %g</text>\n",
                          sx(limit), kTop, sx(limit), kHeight - kBottom, sx(limit) + 3, kTop + 10,
                          limit);
  }
  // Winners: predicted (hollow) to measured (filled).
  for (const v1::ParetoPoint& p : result.pareto()) {
    const double y = sy(p.valid_loss()), xp = sx(p.predicted_latency_ms());
    const char* color = p.breaks_limit() ? "#c0392b" : "#1f77b4";
    if (p.measured_latency_ms() > 0) {
      const double xm = sx(p.measured_latency_ms());
      absl::StrAppendFormat(&svg,
                            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                            "stroke-dasharray=\"3 3\"/>\n<circle class=\"measured\" cx=\"%.1f\" "
                            "cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n",
                            xp, y, xm, y, color, xm, y, color);
    }
    absl::StrAppendFormat(&svg,
                          "<circle class=\"predicted\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" "
                          "fill=\"white\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                          xp, y, color);
  }
  // References: squares, with their names.
  for (const v1::ParetoPoint& p : result.references()) {
    const double y = sy(p.valid_loss());
    const double x =
        sx(p.measured_latency_ms() > 0 ? p.measured_latency_ms() : p.predicted_latency_ms());
    absl::StrAppendFormat(&svg,
                          "<rect class=\"reference\" x=\"%.1f\" y=\"%.1f\" width=\"10\" "
                          "height=\"10\" fill=\"#ff7f0e\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"end\">%s</text>\n",
                          x - 5, y - 5, x - 8, y - 8, Escape(p.name()));
  }
  // Legend, right of the plot.
  const double lx = kWidth - kRight + 20, ly = kTop + 8;
  absl::StrAppendFormat(
      &svg,
      "<g font-size=\"11\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"white\" "
      "stroke=\"#1f77b4\" "
      "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">winner, predicted latency</text>\n"
      "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#1f77b4\"/><text x=\"%.1f\" y=\"%.1f\">"
      "winner, measured latency</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
      "fill=\"#ff7f0e\"/><text x=\"%.1f\" y=\"%.1f\">reference (measured)</text>\n"
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
      "stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\">latency limit</text></g>\n",
      lx, ly, lx + 10, ly + 4, lx, ly + 16, lx + 10, ly + 20, lx - 5, ly + 27, lx + 10, ly + 36,
      lx - 5, ly + 48, lx + 5, ly + 48, lx + 10, ly + 52);
  svg += "</svg>\n";
  return svg;
}

}  // namespace hat::cli
