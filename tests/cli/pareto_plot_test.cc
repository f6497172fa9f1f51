// The Pareto front as CSV and SVG (cli/pareto_plot.h).
#include "cli/pareto_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hat::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

v1::ParetoPoint Point(double loss, double predicted, double measured, double limit,
                      const std::string& key) {
  v1::ParetoPoint p;
  p.mutable_config()->set_canonical_key(key);
  p.set_valid_loss(loss);
  p.set_predicted_latency_ms(predicted);
  p.set_measured_latency_ms(measured);
  p.set_params(1.5e6);
  v1::ConstraintLatency* l = p.add_latencies();
  l->set_device_class("rpi4");
  l->set_limit_ms(limit);
  l->set_predicted_ms(predicted);
  l->set_measured_ms(measured);
  return p;
}

v1::JobResult TwoWinnersAndAReference() {
  v1::JobResult r;
  *r.add_pareto() = Point(3.1, 10, 11, 12, "enc:64:2:ffn=128,256|dec:64:1");
  *r.add_pareto() = Point(2.9, 17, 0, 18, "enc:128:3");  // not re-measured
  r.mutable_pareto(0)->set_on_front(true);
  v1::ParetoPoint ref = Point(3.0, 20, 21, 0, "enc:128:4");
  ref.set_name("tiny<base>");
  *r.add_references() = ref;
  return r;
}

TEST(ParetoCsvTest, OneRowPerPointWithKeysQuotedAndUnknownsEmpty) {
  const std::string csv = ParetoCsv(TwoWinnersAndAReference());
  EXPECT_EQ(Count(csv, "\n"), 4) << csv;  // header + 2 winners + 1 reference
  EXPECT_THAT(csv, HasSubstr("winner,,3.100000,1500000,rpi4,12,10.0000,11.0000,true,false,"
                             "\"enc:64:2:ffn=128,256|dec:64:1\"\n"));
  // Not re-measured: the measured field is empty, not 0.
  EXPECT_THAT(csv, HasSubstr("winner,,2.900000,1500000,rpi4,18,17.0000,,false,false,enc:128:3\n"));
  // A reference has no limit.
  EXPECT_THAT(csv, HasSubstr("reference,tiny<base>,3.000000,1500000,rpi4,,20.0000,21.0000,"));
}

TEST(ParetoSvgTest, DrawsEachPointOnceWithItsKindAndEscapesNames) {
  const std::string svg = ParetoSvg(TwoWinnersAndAReference(), "search \"x\" & y");
  EXPECT_EQ(Count(svg, "class=\"predicted\""), 2);
  EXPECT_EQ(Count(svg, "class=\"measured\""), 1);  // only the re-measured winner
  EXPECT_EQ(Count(svg, "class=\"reference\""), 1);
  EXPECT_EQ(Count(svg, "class=\"limit\""), 2);  // 12 and 18 ms
  EXPECT_THAT(svg, HasSubstr("tiny&lt;base&gt;"));
  EXPECT_THAT(svg, HasSubstr("search &quot;x&quot; &amp; y"));
  EXPECT_THAT(svg, HasSubstr("latency on rpi4 (ms)"));
}

TEST(ParetoSvgTest, OnePointOrNoneGivesFiniteCoordinates) {
  v1::JobResult one;
  *one.add_pareto() = Point(3.1, 10, 0, 12, "k");
  v1::JobResult none;
  for (const v1::JobResult& r : {one, none}) {
    const std::string svg = ParetoSvg(r, "t");
    EXPECT_THAT(svg, Not(HasSubstr("nan")));
    EXPECT_THAT(svg, Not(HasSubstr("inf")));
    EXPECT_THAT(svg, HasSubstr("</svg>"));
  }
}

}  // namespace
}  // namespace hat::cli
