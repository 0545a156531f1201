// A strict JSON reader (RFC 8259) for the OTLP decoders: a cursor over the text that reads one
// value at a time, checks the grammar as it goes, and remembers where and why it stopped.
// Internal: not an API.
//
//   JsonReader j(body, {.max_depth = 64});
//   bool ok = j.Object([&](std::string_view key) {
//     if (key == "name") return j.String(name);
//     return j.SkipValue();
//   }) && j.AtEnd();
//   if (!ok) error = j.error() + " at " + j.Location(j.error_offset());
//
// Every reading method returns false on failure, having recorded the first error with its byte
// offset; a callback that returns false must have failed through the reader (if it did not,
// "invalid value" is recorded). Strings must be valid UTF-8: invalid bytes and unpaired
// surrogate escapes are errors, or U+FFFD with `replace_invalid_unicode`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace otlp::exporter::internal {

class JsonReader {
 public:
  struct Options {
    int max_depth = 64;  // nesting of objects and arrays
    bool replace_invalid_unicode = false;
  };
  JsonReader(std::string_view text, Options options) noexcept
      : in_(text), max_depth_(options.max_depth), replace_(options.replace_invalid_unicode) {}

  // The next byte after whitespace ('\0' at the end); consumes nothing else.
  char Peek() noexcept {
    SkipWhitespace();
    return pos_ < in_.size() ? in_[pos_] : '\0';
  }
  // True when only whitespace is left.
  bool AtEnd() noexcept { return Peek() == '\0' && pos_ == in_.size(); }
  // Consumes `c` when it is next (after whitespace).
  bool Consume(char c) noexcept {
    if (Peek() != c || pos_ == in_.size()) return false;
    ++pos_;
    return true;
  }
  // Consumes a `null` when it is next; false (consuming nothing) otherwise.
  bool Null() noexcept;

  // Reads an object: on_member(key) is called for each member with the reader before its value,
  // which it must consume. The key is valid during the call.
  template <typename F>
  bool Object(F&& on_member) {
    if (!Consume('{'))
      return Fail(Peek() == '\0' ? "unexpected end of input, expected an object"
                                 : "expected an object");
    if (!Enter()) return false;
    if (!Consume('}')) {
      std::string scratch;
      while (true) {
        std::string_view key;
        if (Peek() != '"') return Fail("expected a member name (a string)");
        if (!StringView(key, scratch)) return false;
        if (!Consume(':')) return Fail("expected ':' after the member name");
        if (!on_member(key)) return Failed();
        if (Consume(',')) continue;
        if (Consume('}')) break;
        return Fail("expected ',' or '}' after an object member");
      }
    }
    --depth_;
    return true;
  }

  // Reads an array: on_element(index) is called with the reader before each element.
  template <typename F>
  bool Array(F&& on_element) {
    if (!Consume('[')) return Fail("expected an array");
    if (!Enter()) return false;
    if (!Consume(']')) {
      for (size_t i = 0;; ++i) {
        if (!on_element(i)) return Failed();
        if (Consume(',')) continue;
        if (Consume(']')) break;
        return Fail("expected ',' or ']' after an array element");
      }
    }
    --depth_;
    return true;
  }

  // A string value, unescaped. `out` is replaced.
  bool String(std::string& out);
  // The same, as a view: into the input when the string has no escapes, else into `scratch`.
  bool StringView(std::string_view& out, std::string& scratch);
  // A number token, checked against the JSON grammar.
  bool Number(std::string_view& token) noexcept;
  bool Bool(bool& v) noexcept;
  // Skips one value of any type (checking it).
  bool SkipValue();

  // Records `message` at the current position (after whitespace) unless an error is recorded
  // already. Returns false.
  bool Fail(std::string_view message);
  bool FailAt(size_t offset, std::string_view message);
  bool failed() const noexcept { return failed_; }
  const std::string& error() const noexcept { return error_; }
  size_t error_offset() const noexcept { return error_offset_; }
  // "line L, column C" of a byte offset (1-based; columns count bytes).
  std::string Location(size_t offset) const;
  size_t offset() const noexcept { return pos_; }

 private:
  void SkipWhitespace() noexcept {
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
      ++pos_;
    }
  }
  bool Enter();
  bool Failed() { return failed_ ? false : Fail("invalid value"); }
  bool Literal(std::string_view word) noexcept;
  bool Hex4(size_t at, uint32_t& cp) const noexcept;

  std::string_view in_;
  size_t pos_ = 0;
  int depth_ = 0;
  int max_depth_;
  bool replace_;
  bool failed_ = false;
  std::string error_;
  size_t error_offset_ = 0;
};

}  // namespace otlp::exporter::internal
