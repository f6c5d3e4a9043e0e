import { InputError } from '../errors';

export interface TermsAcceptanceInput {
  /** --accept-terms was given. */
  acceptedByFlag: boolean;
  /** A person can answer a prompt (stdin is a terminal). */
  interactive: boolean;
  terms: string;
  /** Writes the terms for the person to read (stderr, so stdout stays machine-readable). */
  show: (text: string) => void;
  /** Asks yes or no; only called when interactive. */
  ask: (question: string) => Promise<boolean>;
}

/**
 * Checked before anything else happens: without a terminal and without the flag there is nobody
 * to ask, which is bad input (exit 2). The terms are shown so the operator can read them first.
 */
export function requireWayToAccept(input: Pick<TermsAcceptanceInput, 'acceptedByFlag' | 'interactive' | 'terms' | 'show'>): void {
  if (input.acceptedByFlag || input.interactive) return;
  input.show(input.terms);
  throw new InputError(
    '--accept-terms',
    undefined,
    'The terms above must be accepted before access is granted: read them and add --accept-terms (nobody can answer a prompt here because stdin is not a terminal).',
  );
}

/** Access is never granted without the owner's acceptance: the flag, or a yes at the prompt. */
export async function acceptTerms(input: TermsAcceptanceInput): Promise<void> {
  requireWayToAccept(input);
  input.show(input.terms);
  if (input.acceptedByFlag) return;
  const accepted = await input.ask('Do you accept these terms and grant access?');
  if (!accepted)
    throw new InputError('the terms prompt', 'no', 'Access was not granted. Run the command again and answer yes, or add --accept-terms.');
}

/** The prompt from @inquirer/confirm, loaded only when a person is asked. */
export async function promptYesNo(
  question: string,
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
): Promise<boolean> {
  const { default: confirm } = require('@inquirer/confirm') as typeof import('@inquirer/confirm');
  return confirm({ message: question, default: false }, { input: streams.input, output: streams.output });
}
