// sacreBLEU-compatible tokenisation; see bleu_tokenizer.h.
//
// sacreBLEU applies four regular expressions with Python's re.sub, each a left-to-right scan of
// non-overlapping matches. Each is written out below as such a scan. They work on bytes: every
// pattern matches an ASCII character on the side where a space is inserted, so a UTF-8
// sequence is never split, and the result equals the code-point version.
#include "nmt/bleu_tokenizer.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace hat {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The class [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII symbols and punctuation except the apostrophe,
// comma, dash and period, which have rules of their own (and the space, harmless to pad).
bool IsSplitSymbol(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) ||
         (u >= 0x28 && u <= 0x2B) || (u >= 0x3A && u <= 0x40) || u == '/';
}

bool IsPeriodOrComma(char c) { return c == '.' || c == ','; }

// re.sub(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])', r' \1 ', s)
std::string PadSymbols(absl::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    if (IsSplitSymbol(c)) {
      out += ' ';
      out += c;
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// re.sub(r'(A)(B)', <template>, s) for one-character classes A and B: a left-to-right scan of
// non-overlapping matches; `emit` writes the replacement of a matched pair.
template <typename First, typename Second, typename Emit>
std::string ReplacePairs(absl::string_view s, First first, Second second, Emit emit) {
  std::string out;
  out.reserve(s.size() * 2);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      emit(s[i], s[i + 1], out);
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

bool IsNotDigit(char c) { return !IsDigit(c); }
bool IsDash(char c) { return c == '-'; }

// re.sub(r'([^0-9])([\.,])', r'\1 \2 ', s)
std::string SplitPeriodCommaAfterNonDigit(absl::string_view s) {
  return ReplacePairs(s, IsNotDigit, IsPeriodOrComma, [](char a, char b, std::string& out) {
    absl::StrAppend(&out, absl::string_view(&a, 1), " ", absl::string_view(&b, 1), " ");
  });
}

// re.sub(r'([\.,])([^0-9])', r' \1 \2', s)
std::string SplitPeriodCommaBeforeNonDigit(absl::string_view s) {
  return ReplacePairs(s, IsPeriodOrComma, IsNotDigit, [](char a, char b, std::string& out) {
    absl::StrAppend(&out, " ", absl::string_view(&a, 1), " ", absl::string_view(&b, 1));
  });
}

// re.sub(r'([0-9])(-)', r'\1 \2 ', s)
std::string SplitDashAfterDigit(absl::string_view s) {
  return ReplacePairs(s, IsDigit, IsDash, [](char a, char, std::string& out) {
    absl::StrAppend(&out, absl::string_view(&a, 1), " - ");
  });
}

std::string JoinWhitespaceSplit(absl::string_view s) {
  return absl::StrJoin(absl::StrSplit(s, absl::ByAnyChar(" \t\n\r\f\v"), absl::SkipEmpty()), " ");
}

// Lowercase of a code point for the blocks LowercaseUtf8 covers; others unchanged.
uint32_t LowerCodePoint(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;  // Latin-1 capitals
  if (c == 0x130)
    return 'i';  // dotted capital I (Python adds a combining dot; BLEU rarely sees it)
  if (c >= 0x100 && c <= 0x137 && c % 2 == 0) return c + 1;  // Latin Extended-A pairs
  if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
  if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E && c % 2 == 1) return c + 1;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  // Greek capitals
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic capitals
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

void AppendUtf8(uint32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace

absl::StatusOr<BleuTokenize> ParseBleuTokenize(absl::string_view name) {
  if (name == "13a") return BleuTokenize::k13a;
  if (name == "none") return BleuTokenize::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("BLEU tokenisation '", name, "' is unknown (expected '13a' or 'none')"));
}

std::string Tokenize13a(absl::string_view line) {
  std::string s = absl::StrReplaceAll(line, {{"<skipped>", ""}, {"-\n", ""}, {"\n", " "}});
  if (s.find('&') != std::string::npos) {
    // In sacreBLEU's order: &quot; first, &amp; before &lt; and &gt;.
    s = absl::StrReplaceAll(s, {{"&quot;", "\""}});
    s = absl::StrReplaceAll(s, {{"&amp;", "&"}});
    s = absl::StrReplaceAll(s, {{"&lt;", "<"}});
    s = absl::StrReplaceAll(s, {{"&gt;", ">"}});
  }
  s = absl::StrCat(" ", s, " ");
  s = PadSymbols(s);
  s = SplitPeriodCommaAfterNonDigit(s);
  s = SplitPeriodCommaBeforeNonDigit(s);
  s = SplitDashAfterDigit(s);
  return JoinWhitespaceSplit(s);
}

std::string LowercaseUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    // Two- and three-byte sequences cover every block lowered; others are copied through.
    if (b >= 0xC0 && b < 0xE0 && i + 1 < text.size() &&
        (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      const uint32_t c = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      AppendUtf8(LowerCodePoint(c), out);
      i += 2;
    } else if (b < 0x80) {
      out += static_cast<char>(LowerCodePoint(b));
      ++i;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::vector<std::string> BleuTokens(absl::string_view line, BleuTokenize tokenize, bool lowercase) {
  std::string text = lowercase ? LowercaseUtf8(line) : std::string(line);
  if (tokenize == BleuTokenize::k13a) text = Tokenize13a(text);
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n\r\f\v"), absl::SkipEmpty());
}

}  // namespace hat
