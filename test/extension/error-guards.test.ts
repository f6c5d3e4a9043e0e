/**
 * The error guards recognise a failure by its name and fields, so a copy of the class from
 * another bundle counts, and anything else (a lookalike claiming success, an unknown code) does not.
 */
import * as cliErrors from '../../cli/errors';
import { ExitCode as CliExitCode } from '../../cli/exit-codes';
import * as handlerErrors from '../../extension/errors';
import { ExitCode } from '../../extension/errors';
import * as port from '../../windows/port';

/** The module loaded a second time: its classes are other classes, as in another bundle. */
function anotherCopy<T>(modulePath: string): T {
  let copy!: T;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second copy of the module, as another bundle has
    copy = require(modulePath) as T;
  });
  return copy;
}

function named(name: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error('lookalike'), { name, ...fields });
}

describe('handler error guards', () => {
  const other = anotherCopy<typeof handlerErrors>('../../extension/errors');

  it('recognise every member of the family from another copy of the classes, with its exit code', () => {
    const errors = [
      new other.ConfigurationError('access.level', '"Root"', 'None, Diagnostics, DiagnosticsAndRepair'),
      new other.PrerequisiteError('Memory check failed'),
      new other.MissingDependencyError('no simulator'),
      new other.HandlerError(ExitCode.Failure, 'host failed'),
    ];
    expect(errors.some((error) => error instanceof handlerErrors.HandlerError)).toBe(false);
    expect(errors.map((error) => [error.name, handlerErrors.isHandlerError(error) && error.exitCode])).toEqual([
      ['ConfigurationError', 53],
      ['PrerequisiteError', 51],
      ['MissingDependencyError', 52],
      ['HandlerError', 1],
    ]);
    expect(
      errors.map((error) => [
        handlerErrors.isConfigurationError(error),
        handlerErrors.isPrerequisiteError(error),
        handlerErrors.isMissingDependencyError(error),
      ]),
    ).toEqual([
      [true, false, false],
      [false, true, false],
      [false, false, true],
      [false, false, false],
    ]);
  });

  it('refuse a lookalike with exit code 0, an exit code the protocol does not know, no details, or another name', () => {
    expect(handlerErrors.isHandlerError(named('HandlerError', { exitCode: 1, details: [] }))).toBe(true);
    expect(handlerErrors.isHandlerError(named('HandlerError', { exitCode: 0, details: [] }))).toBe(false);
    expect(handlerErrors.isHandlerError(named('HandlerError', { exitCode: 50, details: [] }))).toBe(false);
    expect(handlerErrors.isHandlerError(named('HandlerError', { exitCode: '53', details: [] }))).toBe(false);
    expect(handlerErrors.isHandlerError(named('ConfigurationError', { exitCode: 53 }))).toBe(false);
    expect(handlerErrors.isHandlerError(named('RestError', { exitCode: 1, details: [] }))).toBe(false);
    expect(handlerErrors.isConfigurationError(named('ConfigurationError', { exitCode: 1, details: [] }))).toBe(false);
    expect(handlerErrors.isHandlerError({ name: 'HandlerError', exitCode: 1, details: [], message: 'not an Error' })).toBe(false);
    expect(handlerErrors.isHandlerError(undefined)).toBe(false);
  });
});

describe('host and CLI error guards', () => {
  it('recognise a HostBatchError from another copy of the port', () => {
    const other = anotherCopy<typeof port>('../../windows/port');
    const error = new other.HostBatchError('install: JEA', 'registerSessionConfiguration', 'Timeout', 'killed after 120 s');
    expect(error instanceof port.HostBatchError).toBe(false);
    expect(port.isHostBatchError(error)).toBe(true);
    expect(port.isHostBatchError(named('HostBatchError', {}))).toBe(false);
    expect(port.isHostBatchError(new Error('Windows host phase failed'))).toBe(false);
  });

  it('recognise the CliError family from another copy, and refuse one claiming success', () => {
    const other = anotherCopy<typeof cliErrors>('../../cli/errors');
    const errors = [
      new other.InputError('--hours', 'x', 'Give a whole number.'),
      new other.CredentialError('no credential'),
      new other.CliError(CliExitCode.AllFailed, 'all failed'),
    ];
    expect(errors.map((error) => cliErrors.isCliError(error) && [error.name, error.exitCode])).toEqual([
      ['InputError', 2],
      ['CredentialError', 5],
      ['CliError', 4],
    ]);
    expect(cliErrors.isCliError(named('CliError', { exitCode: CliExitCode.Success }))).toBe(false);
    expect(cliErrors.isCliError(named('CliError', { exitCode: 9 }))).toBe(false);
  });
});
