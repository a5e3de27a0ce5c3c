// MAESTRO's mapping-file language (see mapping_file.hpp; §n refers to
// docs/design/costmodel.md).
//
// Reading order: check_text refuses what MAESTRO misreads; tokenize splits
// the text; Cursor walks the tokens with errors that name the line; the
// dataflow grammar (parse_body) serves both parse_dataflow and the mapping
// parser (MappingParser: Constant, Network, Layer, Type, Stride, Dimensions,
// Dataflow).
#include "costmodel/mapping_file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace archgym::costmodel {

ParseError::ParseError(const std::string& message, int line, const std::string& source)
    : std::invalid_argument((source.empty() ? "" : source + ":") +
                            (line > 0 ? "line " + std::to_string(line) + ": " : "") + message),
      line(line) {}

namespace {

constexpr std::string_view kSeparators = " \t\r,->():;";
constexpr std::string_view kInt64Max = "9223372036854775807";

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A run of ASCII digits that does not fit a signed 64-bit integer.
bool beyond_int64(std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return digits.size() > kInt64Max.size() ||
         (digits.size() == kInt64Max.size() && digits > kInt64Max);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// ------------------------------------------------------------ text checks
// Characters that do not show: C0/C1 controls (tab and CR excepted), Unicode
// format characters (Cf) and the line and paragraph separators.
bool invisible(char32_t c) {
  if (c == '\t' || c == '\r') return false;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  static constexpr std::pair<char32_t, char32_t> kFormat[] = {
      {0x00ad, 0x00ad}, {0x0600, 0x0605}, {0x061c, 0x061c}, {0x06dd, 0x06dd},
      {0x070f, 0x070f}, {0x0890, 0x0891}, {0x08e2, 0x08e2}, {0x180e, 0x180e},
      {0x200b, 0x200f}, {0x2028, 0x202e}, {0x2060, 0x2064}, {0x2066, 0x206f},
      {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
      {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
      {0xe0020, 0xe007f}};
  for (const auto& [lo, hi] : kFormat)
    if (c >= lo && c <= hi) return true;
  return false;
}

std::string invisible_name(char32_t c) {
  switch (c) {
    case 0xfeff: return "ZERO WIDTH NO-BREAK SPACE, a byte-order mark";
    case 0x200b: return "ZERO WIDTH SPACE";
    case 0x200c: return "ZERO WIDTH NON-JOINER";
    case 0x200d: return "ZERO WIDTH JOINER";
    case 0x00ad: return "SOFT HYPHEN";
    case 0x2028: return "LINE SEPARATOR";
    case 0x2029: return "PARAGRAPH SEPARATOR";
    default: return c < 0xa0 ? "a control character" : "a format character";
  }
}

// Decodes one UTF-8 character at text[i]; returns its length, 0 if invalid.
size_t decode_utf8(std::string_view text, size_t i, char32_t& c) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  c = len == 1 ? b : b & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;  // overlong, surrogate
  return len;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Refuses what MAESTRO misreads: bytes that are not UTF-8, invisible
// characters (a UTF-8 BOM, zero-width or control characters), negative numbers
// (its tokenizer drops the '-') and numbers beyond 64 bits (which it wraps).
void check_text(std::string_view text, const std::string& source) {
  const auto lines = split_lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string_view line = lines[n];
    const int lineno = static_cast<int>(n) + 1;
    for (size_t i = 0; i < line.size();) {
      char32_t c = 0;
      const size_t len = decode_utf8(line, i, c);
      if (len == 0) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(line[i]));
        throw ParseError(std::string("byte ") + hex + " is not UTF-8 text", lineno, source);
      }
      if (invisible(c)) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
        throw ParseError(std::string("invisible character ") + code + " (" + invisible_name(c) +
                             "); remove it", lineno, source);
      }
      i += len;
    }
    const std::string_view code = line.substr(0, line.find("//"));
    for (size_t i = 0; i < code.size(); ++i) {
      if (code[i] != '-') continue;
      const char before = i == 0 ? ' ' : code[i - 1];
      if (!std::isspace(static_cast<unsigned char>(before)) && before != ':' && before != ',' &&
          before != '(')
        continue;
      size_t j = i + 1;
      while (j < code.size() && std::isspace(static_cast<unsigned char>(code[j]))) ++j;
      size_t k = j;
      while (k < code.size() && std::isdigit(static_cast<unsigned char>(code[k]))) ++k;
      if (k > j)
        throw ParseError("negative number -" + std::string(code.substr(j, k - j)) +
                             "; sizes, strides and constants must be >= 0", lineno, source);
    }
    for (size_t i = 0; i < code.size();) {
      size_t k = i;
      while (k < code.size() && std::isdigit(static_cast<unsigned char>(code[k]))) ++k;
      if (k > i && beyond_int64(code.substr(i, k - i)))
        throw ParseError("number " + std::string(code.substr(i, k - i)) +
                             " does not fit 64 bits (the largest is " + std::string(kInt64Max) + ")",
                         lineno, source);
      i = k > i ? k : i + 1;
    }
  }
}

