# cmake -DCOMMAND="[emulator;]path/to/camrelay" -DOUTPUT=camrelay.toml -P WriteDefaultConfig.cmake
# Writes the example /etc/camrelay/camrelay.toml: the binary's own embedded defaults.
execute_process(COMMAND ${COMMAND} config defaults
    OUTPUT_VARIABLE defaults RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`${COMMAND} config defaults` failed: ${rc}")
endif()
# Its first line says "used when no -c FILE is given": not true of this file.
string(REGEX REPLACE "^#[^\n]*\n" "" defaults "${defaults}")
file(WRITE ${OUTPUT}
    "# /etc/camrelay/camrelay.toml, read by camrelay.service (`camrelay run -c THIS_FILE`).\n"
    "# Every key: /usr/share/doc/camrelay/docs/config.md. Check edits with\n"
    "# `camrelay config check /etc/camrelay/camrelay.toml`, then `systemctl restart camrelay`.\n"
    "${defaults}")
