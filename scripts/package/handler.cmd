@echo off
rem Arc runs each handler command as bin\handler.cmd followed by the command name, from the
rem extension root. Windows Server has no Node.js: run the bundled handler with the node.exe
rem beside this file and hand its exit code back to the extension manager unchanged.
"%~dp0node.exe" "%~dp0handler.js" %*
exit /b %ERRORLEVEL%