// ------------------------------------------------------------ cursor
class Cursor {
 public:
  Cursor(std::vector<Token> tokens, const std::string& source)
      : tokens_(std::move(tokens)), source_(source) {}

  bool done() const { return pos_ >= tokens_.size(); }
  const std::string* peek() const { return done() ? nullptr : &tokens_[pos_].text; }
  bool peek_is(std::string_view s) const { return !done() && tokens_[pos_].text == s; }

  const std::string& next(const std::string& expected) {
    if (done()) throw ParseError("unexpected end of text, expected " + expected, line(), source_);
    return tokens_[pos_++].text;
  }

  void expect(const std::string& literal) {
    const std::string& tok = next("'" + literal + "'");
    if (tok != literal) throw error("expected '" + literal + "', found '" + tok + "'", 1);
  }

  // An error at the token `back` tokens before the current one.
  ParseError error(const std::string& message, size_t back = 0) const {
    if (tokens_.empty()) return ParseError(message, 0, source_);
    const size_t pos = std::min(pos_ >= back ? pos_ - back : 0, tokens_.size() - 1);
    return ParseError(message, tokens_[pos].line, source_);
  }

  // The line of the current token (of the last one at the end).
  int line() const {
    return tokens_.empty() ? 0 : tokens_[std::min(pos_, tokens_.size() - 1)].line;
  }
  // The line of the token just consumed.
  int last_line() const { return pos_ > 0 ? tokens_[pos_ - 1].line : line(); }

  std::vector<Token>& tokens() { return tokens_; }
  size_t pos() const { return pos_; }
  const std::string& source() const { return source_; }

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::string source_;
};

// ------------------------------------------------------------ dataflow grammar
std::vector<std::string> var_names(int n) {
  std::vector<std::string> out;
  for (int v = 0; v < n; ++v) out.emplace_back(var_name(v));
  return out;
}

int index_of(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

bool is_identifier(const std::string& s) {
  const auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(), word);
}

// A directive size or offset, or a cluster size: an integer, Sz(D) or a
// constant's name (added to df.params on first use).
Expr parse_expr(Cursor& tk, const std::string& what, ParsedDataflow& df) {
  const std::string& tok = tk.next(what);
  if (tok == "Sz") {
    static const std::vector<std::string> dims = var_names(kNumDims);
    const std::string& dim = tk.next("a dimension name after Sz");
    const int d = index_of(dims, dim);
    if (d < 0) throw tk.error("Sz() takes one of " + joined(dims) + ", found '" + dim + "'", 1);
    return Expr{Expr::DimSize, d};
  }
  if (is_digits(tok)) {
    if (beyond_int64(tok))
      throw tk.error("the integer " + tok + " does not fit 64 bits (at most 2^63 - 1)", 1);
    return Expr{Expr::Literal, std::stoll(tok)};
  }
  if (is_identifier(tok)) {
    int p = index_of(df.params, tok);
    if (p < 0) {
      p = static_cast<int>(df.params.size());
      df.params.push_back(tok);
    }
    return Expr{Expr::Param, p};
  }
  throw tk.error("expected " + what + " (an integer, Sz(D) or a constant name), found '" + tok +
                     "'", 1);
}

