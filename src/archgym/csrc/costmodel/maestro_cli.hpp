// MAESTRO's command line and CSV, over the engine of maestro.hpp: the one
// implementation behind the `archgym-maestro` executable (maestro_main.cpp)
// and archgym.costmodel.maestro (through the bindings).
//
// * csv_columns / csv_header: MAESTRO's columns per preset and its raw header
//   line, byte for byte (its spacing is irregular and its clients, ConfuciuX,
//   index columns by the raw names).
// * csv_row / format_value / format_row: one layer's values as MAESTRO prints
//   them (C++ default float output, `-nan`, one leading space from the column
//   "input l1 write" on).
// * csv_name: the CSV file MAESTRO writes for a mapping path.
// * run_mapping: every layer of a parsed mapping file, evaluated.
// * maestro_main: the command line (MAESTRO's flags and defaults, §19).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "costmodel/mapping_file.hpp"
#include "costmodel/maestro.hpp"

namespace archgym::costmodel {

// A CSV field: an exact integer, a float or a name.
struct CsvValue {
  enum Kind { Int, Float, Text } kind = Int;
  i64 i = 0;
  double f = 0;
  std::string s;
};

struct CsvColumn {
  std::string name;  // without MAESTRO's leading spaces
  std::string raw;   // as MAESTRO's header writes it
  bool integer;      // printed as an exact integer
};

// MAESTRO's columns for a preset, in CSV order.
const std::vector<CsvColumn>& csv_columns(Preset preset);
// MAESTRO's header line (no newline).
std::string csv_header(Preset preset);

// a / b with C semantics: x/0 = +-inf, 0/0 = nan.
double c_div(double a, double b);

// One layer's CSV row (the values of csv_columns(preset)).  prev_l1_energy:
// the previous layer's L1 energy term in the same file (0 for the first).
// With compat the energy is MAESTRO's: the L2 term plus, for a one-level
// dataflow (or a degenerate row), this layer's L1 term, otherwise the
// previous layer's; without compat the engine's full energy.
std::vector<CsvValue> csv_row(const Result& r, const Hardware& hw, Preset preset,
                              const std::string& layer, const std::string& network,
                              double prev_l1_energy, bool compat);

// A value as MAESTRO prints it: ints exact, floats like C++ `<<` (%g), NaN as -nan.
std::string format_value(const CsvValue& v);
// A row as one CSV line (no newline); names: the columns' names.
std::string format_row(const std::vector<std::string>& names, const std::vector<CsvValue>& values);

// MAESTRO's CSV name for a mapping path: remove up to two leading `dir/`
// parts, cut the rest at its first '.', add ".csv" (relative to the current
// directory).
std::string csv_name(std::string_view mapping_file);

// Every layer evaluated, one csv_row each.  Errors of the engine become
// std::invalid_argument naming the source, the line and the layer.
std::vector<std::vector<CsvValue>> run_mapping(const std::vector<MappingLayer>& layers,
                                               const Hardware& hw, const Options& options,
                                               const std::string& source);

// The bytes of a file; std::runtime_error naming it when it cannot be read.
std::string read_file(const std::string& path);

// The command line (args without the program name): MAESTRO's flags, the CSV
// appended to csv_name(--Mapping_file), the summary on out, errors (one line)
// and warnings on err.  Returns the exit code: 0, or 1 on any error.
int maestro_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace archgym::costmodel
