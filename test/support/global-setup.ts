/**
 * Jest's global setup for `npm test`: the shipped Node (the Linux build of the package's node.exe
 * release, fetched and checked once) is named for every test worker and the stand-ins they drive.
 */
import { shippedNode } from '../../scripts/build/shipped-node';
import { SHIPPED_NODE_VARIABLE } from '../../sim/shipped-node-path';

export default async function globalSetup(): Promise<void> {
  process.env[SHIPPED_NODE_VARIABLE] = await shippedNode();
}