// Directives up to and including the closing brace.
ParsedDataflow parse_body(Cursor& tk) {
  static const std::vector<std::string> vars = var_names(kNumVars);
  ParsedDataflow df;
  df.spec.levels.emplace_back();
  while (true) {
    const std::string tok = tk.next("a directive or '}'");
    if (tok == "}") break;
    if (tok == "TemporalMap" || tok == "SpatialMap") {
      DirectiveSpec d;
      d.spatial = tok == "SpatialMap";
      d.size = parse_expr(tk, "a directive size", df);
      d.offset = parse_expr(tk, "a directive offset", df);
      const std::string& var = tk.next("a dimension name");
      d.var = index_of(vars, var);
      if (d.var < 0)
        throw tk.error("a directive maps one of " + joined(vars) + ", found '" + var + "'", 1);
      df.spec.levels.back().push_back(d);
    } else if (tok == "Cluster") {
      df.spec.clusters.push_back(parse_expr(tk, "a cluster size", df));
      if (tk.peek_is("P") || tk.peek_is("L")) tk.next("a cluster type");  // no effect
      df.spec.levels.emplace_back();
    } else {
      throw tk.error("expected TemporalMap, SpatialMap, Cluster or '}', found '" + tok + "'", 1);
    }
  }
  df.spec.num_params = static_cast<int>(df.params.size());
  return df;
}

// ------------------------------------------------------------ mapping files
// The dimensions each layer type must declare (engine variables).
std::vector<int> required_dims(LayerType type) {
  switch (type) {
    case LayerType::DepthwiseConv: return {C, R, S, Y, X};
    case LayerType::GroupedConv: return {G, K, C, R, S, Y, X};
    case LayerType::Gemm: return {Y, K, C};
    default: return {K, C, R, S, Y, X};
  }
}

class MappingParser {
 public:
  MappingParser(std::string_view text, const std::string& source)
      : tk_(tokenize(text), source) {}

  std::vector<MappingLayer> parse() {
    std::vector<MappingLayer> layers;
    while (!tk_.done()) {
      const std::string tok = tk_.next("Constant or Network");
      if (tok == "Constant") {
        const std::string name = tk_.next("a constant name");
        const std::string& value = tk_.next("a value for constant " + name);
        set_constant(name, is_digits(value) ? std::stoll(value) : 0);  // MAESTRO: non-numeric -> 0
      } else if (tok == "Network") {
        const std::string network = name_before_brace("a network name");
        while (true) {
          const std::string t = tk_.next("Layer or '}'");
          if (t == "}") break;
          if (t != "Layer") throw tk_.error("expected Layer or '}', found '" + t + "'", 1);
          layers.push_back(parse_layer(network));
        }
      } else {
        throw tk_.error("expected Constant or Network, found '" + tok + "'", 1);
      }
    }
    if (layers.empty())
      throw ParseError("no Layer found (expected Network NAME { Layer NAME { ... } })", 0,
                       tk_.source());
    check_batch_dimension(layers);
    return layers;
  }

 private:
  void set_constant(const std::string& name, i64 value) {
    for (auto& [n, v] : constants_)
      if (n == name) { v = value; return; }
    constants_.emplace_back(name, value);
  }

  const i64* constant(const std::string& name) const {
    for (const auto& [n, v] : constants_)
      if (n == name) return &v;
    return nullptr;
  }

  // MAESTRO's name of a Network or Layer: the last token before its '{' (the
  // tokenizer splits at '-', so `conv1-7x7` is named `7x7`).
  std::string name_before_brace(const std::string& what) {
    std::string name = tk_.next(what);
    if (name == "{") throw tk_.error("expected " + what + " before '{'", 1);
    while (!tk_.done() && !tk_.peek_is("{")) name = tk_.next(what);
    tk_.expect("{");
    return name;
  }

