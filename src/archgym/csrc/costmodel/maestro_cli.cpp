// MAESTRO's command line and CSV (see maestro_cli.hpp; §n refers to
// docs/design/costmodel.md).
#include "costmodel/maestro_cli.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace archgym::costmodel {

namespace {

constexpr const char* kProg = "archgym-maestro";

// MAESTRO HEAD's CSV header line, byte for byte (read from the real MAESTRO's
// output, tests/data/reference/maestro/mapping_outputs/).  It calls "Compute
// Delay (Max)" "Compute Delay (Min)".
constexpr const char* kRawHeader2021 =
    "Neural Network Name, Layer Number, NumPEs, Runtime (Cycles), Activity count-based Energy "
    "(nJ), Throughput (MACs/Cycle), Throughput Per Energy (GMACs/s*J), Area, Power, NoC BW Req "
    "(Elements/cycle), Avg BW Req, Peak BW Req, Vector Width, Offchip BW Req (Elements/cycle),  "
    "L2 SRAM Size Req (Bytes), L1 SRAM Size Req (Bytes), Multicasting Factor (Weight), "
    "Multicasting Factor (Input), Num Total Input Pixels, Num Total Weight Pixels, Ops/J, "
    "Num MACs, PE power, L1 power, L2 power, NOC power, input l1 read, input l1 write, input l2 "
    "read, input l2 write, input reuse factor,filter l1 read, filter l1 write, filter l2 read, "
    "filter l2 write, filter reuse factor,output l1 read, output l1 write, output l2 read, output "
    "l2 write, output reuse factor,Ingress Delay (Min), Ingress Delay (Max), Ingress Delay (Avg), "
    "Egress Delay (Min), Egress Delay (Max),  Egress Delay (Avg),Compute Delay (Min), Compute "
    "Delay (Min), Compute Delay (Avg),Avg number of utilized PEs, Arithmetic Intensity";

// MAESTRO writes the data fields from this column on with one leading space.
constexpr std::string_view kPaddedFrom = "input l1 write";

const char* const kTensors[] = {"input", "filter", "output"};
const char* const kDelayKinds[] = {"Ingress", "Egress", "Compute"};
const char* const kStats[] = {"Min", "Max", "Avg"};

// The column names of HEAD (2021) in CSV order, and whether each is an integer.
std::vector<std::pair<std::string, bool>> names_2021() {
  std::vector<std::pair<std::string, bool>> out = {
      {"Neural Network Name", false}, {"Layer Number", false}, {"NumPEs", true},
      {"Runtime (Cycles)", true}, {"Activity count-based Energy (nJ)", false},
      {"Throughput (MACs/Cycle)", false}, {"Throughput Per Energy (GMACs/s*J)", false},
      {"Area", false}, {"Power", false}, {"NoC BW Req (Elements/cycle)", true},
      {"Avg BW Req", false}, {"Peak BW Req", true}, {"Vector Width", true},
      {"Offchip BW Req (Elements/cycle)", true}, {"L2 SRAM Size Req (Bytes)", true},
      {"L1 SRAM Size Req (Bytes)", true}, {"Multicasting Factor (Weight)", false},
      {"Multicasting Factor (Input)", false}, {"Num Total Input Pixels", true},
      {"Num Total Weight Pixels", true}, {"Ops/J", false}, {"Num MACs", true},
      {"PE power", false}, {"L1 power", false}, {"L2 power", false}, {"NOC power", false}};
  for (const char* t : kTensors) {
    for (const char* what : {"l1 read", "l1 write", "l2 read", "l2 write"})
      out.emplace_back(std::string(t) + " " + what, true);
    out.emplace_back(std::string(t) + " reuse factor", false);
  }
  for (const char* kind : kDelayKinds)
    for (const char* stat : kStats)
      out.emplace_back(std::string(kind) + " Delay (" + stat + ")", true);
  out.emplace_back("Avg number of utilized PEs", false);
  out.emplace_back("Arithmetic Intensity", false);
  return out;
}

// The 2020 release's names of columns HEAD renamed ({2020 name, HEAD name});
// its header is assumed to space every column as HEAD does.  It has no
// off-chip column.
constexpr std::pair<std::string_view, std::string_view> kNames2020[] = {
    {"NoC BW (Elements/cycle)", "NoC BW Req (Elements/cycle)"},
    {"L2 SRAM Size (Bytes)", "L2 SRAM Size Req (Bytes)"},
    {"L1 SRAM Size (Bytes)", "L1 SRAM Size Req (Bytes)"}};

std::vector<CsvColumn> make_columns(Preset preset) {
  std::vector<std::string> raw;
  std::stringstream header(kRawHeader2021);
  for (std::string field; std::getline(header, field, ',');) raw.push_back(field);
  const auto names = names_2021();
  if (raw.size() != names.size()) throw std::logic_error("MAESTRO's header: wrong column count");
  std::vector<CsvColumn> out;
  for (size_t i = 0; i < names.size(); ++i) {
    CsvColumn col{names[i].first, raw[i], names[i].second};
    if (preset == Preset::Maestro2020) {
      if (col.name == "Offchip BW Req (Elements/cycle)") continue;
      for (const auto& [old_name, head_name] : kNames2020)
        if (col.name == head_name) {
          col.raw.replace(col.raw.find(head_name), head_name.size(), old_name);
          col.name = old_name;
        }
    }
    out.push_back(col);
  }
  return out;
}

CsvValue integer(i64 v) { return CsvValue{CsvValue::Int, v, 0, {}}; }
CsvValue real(double v) { return CsvValue{CsvValue::Float, 0, v, {}}; }
CsvValue text(const std::string& v) { return CsvValue{CsvValue::Text, 0, 0, v}; }

}  // namespace

