// The `archgym-maestro` executable: MAESTRO's command line (maestro_cli.hpp),
// a plain C++ program that does not load Python.
#include <iostream>
#include <string>
#include <vector>

#include "costmodel/maestro_cli.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  return archgym::costmodel::maestro_main(args, std::cout, std::cerr);
}