  // An integer or a declared constant's value.
  i64 value(const std::string& what) {
    const std::string& tok = tk_.next(what);
    if (is_digits(tok)) return std::stoll(tok);
    if (const i64* v = constant(tok)) return *v;
    throw tk_.error("expected " + what + " (an integer or a declared Constant), found '" + tok +
                        "'", 1);
  }

  struct Dims {
    std::map<int, i64> first;                // engine variable -> first declared value
    std::vector<std::pair<int, i64>> again;  // later declarations
  };

  Dims parse_dimensions(const LayerType* type) {
    if (type == nullptr) throw tk_.error("the 'Type:' line must come before Dimensions", 1);
    const auto names = dimension_names(*type);
    tk_.expect("{");
    Dims dims;
    while (true) {
      const std::string name = tk_.next("a dimension name or '}'");
      if (name == "}") return dims;
      const auto it = std::find_if(names.begin(), names.end(),
                                   [&](const auto& n) { return n.first == name; });
      if (it == names.end()) {
        std::vector<std::string> allowed;
        for (const auto& n : names) allowed.push_back(n.first);
        throw tk_.error("unknown dimension '" + name + "' for a " + layer_type_name(int(*type)) +
                            " layer; allowed: " + joined(allowed), 1);
      }
      const i64 v = value("a size for dimension " + name);
      if (v <= 0)
        throw tk_.error("dimension " + name + " must be > 0, found " + std::to_string(v), 1);
      if (dims.first.count(it->second))
        dims.again.emplace_back(it->second, v);
      else
        dims.first[it->second] = v;
    }
  }

  // `Stride { X: 2, Y: 2 }`: the strides along X and Y.
  std::map<std::string, i64> parse_stride() {
    tk_.expect("{");
    std::map<std::string, i64> strides;
    while (true) {
      const std::string dim = tk_.next("X, Y or '}'");
      if (dim == "}") return strides;
      if (dim != "X" && dim != "Y") throw tk_.error("a Stride names X or Y, found '" + dim + "'", 1);
      const i64 v = value("a stride for " + dim);
      if (v <= 0)
        throw tk_.error("the stride of " + dim + " must be > 0, found " + std::to_string(v), 1);
      strides[dim] = v;
    }
  }

  // `{ directives }` after the word Dataflow, in the layer type's names.
  ParsedDataflow parse_layer_dataflow(const std::string& layer, const LayerType* type) {
    const int line = tk_.last_line();
    if (type != nullptr && *type == LayerType::Gemm) {  // rename M, N, K up to the closing brace
      int depth = 0;
      for (size_t i = tk_.pos(); i < tk_.tokens().size(); ++i) {
        std::string& tok = tk_.tokens()[i].text;
        depth += (tok == "{") - (tok == "}");
        for (const auto& g : kGemmDims)
          if (tok == g.name) { tok = var_name(g.var); break; }
        if (depth == 0 && tok == "}") break;
      }
    }
    tk_.expect("{");
    ParsedDataflow df = parse_body(tk_);
    try {
      df.spec.validate();
    } catch (const std::invalid_argument& e) {  // e.g. a directive on an unknown dimension
      throw ParseError("layer " + layer + ": bad Dataflow: " + e.what(), line, tk_.source());
    }
    for (const auto& p : df.params)
      if (constant(p) == nullptr)
        throw ParseError("the Dataflow uses '" + p + "', which is not a declared Constant", line,
                         tk_.source());
    return df;
  }

