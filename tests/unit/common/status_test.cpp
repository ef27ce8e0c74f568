#include "common/status.hpp"

#include "common/condition.hpp"
#include "test_support.hpp"

namespace ozghub {
namespace {

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status s = Status::io_error("disk gone");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Status::Code::kIoError);
  EXPECT_EQ(s.message(), "disk gone");
}

TEST(Result, HoldsValueOrError) {
  Result<int> r = 42;
  ASSERT_OK(r);
  EXPECT_EQ(*r, 42);
  Result<int> e = Status::not_found("nothing");
  EXPECT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().message(), "nothing");
}

TEST(Condition, SymbolsFollowTheContract) {
  EXPECT_EQ(condition_symbol(Condition::kSchemaViolation), "ozg:schema-violation");
  EXPECT_EQ(condition_symbol(Condition::kNoResponsibleOffice), "ozg:no-responsible-office");
  EXPECT_EQ(condition_label(Condition::kForbiddenConstruct), "forbidden_construct");
}

}  // namespace
}  // namespace ozghub