const std::vector<CsvColumn>& csv_columns(Preset preset) {
  static const std::vector<CsvColumn> k2020 = make_columns(Preset::Maestro2020);
  static const std::vector<CsvColumn> k2021 = make_columns(Preset::Maestro2021);
  return preset == Preset::Maestro2020 ? k2020 : k2021;
}

std::string csv_header(Preset preset) {
  std::string out;
  for (const auto& c : csv_columns(preset)) out += (out.empty() ? "" : ",") + c.raw;
  return out;
}

double c_div(double a, double b) {
  if (b != 0) return a / b;
  if (a == 0 || std::isnan(a)) return std::numeric_limits<double>::quiet_NaN();
  return std::copysign(std::numeric_limits<double>::infinity(), a) * std::copysign(1.0, b);
}

std::vector<CsvValue> csv_row(const Result& r, const Hardware& hw, Preset preset,
                              const std::string& layer, const std::string& network,
                              double prev_l1_energy, bool compat) {
  const auto& I = r.ints;
  const auto& F = r.floats;
  const double energy = compat ? F[kEnergyL2] + (I[kSingleEntry] ? F[kEnergyL1] : prev_l1_energy)
                               : F[kEnergy];
  const double macs = static_cast<double>(I[kMacs]), runtime = static_cast<double>(I[kRuntime]);
  std::map<std::string, CsvValue> v = {
      {"Neural Network Name", text(network)},
      {"Layer Number", text(layer)},
      {"NumPEs", integer(hw.num_pes)},
      {"Runtime (Cycles)", integer(I[kRuntime])},
      {"Activity count-based Energy (nJ)", real(energy)},
      {"Throughput (MACs/Cycle)", real(c_div(macs, runtime))},
      {"Throughput Per Energy (GMACs/s*J)", real(c_div(c_div(macs, runtime), energy) * 1e9)},
      {"Area", real(F[kArea])},
      {"Power", real(F[kPower])},
      {"NoC BW Req (Elements/cycle)", integer(I[kPeakBw])},  // HEAD prints Peak here
      {"NoC BW (Elements/cycle)", integer(hw.noc_bw)},       // 2020 prints the configured value
      {"Avg BW Req", real(F[kAvgBw])},
      {"Peak BW Req", integer(I[kPeakBw])},
      {"Vector Width", integer(hw.simd_lanes)},
      {"Offchip BW Req (Elements/cycle)", integer(I[kOffchipBw])},
      {"L2 SRAM Size Req (Bytes)", integer(I[kL2Size])},
      {"L1 SRAM Size Req (Bytes)", integer(I[kL1Size])},
      {"L2 SRAM Size (Bytes)", integer(I[kL2Size])},
      {"L1 SRAM Size (Bytes)", integer(I[kL1Size])},
      {"Multicasting Factor (Weight)",
       real(c_div(double(I[kFiltL1Write]), double(I[kFiltL2Read])))},
      {"Multicasting Factor (Input)", real(c_div(double(I[kInL1Write]), double(I[kInL2Read])))},
      {"Num Total Input Pixels", integer(I[kInputPixels])},
      {"Num Total Weight Pixels", integer(I[kWeightPixels])},
      // MAESTRO prints Ops/J = 0 for a degenerate row (no top case processed).
      {"Ops/J", real(I[kDegenerate] && energy == 0.0 ? 0.0 : c_div(macs, energy) * 1e9)},
      {"Num MACs", integer(I[kMacs])},
      {"PE power", real(F[kPePower])},
      {"L1 power", real(F[kL1Power])},
      {"L2 power", real(F[kL2Power])},
      {"NOC power", real(F[kNocPower])},
      {"Avg number of utilized PEs", real(F[kAvgActive])},
      {"Arithmetic Intensity", real(F[kArithIntensity])},
  };
  const int first_access[] = {kInL1Read, kFiltL1Read, kOutL1Read};
  const char* const accesses[] = {"l1 read", "l1 write", "l2 read", "l2 write"};
  for (int t = 0; t < 3; ++t) {
    const std::string tensor = kTensors[t];
    for (int a = 0; a < 4; ++a) v[tensor + " " + accesses[a]] = integer(I[first_access[t] + a]);
    v[tensor + " reuse factor"] =
        real(c_div(double(I[first_access[t]]), double(I[first_access[t] + 1])));
  }
  for (int k = 0; k < 3; ++k)
    for (int s = 0; s < 3; ++s)
      v[std::string(kDelayKinds[k]) + " Delay (" + kStats[s] + ")"] =
          integer(I[kIngressMin + 3 * k + s]);
  std::vector<CsvValue> out;
  for (const auto& c : csv_columns(preset)) out.push_back(v.at(c.name));
  return out;
}