  // `NAME { Type: T  Stride {...}  Dimensions {...}  Dataflow {...} }` after the word Layer.
  MappingLayer parse_layer(const std::string& network) {
    MappingLayer ml;
    ml.network = network;
    ml.line = tk_.last_line();
    ml.name = name_before_brace("a layer name");
    LayerType type{};
    bool typed = false, has_dims = false, has_dataflow = false;
    Dims dims;
    std::map<std::string, i64> strides;
    while (true) {
      const std::string tok = tk_.next("Type, Stride, Dimensions, Dataflow or '}'");
      if (tok == "}") break;
      if (tok == "Type") {
        const std::string name = tk_.next("a layer type");
        std::vector<std::string> allowed;
        for (int t = 0; t < int(LayerType::kNumLayerTypes); ++t) allowed.push_back(layer_type_name(t));
        const int t = index_of(allowed, name);
        if (t < 0)
          throw tk_.error("unknown layer type '" + name + "'; allowed: " + joined(allowed), 1);
        type = static_cast<LayerType>(t);
        typed = true;
      } else if (tok == "Dimensions") {
        dims = parse_dimensions(typed ? &type : nullptr);
        has_dims = true;
      } else if (tok == "Stride") {
        strides = parse_stride();
      } else if (tok == "Dataflow") {
        ml.dataflow = parse_layer_dataflow(ml.name, typed ? &type : nullptr);
        has_dataflow = true;
      } else {
        throw tk_.error("expected Type, Stride, Dimensions, Dataflow or '}', found '" + tok + "'",
                        1);
      }
    }
    const auto fail = [&](const std::string& message) {
      return ParseError("layer " + ml.name + ": " + message, ml.line, tk_.source());
    };
    if (!typed) {
      std::vector<std::string> allowed;
      for (int t = 0; t < int(LayerType::kNumLayerTypes); ++t) allowed.push_back(layer_type_name(t));
      throw fail("no 'Type:' line (" + joined(allowed) + ")");
    }
    if (!has_dims) throw fail("no Dimensions block");
    const auto names = dimension_names(type);
    const auto written = [&](int var) {
      for (const auto& [n, v] : names)
        if (v == var) return n;
      return std::string(var_name(var));
    };
    std::vector<std::string> missing;
    for (int d : required_dims(type))
      if (!dims.first.count(d)) missing.push_back(written(d));
    if (!missing.empty()) throw fail("Dimensions lacks " + joined(missing));
    if (!has_dataflow)  // MAESTRO fails too ("No spatial map in a cluster")
      throw fail("no Dataflow block (every layer needs its own)");
    std::set<std::string> undeclared;  // sorted by name, as the message picks the first
    const auto check_sz = [&](const Expr& e) {
      if (e.kind == Expr::DimSize && !dims.first.count(static_cast<int>(e.value)))
        undeclared.insert(var_name(static_cast<int>(e.value)));
    };
    for (const auto& level : ml.dataflow.spec.levels)
      for (const auto& d : level) { check_sz(d.size); check_sz(d.offset); }
    for (const auto& c : ml.dataflow.spec.clusters) check_sz(c);
    if (!undeclared.empty()) {
      const std::string first = *undeclared.begin();
      const int var = index_of(var_names(kNumDims), first);
      throw fail("the Dataflow uses Sz(" + written(var) + "), but it is not declared in Dimensions");
    }
    if (type == LayerType::DepthwiseConv && !dims.first.count(K)) {  // K defaults to 1 below
      for (const auto& level : ml.dataflow.spec.levels)
        for (const auto& d : level)
          if (d.var == K)
            throw fail("the Dataflow maps K, which this DSCONV layer does not declare: MAESTRO"
                       " fails there (\"Dimension K not found\"); declare K: 1 or drop the"
                       " directive");
    }
    if (type == LayerType::Gemm) dims.first[R] = dims.first[S] = dims.first[X] = 1;
    ml.layer.type = type;
    for (int d = 0; d < kNumDims; ++d) {
      const auto it = dims.first.find(d);
      ml.layer.dims[d] = it != dims.first.end() ? it->second : d == K ? 1 : 0;  // DSCONV: K = 1
    }
    ml.layer.stride_y = strides.count("Y") ? strides["Y"] : 1;
    ml.layer.stride_x = strides.count("X") ? strides["X"] : 1;
    for (const auto& p : ml.dataflow.params) ml.params.push_back(*constant(p));
    ml.constants = constants_;
    const TensorVars tensors = tensor_vars(type);
    const auto in = [](const std::vector<int>& vars, int v) {
      return std::find(vars.begin(), vars.end(), v) != vars.end();
    };
    for (const auto& [var, v] : dims.again) {
      if (in(tensors[0], var)) ml.input_pixel_factor *= v;
      if (in(tensors[1], var)) ml.weight_pixel_factor *= v;
    }
    return ml;
  }

