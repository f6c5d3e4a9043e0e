#!/bin/sh
# Linux stand-in for the package's `bin\handler.cmd <op>` (see waagent_driver.py).
# The agent runs it with the extension root as the current directory, like Arc's
# `cmd /c cd /d <root> && bin\handler.cmd <op>`. NODE_BIN is the Node the package ships
# (scripts/build/shipped-node.ts); there is no fallback to whatever node is on PATH.
exec "${NODE_BIN:?NODE_BIN must name the shipped Node (scripts/build/shipped-node.ts)}" bin/handler.js "$@"
