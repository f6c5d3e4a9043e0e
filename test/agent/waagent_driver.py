#!/usr/bin/python3 -S
"""
Drive ONE lifecycle step of an extension package with the real Linux Azure guest
agent (Debian `waagent` 2.7.3.0, module azurelinuxagent.ga.exthandlers).

Usage: /usr/bin/python3 -S waagent_driver.py <request.json>
PYTHONPATH must hold the unpacked agent (scripts/dev/unpack-waagent.sh prints it);
if it does not, <repo>/.tools/waagent/... is tried. -S keeps the machine's
site-packages (setuptools' distutils shim, other .pth files) out: the agent then
runs on the stdlib plus the unpacked waagent and python3-distro only.

All state between steps lives under libDir, written by the agent itself exactly
as it would under /var/lib/waagent: <libDir>/<Publisher>.<Type>-<version>/ with
HandlerManifest.json, HandlerEnvironment.json, config/<seq>.settings,
config/HandlerState, config/HandlerStatus, status/<seq>.status.

Request (JSON file):
  libDir      string, required. The agent's Lib.Dir (conf "Lib.Dir").
  logDir      string, optional (default "<libDir>-log"). Gets the agent log
              (waagent.log) and the extension log dir (conf "Extension.LogDir")
              as <logDir>/extensions/<Publisher>.<Type>/.
  publisher   string, required.   type  string, required.
  op          "install" | "enable" | "update" | "disable" | "uninstall".
  version     string: the handler version the goal state asks for (for update:
              the NEW version). Optional for disable/uninstall (the agent then
              uses the installed version).
  packageDir  string: unzipped package of `version` (root has HandlerManifest.json).
              Needed whenever the agent has to "download" that version.
  fromVersion string, update only: the version that must be installed now.
  seq         int: the sequence number of the goal state's settings. Omit or null
              for a handler without settings (the agent then writes an empty
              0.settings and passes ConfigSequenceNumber=0).
  settings    {publicSettings, protectedSettings, protectedSettingsCertThumbprint}
              (any may be missing). The agent writes config/<seq>.settings itself.
  rawSettings string: written verbatim as config/<seq>.settings instead (see
              below). Wins over `settings`.
  certDir     string: dir of <THUMBPRINT>.crt / <THUMBPRINT>.prv, copied into
              libDir where the agent keeps goal-state certificates.
  env         {name: value}: extra env vars for the handler processes.
  shim        string: Linux command replacing `bin\\handler.cmd` (default:
              handler-shim.sh next to this file). NODE_BIN (env) picks node.

Response (one JSON object on stdout, everything the agent logs goes to logDir):
  ok            bool: the agent processed the goal state without error.
  agentError    string | null: the error the agent recorded for the handler.
  harnessError  string | null: the request could not be run (exit code 2).
  commandsRun   [{command, version, exitCode, env}] in launch order; env holds the
                protocol variables the agent set (AZURE_GUEST_AGENT_*,
                ConfigSequenceNumber, ConfigExtensionName, VERSION).
  status        the extension status for `seq` as the agent reports it (its
                collect_ext_status, reached through report_ext_handler_status):
                {name, sequenceNumber, status, code, message, operation,
                configurationAppliedTime, substatus: [{name, status, code, message}]}
                or null (no settings, or nothing to report, e.g. after uninstall).
  handlerStatus the handler-level status the agent reports with it
                {name, version, status, code, message} or null.
  statusFile    path of status/<seq>.status the agent reads, and statusFileExists.
  statusParseError string | null: what the agent's reader/parser
                (_read_and_parse_json_status_file, parse_ext_status, size limit)
                raised for that file. The agent itself does not fail on it: it
                reports status "error" with its own message instead.
  handlerState  {version: {state, status}} for every version dir of the handler:
                config/HandlerState and config/HandlerStatus read by the agent.
  extensionDir  path of the active version dir, or null if it does not exist.

How the steps map to the agent (orchestration is the agent's own
ExtHandlersHandler.handle_ext_handlers -> handle_ext_handler -> handle_enable /
handle_disable / handle_uninstall, fed a one-handler goal state):
  enable     requested state "enabled". On a fresh libDir the agent downloads,
             installs and enables; on an installed handler it rewrites the
             settings and runs enable.
  install    requested state "enabled", but the agent's final "handle the
             extension" step (which runs enable) is switched off for this run: so
             download, initialize, settings, install, in the agent's order.
  update     requested state "enabled" with a newer version while the old one is
             installed: the agent itself runs old disable -> new update -> old
             uninstall -> new install -> new enable (_update_extension_handler...).
  disable    requested state "disabled" (handle_disable).
  uninstall  requested state "uninstall" (handle_uninstall: disable if enabled,
             uninstall, remove the version dir).

Patched in the agent, at runtime only:
  * package download -> copy packageDir to <libDir>/<Publisher>.<Type>-<version>/;
  * HandlerManifest loading -> `bin\\handler.cmd <op>` becomes the Linux shim;
  * the protocol -> a local stand-in that lists the requested versions (no network);
  * rawSettings -> substituted at the agent's own settings-file write
    (update_settings_file), because the agent only writes json.dumps() of a
    settings object and cannot produce malformed content itself;
  * status-file read retry delay -> 0 (the agent sleeps 2 s x 5 on an unreadable
    or non-JSON status file, meant for files still being written).
"""
import json
import os
import re
import shutil
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_AGENT_ROOT = os.path.join(REPO, ".tools", "waagent", "root", "usr", "lib", "python3", "dist-packages")