  // MAESTRO takes the tensors' batch dimension N from a file's first layer
  // (§19): a later layer without N fails there ("Dimension N not found"), which
  // archgym refuses with one line; a later layer with N is analysed with N in
  // its loops but not in its tensors, which archgym does too (with N mapped in
  // a dataflow of several levels MAESTRO fails, and archgym refuses).
  void check_batch_dimension(std::vector<MappingLayer>& layers) const {
    const MappingLayer& first = layers.front();
    const bool first_has_n = first.layer.dims[N] > 0;
    for (size_t i = 1; i < layers.size(); ++i) {
      MappingLayer& ml = layers[i];
      if ((ml.layer.dims[N] > 0) == first_has_n) continue;
      if (!first_has_n) {
        const auto& levels = ml.dataflow.spec.levels;
        const bool maps_n = std::any_of(levels.begin(), levels.end(), [](const auto& level) {
          return std::any_of(level.begin(), level.end(), [](const auto& d) { return d.var == N; });
        });
        if (maps_n && levels.size() > 1)
          throw ParseError("layer " + ml.name + ": declares the batch dimension N, which the "
                               "file's first layer (" + first.name + ") does not, and maps N in "
                               "a dataflow with Cluster levels: MAESTRO fails there (\"Dimension "
                               "N not found\"); declare N in the first layer too",
                           ml.line, tk_.source());
        ml.layer.batch_in_tensors = false;
        continue;
      }
      throw ParseError("layer " + ml.name + ": lacks the batch dimension N, which the file's "
                           "first layer (" + first.name + ") declares; MAESTRO takes N from the "
                           "first layer and fails here, so N must be declared in every layer",
                       ml.line, tk_.source());
    }
  }

  Cursor tk_;
  std::vector<std::pair<std::string, i64>> constants_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  const auto lines = split_lines(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string_view line = lines[n];
    size_t i = 0;
    while (i < line.size()) {
      i = line.find_first_not_of(kSeparators, i);
      if (i == std::string_view::npos) break;
      size_t end = line.find_first_of(kSeparators, i);
      if (end == std::string_view::npos) end = line.size();
      const std::string_view tok = line.substr(i, end - i);
      if (tok.substr(0, 2) == "//") break;
      tokens.push_back(Token{std::string(tok), static_cast<int>(n) + 1});
      i = end;
    }
  }
  return tokens;
}

ParsedDataflow parse_dataflow(std::string_view text, const std::string& source,
                              const std::vector<std::pair<std::string, std::string>>& renames) {
  std::vector<Token> tokens = tokenize(text);
  for (Token& t : tokens)
    for (const auto& [from, to] : renames)
      if (t.text == from) { t.text = to; break; }
  Cursor tk(std::move(tokens), source);
  if (tk.peek_is("Dataflow")) {
    tk.next("Dataflow");
    tk.expect("{");
  } else {  // a bare list of directives
    const int line = tk.tokens().empty() ? 1 : tk.tokens().back().line;
    tk.tokens().push_back(Token{"}", line});
  }
  ParsedDataflow df = parse_body(tk);
  if (!tk.done()) throw tk.error("unexpected '" + *tk.peek() + "' after the dataflow");
  return df;
}

std::vector<MappingLayer> parse_mapping(std::string_view text, const std::string& source) {
  check_text(text, source);
  return MappingParser(text, source).parse();
}

std::vector<std::pair<std::string, int>> dimension_names(LayerType type) {
  std::vector<std::pair<std::string, int>> names;
  if (type == LayerType::Gemm) {
    for (const auto& g : kGemmDims) names.emplace_back(g.name, g.var);
    return names;
  }
  for (int d = 0; d < kNumDims; ++d)
    if (d != G || type == LayerType::GroupedConv) names.emplace_back(var_name(d), d);
  return names;
}

}  // namespace archgym::costmodel
