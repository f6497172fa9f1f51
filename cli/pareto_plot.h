// A search job's result as files people open: the Pareto front as CSV (one row per winner and
// per reference) and as an SVG plot of validation loss against latency, predicted and measured
// points told apart. Written by `hatctl search export`.
#ifndef HATFLEET_CLI_PARETO_PLOT_H_
#define HATFLEET_CLI_PARETO_PLOT_H_

#include <string>

#include "hat/v1/job.pb.h"

namespace hat::cli {

// Columns: kind (winner|reference), name, valid_loss, params, device_class, limit_ms,
// predicted_ms, measured_ms (empty until re-measured), on_front, breaks_limit, canonical_key;
// one row per point and constrained device class.
std::string ParetoCsv(const v1::JobResult& result);

// Loss (y) against latency (x) on the front's device class: each winner's predicted latency
// (hollow circle) joined to its measured latency (filled circle), references as squares.
// Self-contained SVG (no scripts, no external fonts).
std::string ParetoSvg(const v1::JobResult& result, const std::string& title);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_PARETO_PLOT_H_