std::string format_value(const CsvValue& v) {
  if (v.kind == CsvValue::Text) return v.s;
  if (v.kind == CsvValue::Int) return std::to_string(v.i);
  if (std::isnan(v.f)) return "-nan";  // every NaN here comes from 0/0, which x86 prints as -nan
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v.f);
  return buf;
}

std::string format_row(const std::vector<std::string>& names, const std::vector<CsvValue>& values) {
  std::string out;
  bool pad = false;
  for (size_t i = 0; i < values.size(); ++i) {
    pad = pad || (i < names.size() && names[i] == kPaddedFrom);
    out += (i ? "," : "") + std::string(pad ? " " : "") + format_value(values[i]);
  }
  return out;
}

std::string csv_name(std::string_view mapping_file) {
  for (int i = 0; i < 2; ++i) {
    const size_t cut = mapping_file.find('/');
    if (cut == std::string_view::npos) break;
    mapping_file.remove_prefix(cut + 1);
  }
  return std::string(mapping_file.substr(0, mapping_file.find('.'))) + ".csv";
}

std::vector<std::vector<CsvValue>> run_mapping(const std::vector<MappingLayer>& layers,
                                               const Hardware& hw, const Options& options,
                                               const std::string& source) {
  std::vector<std::vector<CsvValue>> rows;
  double prev_l1_energy = 0;
  for (const MappingLayer& ml : layers) {
    const std::string where = (source.empty() ? "" : source + ":") + "line " +
                              std::to_string(ml.line) + ": layer " + ml.name + ": ";
    Result r;
    try {
      r = evaluate(ml.dataflow.spec, ml.layer, hw, ml.params.data(), options);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + e.what());
    }
    if (r.ints[kDegenerate] && !options.compat)  // MAESTRO prints runtime 0 (§7)
      throw std::invalid_argument(
          where + "the mapping computes nothing (no top-level case has an output; a window "
                  "directive's edge tile is empty): MAESTRO prints runtime 0 and a negative "
                  "energy here, --compat=false refuses it");
    r.ints[kInputPixels] *= ml.input_pixel_factor;
    r.ints[kWeightPixels] *= ml.weight_pixel_factor;
    rows.push_back(csv_row(r, hw, options.preset, ml.name, ml.network, prev_l1_energy,
                           options.compat));
    prev_l1_energy = r.floats[kEnergyL1];
  }
  return rows;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (in && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) errno = EISDIR, in.close();
  if (!in.is_open()) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ------------------------------------------------------------ command line
