// Types for the generated standalone validator (see scripts/build/generate-validator.ts).
import type { ValidateFunction } from 'ajv';
declare const validate: ValidateFunction;
export = validate;
