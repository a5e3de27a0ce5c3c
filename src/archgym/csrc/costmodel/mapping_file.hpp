// MAESTRO's mapping-file language: the tokenizer, the dataflow grammar and the
// mapping-file parser, shared by the `archgym-maestro` executable and the
// Python API (archgym.costmodel.Dataflow.parse, archgym.costmodel.maestro).
//
// The rules are MAESTRO's observable ones, docs/design/costmodel.md §19-§20.
// Every error is a ParseError naming the source, the line and what was
// expected; what MAESTRO misreads (invisible characters, negative numbers,
// numbers beyond 64 bits) is refused instead.  Plain C++: no Python here.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "costmodel/maestro.hpp"

namespace archgym::costmodel {

// A text that cannot be parsed.  what() is "SOURCE:line N: MESSAGE" (without
// the parts that are unknown: an empty source, line 0).
class ParseError : public std::invalid_argument {
 public:
  ParseError(const std::string& message, int line, const std::string& source);
  int line;  // 1-based; 0 when the error concerns the whole text
};

struct Token {
  std::string text;
  int line;
};

// Splits MAESTRO text into tokens.  Separators are space, tab, carriage return
// and , - > ( ) : ;  a token starting with // ends its line.
std::vector<Token> tokenize(std::string_view text);

// A parsed dataflow: its spec (whose Param expressions index `params`) and the
// names of the constants it uses, in order of first use.
struct ParsedDataflow {
  DataflowSpec spec;
  std::vector<std::string> params;
};

// `Dataflow { directives }` or a bare list of directives.  renames: token ->
// token applied first (a GEMM's M, N, K -> the engine's Y, K, C).  The spec is
// not validated (DataflowSpec::validate).
ParsedDataflow parse_dataflow(std::string_view text, const std::string& source,
                              const std::vector<std::pair<std::string, std::string>>& renames);

// One `Layer` block of a mapping file, ready to evaluate.
struct MappingLayer {
  std::string network, name;
  int line = 0;  // of the Layer keyword
  Layer layer;
  ParsedDataflow dataflow;
  std::vector<i64> params;  // the values of dataflow.params
  // Every constant declared before the layer, in declaration order.
  std::vector<std::pair<std::string, i64>> constants;
  // A dimension declared again after its first declaration: MAESTRO analyses
  // the first value but multiplies the pixel counts by every later one.
  i64 input_pixel_factor = 1, weight_pixel_factor = 1;
};

// Parses a mapping file (its bytes, which must be UTF-8) into its layers, in
// file order.  source names the file in the errors.
std::vector<MappingLayer> parse_mapping(std::string_view text, const std::string& source);

// The dimension names of a layer type's Dimensions block, with the engine's
// variable each stands for (a GEMM's M, N, K; the CONV names otherwise).
std::vector<std::pair<std::string, int>> dimension_names(LayerType type);

}  // namespace archgym::costmodel