namespace {

enum class FlagKind { Integer, Boolean, Text };

struct Flag {
  const char* name;   // without the leading "--"
  const char* alias;  // MAESTRO 2020's name, or nullptr
  FlagKind kind;
  const char* help;
};

// MAESTRO's flags.  The integer ones without a value take MAESTRO's own
// defaults (kMaestroFlagDefaults, read from its behaviour, §19).
constexpr Flag kFlags[] = {
    {"Mapping_file", nullptr, FlagKind::Text, "the mapping (.m) file"},
    {"HW_file", nullptr, FlagKind::Text,
     "'key: value' lines for num_pes, l1_size_cstr, l2_size_cstr, noc_bw_cstr, offchip_bw_cstr "
     "(command-line flags win)"},
    {"num_pes", nullptr, FlagKind::Integer, "number of PEs"},
    {"num_simd_lanes", nullptr, FlagKind::Integer, "vector width of a PE"},
    {"noc_bw_cstr", "noc_bw", FlagKind::Integer, "NoC bandwidth, elements/cycle"},
    {"noc_hops", nullptr, FlagKind::Integer, "NoC hops"},
    {"noc_hop_latency", nullptr, FlagKind::Integer, "cycles per hop"},
    {"offchip_bw_cstr", nullptr, FlagKind::Integer, "off-chip bandwidth, elements/cycle"},
    {"l1_size_cstr", "l1_size", FlagKind::Integer,
     "L1 size limit per PE, bytes (only reported by --print_res)"},
    {"l2_size_cstr", "l2_size", FlagKind::Integer,
     "L2 size limit, bytes (only reported by --print_res)"},
    {"noc_mc_support", nullptr, FlagKind::Boolean, "accepted; only true is modelled"},
    {"full_buffer", nullptr, FlagKind::Boolean, "accepted; only false is modelled"},
    {"print_res", nullptr, FlagKind::Boolean, "print a summary per layer (default true)"},
    {"print_res_csv_file", nullptr, FlagKind::Boolean, "append rows to <name>.csv (default true)"},
    {"print_log_file", nullptr, FlagKind::Boolean, "accepted and ignored"},
    {"print_design_space", nullptr, FlagKind::Boolean, "accepted and ignored"},
    {"msg_print_lv", nullptr, FlagKind::Integer, "accepted and ignored"},
    {"preset", nullptr, FlagKind::Text,
     "maestro2021 (HEAD columns and constants, the default) or maestro2020"},
    {"compat", nullptr, FlagKind::Boolean,
     "reproduce MAESTRO's quirks (default true); false = corrected L1 tile and energy"},
};

// The flags' defaults when not given; the integer flags of the engine's
// Hardware default to kMaestroFlagDefaults.
const std::map<std::string, std::string> kDefaults = {
    {"noc_mc_support", "true"}, {"full_buffer", "false"}, {"print_res", "true"},
    {"print_res_csv_file", "true"}, {"print_log_file", "false"},
    {"print_design_space", "false"}, {"preset", "maestro2021"}, {"compat", "true"}};

// The L1 and L2 limits when neither a flag nor the HW file gives them.
constexpr i64 kDefaultSizeLimit = 819'200'000;

// The engine's Hardware field each integer flag (or HW-file key) sets.
constexpr std::pair<std::string_view, i64 Hardware::*> kHardwareFlags[] = {
    {"num_pes", &Hardware::num_pes},       {"num_simd_lanes", &Hardware::simd_lanes},
    {"noc_bw_cstr", &Hardware::noc_bw},    {"noc_hops", &Hardware::noc_hops},
    {"noc_hop_latency", &Hardware::noc_hop_latency},
    {"offchip_bw_cstr", &Hardware::offchip_bw}};

// The keys of a HW file (MAESTRO's names and the 2020 ones) -> the flag.
constexpr std::pair<std::string_view, std::string_view> kHwFileKeys[] = {
    {"num_pes", "num_pes"},         {"l1_size_cstr", "l1_size_cstr"},
    {"l2_size_cstr", "l2_size_cstr"}, {"noc_bw_cstr", "noc_bw_cstr"},
    {"offchip_bw_cstr", "offchip_bw_cstr"}, {"l1_size", "l1_size_cstr"},
    {"l2_size", "l2_size_cstr"},    {"noc_bw", "noc_bw_cstr"}};

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : kFlags)
    if (name == f.name || (f.alias != nullptr && name == f.alias)) return &f;
  return nullptr;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool parse_bool(const std::string& flag, const std::string& value) {
  std::string v = trimmed(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw std::invalid_argument("argument --" + flag + ": expected true or false, got '" + value + "'");
}

i64 parse_int(const std::string& flag, const std::string& value) {
  const std::string v = trimmed(value);
  const size_t digits = v.find_first_not_of("+-") == 1 ? 1 : 0;
  if (v.size() <= digits || !std::all_of(v.begin() + digits, v.end(),
                                         [](unsigned char c) { return std::isdigit(c); }))
    throw std::invalid_argument("argument --" + flag + ": expected an integer, got '" + value + "'");
  errno = 0;
  const long long n = std::strtoll(v.c_str(), nullptr, 10);
  if (errno == ERANGE)
    throw std::invalid_argument("argument --" + flag + ": " + value + " does not fit 64 bits");
  return n;
}

// The flags given: name -> value ("true" for a boolean flag given alone).
std::map<std::string, std::string> parse_args(const std::vector<std::string>& args,
                                              std::ostream& err, bool& help) {
  std::map<std::string, std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    const bool is_flag = arg.size() > 2 && arg.compare(0, 2, "--") == 0;
    const size_t eq = arg.find('=');
    const std::string name = is_flag ? arg.substr(2, eq == std::string::npos ? eq : eq - 2) : "";
    const Flag* flag = is_flag ? find_flag(name) : nullptr;
    const bool next_is_value = i + 1 < args.size() && args[i + 1].compare(0, 1, "-") != 0;
    if (flag == nullptr) {
      if (is_flag || arg.compare(0, 1, "-") == 0) {
        err << kProg << ": warning: ignoring unknown flag " << arg.substr(0, eq) << "\n";
        if (eq == std::string::npos && next_is_value) ++i;  // a bare word: that flag's value
      } else {
        err << kProg << ": warning: ignoring argument '" << arg << "'\n";
      }
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (flag->kind == FlagKind::Boolean && !next_is_value) {
      value = "true";  // "--flag" alone means --flag=true
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw std::invalid_argument("argument --" + name + ": expected one argument");
    }
    given[flag->name] = value;
  }
  return given;
}

// `key: value` lines of a MAESTRO hardware file; unknown keys: a warning.
std::map<std::string, i64> read_hw_file(const std::string& path, std::ostream& err) {
  std::map<std::string, i64> values;
  std::istringstream lines(read_file(path));
  int lineno = 0;
  for (std::string line; std::getline(lines, line);) {
    ++lineno;
    line = trimmed(line.substr(0, line.find("//")));
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    const std::string key = trimmed(line.substr(0, colon));
    const std::string value = colon == std::string::npos ? "" : trimmed(line.substr(colon + 1));
    if (colon == std::string::npos || value.empty() ||
        !std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); }))
      throw ParseError("expected 'key: integer'", lineno, path);
    errno = 0;
    const long long n = std::strtoll(value.c_str(), nullptr, 10);
    if (errno == ERANGE) throw ParseError("number " + value + " does not fit 64 bits", lineno, path);
    const auto it = std::find_if(std::begin(kHwFileKeys), std::end(kHwFileKeys),
                                 [&](const auto& k) { return k.first == key; });
    if (it == std::end(kHwFileKeys)) {
      err << kProg << ": warning: " << path << ":" << lineno << ": ignoring unknown key '" << key
          << "'\n";
      continue;
    }
    values[std::string(it->second)] = n;
  }
  return values;
}

