/**
 * The Node binary the stand-ins run the bundled handler and agent with: the Linux build of the
 * release the package ships as node.exe (scripts/build/shipped-node.ts fetches and checks it). Who
 * drives the stand-ins names it in ARC_REMOTE_SUPPORT_NODE: jest's global setup, `npm start`, the
 * bench. Never this process's own Node: a test would then prove nothing about the shipped one.
 */
export const SHIPPED_NODE_VARIABLE = 'ARC_REMOTE_SUPPORT_NODE';

export function shippedNodePath(environment: NodeJS.ProcessEnv = process.env): string {
  const binary = environment[SHIPPED_NODE_VARIABLE];
  if (!binary) {
    throw new Error(
      `${SHIPPED_NODE_VARIABLE} is not set: it names the shipped Node that runs the bundled handler and agent (set by jest's global setup, npm start and npm run bench from scripts/build/shipped-node.ts).`,
    );
  }
  return binary;
}