# Env names of the extension protocol; inherited values would override the
# agent's (launch_command merges os.environ last), so they are scrubbed.
PROTOCOL_ENV = ("ConfigSequenceNumber", "ConfigExtensionName", "VERSION")
PROTOCOL_ENV_PREFIX = "AZURE_GUEST_AGENT_"

REQUESTED_STATE = {"install": "enabled", "enable": "enabled", "update": "enabled",
                   "disable": "disabled", "uninstall": "uninstall"}

# The Windows command in our HandlerManifest.json, e.g. `bin\handler.cmd enable`.
WINDOWS_COMMAND = re.compile(r"^\s*bin\\handler\.cmd(?P<args>(\s.*)?)$", re.IGNORECASE)
MANIFEST_COMMANDS = ("installCommand", "enableCommand", "updateCommand", "disableCommand", "uninstallCommand")


class HarnessError(Exception):
    pass


def import_agent():
    try:
        import azurelinuxagent  # noqa: F401
    except ImportError:
        if os.path.isdir(DEFAULT_AGENT_ROOT):
            sys.path.insert(0, DEFAULT_AGENT_ROOT)
        else:
            raise HarnessError("the Azure guest agent is not importable: run scripts/dev/unpack-waagent.sh "
                               "and put the path it prints on PYTHONPATH")
    import azurelinuxagent.common.conf as conf
    import azurelinuxagent.common.event as event
    import azurelinuxagent.common.logger as logger
    import azurelinuxagent.ga.exthandlers as exthandlers
    return conf, event, logger, exthandlers


def read_request(path):
    with open(path, "r") as f:
        req = json.load(f)
    for key in ("libDir", "publisher", "type", "op"):
        if not req.get(key):
            raise HarnessError("request lacks '{0}'".format(key))
    if req["op"] not in REQUESTED_STATE:
        raise HarnessError("unknown op '{0}'".format(req["op"]))
    if req["op"] in ("install", "enable", "update") and not req.get("version"):
        raise HarnessError("op '{0}' needs 'version'".format(req["op"]))
    if req["op"] == "update" and not req.get("fromVersion"):
        raise HarnessError("op 'update' needs 'fromVersion'")
    return req


