#include "runtime/cli.h"

int main(int argc, char** argv) { return vigil::RunCli(argc, argv); }
