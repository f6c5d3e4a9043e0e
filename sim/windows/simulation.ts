/** The simulated machine's life outside the handler: its clock, power, and support sessions. */
export { advanceClock } from './clock';
export { openSession, powerOff, powerOn, type OpenedSession } from './machine-events';
export type { RunTaskAction, ScheduledTaskRun } from './scheduler';
export type { ExecAction } from './task-xml';
