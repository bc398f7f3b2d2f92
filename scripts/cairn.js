#!/usr/bin/env node
// Launcher for the `cairn` command: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('./cli/program.ts').main(process.argv.slice(2));
