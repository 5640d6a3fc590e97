// report/display_text: which names are clean, and how the others are shown.
#include <gtest/gtest.h>

#include <string>

#include "gate/names.hpp"
#include "report/display_text.hpp"

namespace dumpguard {
namespace {

TEST(DisplayText, CleanTextIsShownAsItIs) {
  EXPECT_TRUE(clean_text("core.1234"));
  EXPECT_TRUE(clean_text("crash-Ünïcödé-日本.dmp"));
  EXPECT_EQ(display_text("crash-Ünïcödé-日本.dmp"), "crash-Ünïcödé-日本.dmp");
}

TEST(DisplayText, ReorderingHidingAndControlCharactersAreEscaped) {
  // U+202E RIGHT-TO-LEFT OVERRIDE (E2 80 AE), U+2066 LEFT-TO-RIGHT ISOLATE (E2 81 A6), U+200B
  // ZERO WIDTH SPACE (E2 80 8B), U+2028 LINE SEPARATOR (E2 80 A8), U+FEFF (EF BB BF), a C1
  // control U+009B (C2 9B, CSI), ESC, and a byte that is not UTF-8.
  const std::string cases[] = {"report\xe2\x80\xaegpj.dmp", "a\xe2\x81\xa6" "b", "a\xe2\x80\x8b" "b",
                               "a\xe2\x80\xa8" "b", "\xef\xbb\xbf" "core", "a\xc2\x9b" "2J", "a\x1b[2J", "a\xff"};
  for (const std::string& text : cases) {
    EXPECT_FALSE(clean_text(text)) << display_text(text);
    EXPECT_FALSE(acceptable_name(text)) << display_text(text);
    const std::string shown = display_text(text);
    for (const char c : shown) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "a byte outside printable ASCII in " << shown;
    }
  }
  EXPECT_EQ(display_text("report\xe2\x80\xaegpj.dmp"), "report\\xe2\\x80\\xaegpj.dmp");
  // A backslash is escaped once the text is escaped, so no escaped name looks like a clean one.
  EXPECT_EQ(display_text("a\\x41\x01"), "a\\x5cx41\\x01");
}

TEST(DisplayText, PlainFileNamesNameOneEntry) {
  EXPECT_TRUE(plain_file_name("core.1"));
  for (const char* bad : {"", ".", "..", "../x", "a/b", "/x"}) EXPECT_FALSE(plain_file_name(bad)) << bad;
}

}  // namespace
}  // namespace dumpguard
