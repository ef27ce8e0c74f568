#include "validation/markup_scan.hpp"

#include "test_support.hpp"

namespace ozghub::validation::detail {
namespace {

constexpr auto npos = std::string_view::npos;

TEST(XmlMarkupScan, CountsAttributesPerStartTag) {
  EXPECT_EQ(find_overfull_tag("<a x='1' y='2'/>", 2), npos);
  EXPECT_EQ(find_overfull_tag("<a x='1' y='2' z='3'/>", 2), 0u);
  EXPECT_EQ(find_overfull_tag("<r><a x='1'/><b x='1' y='2' z='3'/></r>", 2), 13u);
  // Namespace declarations are attributes to libxml2's duplicate check too.
  EXPECT_EQ(find_overfull_tag("<a xmlns='u' xmlns:p='v' p:x='1'/>", 2), 0u);
}

TEST(XmlMarkupScan, IgnoresEqualsSignsInValuesAndText) {
  EXPECT_EQ(find_overfull_tag("<a x='a=b=c=d' y=\"e=f=g\">x=1 y=2 z=3</a>", 2), npos);
  EXPECT_EQ(find_overfull_tag("<a x='>=>=>='/>", 1), npos);
  EXPECT_EQ(find_overfull_tag("<a x=\"it's=fine\" y='\"=\"'/>", 2), npos);
}

TEST(XmlMarkupScan, SkipsEndTagsDeclarationsAndProcessingInstructions) {
  EXPECT_EQ(find_overfull_tag("<?xml version='1.0' encoding='UTF-8' standalone='yes'?><a/>", 1),
            npos);
  EXPECT_EQ(find_overfull_tag("<!-- a=1 b=2 c=3 --><a/>", 1), npos);
  EXPECT_EQ(find_overfull_tag("<a></a x=1 y=2>", 1), npos);
}

TEST(XmlMarkupScan, TagEndsAtTheNextLessThanSign) {
  // libxml2 never reads an attribute value across a '<', so neither does the scan: the second
  // tag is counted on its own, even when the first one never closed its quote.
  EXPECT_EQ(find_overfull_tag("<a x='<b p=1 q=2 r=3/>", 2), 6u);
  EXPECT_EQ(find_overfull_tag("<a x='1' <b p=1 q=2/>", 2), npos);
}

TEST(XmlMarkupScan, ScansTagLookalikesInsideCommentsAndCdata) {
  // Deliberately conservative: libxml2's error recovery may resynchronise inside them.
  EXPECT_EQ(find_overfull_tag("<!-- <a x=1 y=2 z=3> -->", 2), 5u);
  EXPECT_EQ(find_overfull_tag("<r><![CDATA[<a x=1 y=2 z=3>]]></r>", 2), 12u);
}

TEST(XmlMarkupScan, HandlesTruncatedInput) {
  EXPECT_EQ(find_overfull_tag("", 0), npos);
  EXPECT_EQ(find_overfull_tag("<", 0), npos);
  EXPECT_EQ(find_overfull_tag("<a x='1", 1), npos);
  EXPECT_EQ(find_overfull_tag("<a x=1 y=", 1), 0u);
}

TEST(XmlMarkupScan, PositionCountsLinesAndCharacters) {
  const std::string_view text = "ab\ncä<x";
  EXPECT_EQ(position_of(text, 0).line, 1u);
  EXPECT_EQ(position_of(text, 0).column, 1u);
  EXPECT_EQ(position_of(text, 3).line, 2u);
  EXPECT_EQ(position_of(text, 3).column, 1u);
  const auto lt = position_of(text, text.find('<'));
  EXPECT_EQ(lt.line, 2u);
  EXPECT_EQ(lt.column, 3u);  // 'ä' is two bytes but one column
  EXPECT_EQ(position_of(text, 1000).line, 2u);
}

}  // namespace
}  // namespace ozghub::validation::detail
