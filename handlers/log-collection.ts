/**
 * The owner's log collection request as enable checks and submits it, and the log upload SAS a
 * grant carries for engineers, bundled as a module of its own (scripts/build/bundle.ts
 * LAZY_MODULES): loaded only by a run whose settings carry one, so the window, category and SAS
 * checks cost a no-op enable nothing.
 */
export { readLogCollectionSettings } from './log-collection-settings';
export { checkLogCollectionRequest, submitLogCollectionRequest } from './phases/log-collection-request';
export { readLogUploadSettings } from './log-upload-settings';
