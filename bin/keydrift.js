#!/usr/bin/env node
// The published entry point runs the compiled CLI: Node does not strip types under node_modules.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
