#!/bin/sh
# Linux stand-in for the package's `bin\handler.cmd <op>` (see waagent_driver.py).
# The agent runs it with the extension root as the current directory, like Arc's
# `cmd /c cd /d <root> && bin\handler.cmd <op>`. NODE_BIN picks the node binary.
exec "${NODE_BIN:-node}" bin/handler.js "$@"
