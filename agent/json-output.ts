/**
 * The agent's JSON for the owner's module. ASCII only, every other character as a \u escape:
 * PowerShell decodes a program's output with the console's code page, which is rarely UTF-8, and
 * user names and transcripts are not ASCII everywhere.
 */
import { formatUtc } from '../core/desired-state';

export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A time as the records write it (UTC, ISO 8601), or null. */
export function jsonTime(time: Date | null | undefined): string | null {
  return time ? formatUtc(time) : null;
}