void print_help(std::ostream& out) {
  out << "usage: " << kProg << " --Mapping_file=FILE.m [--FLAG=VALUE ...]\n\n"
      << "MAESTRO-compatible command line over archgym's cost model: appends one row per layer\n"
      << "to the CSV MAESTRO writes (the mapping file's name up to its first '.', plus .csv).\n\n"
      << "flags (--FLAG=VALUE or --FLAG VALUE; a boolean flag alone means true):\n";
  for (const Flag& f : kFlags) {
    out << "  --" << f.name;
    if (f.alias) out << ", --" << f.alias;
    out << "\n      " << f.help;
    for (const auto& [name, member] : kHardwareFlags)
      if (name == f.name) out << " (default " << kMaestroFlagDefaults.*member << ")";
    out << "\n";
  }
}

Preset preset_named(const std::string& name) {
  std::string allowed;
  for (int p = 0; p < static_cast<int>(Preset::kNumPresets); ++p) {
    if (name == preset_name(p)) return static_cast<Preset>(p);
    allowed += (allowed.empty() ? "" : ", ") + std::string(preset_name(p));
  }
  throw std::invalid_argument("--preset must be one of " + allowed + ", got '" + name + "'");
}

// The summary --print_res prints for one layer.
void print_summary(std::ostream& out, const std::vector<CsvColumn>& columns,
                   const std::vector<CsvValue>& row, const Hardware& hw, i64 l1_limit,
                   i64 l2_limit) {
  const auto at = [&](std::string_view name) -> const CsvValue& {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == name) return row[i];
    throw std::logic_error("no column " + std::string(name));
  };
  const auto fmt = [&](std::string_view name) { return format_value(at(name)); };
  const bool head = columns[9].name == "NoC BW Req (Elements/cycle)";
  const i64 l1 = at(head ? "L1 SRAM Size Req (Bytes)" : "L1 SRAM Size (Bytes)").i;
  const i64 l2 = at(head ? "L2 SRAM Size Req (Bytes)" : "L2 SRAM Size (Bytes)").i;
  out << "Network " << fmt("Neural Network Name") << ", layer " << fmt("Layer Number") << ":\n"
      << "  runtime " << fmt("Runtime (Cycles)") << " cycles, " << fmt("Num MACs")
      << " MACs, throughput " << fmt("Throughput (MACs/Cycle)") << " MACs/cycle\n"
      << "  energy " << fmt("Activity count-based Energy (nJ)") << " nJ, area " << fmt("Area")
      << ", power " << fmt("Power") << "\n"
      << "  L1 " << l1 << " B per PE (limit " << l1_limit << ": "
      << (l1 <= l1_limit ? "ok" : "EXCEEDED") << "), L2 " << l2 << " B (limit " << l2_limit
      << ": " << (l2 <= l2_limit ? "ok" : "EXCEEDED") << ")\n"
      << "  NoC BW: peak " << fmt("Peak BW Req") << ", average " << fmt("Avg BW Req")
      << " elements/cycle (given " << hw.noc_bw << ")\n";
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  bool help = false;
  std::map<std::string, std::string> given = parse_args(args, err, help);
  if (help) {
    print_help(out);
    return 0;
  }
  const auto flag = [&](const std::string& name) -> std::optional<std::string> {
    if (const auto it = given.find(name); it != given.end()) return it->second;
    if (const auto it = kDefaults.find(name); it != kDefaults.end()) return it->second;
    return std::nullopt;
  };
  const auto boolean = [&](const std::string& name) { return parse_bool(name, *flag(name)); };
  std::map<std::string, i64> ints;
  for (const Flag& f : kFlags)
    if (f.kind == FlagKind::Integer && given.count(f.name)) ints[f.name] = parse_int(f.name, given[f.name]);
  for (const Flag& f : kFlags)
    if (f.kind == FlagKind::Boolean) boolean(f.name);  // every boolean checked up front

  Options options;
  options.preset = preset_named(*flag("preset"));
  options.compat = boolean("compat");
  const std::optional<std::string> mapping = flag("Mapping_file");
  if (!mapping || mapping->empty()) throw std::invalid_argument("--Mapping_file=<file.m> is required");
  if (boolean("full_buffer") || !boolean("noc_mc_support"))
    err << kProg << ": warning: --full_buffer=true and --noc_mc_support=false are not modelled; "
        << "computing as full_buffer=false, noc_mc_support=true\n";
  std::map<std::string, i64> settings;
  if (const auto hw_file = flag("HW_file")) settings = read_hw_file(*hw_file, err);
  for (const auto& [name, value] : ints) settings[name] = value;  // command-line flags win
  Hardware hw = kMaestroFlagDefaults;
  for (const auto& [name, member] : kHardwareFlags)
    if (const auto it = settings.find(std::string(name)); it != settings.end()) hw.*member = it->second;
  const i64 l1_limit = settings.count("l1_size_cstr") ? settings["l1_size_cstr"] : kDefaultSizeLimit;
  const i64 l2_limit = settings.count("l2_size_cstr") ? settings["l2_size_cstr"] : kDefaultSizeLimit;

  const auto layers = parse_mapping(read_file(*mapping), *mapping);
  const auto rows = run_mapping(layers, hw, options, *mapping);
  const auto& columns = csv_columns(options.preset);
  if (boolean("print_res"))
    for (const auto& row : rows) print_summary(out, columns, row, hw, l1_limit, l2_limit);
  if (boolean("print_res_csv_file")) {
    const std::string path = csv_name(*mapping);
    struct stat st {};
    const bool is_new = ::stat(path.c_str(), &st) != 0 || st.st_size == 0;
    std::string lines;
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    if (is_new) lines += csv_header(options.preset) + "\n";
    for (const auto& row : rows) lines += format_row(names, row) + "\n";
    std::ofstream csv(path, std::ios::binary | std::ios::app);
    if (!csv) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    csv << lines;
    csv.flush();
    if (!csv) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  return 0;
}

}  // namespace

int maestro_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return run(args, out, err);
  } catch (const std::exception& e) {  // bad flags, ParseError, the engine's errors, files
    err << kProg << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace archgym::costmodel