def run_step(req, conf, event, logger, exthandlers):
    from azurelinuxagent.common.cgroupconfigurator import CGroupConfigurator
    from azurelinuxagent.common.datacontract import get_properties
    from azurelinuxagent.common.exception import ExtensionDownloadError, ExtensionOperationError
    from azurelinuxagent.common.protocol.restapi import (Extension, ExtensionSettings, ExtHandlerPackage,
                                                         ExtHandlerPackageList, VMStatus)
    ExtHandlersHandler = exthandlers.ExtHandlersHandler
    ExtHandlerInstance = exthandlers.ExtHandlerInstance

    lib_dir = os.path.abspath(req["libDir"])
    log_dir = os.path.abspath(req.get("logDir") or lib_dir + "-log")
    handler_name = "{0}.{1}".format(req["publisher"], req["type"])
    op = req["op"]
    seq = req.get("seq")
    shim = os.path.abspath(req.get("shim") or os.path.join(HERE, "handler-shim.sh"))
    if not os.access(shim, os.X_OK):
        raise HarnessError("shim {0} is missing or not executable".format(shim))

    # --- Redirect every path the agent uses into the caller's temp dirs.
    for d in (lib_dir, log_dir):
        os.makedirs(d, exist_ok=True)
    conf.__conf__.values["Lib.Dir"] = lib_dir
    conf.__conf__.values["Extension.LogDir"] = os.path.join(log_dir, "extensions")
    logger.add_logger_appender(logger.AppenderType.FILE, logger.LogLevel.VERBOSE,
                               os.path.join(log_dir, "waagent.log"))
    event.init_event_logger(os.path.join(lib_dir, exthandlers.EVENTS_DIRECTORY))
    exthandlers._STATUS_FILE_RETRY_DELAY = 0

    # --- Handler process environment: the agent merges our os.environ into it.
    for name in list(os.environ):
        if name in PROTOCOL_ENV or name.startswith(PROTOCOL_ENV_PREFIX):
            del os.environ[name]
    for name, value in (req.get("env") or {}).items():
        os.environ[name] = str(value)

    # --- Certificates: the agent keeps goal-state certs as <libDir>/<thumbprint>.crt/.prv.
    if req.get("certDir"):
        for item in os.listdir(req["certDir"]):
            if item.endswith((".crt", ".prv")):
                shutil.copy2(os.path.join(req["certDir"], item), os.path.join(lib_dir, item))

    # --- Packages the stand-in protocol offers: the requested version(s) and whatever is installed.
    packages = {}
    if req.get("version") and req.get("packageDir"):
        packages[req["version"]] = os.path.abspath(req["packageDir"])
    offered = set(packages) | {v for v in (req.get("version"), req.get("fromVersion")) if v}
    for item in os.listdir(lib_dir):
        if item.startswith(handler_name + "-") and os.path.isdir(os.path.join(lib_dir, item)):
            offered.add(item[len(handler_name) + 1:])

    class LocalProtocol(object):
        """Stands in for the wire protocol: lists packages, never downloads."""

        def get_ext_handler_pkgs(self, _ext_handler):
            pkg_list = ExtHandlerPackageList()
            for version in sorted(offered):
                pkg = ExtHandlerPackage(version=version)
                pkg.uris.append("file://" + packages.get(version, "not-provided"))
                pkg_list.versions.append(pkg)
            return pkg_list

        def get_endpoint(self):
            return "127.0.0.1"  # AZURE_GUEST_AGENT_WIRE_PROTOCOL_ADDRESS; nothing listens there

        def download_ext_handler_pkg(self, uri, _destination):
            raise ExtensionDownloadError("download is not available in the harness: " + uri)

    protocol = LocalProtocol()

    # --- Patch 1: "download" copies the unzipped package where the agent would unzip it.
    def download(self):
        self.set_operation(exthandlers.WALAEventOperation.Download)
        source = packages.get(str(self.ext_handler.version))
        if source is None:
            raise ExtensionDownloadError("no packageDir given for version {0}".format(self.ext_handler.version))
        shutil.copytree(source, self.get_base_dir(), dirs_exist_ok=True)
        self.pkg_file = os.path.join(lib_dir, self.get_extension_package_zipfile_name())
    ExtHandlerInstance.download = download

    # --- Patch 2: map the Windows commands of the manifest to the Linux shim when loaded.
    # launch_command joins the command onto the extension dir (it strips a leading '/'),
    # so the shim is given relative to that dir.
    original_load_manifest = ExtHandlerInstance.load_manifest

    def load_manifest(self):
        manifest = original_load_manifest(self)
        commands = manifest.data["handlerManifest"]
        for key in MANIFEST_COMMANDS:
            match = WINDOWS_COMMAND.match(commands.get(key) or "")
            if match:
                commands[key] = os.path.relpath(shim, self.get_base_dir()) + match.group("args")
        return manifest
    ExtHandlerInstance.load_manifest = load_manifest

    # --- Patch 3: raw settings content, substituted at the agent's own write.
    raw = req.get("rawSettings")
    if raw is not None and seq is not None:
        original_update_settings_file = ExtHandlerInstance.update_settings_file

        def update_settings_file(self, settings_file, settings):
            if settings_file == "{0}.settings".format(seq):
                settings = raw
            return original_update_settings_file(self, settings_file, settings)
        ExtHandlerInstance.update_settings_file = update_settings_file

    # --- Observe commands: wrap the agent's launcher (name, version, exit code) and
    # the process starter underneath it (the env the agent built).
    commands_run = []
    original_launch = ExtHandlerInstance.launch_command

    def launch_command(self, cmd, cmd_name=None, *args, **kwargs):
        record = {"command": cmd_name, "version": str(self.ext_handler.version), "exitCode": None, "env": {}}
        commands_run.append(record)
        try:
            result = original_launch(self, cmd, cmd_name, *args, **kwargs)
            record["exitCode"] = 0
            return result
        except ExtensionOperationError as error:
            record["exitCode"] = error.exit_code
            raise
    ExtHandlerInstance.launch_command = launch_command

    cgroups = CGroupConfigurator.get_instance()
    original_start = cgroups.start_extension_command

    def start_extension_command(*args, **kwargs):
        env = kwargs.get("env") or {}
        if commands_run:
            commands_run[-1]["env"] = {k: v for k, v in env.items()
                                       if k in PROTOCOL_ENV or k.startswith(PROTOCOL_ENV_PREFIX)}
        return original_start(*args, **kwargs)
    cgroups.start_extension_command = start_extension_command

    # --- Observe the outcome the agent records for the handler.
    outcome = {"ok": None, "error": None, "instance": None}
    original_handle = ExtHandlersHandler.handle_ext_handler

    def handle_ext_handler(self, ext_handler_i, extension, etag):
        outcome["instance"] = ext_handler_i
        outcome["ok"] = original_handle(self, ext_handler_i, extension, etag)
        return outcome["ok"]
    ExtHandlersHandler.handle_ext_handler = handle_ext_handler

    report_errors = ExtHandlersHandler._ExtHandlersHandler__handle_and_report_ext_handler_errors

    def handle_and_report_errors(ext_handler_i, error, report_op, message, report=True, extension=None):
        outcome["error"] = message
        return report_errors(ext_handler_i, error, report_op, message, report=report, extension=extension)
    ExtHandlersHandler._ExtHandlersHandler__handle_and_report_ext_handler_errors = \
        staticmethod(handle_and_report_errors)

    if op == "install":
        # The agent installs as part of an enable goal state; stop before its enable step.
        ExtHandlersHandler._ExtHandlersHandler__handle_extension = staticmethod(lambda *_: None)

    # --- The goal state: one single-config handler with (at most) one settings entry.
    ext_handler = Extension(name=handler_name)
    ext_handler.state = REQUESTED_STATE[op]
    probe = ExtHandlerInstance(ext_handler, protocol)
    installed = probe.get_installed_version()
    ext_handler.version = req.get("version") or installed
    if ext_handler.version is None:
        raise HarnessError("no 'version' given and no version of {0} is installed".format(handler_name))
    if op == "update" and installed != req["fromVersion"]:
        raise HarnessError("update from {0} asked, but the agent sees installed version {1}"
                           .format(req["fromVersion"], installed))
    settings = req.get("settings") or {}
    extension = None
    if seq is not None:
        extension = ExtensionSettings(name=handler_name, sequenceNumber=int(seq),
                                      publicSettings=settings.get("publicSettings"),
                                      protectedSettings=settings.get("protectedSettings"),
                                      certificateThumbprint=settings.get("protectedSettingsCertThumbprint"))
        ext_handler.settings.append(extension)

    # --- Run the agent's goal-state processing for this handler.
    handler = ExtHandlersHandler(protocol)
    handler.ext_handlers = [ext_handler]
    try:
        handler.handle_ext_handlers(etag=str(seq if seq is not None else 0))
    except Exception:  # the agent catches per-handler errors; anything here is unexpected
        outcome["ok"] = False
        outcome["error"] = traceback.format_exc()

    # --- Status as the agent reports it (same path as its status blob).
    active = outcome["instance"] or ExtHandlerInstance(ext_handler, protocol)
    vm_status = VMStatus(status="Ready", message="harness")
    handler.report_ext_handler_status(vm_status, ext_handler, incarnation_changed=True)
    status = None
    handler_status = None
    for reported in vm_status.vmAgent.extensionHandlers:
        handler_status = {k: getattr(reported, k) for k in ("name", "version", "status", "code", "message")}
        if reported.extension_status is not None:
            status = status_json(reported.extension_status)

    _, status_file = active.get_status_file_path(extension) if extension is not None else (None, None)
    status_parse_error = None
    if status_file and os.path.isfile(status_file):
        status_parse_error = parse_with_agent(status_file, exthandlers)

    # --- Handler state the agent recorded, for every version dir of this handler.
    handler_state = {}
    for item in sorted(os.listdir(lib_dir)):
        path = os.path.join(lib_dir, item)
        if not item.startswith(handler_name + "-"):
            continue
        instance = ExtHandlersHandler.get_ext_handler_instance_from_path(item, path, protocol)
        if instance is None:
            continue
        recorded = instance.get_handler_status()
        handler_state[instance.ext_handler.version] = {
            "state": instance.get_handler_state(),
            "status": get_properties(recorded) if recorded is not None else None,
        }

    base_dir = active.get_base_dir()
    return {
        "ok": bool(outcome["ok"]),
        "agentError": outcome["error"],
        "harnessError": None,
        "commandsRun": commands_run,
        "status": status,
        "handlerStatus": handler_status,
        "statusFile": status_file,
        "statusFileExists": bool(status_file and os.path.isfile(status_file)),
        "statusParseError": status_parse_error,
        "handlerState": handler_state,
        "extensionDir": base_dir if os.path.isdir(base_dir) else None,
    }


