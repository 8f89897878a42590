# Turns a text file into a C++ translation unit exposing it as a string_view.
#   cmake -DIN=file -DOUT=file.cc [-DSYMBOL=kName] -P embed.cmake
# SYMBOL defaults to kReferenceRules (the rule file every build embeds); the
# variable is `extern const std::string_view SYMBOL` in namespace vigil.
if(NOT SYMBOL)
  set(SYMBOL kReferenceRules)
endif()
file(READ ${IN} content)
set(delim "VIGIL_EMBED")
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )${delim}\"")
endif()
file(WRITE ${OUT} "#include <string_view>\nnamespace vigil {\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL} = R\"${delim}(${content})${delim}\";\n}  // namespace vigil\n")
