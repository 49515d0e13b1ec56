#!/usr/bin/env bun
/** Entry point of the `mediaforge` executable. */
import { mediaforge } from './cli.ts';
import { runCli } from './run.ts';

process.exitCode = await runCli(mediaforge, process.argv.slice(2));