def status_json(ext_status):
    return {
        "name": ext_status.name,
        "sequenceNumber": ext_status.sequenceNumber,
        "status": ext_status.status,
        "code": ext_status.code,
        "message": ext_status.message,
        "operation": ext_status.operation,
        "configurationAppliedTime": ext_status.configurationAppliedTime,
        "substatus": [{"name": s.name, "status": s.status, "code": s.code, "message": s.message}
                      for s in ext_status.substatusList],
    }


def parse_with_agent(status_file, exthandlers):
    """Run the agent's own reader, parser and size rule; return the error text or None."""
    try:
        data_str, data = exthandlers.ExtHandlerInstance._read_and_parse_json_status_file(status_file)
        exthandlers.parse_ext_status(exthandlers.ExtensionStatus(), data)
        if len(data_str) > exthandlers._MAX_STATUS_FILE_SIZE_IN_BYTES:
            return "status file of {0} bytes exceeds the agent's limit of {1} bytes".format(
                len(data_str), exthandlers._MAX_STATUS_FILE_SIZE_IN_BYTES)
    except exthandlers.ExtensionStatusError as error:
        return str(error)
    return None


def main():
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # keep stdout for our one JSON object
    code = 0
    try:
        if len(sys.argv) != 2:
            raise HarnessError("usage: waagent_driver.py <request.json>")
        req = read_request(sys.argv[1])
        result = run_step(req, *import_agent())
    except HarnessError as error:
        result, code = {"ok": False, "agentError": None, "harnessError": str(error)}, 2
    except Exception:
        result, code = {"ok": False, "agentError": None, "harnessError": traceback.format_exc()}, 2
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
