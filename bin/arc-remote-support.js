#!/usr/bin/env node
// The control plane CLI. The sources are TypeScript: tsx compiles them on load (CommonJS hooks
// only, no ESM loader), and cli/main.ts loads the Azure packages only when a command needs them.
'use strict';
require('tsx/cjs');
require('../cli/main').main();
