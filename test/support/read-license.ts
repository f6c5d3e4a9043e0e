/** Child-process entry for the license reader test: prints what readLicenseFromAzure returned. */
import { readLicenseFromAzure } from '../../handlers/license/azure-license-reader';

readLicenseFromAzure(process.argv[2] ?? '', { endpoint: process.argv[3], timeoutMs: 15_000 }).then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
});
