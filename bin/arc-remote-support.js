#!/usr/bin/env node
// The control-plane CLI in this repository: it runs build/cli/arc-remote-support.js, the bundle
// `npm run build:cli` (or `npm run build`) writes from cli/, the same file the published package
// ships (`npm run package:cli`). Rebuild after changing the sources.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'build', 'cli', 'arc-remote-support.js');

if (fs.existsSync(bundle)) {
  require(bundle).main();
} else {
  process.stderr.write(
    `arc-remote-support: the CLI is not built (${bundle} is missing). Run \`npm run build:cli\` in ${root}, then run the command again.\n`,
  );
  process.exitCode = 1;
}
