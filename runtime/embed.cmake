# Turns a text file into a C++ translation unit exposing it as a string_view.
file(READ ${IN} content)
set(delim "VIGIL_EMBED")
file(WRITE ${OUT} "#include <string_view>\nnamespace vigil {\nextern const std::string_view kReferenceRules;\nconst std::string_view kReferenceRules = R\"${delim}(${content})${delim}\";\n}  // namespace vigil\n")
